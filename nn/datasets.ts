// Toy classification datasets, generated from a seed: moons, circles, spirals, xor and blobs (scikit-learn's shapes), and by name.

import { type Dataset, shuffleDataset } from "./data.ts";
import { Rng } from "./rng.ts";
import { show } from "./_show.ts";
import {
  checkFraction,
  checkInteger,
  checkOptions,
  SHORT_ARRAYS,
} from "./_dataset_checks.ts";

/**
 * Options of {@linkcode makeMoons}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeMoons, type MoonsOptions } from "@tapegrad/tapegrad";
 *
 * const options: MoonsOptions = { noise: 0.1, seed: 42 };
 * assert.deepEqual(makeMoons(10, options), makeMoons(10, options));
 * ```
 */
export interface MoonsOptions {
  /** Standard deviation of the Gaussian noise added to each coordinate; defaults to 0. */
  noise?: number;
  /** Seed of the {@linkcode Rng} used for noise and shuffling; defaults to 0. */
  seed?: number;
}

/**
 * Options of {@linkcode makeCircles}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CirclesOptions, makeCircles } from "@tapegrad/tapegrad";
 *
 * const options: CirclesOptions = { factor: 0.2, seed: 1 };
 * const radii = makeCircles(4, options).x.map(([a, b]) => Math.hypot(a, b));
 * assert.deepEqual(radii.map((r) => Math.round(r * 10) / 10).sort(), [0.2, 0.2, 1, 1]);
 * ```
 */
export interface CirclesOptions {
  /** Standard deviation of the Gaussian noise added to each coordinate; defaults to 0. */
  noise?: number;
  /** Radius of the inner circle relative to the outer one, in [0, 1); defaults to 0.5. */
  factor?: number;
  /** Seed of the {@linkcode Rng} used for noise and shuffling; defaults to 0. */
  seed?: number;
}

/**
 * Options of {@linkcode makeSpirals}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeSpirals, type SpiralsOptions } from "@tapegrad/tapegrad";
 *
 * const options: SpiralsOptions = { classes: 5, noise: 0.2 };
 * assert.equal(makeSpirals(50, options).classes, 5);
 * ```
 */
export interface SpiralsOptions {
  /** Number of spiral arms, an integer of at least 2; defaults to 3. */
  classes?: number;
  /** Standard deviation of the Gaussian noise added to each angle (radians); defaults to 0. */
  noise?: number;
  /** Seed of the {@linkcode Rng} used for noise and shuffling; defaults to 0. */
  seed?: number;
}

/**
 * Options of {@linkcode makeXor}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeXor, type XorOptions } from "@tapegrad/tapegrad";
 *
 * const options: XorOptions = { noise: 0.05, seed: 3 };
 * assert.equal(makeXor(20, options).x.length, 20);
 * ```
 */
export interface XorOptions {
  /** Standard deviation of the Gaussian jitter added to each coordinate after labelling; defaults to 0. */
  noise?: number;
  /** Seed of the {@linkcode Rng} used for points and jitter; defaults to 0. */
  seed?: number;
}

/**
 * Options of {@linkcode makeBlobs}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BlobsOptions, makeBlobs } from "@tapegrad/tapegrad";
 *
 * const options: BlobsOptions = { centers: [[-4], [4]], std: 0 };
 * assert.deepEqual(new Set(makeBlobs(6, options).x.flat()), new Set([-4, 4]));
 * ```
 */
export interface BlobsOptions {
  /** Number of blobs, an integer of at least 2; defaults to 3, or to `centers.length` when centers are given. */
  classes?: number;
  /** Standard deviation of each blob along every axis, at least 0; defaults to 0.5. */
  std?: number;
  /** Seed of the {@linkcode Rng} used for points and shuffling; defaults to 0. */
  seed?: number;
  /** Blob centers, one point per class, all with the same number of coordinates. */
  centers?: number[][];
}

/** Throws unless `value` is a finite number of at least 0. */
function checkNonNegative(
  what: string,
  value: unknown,
): asserts value is number {
  const rule = "a finite number of at least 0";
  if (typeof value !== "number") {
    throw new TypeError(
      `${what} must be ${rule}, got ${show(value, SHORT_ARRAYS)}`,
    );
  }
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `${what} must be ${rule}, got ${show(value, SHORT_ARRAYS)}`,
    );
  }
}

function checkSampleCount(n: unknown): asserts n is number {
  checkInteger("Sample count", n, 1, "a positive integer");
}

function checkClassCount(classes: unknown): asserts classes is number {
  checkInteger("Class count", classes, 2, "an integer of at least 2");
}

/** `m` evenly spaced numbers from `a` to `b`, both ends included (numpy's linspace). */
function linspace(a: number, b: number, m: number): number[] {
  if (m <= 1) return m === 1 ? [a] : [];
  const out = new Array<number>(m);
  for (let i = 0; i < m; i++) out[i] = a + ((b - a) * i) / (m - 1);
  out[m - 1] = b;
  return out;
}

/** Splits `n` samples over `classes` as evenly as possible, the first classes taking the remainder. */
function classSizes(n: number, classes: number): number[] {
  const base = Math.floor(n / classes);
  const extra = n % classes;
  return Array.from({ length: classes }, (_, k) => base + (k < extra ? 1 : 0));
}

/** Names x1, x2, … for `d` feature columns. */
function defaultFeatureNames(d: number): string[] {
  return Array.from({ length: d }, (_, j) => `x${j + 1}`);
}

/** Wraps generated samples in a dataset with default feature names, shuffled with `rng`. */
function finish(
  x: number[][],
  y: number[],
  classes: number,
  rng: Rng,
): Dataset {
  const d = x.length > 0 ? x[0].length : 2;
  const ordered: Dataset = {
    x,
    y,
    classes,
    featureNames: defaultFeatureNames(d),
  };
  return shuffleDataset(ordered, rng);
}

/**
 * Makes two interleaving half circles, like scikit-learn's `make_moons`.
 *
 * The first `floor(n / 2)` samples lie on the outer moon `(cos t, sin t)`
 * (class 0), the rest on the inner moon `(1 - cos t, 0.5 - sin t)` (class 1),
 * with `t` evenly spaced over [0, π]. Gaussian noise of standard deviation
 * `noise` is then added to every coordinate and the samples are shuffled.
 *
 * @param n The number of samples, a positive integer.
 * @param options Noise and seed; see {@linkcode MoonsOptions}.
 * @returns A 2-feature dataset with 2 classes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeMoons } from "@tapegrad/tapegrad";
 *
 * const moons = makeMoons(100, { noise: 0.1, seed: 1 });
 * assert.equal(moons.x.length, 100);
 * assert.equal(moons.classes, 2);
 * assert.equal(moons.y.filter((label) => label === 1).length, 50);
 * ```
 *
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `n` is not a positive integer, `noise` is negative or not finite, or `seed` is not a safe integer.
 */
export function makeMoons(n: number, options: MoonsOptions = {}): Dataset {
  checkSampleCount(n);
  checkOptions(options);
  const { noise = 0, seed = 0 } = options;
  checkNonNegative("Noise", noise);
  const rng = new Rng(seed);
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const x: number[][] = [];
  const y: number[] = [];
  for (const t of linspace(0, Math.PI, nOut)) {
    x.push([Math.cos(t), Math.sin(t)]);
    y.push(0);
  }
  for (const t of linspace(0, Math.PI, nIn)) {
    x.push([1 - Math.cos(t), 1 - Math.sin(t) - 0.5]);
    y.push(1);
  }
  // Noise is drawn even when it is 0, so a seed gives the same order at every noise level.
  for (const row of x) {
    row[0] += noise * rng.normal();
    row[1] += noise * rng.normal();
  }
  return finish(x, y, 2, rng);
}

/**
 * Makes a small circle inside a large one, like scikit-learn's `make_circles`.
 *
 * The first `floor(n / 2)` samples are evenly spaced on the unit circle
 * (class 0), the rest on a circle of radius `factor` (class 1). Gaussian
 * noise of standard deviation `noise` is added to every coordinate and the
 * samples are shuffled.
 *
 * @param n The number of samples, a positive integer.
 * @param options Noise, inner radius and seed; see {@linkcode CirclesOptions}.
 * @returns A 2-feature dataset with 2 classes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeCircles } from "@tapegrad/tapegrad";
 *
 * const circles = makeCircles(40, { factor: 0.3, seed: 2 });
 * const inner = circles.x.filter((_, i) => circles.y[i] === 1);
 * assert.equal(inner.length, 20);
 * assert.ok(inner.every(([a, b]) => Math.abs(Math.hypot(a, b) - 0.3) < 1e-12));
 * ```
 *
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `n` is not a positive integer, `noise` is negative or not finite, `factor` is outside [0, 1), or `seed` is not a safe integer.
 */
export function makeCircles(n: number, options: CirclesOptions = {}): Dataset {
  checkSampleCount(n);
  checkOptions(options);
  const { noise = 0, factor = 0.5, seed = 0 } = options;
  checkNonNegative("Noise", noise);
  checkFraction("Circle factor", factor);
  const rng = new Rng(seed);
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < nOut; i++) {
    const t = (2 * Math.PI * i) / nOut;
    x.push([Math.cos(t), Math.sin(t)]);
    y.push(0);
  }
  for (let i = 0; i < nIn; i++) {
    const t = (2 * Math.PI * i) / nIn;
    x.push([factor * Math.cos(t), factor * Math.sin(t)]);
    y.push(1);
  }
  for (const row of x) {
    row[0] += noise * rng.normal();
    row[1] += noise * rng.normal();
  }
  return finish(x, y, 2, rng);
}

/**
 * Makes interleaved spiral arms, one per class, as in Stanford's CS231n notes.
 *
 * Class `k` gets `n / classes` samples (the first `n % classes` classes one
 * more), at radius `r` evenly spaced over [0, 1] and angle `t` evenly spaced
 * over [4k, 4(k + 1)] plus Gaussian noise of standard deviation `noise`; the
 * point is `(r sin t, r cos t)`. CS231n uses `noise: 0.2`. The samples are
 * shuffled.
 *
 * @param n The number of samples, an integer of at least `classes`.
 * @param options Class count, angle noise and seed; see {@linkcode SpiralsOptions}.
 * @returns A 2-feature dataset with `classes` classes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeSpirals } from "@tapegrad/tapegrad";
 *
 * const spirals = makeSpirals(90, { classes: 3, noise: 0.2, seed: 3 });
 * assert.equal(spirals.classes, 3);
 * assert.deepEqual(new Set(spirals.y), new Set([0, 1, 2]));
 * ```
 *
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `classes` is not an integer of at least 2, `n` is not an integer of at least `classes`, `noise` is negative or not finite, or `seed` is not a safe integer.
 */
export function makeSpirals(n: number, options: SpiralsOptions = {}): Dataset {
  checkSampleCount(n);
  checkOptions(options);
  const { classes = 3, noise = 0, seed = 0 } = options;
  checkClassCount(classes);
  checkNonNegative("Noise", noise);
  if (n < classes) {
    throw new RangeError(
      `Sample count must be at least the class count (${classes}), got ${n}`,
    );
  }
  const rng = new Rng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  classSizes(n, classes).forEach((m, k) => {
    const radii = linspace(0, 1, m);
    const angles = linspace(4 * k, 4 * (k + 1), m);
    for (let i = 0; i < m; i++) {
      const t = angles[i] + noise * rng.normal();
      x.push([radii[i] * Math.sin(t), radii[i] * Math.cos(t)]);
      y.push(k);
    }
  });
  return finish(x, y, classes, rng);
}

/**
 * Makes the XOR problem: points uniform in the square [-1, 1]², labelled 0
 * when `x1 * x2 > 0` (first and third quadrants) and 1 otherwise.
 *
 * Labels come from the clean point; Gaussian jitter of standard deviation
 * `noise` is added to each coordinate afterwards, so with noise some points
 * cross the axes. Classes are balanced only in expectation.
 *
 * @param n The number of samples, a positive integer.
 * @param options Jitter and seed; see {@linkcode XorOptions}.
 * @returns A 2-feature dataset with 2 classes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeXor } from "@tapegrad/tapegrad";
 *
 * const xor = makeXor(50, { seed: 4 });
 * xor.x.forEach(([a, b], i) => assert.equal(xor.y[i], a * b > 0 ? 0 : 1));
 * ```
 *
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `n` is not a positive integer, `noise` is negative or not finite, or `seed` is not a safe integer.
 */
export function makeXor(n: number, options: XorOptions = {}): Dataset {
  checkSampleCount(n);
  checkOptions(options);
  const { noise = 0, seed = 0 } = options;
  checkNonNegative("Noise", noise);
  const rng = new Rng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = rng.uniform(-1, 1);
    const b = rng.uniform(-1, 1);
    y.push(a * b > 0 ? 0 : 1);
    x.push([a + noise * rng.normal(), b + noise * rng.normal()]);
  }
  return { x, y, classes: 2, featureNames: defaultFeatureNames(2) };
}

/** Throws unless `centers` holds at least 2 points, all finite and of one dimension. */
function checkCenters(centers: unknown): asserts centers is number[][] {
  if (!Array.isArray(centers)) {
    throw new TypeError(
      `Centers must be an array of coordinate arrays, got ${
        show(centers, SHORT_ARRAYS)
      }`,
    );
  }
  if (centers.length < 2) {
    throw new RangeError(
      `Centers must hold at least 2 points, got ${centers.length}`,
    );
  }
  centers.forEach((center: unknown, k) => {
    if (!Array.isArray(center) || center.length === 0) {
      throw new TypeError(
        `Center ${k} must be a non-empty array of finite numbers, got ${
          show(center, SHORT_ARRAYS)
        }`,
      );
    }
    if (center.length !== centers[0].length) {
      throw new RangeError(
        `Center ${k} has ${center.length} coordinates, expected ${
          centers[0].length
        } like center 0`,
      );
    }
    center.forEach((c: unknown, j) => {
      if (typeof c !== "number" || !Number.isFinite(c)) {
        const Err = typeof c === "number" ? RangeError : TypeError;
        throw new Err(
          `Center ${k}, coordinate ${j} must be a finite number, got ${
            show(c, SHORT_ARRAYS)
          }`,
        );
      }
    });
  });
}

/**
 * Makes Gaussian blobs, one per class, like scikit-learn's `make_blobs`.
 *
 * Without `centers`, the `classes` centers are evenly spaced on a circle whose
 * radius keeps neighbouring centers 3 apart: center `k` is
 * `ρ (cos 2πk/K, sin 2πk/K)` with `ρ = 1.5 / sin(π/K)`. Class `k` gets
 * `n / classes` samples (the first `n % classes` classes one more), each
 * coordinate drawn from N(center, std²). The samples are shuffled.
 *
 * @param n The number of samples, an integer of at least the class count.
 * @param options Class count or centers, spread and seed; see {@linkcode BlobsOptions}.
 * @returns A dataset with as many features as the centers have coordinates (2 by default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeBlobs } from "@tapegrad/tapegrad";
 *
 * const blobs = makeBlobs(20, { centers: [[0, 0, 0], [5, 5, 5]], std: 0, seed: 5 });
 * assert.equal(blobs.classes, 2);
 * assert.deepEqual(blobs.x[blobs.y.indexOf(1)], [5, 5, 5]);
 * ```
 *
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `classes` is not an integer of at least 2 or disagrees with `centers`, the centers are fewer than 2, ragged or not finite, `n` is below the class count, `std` is negative or not finite, or `seed` is not a safe integer.
 */
export function makeBlobs(n: number, options: BlobsOptions = {}): Dataset {
  checkSampleCount(n);
  checkOptions(options);
  const { std = 0.5, seed = 0, centers } = options;
  let classes = options.classes;
  if (classes !== undefined) checkClassCount(classes);
  if (centers !== undefined) {
    checkCenters(centers);
    if (classes !== undefined && classes !== centers.length) {
      throw new RangeError(
        `Class count ${classes} does not match the ${centers.length} centers given; pass one or the other`,
      );
    }
    classes = centers.length;
  }
  classes ??= 3;
  checkNonNegative("Standard deviation", std);
  if (n < classes) {
    throw new RangeError(
      `Sample count must be at least the class count (${classes}), got ${n}`,
    );
  }
  const count: number = classes;
  const radius = 1.5 / Math.sin(Math.PI / count);
  const means = centers ?? Array.from({ length: count }, (_, k) => {
    const angle = (2 * Math.PI * k) / count;
    return [radius * Math.cos(angle), radius * Math.sin(angle)];
  });
  const rng = new Rng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  classSizes(n, classes).forEach((m, k) => {
    for (let i = 0; i < m; i++) {
      x.push(means[k].map((c) => c + std * rng.normal()));
      y.push(k);
    }
  });
  return finish(x, y, classes, rng);
}

/**
 * The names {@linkcode makeDataset} accepts, one per generator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DATASET_NAMES } from "@tapegrad/tapegrad";
 * assert.deepEqual(DATASET_NAMES, ["moons", "circles", "spirals", "xor", "blobs"]);
 * ```
 */
export const DATASET_NAMES: readonly [
  "moons",
  "circles",
  "spirals",
  "xor",
  "blobs",
] = Object.freeze(["moons", "circles", "spirals", "xor", "blobs"] as const);

/** One of {@linkcode DATASET_NAMES}. */
export type DatasetName = typeof DATASET_NAMES[number];

/**
 * The noise each generator is fair but learnable at (for blobs, the std of
 * each blob): what the CLI and the playground default to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_NOISE } from "@tapegrad/tapegrad/nn";
 * assert.equal(DEFAULT_NOISE.moons, 0.1);
 * ```
 */
export const DEFAULT_NOISE: Readonly<Record<DatasetName, number>> = Object
  .freeze({ moons: 0.1, circles: 0.1, spirals: 0.2, xor: 0.1, blobs: 0.5 });

/** Options of {@linkcode makeDataset}. */
export interface DatasetOptions {
  /** Noise (for blobs, each blob's std); defaults to {@linkcode DEFAULT_NOISE}. */
  noise?: number;
  /** Seed of the generator; defaults to 0. */
  seed?: number;
  /** Classes for spirals and blobs (default 3); the others have 2. */
  classes?: number;
}

/**
 * Generates a 2-D dataset by name: moons, circles, spirals, xor or blobs.
 *
 * @param name One of {@linkcode DATASET_NAMES}.
 * @param n Number of samples.
 * @param options Noise, seed and (spirals, blobs) classes.
 * @returns The dataset.
 * @throws {RangeError} For an unknown name or bad options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeDataset } from "@tapegrad/tapegrad";
 * const spirals = makeDataset("spirals", 90, { classes: 3, seed: 1 });
 * assert.equal(spirals.classes, 3);
 * assert.equal(spirals.x.length, 90);
 * ```
 */
export function makeDataset(
  name: DatasetName,
  n: number,
  options: DatasetOptions = {},
): Dataset {
  const noise = options.noise ?? DEFAULT_NOISE[name];
  const { seed, classes } = options;
  switch (name) {
    case "moons":
      return makeMoons(n, { noise, seed });
    case "circles":
      return makeCircles(n, { noise, seed });
    case "spirals":
      return makeSpirals(n, { noise, seed, classes });
    case "xor":
      return makeXor(n, { noise, seed });
    case "blobs":
      return makeBlobs(n, { std: noise, seed, classes });
    default:
      throw new RangeError(
        `Unknown dataset ${show(name, SHORT_ARRAYS)}; expected one of ${
          DATASET_NAMES.join(", ")
        }`,
      );
  }
}
