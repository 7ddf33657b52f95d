/**
 * What `train --save` stores in a model file's `meta` so that `predict` can
 * use the model alone: the loss (which decides how scores map to classes),
 * the classes and their names, and the input normalisation. Also the mapping
 * from raw model outputs to a class, a score and a confidence.
 *
 * @module
 */

import { type LossName, type MLP, outputsForLoss } from "../mod.ts";
import { RuntimeError } from "./errors.ts";

/** The losses a model can be trained with. */
export const LOSS_NAMES: readonly LossName[] = [
  "hinge",
  "mse",
  "bce",
  "cross-entropy",
];

/** Feature standardisation: `(x - mean) / std`, per feature. */
export interface Normalization {
  /** Per-feature mean of the training data. */
  mean: number[];
  /** Per-feature standard deviation (1 where a feature is constant). */
  std: number[];
}

/** The CLI's part of a model file's `meta`. */
export interface CliMeta {
  /** Which program and version wrote the file. */
  createdBy: string;
  /** The dataset kind: `"moons"`, …, or `"csv"`. */
  dataset: string;
  /** The CSV file the model was trained on, for `"csv"`. */
  source?: string;
  /** Number of classes. */
  classes: number;
  /** The loss the model was trained with. */
  loss: LossName;
  /** Original class labels of a CSV file, by class index. */
  labelNames?: string[];
  /** Feature names (CSV header or x1, x2, …). */
  featureNames?: string[];
  /** The CSV label column (name or 0-based index), when one was chosen. */
  labelColumn?: string | number;
  /** Input standardisation applied before the model, if any. */
  normalization?: Normalization;
  /** Training accuracy at the end of training. */
  accuracy?: number;
  /** Validation accuracy at the end of training. */
  valAccuracy?: number;
  /** Steps trained. */
  steps?: number;
}

/**
 * Reads and checks the CLI meta of a loaded model. Models without meta (made
 * through the library) get defaults: sign of the output for one output,
 * argmax for several.
 *
 * @param model A loaded model.
 * @param path The model file, for messages.
 * @returns The meta with defaults filled in.
 * @throws {RuntimeError} If meta is present but malformed or disagrees with the model.
 */
export function readMeta(model: MLP, path: string): CliMeta {
  const nout = model.nouts[model.nouts.length - 1];
  const meta = (model.meta ?? {}) as Record<string, unknown>;
  const bad = (field: string, rule: string) =>
    new RuntimeError(
      `Model file ${
        JSON.stringify(path)
      } has a bad meta.${field}: it must be ${rule}`,
    );
  const loss = meta.loss ?? (nout === 1 ? "hinge" : "cross-entropy");
  if (!(LOSS_NAMES as readonly unknown[]).includes(loss)) {
    throw bad("loss", `one of ${LOSS_NAMES.join(", ")}`);
  }
  const classes = meta.classes ?? (nout === 1 ? 2 : nout);
  if (!Number.isInteger(classes) || (classes as number) < 2) {
    throw bad("classes", "an integer of at least 2");
  }
  const expected = outputsForLoss(loss as LossName, classes as number);
  if (expected !== nout) {
    throw new RuntimeError(
      `Model file ${
        JSON.stringify(path)
      } is inconsistent: loss ${loss} on ${classes} classes needs ${expected} outputs, the model has ${nout}`,
    );
  }
  const strings = (x: unknown, n?: number) =>
    Array.isArray(x) && x.every((s) => typeof s === "string") &&
    (n === undefined || x.length === n);
  if (
    meta.labelNames !== undefined &&
    !strings(meta.labelNames, classes as number)
  ) {
    throw bad("labelNames", `an array of ${classes} strings`);
  }
  if (
    meta.featureNames !== undefined && !strings(meta.featureNames, model.nin)
  ) {
    throw bad("featureNames", `an array of ${model.nin} strings`);
  }
  const norm = meta.normalization as Normalization | undefined;
  if (norm !== undefined) {
    const numbers = (x: unknown) =>
      Array.isArray(x) && x.length === model.nin &&
      x.every((v) => typeof v === "number" && Number.isFinite(v));
    if (
      typeof norm !== "object" || norm === null || !numbers(norm.mean) ||
      !numbers(norm.std) || norm.std.some((s) => !(s >= MIN_STD))
    ) {
      throw bad(
        "normalization",
        `{ mean, std } with ${model.nin} finite numbers each (std at least ${MIN_STD}, the smallest normal number)`,
      );
    }
  }
  return {
    createdBy: typeof meta.createdBy === "string" ? meta.createdBy : "unknown",
    dataset: typeof meta.dataset === "string" ? meta.dataset : "unknown",
    source: typeof meta.source === "string" ? meta.source : undefined,
    classes: classes as number,
    loss: loss as LossName,
    labelNames: meta.labelNames as string[] | undefined,
    featureNames: meta.featureNames as string[] | undefined,
    labelColumn: typeof meta.labelColumn === "string" ||
        typeof meta.labelColumn === "number"
      ? meta.labelColumn
      : undefined,
    normalization: norm,
  };
}

/** A prediction read from raw outputs. */
export interface Scored {
  /** The predicted class index. */
  cls: number;
  /**
   * The score: the raw output for hinge and 2-class mse (its sign decides),
   * the probability of class 1 for bce, the predicted class's probability
   * (softmax) for cross-entropy, its output for multi-class mse.
   */
  score: number;
  /** In [0, 1]: how far from the decision boundary, for shading. */
  confidence: number;
  /** Class probabilities, for bce and cross-entropy. */
  probabilities?: number[];
}

/**
 * Maps raw model outputs to a class and a score, by the loss's convention.
 *
 * @param outputs The model's outputs.
 * @param loss The loss it was trained with.
 * @returns Class, score and confidence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scoreOutputs } from "./model_meta.ts";
 * assert.equal(scoreOutputs([-0.3], "hinge").cls, 0);
 * assert.equal(scoreOutputs([0.1, 2, -1], "cross-entropy").cls, 1);
 * ```
 */
export function scoreOutputs(
  outputs: readonly number[],
  loss: LossName,
): Scored {
  if (outputs.length === 1) {
    const s = outputs[0];
    const cls = s > 0 ? 1 : 0;
    if (loss === "bce") {
      const p = sigmoid(s);
      return {
        cls,
        score: p,
        confidence: Math.abs(2 * p - 1),
        probabilities: [1 - p, p],
      };
    }
    return { cls, score: s, confidence: Math.min(1, Math.abs(s)) };
  }
  let best = 0;
  for (let k = 1; k < outputs.length; k++) {
    if (outputs[k] > outputs[best]) best = k;
  }
  if (loss === "cross-entropy") {
    const m = outputs[best];
    const e = outputs.map((o) => Math.exp(o - m));
    const total = e.reduce((a, b) => a + b, 0);
    const p = e.map((x) => x / total);
    const k = outputs.length;
    return {
      cls: best,
      score: p[best],
      confidence: Math.max(0, (p[best] - 1 / k) / (1 - 1 / k)),
      probabilities: p,
    };
  }
  return {
    cls: best,
    score: outputs[best],
    confidence: Math.min(1, Math.max(0, outputs[best])),
  };
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Per-feature mean and standard deviation of rows.
 *
 * @param rows Feature rows, all the same length.
 * @returns The normalisation (std 1 for constant features).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitNormalization } from "./model_meta.ts";
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

/** The smallest std a normalisation may divide by (the smallest normal double). */
export const MIN_STD = 2 ** -1022;

/**
 * Applies a normalisation to one row (or returns it unchanged without one).
 *
 * @param row Raw features.
 * @param norm The normalisation, if any.
 * @returns The model's input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalize } from "./model_meta.ts";
 * assert.deepEqual(normalize([3, 5], { mean: [2, 5], std: [1, 1] }), [1, 0]);
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
 * import { firstNonFinite, normalize } from "./model_meta.ts";
 * const norm = { mean: [0], std: [1e-300] };
 * assert.equal(firstNonFinite(normalize([1e10], norm)), 0);
 * assert.equal(firstNonFinite(normalize([1], norm)), -1);
 * ```
 */
export function firstNonFinite(input: readonly number[]): number {
  return input.findIndex((x) => !Number.isFinite(x));
}
