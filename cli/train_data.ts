/**
 * `train`'s data preparation: the generated dataset, the shipped one or the
 * CSV file, the validation split, the normalisation, and the loss that fits the classes.
 *
 * @module
 */

import {
  type Dataset,
  defaultLoss,
  fitNormalization,
  type LossName,
  makeDataset,
  makeRegression,
  type Normalization,
  parseCsv,
  REGRESSION_NAMES,
  type RegressionName,
  trainValSplit,
} from "../mod.ts";
import { lossFitsClasses } from "../nn/mod.ts";
import { quote, RuntimeError, UsageError } from "../app/errors.ts";
import { formatNumber } from "../app/format.ts";
import { readBuiltinDataset } from "./builtin_data.ts";
import { readText } from "./io.ts";
import type { TrainPlan } from "./train_plan.ts";

/** Whether a generated dataset's name is a regression problem. */
export function isRegression(name: string): name is RegressionName {
  return (REGRESSION_NAMES as readonly string[]).includes(name);
}

/** A dataset ready for training, with what predict needs to reuse it. */
export interface PreparedData {
  /** Raw data, for plots. */
  raw: Dataset;
  /** Training part. */
  train: Dataset;
  /** Validation part, if any. */
  val?: Dataset;
  /** Normalisation to store in the model (which applies it), if any. */
  normalization?: Normalization;
  /** A short description, e.g. `moons (100 samples, noise 0.1)`. */
  description: string;
}

function generate(plan: TrainPlan): Dataset {
  const { samples, noise, seed } = plan;
  const name = plan.datasetName!;
  if (isRegression(name)) return makeRegression(name, samples, { noise, seed });
  return makeDataset(name, samples, {
    noise,
    seed,
    classes: plan.classes ?? 3,
  });
}

function loadCsv(plan: TrainPlan): Dataset {
  const path = plan.csvPath!;
  const text = readText(path, "CSV file");
  try {
    return parseCsv(
      text,
      plan.label === undefined ? {} : { label: plan.label },
    );
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof RangeError) {
      throw new RuntimeError(`Bad CSV file ${quote(path)}: ${error.message}`);
    }
    throw error;
  }
}

/**
 * Generates or reads the data, splits off validation, and fits the
 * normalisation a CSV or shipped data set's model stores.
 *
 * @param plan The plan.
 * @returns The data, ready for training (raw: the model normalises).
 * @throws {RuntimeError} For a missing or malformed CSV or data set file.
 */
export async function prepare(plan: TrainPlan): Promise<PreparedData> {
  const raw = plan.builtin !== undefined
    ? await readBuiltinDataset(plan.builtin, plan.dataDir)
    : plan.csvPath === undefined
    ? generate(plan)
    : loadCsv(plan);
  if (plan.csvPath !== undefined && raw.x.length < 2) {
    throw new RuntimeError(
      `CSV file ${
        quote(plan.csvPath)
      } has ${raw.x.length} data row; training needs at least 2`,
    );
  }
  const present = new Set(raw.y);
  if (plan.csvPath !== undefined && (present.size < 2 || raw.classes < 2)) {
    const only = raw.labelNames?.[raw.y[0]] ?? String(raw.y[0]);
    throw new RuntimeError(
      `CSV file ${quote(plan.csvPath)} has only one class (every label is ${
        quote(only)
      }); a classifier needs at least 2`,
    );
  }
  const split = plan.valSplit > 0
    ? trainValSplit(raw, plan.valSplit, { seed: plan.seed })
    : undefined;
  const rawTrain = split?.train ?? raw;
  const rawVal = split && split.val.x.length > 0 ? split.val : undefined;
  const normalization =
    (plan.csvPath !== undefined || plan.builtin !== undefined) &&
      plan.normalize
      ? fitNormalization(rawTrain.x)
      : undefined;
  const description = plan.builtin !== undefined
    ? `${plan.builtin} (${raw.x.length} samples, ${
      raw.x[0].length
    } features, ${raw.classes} classes${
      normalization ? ", standardised" : ""
    }; ${rawTrain.x.length} train, ${rawVal?.x.length ?? 0} held out)`
    : plan.csvPath !== undefined
    ? `${plan.csvPath} (${raw.x.length} rows, ${
      raw.x[0].length
    } features, ${raw.classes} classes${normalization ? ", standardised" : ""})`
    : `${plan.datasetName} (${raw.x.length} samples, noise ${
      formatNumber(plan.noise)
    }${raw.classes > 2 ? `, ${raw.classes} classes` : ""}${
      raw.classes === 0 ? ", regression" : ""
    })`;
  return {
    raw,
    train: rawTrain,
    val: rawVal,
    normalization,
    description,
  };
}

/**
 * The plan's loss, or the default for the class count, checked against it.
 *
 * @param plan The plan.
 * @param classes The data's class count.
 * @returns The loss.
 * @throws {UsageError} If the loss needs 2 classes and the data has more.
 */
export function chooseLoss(plan: TrainPlan, classes: number): LossName {
  if (classes === 0) {
    if (plan.loss !== undefined && plan.loss !== "mse") {
      throw new UsageError(
        `--loss ${plan.loss} is for classes; ${plan.datasetName} is a regression problem, trained with mse`,
      );
    }
    return "mse";
  }
  const loss = plan.loss ?? defaultLoss(classes);
  if (!lossFitsClasses(loss, classes)) {
    throw new UsageError(
      `--loss ${loss} is for 2 classes and the data has ${classes}; use --loss cross-entropy or mse`,
    );
  }
  return loss;
}
