// `cli.ts train --dataset digits|iris|wine|breast-cancer`, run as a subprocess.

import assert from "node:assert/strict";
import { runCli } from "./_testing.ts";

const DATA = new URL("../data/", import.meta.url).pathname;
const decoder = new TextDecoder();

function cli(args: string[], permissions = ["--allow-read"]) {
  return runCli(["train", ...args], { permissions });
}

/** A temporary data directory holding `files`. */
async function dataDir(files: Record<string, Uint8Array>): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const [name, bytes] of Object.entries(files)) {
    await Deno.writeFile(`${dir}/${name}`, bytes);
  }
  return dir;
}

Deno.test("train --dataset digits: the default command reaches >= 95% on the 20% held out", async () => {
  const run = await cli(["--dataset", "digits", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const epochs = lines.filter((l) => "epoch" in l);
  assert.deepEqual(epochs.map((l) => l.epoch), [1, 2, 3, 4, 5]);
  assert.ok(epochs.every((l) => l.epochs === 5));
  // 1,438 training samples in batches of 32: 45 steps per epoch.
  assert.deepEqual(epochs.map((l) => l.step), [45, 90, 135, 180, 225]);
  const final = lines[lines.length - 1].final;
  assert.equal(final.steps, 225);
  assert.equal(final.parameters, 64 * 64 + 64 + 64 * 10 + 10);
  assert.ok(final.valAccuracy >= 0.95, `held out ${final.valAccuracy}`);
  assert.equal(final.valAccuracy, epochs[4].valAccuracy);
});

Deno.test("train --dataset iris prints one line per epoch and the split", async () => {
  const run = await cli(["--dataset", "iris", "--epochs", "3"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /on iris \(150 samples, 4 features, 3 classes, standardised; 120 train, 30 held out\)/,
  );
  const epochLines = run.stdout.split("\n").filter((l) =>
    l.startsWith("epoch")
  );
  assert.equal(epochLines.length, 3);
  assert.match(
    epochLines[2],
    /^epoch 3\/3 {2}loss \S+ +accuracy +\S+% {2}held out \S+%/,
  );
  // 120 samples in batches of 16: 8 steps per epoch.
  assert.match(run.stdout, /Done: 24 steps/);
});

Deno.test("train --dataset: a missing file is one line naming it", async () => {
  const dir = await dataDir({});
  try {
    const run = await cli(["--dataset", "wine", "--data-dir", dir]);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr.trim(),
      `error: Cannot read data set file "${dir}/wine_data.csv": no such file`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train --dataset: a corrupt gzip and a wrong column count are one line naming the file", async () => {
  const gz = await Deno.readFile(`${DATA}digits.csv.gz`);
  const iris = decoder.decode(await Deno.readFile(`${DATA}iris.csv`))
    .replace("5.1,3.5,1.4,0.2,0", "5.1,3.5,1.4,0.2,9,0");
  const dir = await dataDir({
    "digits.csv.gz": gz.slice(0, 1000),
    "iris.csv": new TextEncoder().encode(iris),
  });
  try {
    const digits = await cli(["--dataset", "digits", "--data-dir", dir]);
    assert.equal(digits.code, 1);
    assert.match(
      digits.stderr.trim(),
      new RegExp(
        `^error: Bad data set file ${dir}/digits\\.csv\\.gz: corrupt or truncated gzip data \\([^\\n]+\\)$`,
      ),
    );
    const run = await cli(["--dataset", "iris", "--data-dir", dir]);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr.trim(),
      `error: Bad data set file ${dir}/iris.csv: line 2 has 6 columns, expected 5 (4 features and the class)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train --dataset: usage errors for options that do not apply", async () => {
  const cases: [string[], string][] = [
    [
      ["--dataset", "digits", "--samples", "10"],
      "error: --samples applies to generated datasets (moons, circles, spirals, xor, blobs), not to digits",
    ],
    [
      ["--dataset", "digits", "--steps", "5", "--epochs", "2"],
      "error: Give --steps or --epochs, not both",
    ],
    [
      ["--dataset", "moons", "--data-dir", "x"],
      "error: --data-dir applies to the shipped data sets (digits, iris, wine, breast-cancer)",
    ],
    [
      ["--dataset", "digit"],
      'error: --dataset must be one of moons, circles, spirals, xor, blobs, digits, iris, wine, breast-cancer or a path to a .csv file; got "digit" (did you mean digits?)',
    ],
  ];
  for (const [args, message] of cases) {
    const run = await cli(args);
    assert.equal(run.code, 2, args.join(" "));
    assert.equal(run.stderr.trim().split("\n")[0], message);
  }
});

Deno.test("train --workers 2 gives fit's numbers, and needs read access to the worker module", async () => {
  const args = ["--layers", "32,32", "--steps", "5", "--json"];
  const final = async (workers: string) => {
    const run = await cli([...args, "--workers", workers]);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout.trim().split("\n").at(-1)!).final;
  };
  const one = await final("1"), two = await final("2");
  assert.ok(Math.abs(one.loss - two.loss) <= 1e-12);
  assert.equal(two.accuracy, one.accuracy);
  const denied = await cli([...args, "--workers", "2"], []);
  assert.equal(denied.code, 1);
  assert.match(
    denied.stderr.trim(),
    /^error: --workers 2 needs read access to the worker module; run deno with --allow-read=\S+\/nn\/parallel_worker\.ts$/,
  );
});
