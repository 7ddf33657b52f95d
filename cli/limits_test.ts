// Inputs the CLI must handle or refuse clearly: sizes, extreme values,
// labels, CSV columns, diverging demos, deep JSON, odd variable names.

import assert from "node:assert/strict";
import {
  chooseBatch,
  estimateTrainingBytes,
  formatBytes,
  parameterCount,
} from "./limits.ts";
import { type Run, runCli } from "./_testing.ts";

function cli(args: string[], cwd?: string): Promise<Run> {
  return runCli(args, { permissions: ["--allow-read", "--allow-write"], cwd });
}

/** A failed run: the exit code and exactly one error line, no stack. */
function assertError(run: Run, code: number, message: RegExp): void {
  assert.equal(run.code, code, `exit code (stderr: ${run.stderr})`);
  assert.match(run.stderr, /^error: [^\n]*\n$/, run.stderr);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /Internal error/);
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tapegrad_limits_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const MB = 2 ** 20;
const LIMITS = { maxParameters: 1_000_000, maxMemoryMb: 2048 };

Deno.test("parameterCount() and estimateTrainingBytes() follow the model's shape", () => {
  assert.equal(parameterCount(2, [16, 16, 1]), 3 * 16 + 17 * 16 + 17);
  assert.equal(parameterCount(3, [1]), 4);
  // Linear in the batch: the per-sample part is the same for every sample.
  const one = estimateTrainingBytes(2, [16, 16, 1], 1);
  const thousand = estimateTrainingBytes(2, [16, 16, 1], 1001);
  assert.equal(thousand - one, 1000 * (2000 + 4 * 337 + 150 * 35));
  assert.equal(formatBytes(512 * MB), "512 MB");
  assert.equal(formatBytes(8.1 * 1024 * MB), "8.1 GB");
});

Deno.test("chooseBatch() bounds parameters and memory, and picks mini-batches for large data", () => {
  assert.deepEqual(chooseBatch(2, [16, 16, 1], 1000, undefined, LIMITS), {});
  assert.deepEqual(chooseBatch(2, [16, 16, 1], 1000, 32, LIMITS), {
    batchSize: 32,
  });
  const large = chooseBatch(2, [16, 16, 1], 1_000_000, undefined, LIMITS);
  assert.equal(large.batchSize, 256);
  assert.match(
    large.note!,
    /^a full batch of 1000000 samples would need about 8\.\d GB \(limit 2048 MB, --max-memory\), so training uses mini-batches of 256$/,
  );
  assert.equal(
    chooseBatch(2, [100_000, 100_000, 1], 100, undefined, LIMITS).error,
    "The model would have 10000500001 parameters; the limit is 1000000 (raise it with --max-parameters, or use smaller --layers)",
  );
  assert.match(
    chooseBatch(2, [16, 16, 1], 1_000_000, 1_000_000, LIMITS).error!,
    /^Training with batches of 1000000 samples would need about 8\.\d GB; the limit is 2048 MB \(raise it with --max-memory, or use a smaller --batch-size\)$/,
  );
  assert.match(
    chooseBatch(2, [16, 1], 10, undefined, { ...LIMITS, maxMemoryMb: 64 })
      .error!,
    /even one sample at a time; the limit is 64 MB \(raise it with --max-memory/,
  );
  // A tight limit halves the automatic batch until it fits.
  const tight = chooseBatch(2, [16, 16, 1], 10_000, undefined, {
    ...LIMITS,
    maxMemoryMb: 65,
  });
  assert.ok(tight.batchSize! < 256 && tight.batchSize! >= 1);
  assert.ok(estimateTrainingBytes(2, [16, 16, 1], tight.batchSize!) <= 65 * MB);
});

Deno.test("train refuses oversized models and batches before allocating, naming the flag", async () => {
  assertError(
    await cli(["train", "--layers", "100000,100000"]),
    2,
    /^error: The model would have 10000500001 parameters; the limit is 1000000 \(raise it with --max-parameters/,
  );
  assertError(
    await cli(["train", "--layers", "16,16", "--max-parameters", "300"]),
    2,
    /The model would have 337 parameters; the limit is 300/,
  );
  assertError(
    await cli([
      "train",
      "--samples",
      "2000",
      "--batch-size",
      "2000",
      "--max-memory",
      "70",
    ]),
    2,
    /^error: Training with batches of 2000 samples would need about 81 MB; the limit is 70 MB \(raise it with --max-memory/,
  );
  const run = await cli([
    "train",
    "--samples",
    "2000",
    "--steps",
    "2",
    "--max-memory",
    "70",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^Note: a full batch of 2000 samples would need about 81 MB \(limit 70 MB, --max-memory\), so training uses mini-batches of 256$/m,
  );
  assert.match(run.stdout, /, batch 256\n/);
  const help = await cli(["train", "--help"]);
  assert.match(help.stdout, /--max-parameters <n>/);
  assert.match(help.stdout, /--max-memory <MB>/);
});

const FLOWERS = new URL("../testdata/flowers.csv", import.meta.url).pathname;
async function csvRows(path: string): Promise<string[][]> {
  return (await Deno.readTextFile(path)).trim().split("\n").map((l) =>
    l.split(",")
  );
}

const toCsv = (rows: string[][]) =>
  rows.map((r) => r.join(",")).join("\n") + "\n";

Deno.test("predict --csv matches columns by header name and says where labels come from", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/m.json`;
    let run = await cli([
      "train",
      "--dataset",
      FLOWERS,
      "--steps",
      "60",
      "--quiet",
      "--save",
      model,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const rows = await csvRows(FLOWERS);
    // Columns in another order, label in the middle.
    await Deno.writeTextFile(
      `${dir}/swapped.csv`,
      toCsv(rows.map((r) => [r[1], r[3], r[0], r[2]])),
    );
    const reference = await cli([
      "predict",
      "--model",
      model,
      "--csv",
      FLOWERS,
    ]);
    const swapped = await cli([
      "predict",
      "--model",
      model,
      "--csv",
      `${dir}/swapped.csv`,
    ]);
    assert.equal(swapped.code, 0, swapped.stderr);
    const accuracy =
      /accuracy (\S+) \((\d+)\/(\d+)\)\nlabels from column "species"\n/;
    assert.match(reference.stdout, accuracy);
    assert.equal(
      swapped.stdout.match(accuracy)![0],
      reference.stdout.match(accuracy)![0],
    );
    // Features only, reordered: the same classes as the original order.
    await Deno.writeTextFile(
      `${dir}/features.csv`,
      toCsv(rows.map((r) => [r[2], r[0], r[1]])),
    );
    const json = async (csv: string) =>
      JSON.parse(
        (await cli(["predict", "--model", model, "--csv", csv, "--json"]))
          .stdout,
      ).predictions.map((p: { class: number }) => p.class);
    assert.deepEqual(await json(`${dir}/features.csv`), await json(FLOWERS));
    await Deno.writeTextFile(
      `${dir}/missing.csv`,
      toCsv(rows.map((r) => [r[0], r[1], r[3]])),
    );
    assertError(
      await cli(["predict", "--model", model, "--csv", `${dir}/missing.csv`]),
      1,
      /has no column "sepal_ratio"; the model takes petal_length, petal_width, sepal_ratio \(matched by header name\)\n$/,
    );
    await Deno.writeTextFile(
      `${dir}/extra.csv`,
      toCsv(rows.map((r, i) => [...r, i === 0 ? "notes" : "n"])),
    );
    assertError(
      await cli(["predict", "--model", model, "--csv", `${dir}/extra.csv`]),
      1,
      /has unknown columns "species", "notes"; expected the model's features/,
    );
    // Without a header, the label column is the last one, and says so.
    await Deno.writeTextFile(`${dir}/bare.csv`, toCsv(rows.slice(1)));
    run = await cli(["predict", "--model", model, "--csv", `${dir}/bare.csv`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /\(\d+\/\d+\)\nlabels from column 4 of 4, the last\n$/,
    );
  });
});

Deno.test("train refuses a CSV file with one class", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/one.csv`, "a,b,label\n1,2,x\n3,4,x\n");
    assertError(
      await cli([
        "train",
        "--dataset",
        `${dir}/one.csv`,
        "--save",
        `${dir}/m.json`,
      ]),
      1,
      /^error: CSV file ".*one\.csv" has only one class \(every label is "x"\); a classifier needs at least 2\n$/,
    );
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name),
      ["one.csv"],
    );
  });
});

Deno.test("train and predict handle features near the largest double; non-finite predictions fail", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/big.csv`,
      "a,b,label\n1e300,-1e300,0\n-1e300,1e300,1\n1e300,1e300,0\n-1e300,-1e300,1\n-1.7e308,1.7e308,1\n",
    );
    const model = `${dir}/big.json`;
    let run = await cli([
      "train",
      "--dataset",
      `${dir}/big.csv`,
      "--steps",
      "20",
      "--quiet",
      "--save",
      model,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const saved = JSON.parse(await Deno.readTextFile(model));
    const { mean, std } = saved.meta.normalization;
    // Population std of [1, -1, 1, -1, -1.7e8] (in units of 1e300), finite.
    const column = [1e300, -1e300, 1e300, -1e300, -1.7e308];
    const m = column.reduce((a, b) => a + b / 5, 0);
    assert.ok(Math.abs(mean[0] - m) <= 1e-12 * Math.abs(m));
    const s = Math.sqrt(
      column.reduce((a, b) => a + ((b - m) / 1e300) ** 2 / 5, 0),
    ) * 1e300;
    assert.ok(Math.abs(std[0] - s) <= 1e-12 * s);
    run = await cli(["predict", "--model", model, "--", "-1.7e308,1.7e308"]);
    assert.equal(run.code, 0, run.stderr);

    // A model whose weights overflow: NaN or Infinity is an error, never null.
    const plain = `${dir}/plain.json`;
    run = await cli([
      "train",
      "--steps",
      "2",
      "--quiet",
      "--save",
      plain,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const huge = JSON.parse(await Deno.readTextFile(plain));
    huge.parameters = huge.parameters.map(() => 1e300);
    await Deno.writeTextFile(`${dir}/huge.json`, JSON.stringify(huge));
    for (const json of [[], ["--json"]]) {
      assertError(
        await cli(["predict", "--model", `${dir}/huge.json`, "1,1", ...json]),
        1,
        /^error: Point "1,1": the model's output is (NaN|-?Infinity), not a finite number \(the weights or the input are too large\)\n$/,
      );
    }
    assertError(
      await cli(["predict", "--model", plain, "1e308,1e308", "--json"]),
      1,
      /^error: Point "1e308,1e308": the model's output is (NaN|-?Infinity), not a finite number/,
    );

    // A stored std too small to divide by is a bad model file.
    const tiny = JSON.parse(await Deno.readTextFile(model));
    tiny.meta.normalization.std = [1e-320, 1];
    await Deno.writeTextFile(`${dir}/tiny.json`, JSON.stringify(tiny));
    assertError(
      await cli(["predict", "--model", `${dir}/tiny.json`, "1,1"]),
      1,
      /is not a tapegrad model: Model file: meta\.normalization must be \{ mean, std \} with 2 finite numbers each \(std at least 2\.2250738585072014e-308, the smallest normal number\)/,
    );
    // A point far outside the training data overflows when standardised.
    const narrow = JSON.parse(await Deno.readTextFile(model));
    narrow.meta.normalization = { mean: [0, 0], std: [1e-300, 1] };
    await Deno.writeTextFile(`${dir}/narrow.json`, JSON.stringify(narrow));
    assertError(
      await cli(["predict", "--model", `${dir}/narrow.json`, "1e10,1"]),
      1,
      /^error: Point "1e10,1": a = 10000000000 is too far from the training data: standardised it is Infinity\n$/,
    );
  });
});

Deno.test("demo reports divergence like train, in text and JSON", async () => {
  assertError(
    await cli(["demo", "--lr", "3", "--steps", "1000"]),
    1,
    /^error: Demo diverged at iteration \d+: the loss became Infinity; try a smaller --lr \(the demo converges for --lr below 0\.25\)\n$/,
  );
  // w - lr*g = 0.4 + 1e300*12.8 is finite; the next loss is not.
  assertError(
    await cli(["demo", "--lr", "1e300", "--json"]),
    1,
    /^error: Demo diverged at iteration 1: the loss became Infinity;/,
  );
  const run = await cli(["demo", "--lr", "0.2", "--steps", "1000", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const last = JSON.parse(run.stdout.trimEnd().split("\n").at(-1)!);
  assert.ok(Math.abs(last.w - 2) < 1e-12, `w converges to 2, got ${last.w}`);
});

Deno.test("grad takes Object.prototype names as variables on the command line", async () => {
  const run = await cli([
    "grad",
    "constructor*toString + __proto__ - valueOf",
    "constructor=2",
    "toString=3",
    "__proto__=4",
    "valueOf=5",
    "--json",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(
    JSON.parse(run.stdout),
    JSON.parse(
      '{"value":5,"grad":{"constructor":3,"toString":2,"__proto__":1,"valueOf":-1}}',
    ),
  );
});

Deno.test("graph refuses 25,000 terms with a usage error instead of overflowing", async () => {
  const run = await cli(["graph", Array(25_000).fill("x").join("+"), "x=1"]);
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /^error: Syntax error at column 1: Expression is too long: its tree is more than 1000 operations deep/,
  );
  assert.doesNotMatch(run.stderr, /Internal error|Maximum call stack/);
});

Deno.test("--help and the README list every limit with its number", async () => {
  const { DEFAULT_MAX_MEMORY_MB, DEFAULT_MAX_PARAMETERS, LARGE_DATA_BATCH } =
    await import("./limits.ts");
  const { MAX_NESTING, MAX_TREE_DEPTH } = await import("../app/expr.ts");
  const { HEADER_TIMEOUT_MS } = await import("./serve.ts");
  const help = (await cli(["--help"])).stdout;
  const readme = await Deno.readTextFile(
    new URL("../README.md", import.meta.url),
  );
  const grouped = (n: number) => n.toLocaleString("en-US");
  const limits: [string, string][] = [
    [
      `${DEFAULT_MAX_PARAMETERS} parameters (--max-parameters)`,
      `${grouped(DEFAULT_MAX_PARAMETERS)} parameters (\`--max-parameters\`)`,
    ],
    [`${DEFAULT_MAX_MEMORY_MB} MB`, `${DEFAULT_MAX_MEMORY_MB} MB estimated`],
    ["(--max-memory)", "(`--max-memory`)"],
    [`batches of ${LARGE_DATA_BATCH}`, `mini-batches of ${LARGE_DATA_BATCH}`],
    [`${MAX_NESTING} levels of nested`, `${MAX_NESTING} levels of nested`],
    [
      `${MAX_TREE_DEPTH} operations deep`,
      `${grouped(MAX_TREE_DEPTH)} operations deep`,
    ],
    ["meta nests at most 64 levels", "nests at most 64 levels"],
    [
      `headers within ${HEADER_TIMEOUT_MS / 1000} s`,
      `headers within ${HEADER_TIMEOUT_MS / 1000} s`,
    ],
    ["--samples 2-1000000", "`--samples` 2–1,000,000"],
    ["layers of 1-100000 neurons", "layers of 1–100,000 neurons"],
    ["A run that fails writes no file", "A run that\nfails writes no file"],
  ];
  for (const [inHelp, inReadme] of limits) {
    assert.ok(
      help.replace(/\n\s*/g, " ").includes(inHelp.replace(/\n\s*/g, " ")),
      `--help: ${inHelp}`,
    );
    assert.ok(
      readme.replace(/\n/g, " ").includes(inReadme.replace(/\n/g, " ")),
      `README: ${inReadme}`,
    );
  }
});
