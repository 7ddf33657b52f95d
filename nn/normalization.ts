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
 * import { type Normalization, normalize } from "./normalization.ts";
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
 * import { fitNormalization } from "./normalization.ts";
 * assert.deepEqual(fitNormalization([[1, 5], [3, 5]]), { mean: [2, 5], std: [1, 1] });
 * ```
 */
export function fitNormalization(rows: readonly number[][]): Normalization {
  const d = rows[0]?.length ?? 0, n = rows.length;
  const mean = new Array<number>(d).fill(0), std = new Array<number>(d).fill(0);
  for (const row of rows) for (let j = 0; j < d; j++) mean[j] += row[j] / n;
  for (const row of rows) {
    for (let j = 0; j < d; j++) std[j] += (row[j] - mean[j]) ** 2 / n;
  }
  return { mean, std: std.map((v) => (v > 1e-24 ? Math.sqrt(v) : 1)) };
}

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
 * import { normalize } from "./normalization.ts";
 * assert.deepEqual(normalize([3, 5], { mean: [2, 5], std: [1, 1] }), [1, 0]);
 * assert.deepEqual(normalize([3, 5]), [3, 5]);
 * ```
 */
export function normalize(
  row: readonly number[],
  norm?: Normalization,
): number[] {
  if (norm === undefined) return row.slice();
  return row.map((x, j) => (x - norm.mean[j]) / norm.std[j]);
}

/**
 * Throws unless `x` is a {@linkcode Normalization} for `nin` features:
 * `{ mean, std }` with `nin` finite numbers each, every std above 0.
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
    !numbers(norm.std) || norm.std!.some((s) => !(s > 0))
  ) {
    throw new TypeError(
      `${name} must be { mean, std } with ${nin} numbers each (std > 0), got ${
        show(x)
      }`,
    );
  }
}
