/**
 * Function-fitting (regression) problems, generated from a seed: 1-D
 * (`sine`, `abs`, `step`) and 2-D (`plane`, `gaussian`), as datasets whose
 * `classes` is 0 and whose `y` holds real targets; `fit()` trains them with
 * the `mse` loss, and {@linkcode r2Score} scores them.
 *
 * @module
 */

import type { Dataset } from "./data.ts";
import { Rng } from "./rng.ts";
import { show } from "./_show.ts";

/**
 * The regression problems {@linkcode makeRegression} generates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { REGRESSION_NAMES } from "@tapegrad/tapegrad";
 * assert.deepEqual(REGRESSION_NAMES, ["sine", "abs", "step", "plane", "gaussian"]);
 * ```
 */
export const REGRESSION_NAMES: readonly [
  "sine",
  "abs",
  "step",
  "plane",
  "gaussian",
] = Object.freeze(["sine", "abs", "step", "plane", "gaussian"] as const);

/** One of {@linkcode REGRESSION_NAMES}. */
export type RegressionName = typeof REGRESSION_NAMES[number];

/**
 * The function each problem samples (before noise), of `x` (1-D) or `x`
 * and `y` (2-D): `sin(x)`, `|x|`, a unit step at 0, the plane
 * `(x + y) / 2`, and the Gaussian bump `exp(-(x² + y²))`.
 *
 * @param name The problem.
 * @param point `[x]` or `[x, y]`.
 * @returns The target.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { regressionTarget } from "@tapegrad/tapegrad/nn";
 * assert.equal(regressionTarget("abs", [-2]), 2);
 * assert.equal(regressionTarget("gaussian", [0, 0]), 1);
 * ```
 */
export function regressionTarget(
  name: RegressionName,
  point: readonly number[],
): number {
  const x = point[0], y = point[1];
  switch (name) {
    case "sine":
      return Math.sin(x);
    case "abs":
      return Math.abs(x);
    case "step":
      return x < 0 ? 0 : 1;
    case "plane":
      return (x + y) / 2;
    case "gaussian":
      return Math.exp(-(x * x + y * y));
  }
}

/**
 * The number of inputs of a problem: 1 for sine, abs and step, 2 for plane
 * and gaussian.
 *
 * @param name The problem.
 * @returns 1 or 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { regressionInputs } from "@tapegrad/tapegrad";
 * assert.equal(regressionInputs("sine"), 1);
 * assert.equal(regressionInputs("plane"), 2);
 * ```
 */
export function regressionInputs(name: RegressionName): 1 | 2 {
  return name === "plane" || name === "gaussian" ? 2 : 1;
}

/**
 * The noise each problem defaults to (the std added to the targets).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_REGRESSION_NOISE } from "@tapegrad/tapegrad/nn";
 * assert.equal(DEFAULT_REGRESSION_NOISE.sine, 0.1);
 * ```
 */
export const DEFAULT_REGRESSION_NOISE: Readonly<
  Record<RegressionName, number>
> = Object.freeze({
  sine: 0.1,
  abs: 0.05,
  step: 0.05,
  plane: 0.05,
  gaussian: 0.05,
});

/** Options of {@linkcode makeRegression}. */
export interface RegressionOptions {
  /** Std of the Gaussian noise added to each target; defaults to {@linkcode DEFAULT_REGRESSION_NOISE}. */
  noise?: number;
  /** Seed of the {@linkcode Rng}; defaults to 0. */
  seed?: number;
}

/**
 * Samples a regression problem: inputs uniform on [-π, π] (1-D) or
 * [-2, 2]² (2-D), targets from {@linkcode regressionTarget} plus noise.
 *
 * @param name One of {@linkcode REGRESSION_NAMES}.
 * @param n Number of samples, at least 1.
 * @param options Noise and seed.
 * @returns A dataset with `classes` 0 and real targets in `y`.
 * @throws {RangeError} For an unknown name, a bad count, or negative noise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeRegression } from "@tapegrad/tapegrad";
 * const data = makeRegression("sine", 50, { noise: 0, seed: 1 });
 * assert.equal(data.classes, 0);
 * assert.equal(data.x[0].length, 1);
 * assert.equal(data.y[7], Math.sin(data.x[7][0]));
 * ```
 */
export function makeRegression(
  name: RegressionName,
  n: number,
  options: RegressionOptions = {},
): Dataset {
  if (!(REGRESSION_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(
      `Unknown regression problem ${show(name)}; expected one of ${
        REGRESSION_NAMES.join(", ")
      }`,
    );
  }
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(
      `Sample count must be a positive integer, got ${show(n)}`,
    );
  }
  const noise = options.noise ?? DEFAULT_REGRESSION_NOISE[name];
  if (!(noise >= 0 && Number.isFinite(noise))) {
    throw new RangeError(
      `Noise must be a finite number of at least 0, got ${show(noise)}`,
    );
  }
  const rng = new Rng(options.seed ?? 0);
  const dims = regressionInputs(name);
  const half = dims === 1 ? Math.PI : 2;
  const x: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const point = Array.from(
      { length: dims },
      () => half * (2 * rng.next() - 1),
    );
    x.push(point);
    y.push(regressionTarget(name, point) + noise * rng.normal());
  }
  return {
    x,
    y,
    classes: 0,
    featureNames: dims === 1 ? ["x"] : ["x", "y"],
  };
}

/**
 * The coefficient of determination R² = 1 − SSE / SST: 1 for a perfect
 * fit, 0 for predicting the mean, below 0 for worse.
 *
 * @param predicted Predictions.
 * @param actual Targets, as many (at least one).
 * @returns R² (1 when the targets are constant and predicted exactly, 0
 * when constant and not).
 * @throws {RangeError} If the lengths differ or are 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { r2Score } from "@tapegrad/tapegrad";
 * assert.equal(r2Score([1, 2, 3], [1, 2, 3]), 1);
 * assert.equal(r2Score([2, 2, 2], [1, 2, 3]), 0);
 * ```
 */
export function r2Score(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
): number {
  const n = actual.length;
  if (n === 0 || predicted.length !== n) {
    throw new RangeError(
      `R² needs as many predictions as targets (at least one), got ${predicted.length} and ${n}`,
    );
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i] / n;
  let sse = 0, sst = 0;
  for (let i = 0; i < n; i++) {
    sse += (predicted[i] - actual[i]) ** 2;
    sst += (actual[i] - mean) ** 2;
  }
  if (sst === 0) return sse === 0 ? 1 : 0;
  return 1 - sse / sst;
}
