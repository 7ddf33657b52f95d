/**
 * README.md, checked as its reader uses it: the quick start on an empty Deno
 * cache downloads nothing, every task command runs as written in a fresh copy
 * of the repository and writes only into ignored folders, the transcripts
 * match the commands' output, and the Deno install example prints what it
 * says. (The npm and browser examples run in npm/package_test.ts.)
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  blockUnder,
  codeBlocks,
  promisedOutput,
  README,
  shellCommands,
  taskOf,
} from "./npm/_readme.ts";

const ROOT = new URL("./", import.meta.url);
const rootPath = decodeURIComponent(ROOT.pathname);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  const [command, ...rest] = args;
  const out = await new Deno.Command(command, {
    args: rest,
    cwd: options.cwd ?? rootPath,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

/** A task as the reader runs it, with this Deno instead of npx's. */
function deno(task: string[], cwd?: string): Promise<Run> {
  return run([Deno.execPath(), "task", ...task], { cwd });
}

/** Total size in bytes of the files under a folder. */
async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) total += await sizeOf(path);
    else if (entry.isFile) total += (await Deno.stat(path)).size;
  }
  return total;
}

/** Every file under a folder, as paths relative to it. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const rel = prefix + entry.name;
    if (entry.isDirectory) files.push(...await listFiles(dir, rel + "/"));
    else files.push(rel);
  }
  return files.sort();
}

/** What a fresh clone holds: the repository without generated folders. */
const NOT_IN_A_CLONE = [
  ".git",
  "dist",
  "node_modules",
  "playground/dist",
  "out/model.json",
  "out/boundary.svg",
];

async function freshCopy(): Promise<string> {
  const target = await Deno.makeTempDir({ prefix: "tapegrad-readme-" });
  const copy = async (rel: string) => {
    for await (const entry of Deno.readDir(rootPath + rel)) {
      const path = rel + entry.name;
      if (NOT_IN_A_CLONE.includes(path)) continue;
      if (entry.isDirectory) {
        await Deno.mkdir(`${target}/${path}`);
        await copy(path + "/");
      } else if (entry.isFile) {
        await Deno.copyFile(rootPath + path, `${target}/${path}`);
      }
    }
  };
  await copy("");
  return target;
}

/** Tasks the command test does not run, and why. */
const NOT_RUN: Record<string, string> = {
  test: "it is the run this test is part of",
  bench:
    "about six minutes; `deno bench` runs the same files' checks in bench/baselines_test.ts",
  "build:npm": "npm/package_test.ts runs it and tests what it builds",
};

Deno.test("README's npx commands use the Deno version CI installs", async () => {
  const versions = new Set(
    [...README.matchAll(/deno@(\d+\.\d+\.\d+)/g)].map((m) => m[1]),
  );
  assert.deepEqual([...versions], [Deno.version.deno]);
  const ci = await Deno.readTextFile(new URL(".ci/run", ROOT));
  assert.match(
    ci,
    new RegExp(`deno@${Deno.version.deno.replaceAll(".", "\\.")}`),
  );
});

Deno.test("README quick start: `task train` on an empty Deno cache downloads nothing but Deno", async () => {
  const quick = shellCommands(blockUnder("Quick start", "sh"))
    .map(taskOf).filter((t) => t !== undefined);
  assert.deepEqual(quick, [["train"], ["test"]]);
  const cache = await Deno.makeTempDir({ prefix: "tapegrad-deno-dir-" });
  try {
    const result = await run([Deno.execPath(), "task", "train"], {
      env: { DENO_DIR: cache },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /accuracy/i);
    assert.doesNotMatch(
      result.stderr,
      /Download|Warning|Ignored build scripts/,
    );
    // Downloads land in npm/ and remote/; the rest is Deno's own caches of
    // the local modules (transpiled code, V8 code cache), which grow with
    // the code base.
    const downloaded = (await listFiles(cache)).filter((f) =>
      /^(npm|remote)\//.test(f)
    );
    assert.deepEqual(downloaded, []);
    const bytes = await sizeOf(cache);
    console.log(
      `Deno cache after the quick start's train: ${
        (bytes / 1024).toFixed(0)
      } KiB`,
    );
    // One npm package of the benches (TensorFlow.js) alone is over 50 MiB.
    assert.ok(bytes < 16 * 1024 * 1024, `the cache holds ${bytes} bytes`);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("README's task commands run as written and write only into ignored folders", async () => {
  const tasks = codeBlocks()
    .filter((b) => b.lang === "sh")
    .flatMap((b) => shellCommands(b.code).map(taskOf))
    .filter((t): t is string[] => t !== undefined);
  const names = new Set(tasks.map((t) => t[0]));
  for (const name of ["train", "predict", "grad", "graph", "demo", "serve"]) {
    assert.ok(names.has(name), `README shows no "${name}" task`);
  }
  const dir = await freshCopy();
  try {
    const before = await listFiles(dir);
    let ran = 0;
    for (const task of tasks) {
      if (task[0] in NOT_RUN) continue;
      if (task[0] === "serve") {
        // The default port 8000 may be taken on a shared machine: only
        // `serve --port 0` is started, answered and stopped.
        if (task.includes("0")) await serveOnce(task, dir);
        continue;
      }
      const result = await deno(task, dir);
      assert.equal(result.code, 0, `task ${task.join(" ")}:\n${result.stderr}`);
      ran++;
    }
    assert.ok(ran >= 7, `ran ${ran} commands`);
    const added = (await listFiles(dir)).filter((f) => !before.includes(f));
    assert.ok(added.includes("out/model.json"), added.join(", "));
    const stray = added.filter((f) =>
      !f.startsWith("out/") && !f.startsWith("playground/dist/")
    );
    assert.deepEqual(stray, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Starts `task serve --port 0`, fetches the page, stops it. */
async function serveOnce(task: string[], cwd: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", ...task],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk);
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  try {
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (url === undefined && Date.now() < deadline) {
      url = /http:\/\/127\.0\.0\.1:\d+\//.exec(text)?.[0];
      if (url === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(url, `no URL printed:\n${text}`);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>/);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await pumped;
  }
}

Deno.test("README's command transcripts match what the commands print", async () => {
  const transcripts = codeBlocks().filter((b) =>
    b.lang === "text" && b.code.startsWith("$ ")
  );
  assert.ok(transcripts.length > 0);
  let checked = 0;
  for (const block of transcripts) {
    for (const part of block.code.split(/^\$ /m).slice(1)) {
      const [command, ...lines] = part.trimEnd().split("\n");
      const task = taskOf(shellCommands(command)[0]);
      assert.ok(task, `not a task command: ${command}`);
      const result = await deno(task);
      assert.equal(result.code, 0, result.stderr);
      const shown = lines.at(-1) === "…" ? lines.slice(0, -1) : lines;
      const printed = result.stdout.split("\n").map((l) => l.trimEnd());
      assert.deepEqual(printed.slice(0, shown.length), shown, command);
      checked++;
    }
  }
  assert.ok(checked >= 2);
});

/**
 * Runs a README snippet as a user's Deno program. `deno add` would fetch the
 * package from JSR; here its name maps to this checkout's mod.ts, the file
 * JSR publishes as the package's root.
 */
async function runAsUser(code: string): Promise<string> {
  assert.match(code, /from "@tapegrad\/tapegrad"/);
  const dir = await Deno.makeTempDir({ prefix: "tapegrad-deno-example-" });
  try {
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        imports: { "@tapegrad/tapegrad": new URL("mod.ts", ROOT).href },
      }),
    );
    await Deno.writeTextFile(`${dir}/example.ts`, code);
    const result = await run([Deno.execPath(), "run", "example.ts"], {
      cwd: dir,
    });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("README's Deno install example prints what it says", async () => {
  const code = blockUnder("Deno", "ts");
  assert.equal((await runAsUser(code)).trim(), promisedOutput(code));
});

Deno.test("README's first examples print what they say", async () => {
  const [graph, shown, ...rest] = codeBlocks().filter((b) =>
    b.heading === "A first example"
  );
  const [loop, training] = codeBlocks().filter((b) => b.heading === "Training");
  assert.deepEqual(
    [graph.lang, shown.lang, rest.length, loop.lang, training.lang],
    ["ts", "text", 0, "ts", "ts"],
  );
  const printed = (await runAsUser(graph.code)).split("\n")
    .map((line) => line.trimEnd()).join("\n");
  const promised = promisedOutput(graph.code.replace(
    "console.log(displayGraph(d));",
    "",
  ));
  assert.equal(printed, `${promised}\n${shown.code}`);
  assert.equal(
    (await runAsUser(training.code)).trim(),
    promisedOutput(training.code),
  );
});

Deno.test(".gitignore covers what builds and README commands write", async () => {
  const generated = [
    "out/model.json",
    "out/boundary.svg",
    "dist/npm/mod.js",
    "dist/tapegrad-tapegrad-0.1.0.tgz",
    "playground/dist/app.js",
    "node_modules/x/index.js",
  ];
  const result = await run(["git", "check-ignore", "--no-index", ...generated]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split("\n"), generated);
  const tracked = await run([
    "git",
    "check-ignore",
    "--no-index",
    "out/.gitignore",
  ]);
  assert.equal(tracked.code, 1, "out/.gitignore itself must stay tracked");
});

Deno.test("README's pictures are in the JSR package and exist", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as { publish: { include: string[] } };
  const pictures = [...README.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) =>
    m[1]
  );
  assert.ok(pictures.length >= 2);
  for (const picture of pictures) {
    assert.ok((await Deno.stat(new URL(picture, ROOT))).isFile, picture);
    assert.ok(
      config.publish.include.some((entry) =>
        entry.endsWith("/") ? picture.startsWith(entry) : picture === entry
      ),
      `${picture} is not in deno.json's publish.include`,
    );
  }
});
