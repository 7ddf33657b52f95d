/**
 * Input standardisation, `(x - mean) / std` per feature: fitted on training
 * rows, stored in a model's `meta.normalization`, and applied by
 * `MLP.predict()` and `fit()` so that a saved model takes raw inputs.
 *
 * @module
 */

import { show } from "./_show.ts";

/**
 * Feature standardisation: `(x - mean) / std`, per feature.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Normalization, normalize } from "@tapegrad/tapegrad";
 * const norm: Normalization = { mean: [2], std: [4] };
 * assert.deepEqual(normalize([10], norm), [2]);
 * ```
 */
export type Normalization = {
  /** Per-feature mean of the training data. */
  mean: number[];
  /** Per-feature standard deviation (1 where a feature is constant). */
  std: number[];
};

/**
 * Per-feature mean and standard deviation of rows.
 *
 * @param rows Feature rows, all the same length.
 * @returns The normalisation (std 1 for constant features).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitNormalization } from "@tapegrad/tapegrad";
 * assert.deepEqual(fitNormalization([[1, 5], [3, 5]]), { mean: [2, 5], std: [1, 1] });
 * ```
 */
export function fitNormalization(rows: readonly number[][]): Normalization {
  const d = rows[0]?.length ?? 0, n = rows.length;
  // Each feature is divided by its largest magnitude first, so sums and
  // squares cannot overflow even for values near ±1.8e308.
  const scale = new Array<number>(d).fill(0);
  for (const row of rows) {
    for (let j = 0; j < d; j++) scale[j] = Math.max(scale[j], Math.abs(row[j]));
  }
  for (let j = 0; j < d; j++) if (scale[j] === 0) scale[j] = 1;
  const mean = new Array<number>(d).fill(0), std = new Array<number>(d).fill(0);
  for (const row of rows) {
    for (let j = 0; j < d; j++) mean[j] += row[j] / scale[j] / n;
  }
  for (const row of rows) {
    for (let j = 0; j < d; j++) {
      std[j] += (row[j] / scale[j] - mean[j]) ** 2 / n;
    }
  }
  return {
    mean: mean.map((m, j) => m * scale[j]),
    std: std.map((v, j) => {
      const s = Math.sqrt(v) * scale[j];
      // Constant features (and ones varying below 1e-12 of their size, or
      // whose spread is too small to divide by) keep their scale.
      return v > 1e-24 && s >= MIN_STD ? s : 1;
    }),
  };
}

/**
 * The smallest std a normalisation may divide by (the smallest normal
 * double): below it, dividing overflows for ordinary inputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MIN_STD } from "@tapegrad/tapegrad/nn";
 * assert.equal(MIN_STD, 2 ** -1022);
 * ```
 */
export const MIN_STD: number = 2 ** -1022;

/**
 * Applies a normalisation to one row (or copies it unchanged without one).
 *
 * @param row Raw features.
 * @param norm The normalisation, if any.
 * @returns The model's input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalize } from "@tapegrad/tapegrad";
 * assert.deepEqual(normalize([3, 5], { mean: [2, 5], std: [1, 1] }), [1, 0]);
 * assert.deepEqual(normalize([3, 5]), [3, 5]);
 * ```
 */
export function normalize(
  row: readonly number[],
  norm?: Normalization,
): number[] {
  if (norm === undefined) return row.slice();
  return row.map((x, j) => {
    const z = (x - norm.mean[j]) / norm.std[j];
    // x - mean overflows for values of opposite sign near the limit.
    return Number.isFinite(z)
      ? z
      : x / norm.std[j] - norm.mean[j] / norm.std[j];
  });
}

/**
 * Checks that standardised features (or raw ones, without a normalisation)
 * are finite: a value far outside the training data can overflow.
 *
 * @param input The model's input after {@linkcode normalize}.
 * @returns The index of the first non-finite feature, or -1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstNonFinite, normalize } from "@tapegrad/tapegrad/nn";
 * const norm = { mean: [0], std: [1e-300] };
 * assert.equal(firstNonFinite(normalize([1e10], norm)), 0);
 * assert.equal(firstNonFinite(normalize([1], norm)), -1);
 * ```
 */
export function firstNonFinite(input: readonly number[]): number {
  return input.findIndex((x) => !Number.isFinite(x));
}

/**
 * Throws unless `x` is a {@linkcode Normalization} for `nin` features:
 * `{ mean, std }` with `nin` finite numbers each, every std at least
 * {@linkcode MIN_STD}.
 */
export function checkNormalization(
  x: unknown,
  nin: number,
  name: string,
): asserts x is Normalization {
  const numbers = (v: unknown) =>
    Array.isArray(v) && v.length === nin &&
    v.every((e) => typeof e === "number" && Number.isFinite(e));
  const norm = x as Partial<Normalization> | null;
  if (
    typeof norm !== "object" || norm === null || !numbers(norm.mean) ||
    !numbers(norm.std) || norm.std!.some((s) => !(s >= MIN_STD))
  ) {
    throw new TypeError(
      `${name} must be { mean, std } with ${nin} finite numbers each (std at least ${MIN_STD}, the smallest normal number), got ${
        show(x)
      }`,
    );
  }
}
