/**
 * What `cli.ts train --save` and the playground's "save model" store in a
 * model file's `meta` so that `predict` can use the model alone: the loss
 * (which decides how scores map to classes), the classes and their names.
 * The input normalisation is the library's (`MLP.normalization`).
 *
 * @module
 */

import {
  type FeatureName,
  LOSS_NAMES,
  type LossName,
  type MLP,
  type Normalization,
} from "../mod.ts";
import { outputsForLoss } from "../nn/mod.ts";
import { RuntimeError } from "./errors.ts";

/** The front ends' part of a model file's `meta`. */
export interface CliMeta {
  /** Which program and version wrote the file. */
  createdBy: string;
  /** The dataset kind: `"moons"`, …, or `"csv"`. */
  dataset: string;
  /** The CSV file the model was trained on, for `"csv"`. */
  source?: string;
  /** Number of classes; 0 for a regression model. */
  classes: number;
  /** The loss the model was trained with. */
  loss: LossName;
  /** Original class labels of a CSV file, by class index. */
  labelNames?: string[];
  /** Feature names (CSV header or x1, x2, …). */
  featureNames?: string[];
  /** The CSV label column (name or 0-based index), when one was chosen. */
  labelColumn?: string | number;
  /** Input features `MLP.predict()` computes from a point, if any. */
  features?: FeatureName[];
  /** Input standardisation `MLP.predict()` applies, if any. */
  normalization?: Normalization;
  /** Training accuracy at the end of training. */
  accuracy?: number;
  /** Validation accuracy at the end of training. */
  valAccuracy?: number;
  /** Steps trained. */
  steps?: number;
}

/**
 * Reads and checks the front ends' meta of a loaded model. Models without meta (made
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
  // 0 classes: a regression model (mse, one output).
  if (classes === 0 && (loss !== "mse" || nout !== 1)) {
    throw bad(
      "classes",
      "0 (regression) only for an mse model with one output",
    );
  }
  if (
    !Number.isInteger(classes) || ((classes as number) < 2 && classes !== 0)
  ) {
    throw bad("classes", "an integer of at least 2, or 0 for regression");
  }
  const expected = classes === 0
    ? 1
    : outputsForLoss(loss as LossName, classes as number);
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
    features: model.features?.slice(),
    normalization: model.normalization,
  };
}
