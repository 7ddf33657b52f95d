// The dataset type and what is done to any dataset: labels to ±1 or one-hot, shuffling, train/validation splits and mini-batches.

import { Rng } from "./rng.ts";
import { show } from "./_show.ts";
import {
  checkFraction,
  checkInteger,
  checkOptions,
  SHORT_ARRAYS,
} from "./_dataset_checks.ts";

/**
 * A labelled classification dataset: one feature row per sample and its
 * class index.
 *
 * Datasets are plain data: the helpers in this module never modify one, they
 * return new arrays.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accuracy, type Dataset } from "@tapegrad/tapegrad";
 *
 * const ds: Dataset = { x: [[0, 1], [1, 0]], y: [0, 1], classes: 2 };
 * assert.equal(accuracy([0, 0], ds.y), 0.5);
 * ```
 */
export interface Dataset {
  /** Feature rows: `x[i]` holds the features of sample `i`, all rows the same length. */
  x: number[][];
  /** Class indexes: `y[i]` is an integer from 0 to `classes - 1` (real targets for regression). */
  y: number[];
  /** The number of classes, or 0 for a regression dataset (see `makeRegression`). */
  classes: number;
  /** Optional names of the feature columns, one per entry of a row. */
  featureNames?: string[];
  /** Optional original label of each class index, set when labels were remapped (see `parseCsv`). */
  labelNames?: string[];
}

/**
 * Options of {@linkcode trainValSplit}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   makeXor,
 *   type SplitOptions,
 *   trainValSplit,
 * } from "@tapegrad/tapegrad";
 *
 * const options: SplitOptions = { seed: 9 };
 * assert.equal(trainValSplit(makeXor(10), 0.3, options).val.x.length, 3);
 * ```
 */
export interface SplitOptions {
  /** Seed of the {@linkcode Rng} that shuffles before splitting; defaults to 0. */
  seed?: number;
}

/**
 * The result of {@linkcode trainValSplit}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   makeMoons,
 *   type TrainValSplit,
 *   trainValSplit,
 * } from "@tapegrad/tapegrad";
 *
 * const parts: TrainValSplit = trainValSplit(makeMoons(10), 0.5);
 * assert.equal(parts.train.x.length + parts.val.x.length, 10);
 * ```
 */
export interface TrainValSplit {
  /** The training part. */
  train: Dataset;
  /** The validation part. */
  val: Dataset;
}

/**
 * Options of {@linkcode batches}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BatchOptions, batches, makeMoons } from "@tapegrad/tapegrad";
 * import { Rng } from "@tapegrad/tapegrad";
 *
 * const options: BatchOptions = { rng: new Rng(1) };
 * assert.equal(batches(makeMoons(9), 4, options).length, 3);
 * ```
 */
export interface BatchOptions {
  /** When given, samples are shuffled with this generator first (advancing it); otherwise order is kept. */
  rng?: Rng;
}

function checkLabels(what: string, labels: unknown): void {
  if (!Array.isArray(labels)) {
    throw new TypeError(
      `${what} must be an array, got ${show(labels, SHORT_ARRAYS)}`,
    );
  }
}

/** Throws unless `ds` looks like a {@linkcode Dataset} whose x and y agree in length. */
function checkDataset(ds: unknown): asserts ds is Dataset {
  if (typeof ds !== "object" || ds === null || Array.isArray(ds)) {
    throw new TypeError(
      `Dataset must be an object with x, y and classes, got ${
        show(ds, SHORT_ARRAYS)
      }`,
    );
  }
  const { x, y } = ds as Partial<Dataset>;
  if (!Array.isArray(x) || !Array.isArray(y)) {
    throw new TypeError(
      `Dataset x and y must be arrays, got ${show(x, SHORT_ARRAYS)} and ${
        show(y, SHORT_ARRAYS)
      }`,
    );
  }
  if (x.length !== y.length) {
    throw new RangeError(
      `Dataset x and y must have the same length, got ${x.length} and ${y.length}`,
    );
  }
}

/**
 * Maps binary labels {0, 1} to {-1, +1}, the targets of a hinge or tanh loss.
 *
 * @param y Labels, each 0 or 1.
 * @returns A new array with 0 replaced by -1 and 1 kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toSigned } from "@tapegrad/tapegrad";
 *
 * assert.deepEqual(toSigned([0, 1, 1, 0]), [-1, 1, 1, -1]);
 * ```
 *
 * @throws {TypeError} If `y` is not an array.
 * @throws {RangeError} If a label is not 0 or 1.
 */
export function toSigned(y: readonly number[]): number[] {
  checkLabels("Labels", y);
  return y.map((label, i) => {
    if (label !== 0 && label !== 1) {
      throw new RangeError(
        `Label at index ${i} must be 0 or 1, got ${show(label, SHORT_ARRAYS)}`,
      );
    }
    return label === 1 ? 1 : -1;
  });
}

/**
 * Encodes class indexes as one-hot rows.
 *
 * @param y Class indexes, each an integer from 0 to `classes - 1`.
 * @param classes The number of classes, a positive integer.
 * @returns One row of length `classes` per label, 1 at the label's index and 0 elsewhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneHot } from "@tapegrad/tapegrad";
 *
 * assert.deepEqual(oneHot([2, 0], 3), [[0, 0, 1], [1, 0, 0]]);
 * ```
 *
 * @throws {TypeError} If `y` is not an array or `classes` is not a number.
 * @throws {RangeError} If `classes` is not a positive integer or a label is out of range.
 */
export function oneHot(y: readonly number[], classes: number): number[][] {
  checkLabels("Labels", y);
  checkInteger("Class count", classes, 1, "a positive integer");
  return y.map((label, i) => {
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new RangeError(
        `Label at index ${i} must be an integer from 0 to ${classes - 1}, got ${
          show(label, SHORT_ARRAYS)
        }`,
      );
    }
    const row = new Array<number>(classes).fill(0);
    row[label] = 1;
    return row;
  });
}

/**
 * Returns a shuffled copy of a dataset: x rows and labels move together.
 *
 * @param ds The dataset; it is not modified.
 * @param rng The generator that picks the order; it advances.
 * @returns A new dataset with the same samples in random order (rows copied).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shuffleDataset } from "@tapegrad/tapegrad";
 * import { Rng } from "@tapegrad/tapegrad";
 *
 * const ds = { x: [[0], [1], [2]], y: [0, 1, 0], classes: 2 };
 * const shuffled = shuffleDataset(ds, new Rng(6));
 * shuffled.x.forEach(([v], i) => assert.equal(shuffled.y[i], v % 2));
 * ```
 *
 * @throws {TypeError} If `ds` is not a dataset or `rng` is not an {@linkcode Rng}.
 * @throws {RangeError} If `ds.x` and `ds.y` differ in length.
 */
export function shuffleDataset(ds: Dataset, rng: Rng): Dataset {
  checkDataset(ds);
  if (!(rng instanceof Rng)) {
    throw new TypeError(`Shuffle needs an Rng, got ${show(rng, SHORT_ARRAYS)}`);
  }
  return pick(ds, rng.permutation(ds.x.length));
}

/**
 * Shuffles a dataset and splits it into a training and a validation part.
 *
 * The validation part gets `round(n × valFraction)` samples, capped so the
 * training part keeps at least one sample when the dataset is not empty.
 *
 * @param ds The dataset; it is not modified.
 * @param valFraction The share of samples to hold out, in [0, 1).
 * @param options The shuffle seed; see {@linkcode SplitOptions}.
 * @returns The two parts; together they hold every sample exactly once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeMoons, trainValSplit } from "@tapegrad/tapegrad";
 *
 * const { train, val } = trainValSplit(makeMoons(100), 0.2, { seed: 7 });
 * assert.equal(train.x.length, 80);
 * assert.equal(val.x.length, 20);
 * ```
 *
 * @throws {TypeError} If `ds` is not a dataset or an argument has the wrong type.
 * @throws {RangeError} If `valFraction` is outside [0, 1), `ds.x` and `ds.y` differ in length, or `seed` is not a safe integer.
 */
export function trainValSplit(
  ds: Dataset,
  valFraction: number,
  options: SplitOptions = {},
): TrainValSplit {
  checkDataset(ds);
  checkFraction("Validation fraction", valFraction);
  checkOptions(options);
  const rng = new Rng(options.seed ?? 0);
  const n = ds.x.length;
  const nVal = Math.min(Math.round(n * valFraction), Math.max(n - 1, 0));
  const order = rng.permutation(n);
  return {
    train: pick(ds, order.slice(nVal)),
    val: pick(ds, order.slice(0, nVal)),
  };
}

/**
 * Cuts a dataset into mini-batches of `batchSize` samples; the last batch
 * holds whatever is left and may be smaller.
 *
 * @param ds The dataset; it is not modified.
 * @param batchSize The samples per batch, a positive integer.
 * @param options An optional generator to shuffle with first; see {@linkcode BatchOptions}.
 * @returns The batches, which together hold every sample exactly once (none for an empty dataset).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batches, makeXor } from "@tapegrad/tapegrad";
 * import { Rng } from "@tapegrad/tapegrad";
 *
 * const sizes = batches(makeXor(10), 4, { rng: new Rng(8) }).map((b) => b.x.length);
 * assert.deepEqual(sizes, [4, 4, 2]);
 * ```
 *
 * @throws {TypeError} If `ds` is not a dataset, `rng` is not an {@linkcode Rng}, or an argument has the wrong type.
 * @throws {RangeError} If `batchSize` is not a positive integer or `ds.x` and `ds.y` differ in length.
 */
export function batches(
  ds: Dataset,
  batchSize: number,
  options: BatchOptions = {},
): Dataset[] {
  checkDataset(ds);
  checkInteger("Batch size", batchSize, 1, "a positive integer");
  checkOptions(options);
  const rng = options.rng;
  if (rng !== undefined && !(rng instanceof Rng)) {
    throw new TypeError(
      `Batch rng must be an Rng, got ${show(rng, SHORT_ARRAYS)}`,
    );
  }
  const n = ds.x.length;
  const order = rng === undefined
    ? Array.from({ length: n }, (_, i) => i)
    : rng.permutation(n);
  const out: Dataset[] = [];
  for (let start = 0; start < n; start += batchSize) {
    out.push(pick(ds, order.slice(start, start + batchSize)));
  }
  return out;
}

/** Picks the samples at `indexes` (in that order) into a new dataset, copying rows and metadata. */
function pick(ds: Dataset, indexes: readonly number[]): Dataset {
  const out: Dataset = {
    x: indexes.map((i) => ds.x[i].slice()),
    y: indexes.map((i) => ds.y[i]),
    classes: ds.classes,
  };
  if (ds.featureNames !== undefined) out.featureNames = ds.featureNames.slice();
  if (ds.labelNames !== undefined) out.labelNames = ds.labelNames.slice();
  return out;
}
