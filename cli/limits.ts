/**
 * Size limits a training run checks before it allocates anything: the
 * model's parameter count, and the memory one training step would need,
 * estimated from the model's shape and the batch size. When a full batch
 * would not fit and no batch size was given, training uses mini-batches.
 *
 * @module
 */

/** Default of `--max-parameters`. */
export const DEFAULT_MAX_PARAMETERS = 1_000_000;

/** Default of `--max-memory`, in MB. */
export const DEFAULT_MAX_MEMORY_MB = 2048;

/** The mini-batch size used when a full batch would exceed the memory limit. */
export const LARGE_DATA_BATCH = 256;

const MB = 1024 * 1024;

/**
 * The number of weights and biases of an MLP.
 *
 * @param nin Inputs.
 * @param nouts Layer sizes, the output layer last.
 * @returns The parameter count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parameterCount } from "./limits.ts";
 * assert.equal(parameterCount(2, [16, 16, 1]), 337);
 * ```
 */
export function parameterCount(nin: number, nouts: readonly number[]): number {
  let count = 0, fanIn = nin;
  for (const n of nouts) {
    count += (fanIn + 1) * n;
    fanIn = n;
  }
  return count;
}

/**
 * An upper estimate of the peak memory of training, in bytes: the model,
 * plus per sample of a step's batch the graph's nodes (one per neuron and a
 * few per output) and argument lists (one entry per weight). Measured peaks
 * (resident memory, Deno 2.9) are about half of this.
 *
 * @param nin Inputs.
 * @param nouts Layer sizes, the output layer last.
 * @param batch Samples per step.
 * @returns Estimated bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateTrainingBytes } from "./limits.ts";
 * const mb = estimateTrainingBytes(2, [16, 16, 1], 100_000) / 2 ** 20;
 * assert.ok(mb > 500 && mb < 1000);
 * ```
 */
export function estimateTrainingBytes(
  nin: number,
  nouts: readonly number[],
  batch: number,
): number {
  const parameters = parameterCount(nin, nouts);
  const neurons = nouts.reduce((a, b) => a + b, 0);
  const perSample = 2000 + 4 * parameters + 150 * (neurons + nin);
  return 64 * MB + 300 * parameters + batch * perSample;
}

/**
 * Formats a byte count for messages: `"1.5 GB"`, `"300 MB"`.
 *
 * @param bytes A size in bytes.
 * @returns The size in MB or GB (powers of 1024).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./limits.ts";
 * assert.equal(formatBytes(1.5 * 2 ** 30), "1.5 GB");
 * assert.equal(formatBytes(300 * 2 ** 20), "300 MB");
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MB) {
    return `${Number((bytes / (1024 * MB)).toPrecision(2))} GB`;
  }
  return `${Math.ceil(bytes / MB)} MB`;
}

/** How training will batch, after the limits. */
export interface BatchChoice {
  /** The batch size, or `undefined` for the full batch. */
  batchSize?: number;
  /** Why mini-batches were chosen, when they were chosen automatically. */
  note?: string;
}

/**
 * Applies the limits: the parameter count, then the memory of a step with
 * the requested batch; without a requested batch, a full batch when it
 * fits, else {@linkcode LARGE_DATA_BATCH}-sample mini-batches (or fewer).
 *
 * @param nin Inputs.
 * @param nouts Layer sizes, the output layer last.
 * @param rows Training samples.
 * @param batchSize The requested batch size, if any.
 * @param limits The parameter limit and the memory limit in MB.
 * @returns The batching to use, or an `error` message naming the limit
 * and the flag that changes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseBatch } from "./limits.ts";
 * const limits = { maxParameters: 1e6, maxMemoryMb: 2048 };
 * assert.deepEqual(chooseBatch(2, [16, 16, 1], 100, undefined, limits), {});
 * assert.equal(chooseBatch(2, [16, 16, 1], 1e6, undefined, limits).batchSize, 256);
 * assert.match(chooseBatch(2, [1e5, 1e5, 1], 100, undefined, limits).error!, /parameters/);
 * ```
 */
export function chooseBatch(
  nin: number,
  nouts: readonly number[],
  rows: number,
  batchSize: number | undefined,
  limits: { maxParameters: number; maxMemoryMb: number },
): BatchChoice & { error?: string } {
  const parameters = parameterCount(nin, nouts);
  if (parameters > limits.maxParameters) {
    return {
      error:
        `The model would have ${parameters} parameters; the limit is ${limits.maxParameters} (raise it with --max-parameters, or use smaller --layers)`,
    };
  }
  const limit = limits.maxMemoryMb * MB;
  const need = (batch: number) => estimateTrainingBytes(nin, nouts, batch);
  if (batchSize !== undefined) {
    const batch = Math.min(batchSize, rows);
    if (need(batch) > limit) {
      return {
        error: `Training with batches of ${batch} samples would need about ${
          formatBytes(need(batch))
        }; the limit is ${limits.maxMemoryMb} MB (raise it with --max-memory, or use a smaller --batch-size)`,
      };
    }
    return { batchSize };
  }
  if (need(rows) <= limit) return {};
  let batch = Math.min(LARGE_DATA_BATCH, rows);
  while (batch > 1 && need(batch) > limit) batch = Math.floor(batch / 2);
  if (need(batch) > limit) {
    return {
      error: `Training this model would need about ${
        formatBytes(need(1))
      } even one sample at a time; the limit is ${limits.maxMemoryMb} MB (raise it with --max-memory, or use smaller --layers)`,
    };
  }
  return {
    batchSize: batch,
    note: `a full batch of ${rows} samples would need about ${
      formatBytes(need(rows))
    } (limit ${limits.maxMemoryMb} MB, --max-memory), so training uses mini-batches of ${batch}`,
  };
}

/**
 * Every limit the CLI enforces, one line each, for `--help` and the README.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LIMIT_LINES } from "./limits.ts";
 * assert.ok(LIMIT_LINES.some((line) => line.includes("--max-memory")));
 * ```
 */
export const LIMIT_LINES: readonly string[] = [
  `train: at most ${DEFAULT_MAX_PARAMETERS} parameters (--max-parameters) and ${DEFAULT_MAX_MEMORY_MB} MB`,
  "  of estimated memory (--max-memory), checked before allocating; without",
  `  --batch-size, data too large for a full batch trains in batches of ${LARGE_DATA_BATCH}.`,
  "train: --samples 2-1000000, --steps 1-10000000, layers of 1-100000 neurons,",
  "  --classes 2-26; a CSV file needs at least 2 classes and 2 rows.",
  "grad, graph: at most 250 levels of nested parentheses, calls, signs and",
  "  powers, and a tree at most 1000 operations deep (about 1000 terms in a sum).",
  "Numbers everywhere are finite (|x| up to about 1.8e308); a value, gradient,",
  "  standardised input or prediction that is not finite is an error (exit 1).",
  "Model files: meta nests at most 64 levels of arrays and objects.",
  "demo: --steps 1-10000. serve: request headers within 5 s; Host must be",
  "  127.0.0.1:<port> or localhost:<port>.",
];
