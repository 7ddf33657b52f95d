// Inputs the CLI must handle or refuse clearly: sizes, extreme values,
// labels, CSV columns, diverging demos, deep JSON, odd variable names.

import assert from "node:assert/strict";
import {
  chooseBatch,
  estimateTrainingBytes,
  formatBytes,
  parameterCount,
} from "./limits.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], cwd?: string): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", "--allow-write", CLI, ...args],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
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
