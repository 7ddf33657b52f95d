/**
 * Input features computed from a 2-D point `(x, y)`, as TensorFlow
 * Playground offers them: x, y, x², y², x·y, sin x and sin y. A model
 * stores its choice in `meta.features`; `MLP.predict()` and `fit()` then
 * take raw points and compute the features (before the normalisation), so
 * a saved model and every front end compute the same inputs.
 *
 * @module
 */

import { show } from "./_show.ts";

/**
 * The feature names, in the order a front end lists them: `x`, `y`, `x2`
 * (x²), `y2` (y²), `xy` (x·y), `sinx` and `siny`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FEATURE_NAMES } from "@tapegrad/tapegrad";
 * assert.deepEqual(FEATURE_NAMES, ["x", "y", "x2", "y2", "xy", "sinx", "siny"]);
 * ```
 */
export const FEATURE_NAMES: readonly [
  "x",
  "y",
  "x2",
  "y2",
  "xy",
  "sinx",
  "siny",
] = Object.freeze(["x", "y", "x2", "y2", "xy", "sinx", "siny"] as const);

/** One of {@linkcode FEATURE_NAMES}. */
export type FeatureName = typeof FEATURE_NAMES[number];

/**
 * How each feature is written for people: `x²`, `x·y`, `sin x`…
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FEATURE_LABELS } from "@tapegrad/tapegrad";
 * assert.equal(FEATURE_LABELS.xy, "x·y");
 * ```
 */
export const FEATURE_LABELS: Readonly<Record<FeatureName, string>> = Object
  .freeze({
    x: "x",
    y: "y",
    x2: "x²",
    y2: "y²",
    xy: "x·y",
    sinx: "sin x",
    siny: "sin y",
  });

/** The number of raw inputs a feature list is computed from: a point's x and y. */
export const FEATURE_INPUTS = 2;

/**
 * One feature of the point `(x, y)`.
 *
 * @param name The feature.
 * @param x The point's first coordinate.
 * @param y The point's second coordinate.
 * @returns The feature's value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { featureValue } from "@tapegrad/tapegrad/nn";
 * assert.equal(featureValue("xy", 3, -2), -6);
 * assert.equal(featureValue("y2", 3, -2), 4);
 * ```
 */
export function featureValue(name: FeatureName, x: number, y: number): number {
  switch (name) {
    case "x":
      return x;
    case "y":
      return y;
    case "x2":
      return x * x;
    case "y2":
      return y * y;
    case "xy":
      return x * y;
    case "sinx":
      return Math.sin(x);
    case "siny":
      return Math.sin(y);
  }
}

/**
 * The features of one point, in the order given.
 *
 * @param point `[x, y]`.
 * @param features The features to compute.
 * @returns One number per feature.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandFeatures } from "@tapegrad/tapegrad";
 * assert.deepEqual(expandFeatures([2, 3], ["x", "y", "x2", "xy"]), [2, 3, 4, 6]);
 * ```
 */
export function expandFeatures(
  point: readonly number[],
  features: readonly FeatureName[],
): number[] {
  const x = point[0], y = point[1];
  return features.map((f) => featureValue(f, x, y));
}

/**
 * Reads a feature list such as `"x,y,x2"` (the CLI's `--features`),
 * checked as {@linkcode checkFeatures} does.
 *
 * @param text Feature names separated by commas.
 * @returns The names.
 * @throws {RangeError} For an unknown, repeated or missing name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFeatures } from "@tapegrad/tapegrad";
 * assert.deepEqual(parseFeatures("x, y,sinx"), ["x", "y", "sinx"]);
 * assert.throws(() => parseFeatures("x,z"), {
 *   name: "RangeError",
 *   message: 'Features: unknown feature "z"; expected some of x, y, x2, y2, xy, sinx, siny',
 * });
 * ```
 */
export function parseFeatures(text: string): FeatureName[] {
  const names = text.split(",").map((s) => s.trim());
  checkFeatures(names, names.length, "Features");
  return names;
}

/**
 * Throws unless `x` is a list of `count` distinct {@linkcode FEATURE_NAMES}.
 *
 * @param x The value to check.
 * @param count The number of features expected (a model's `nin`).
 * @param name What `x` is, to start the messages.
 * @throws {TypeError} If `x` is not an array of strings.
 * @throws {RangeError} For an unknown or repeated name, or the wrong count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFeatures } from "@tapegrad/tapegrad/nn";
 * checkFeatures(["x", "y"], 2, "meta.features");
 * assert.throws(() => checkFeatures(["x", "x"], 2, "meta.features"), {
 *   name: "RangeError",
 *   message: 'meta.features: "x" is listed twice',
 * });
 * ```
 */
export function checkFeatures(
  x: unknown,
  count: number,
  name: string,
): asserts x is FeatureName[] {
  if (!Array.isArray(x) || !x.every((f) => typeof f === "string")) {
    throw new TypeError(
      `${name} must be an array of feature names (${
        FEATURE_NAMES.join(", ")
      }), got ${show(x)}`,
    );
  }
  for (let k = 0; k < x.length; k++) {
    if (!(FEATURE_NAMES as readonly string[]).includes(x[k])) {
      throw new RangeError(
        `${name}: unknown feature ${JSON.stringify(x[k])}; expected some of ${
          FEATURE_NAMES.join(", ")
        }`,
      );
    }
    if (x.indexOf(x[k]) !== k) {
      throw new RangeError(`${name}: ${JSON.stringify(x[k])} is listed twice`);
    }
  }
  if (x.length !== count) {
    throw new RangeError(
      `${name} must list ${count} feature${
        count === 1 ? "" : "s"
      } (one per model input), got ${x.length}`,
    );
  }
}
