// Output files: identity checks, all-or-nothing writes, special files,
// interrupts, long names and truthful OS errors.

import assert from "node:assert/strict";
import {
  checkOutputs,
  describeWriteError,
  InterruptedError,
  lexicalPath,
  writeOutputs,
} from "./safe_write.ts";
import { RuntimeError, UsageError } from "../app/errors.ts";
import { runCli } from "./_testing.ts";

const TESTDATA = new URL("../testdata/", import.meta.url).pathname;
const SAFE_WRITE = new URL("./safe_write.ts", import.meta.url).href;
const decoder = new TextDecoder();

function cli(
  args: string[],
  cwd: string,
  permissions = ["--allow-read", "--allow-write"],
) {
  return runCli(args, { permissions, cwd });
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tapegrad_write_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const names = async (dir: string) =>
  (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();

Deno.test("lexicalPath() collapses . and .. segments", () => {
  assert.equal(lexicalPath("out/../out/data.csv"), "out/data.csv");
  assert.equal(lexicalPath("./a.json"), "a.json");
  assert.equal(lexicalPath("/a/../../b"), "/b");
  assert.equal(lexicalPath("../x/./y"), "../x/y");
});

Deno.test("train never overwrites a shipped data set file", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/data`);
    const iris = await Deno.readFile(
      new URL("../data/iris.csv", import.meta.url),
    );
    await Deno.writeFile(`${dir}/data/iris.csv`, iris);
    for (const flag of ["--save", "--plot"]) {
      const run = await cli([
        "train",
        "--dataset",
        "iris",
        "--data-dir",
        "data",
        "--epochs",
        "1",
        flag,
        "./data/iris.csv",
      ], dir);
      assert.equal(run.code, 2, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(
          `^error: ${flag} "\\./data/iris\\.csv" would overwrite the dataset "data/iris\\.csv": they are the same file\n$`,
        ),
      );
      assert.deepEqual(await Deno.readFile(`${dir}/data/iris.csv`), iris);
    }
  });
});

Deno.test("train compares outputs and the dataset by identity, not spelling", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/out`);
    const csv = await Deno.readTextFile(`${TESTDATA}flowers.csv`);
    await Deno.writeTextFile(`${dir}/out/data.csv`, csv);
    let run = await cli([
      "train",
      "--dataset",
      "out/data.csv",
      "--steps",
      "2",
      "--save",
      "out/../out/data.csv",
    ], dir);
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      /^error: --save "out\/\.\.\/out\/data\.csv" would overwrite the dataset "out\/data\.csv": they are the same file\n$/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/out/data.csv`), csv);
    // A hard link is the same file under another name.
    await Deno.link(`${dir}/out/data.csv`, `${dir}/linked.csv`);
    run = await cli([
      "train",
      "--dataset",
      "out/data.csv",
      "--steps",
      "2",
      "--plot",
      "linked.csv",
    ], dir);
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      /--plot "linked\.csv" would overwrite the dataset/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/out/data.csv`), csv);
    run = await cli(
      ["train", "--steps", "2", "--save", "a.json", "--plot", "./a.json"],
      dir,
    );
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^error: --save "a\.json" and --plot "\.\/a\.json" name the same file\n$/,
    );
    assert.deepEqual(await names(dir), ["linked.csv", "out"]);
  });
});

Deno.test("train that fails on one output leaves every other output untouched", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/m.json`, "old model");
    await Deno.mkdir(`${dir}/existing_dir`);
    const run = await cli([
      "train",
      "--steps",
      "2",
      "--save",
      "m.json",
      "--plot",
      "existing_dir",
    ], dir);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      'error: Cannot write "existing_dir": it is a directory\n',
    );
    assert.equal(run.stdout, "", "fails before training");
    assert.equal(await Deno.readTextFile(`${dir}/m.json`), "old model");
    assert.deepEqual(await names(dir), ["existing_dir", "m.json"]);
  });
});

Deno.test("train refuses devices, FIFOs, symbolic links and - as targets", async () => {
  await withTempDir(async (dir) => {
    let run = await cli(["train", "--steps", "2", "--save", "/dev/null"], dir);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^error: Cannot write "\/dev\/null": it is not a regular file \(a device, FIFO or socket\)\n$/,
    );
    assert.ok(Deno.statSync("/dev/null").isCharDevice, "device untouched");
    const fifo = await new Deno.Command("mkfifo", { args: [`${dir}/pipe`] })
      .output();
    assert.equal(fifo.code, 0);
    run = await cli(["train", "--steps", "2", "--save", "pipe"], dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /"pipe": it is not a regular file/);
    assert.ok(Deno.lstatSync(`${dir}/pipe`).isFifo);
    await Deno.writeTextFile(`${dir}/real.json`, "keep");
    await Deno.symlink(`${dir}/real.json`, `${dir}/link.json`);
    run = await cli(["train", "--steps", "2", "--plot", "link.json"], dir);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /"link\.json": it is a symbolic link \(give the file it points to\)/,
    );
    assert.ok(Deno.lstatSync(`${dir}/link.json`).isSymlink);
    assert.equal(await Deno.readTextFile(`${dir}/real.json`), "keep");
    run = await cli(["train", "--steps", "2", "--save", "-"], dir);
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /--save needs a file name; "-" \(standard output\) is not supported/,
    );
    assert.deepEqual(await names(dir), ["link.json", "pipe", "real.json"]);
  });
});

Deno.test("train saves to a 250-character file name and leaves no temporary file", async () => {
  await withTempDir(async (dir) => {
    const name = "m".repeat(245) + ".json";
    const run = await cli(
      ["train", "--steps", "2", "--quiet", "--save", name],
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await names(dir), [name]);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/${name}`)).nin, 2);
  });
});

Deno.test("writeOutputs() writes every file or, on SIGINT/SIGTERM, none and no litter", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/b.txt`, "old b");
    const script = `${dir}/interrupt.ts`;
    await Deno.writeTextFile(
      script,
      `import { writeOutputs } from ${JSON.stringify(SAFE_WRITE)};
const [dir, signal] = Deno.args as [string, Deno.Signal];
// Resolves once the signal has been delivered to every listener.
const delivered = new Promise((resolve) => Deno.addSignalListener(signal, resolve));
try {
  await writeOutputs(
    [{ path: dir + "/a.txt", text: "new a" }, { path: dir + "/b.txt", text: "new b" }],
    { afterTemps: async () => { Deno.kill(Deno.pid, signal); await delivered; } },
  );
} catch (error) {
  console.log(error.name, error.exitCode, error.message);
}
`,
    );
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, `${dir}/out`, signal as string],
        stdout: "piped",
        stderr: "piped",
      });
      await Deno.mkdir(`${dir}/out`, { recursive: true });
      await Deno.writeTextFile(`${dir}/out/b.txt`, "old b");
      const result = await out.output();
      assert.equal(
        decoder.decode(result.stdout).trim(),
        `InterruptedError ${code} Interrupted by ${signal} while writing; no output file was written`,
        decoder.decode(result.stderr),
      );
      assert.deepEqual(await names(`${dir}/out`), ["b.txt"]);
      assert.equal(await Deno.readTextFile(`${dir}/out/b.txt`), "old b");
    }
    await writeOutputs([
      { path: `${dir}/out/a.txt`, text: "new a" },
      { path: `${dir}/out/b.txt`, text: "new b" },
    ]);
    assert.deepEqual(await names(`${dir}/out`), ["a.txt", "b.txt"]);
    assert.equal(await Deno.readTextFile(`${dir}/out/b.txt`), "new b");
    assert.equal(new InterruptedError("SIGTERM").exitCode, 143);
  });
});

Deno.test("writeOutputs() removes its temporary files when a later file fails", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      writeOutputs([
        { path: `${dir}/a.txt`, text: "a" },
        { path: `${dir}/missing/b.txt`, text: "b" },
      ]),
      (error: unknown) =>
        error instanceof RuntimeError &&
        /^Cannot write ".*missing\/b\.txt": directory ".*missing" does not exist$/
          .test(error.message),
    );
    assert.deepEqual(await names(dir), []);
  });
});

Deno.test("checkOutputs() reports clashes as usage errors", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/in.csv`, "x,y\n");
    assert.throws(
      () =>
        checkOutputs([{ flag: "save", path: `${dir}/./in.csv` }], [
          { flag: "dataset", path: `${dir}/in.csv` },
        ]),
      (error: unknown) =>
        error instanceof UsageError &&
        /would overwrite the dataset .*: they are the same file$/.test(
          error.message,
        ),
    );
    checkOutputs([{ flag: "save", path: `${dir}/new.json` }], [
      { flag: "dataset", path: `${dir}/in.csv` },
    ]);
  });
});

Deno.test("describeWriteError() tells Deno's permission from the OS's refusals", () => {
  assert.equal(
    describeWriteError(
      new Deno.errors.NotCapable("Requires write access"),
      "m",
    ),
    "permission denied (deno needs --allow-write=m)",
  );
  assert.equal(
    describeWriteError(
      new Deno.errors.PermissionDenied(
        "Permission denied (os error 13): open '/ro/.tg1234abcd.tmp'",
      ),
      "/ro/m.json",
    ),
    "the operating system refused: Permission denied (os error 13)",
  );
  assert.equal(
    describeWriteError(
      new Error("Read-only file system (os error 30): open '/ro/.tg1.tmp'"),
      "/ro/m.json",
    ),
    "Read-only file system (os error 30)",
  );
  assert.equal(
    describeWriteError(
      new Error("No space left on device (os error 28)"),
      "/x/m.json",
    ),
    "No space left on device (os error 28)",
  );
});

Deno.test("train reports an OS refusal as the OS's, not as a missing flag", async () => {
  const run = await cli(
    ["train", "--steps", "2", "--save", "/sys/m.json"],
    Deno.cwd(),
    ["-A"], // Deno asks for --allow-all to write under /sys at all.
  );
  assert.equal(run.code, 1);
  assert.doesNotMatch(run.stderr, /--allow-write/);
  assert.match(run.stderr, /^error: Cannot write "\/sys\/m\.json": /);
});
