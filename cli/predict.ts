/**
 * `predict`: loads a model saved by `train --save` and prints the class and
 * score of points given on the command line or read from a CSV file (with
 * the accuracy when the file has labels).
 *
 * @module
 */

import { type MLP, normalize, parseCsv, parseModel } from "../mod.ts";
import {
  expandFeatures,
  FEATURE_LABELS,
  firstNonFinite,
  scoreOutputs,
} from "../nn/mod.ts";
import { numberList, parseNumber } from "./args.ts";
import type { Command } from "./command.ts";
import { quote, RuntimeError, UsageError } from "../app/errors.ts";
import {
  formatNumber,
  formatPercent,
  makeStyle,
  table,
} from "../app/format.ts";
import { readText } from "./io.ts";
import { type CliMeta, readMeta } from "../app/model_meta.ts";

/**
 * One prediction, as printed by `--json`. A regression model's predictions
 * are `{ input, value, outputs }` instead.
 */
export interface Prediction {
  /** The input features, as given. */
  input: number[];
  /** The predicted class index. */
  class: number;
  /** The predicted class's name, for models trained on named labels. */
  label?: string;
  /** The score (see `predict --help`). */
  score: number;
  /** The model's raw outputs. */
  outputs: number[];
  /** Class probabilities, for bce and cross-entropy models. */
  probabilities?: number[];
  /** The true class index, when the CSV file has labels. */
  actual?: number;
}

/**
 * Loads and checks a model file.
 *
 * @param path The model file.
 * @returns The model and its CLI meta.
 * @throws {RuntimeError} If the file is unreadable, not JSON or not a tapegrad model.
 */
export function loadModel(path: string): { model: MLP; meta: CliMeta } {
  const text = readText(path, "model file");
  let model: MLP;
  try {
    model = parseModel(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof SyntaxError) {
      throw new RuntimeError(
        `Model file ${quote(path)} is not JSON (${
          reason.replace(/^Model file is not valid JSON: /, "")
        })`,
      );
    }
    throw new RuntimeError(
      `${quote(path)} is not a tapegrad model: ${
        reason.replace(/^Not a tapegrad model file: /, "")
      }`,
    );
  }
  return { model, meta: readMeta(model, path) };
}

function inputNames(model: MLP, meta: CliMeta): string {
  // A model with features takes a point and computes the rest itself.
  if (model.features !== undefined) return "x, y";
  return (meta.featureNames ??
    Array.from({ length: model.inputSize }, (_, j) => `x${j + 1}`))
    .join(", ");
}

/** Rows of a CSV file of features only (no label column). */
function readFeatureRows(text: string, path: string, nin: number): number[][] {
  const rows: number[][] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  let first = true;
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const fields = line.split(",").map((f) => f.trim());
    const numbers = fields.map((f) => parseNumber(f));
    if (first && numbers.every((x) => x === undefined)) {
      first = false;
      return; // A header row.
    }
    first = false;
    if (fields.length !== nin) {
      throw new RuntimeError(
        `Bad CSV file ${quote(path)}: line ${i + 1} has ${fields.length} field${
          fields.length === 1 ? "" : "s"
        }, expected ${nin} (the model's inputs)`,
      );
    }
    const bad = numbers.findIndex((x) => x === undefined);
    if (bad >= 0) {
      throw new RuntimeError(
        `Bad CSV file ${quote(path)}: line ${i + 1}, column ${bad + 1}: ${
          quote(fields[bad])
        } is not a number`,
      );
    }
    rows.push(numbers as number[]);
  });
  if (rows.length === 0) {
    throw new RuntimeError(`CSV file ${quote(path)} has no data rows`);
  }
  return rows;
}

/** Reads a CSV for prediction: features only, or features and a label column. */
function readCsvInputs(
  path: string,
  model: MLP,
  meta: CliMeta,
): { rows: number[][]; actual?: number[]; labelFrom?: string } {
  const text = readText(path, "CSV file");
  const firstLine = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/).find((l) =>
    l.trim() !== ""
  );
  const width = firstLine === undefined ? 0 : firstLine.split(",").length;
  const header = firstLine?.split(",").map((f) => f.trim());
  if (
    // Generated datasets name their features x1, x2: only a CSV header's
    // names are worth matching.
    header !== undefined && meta.featureNames !== undefined &&
    meta.dataset === "csv" &&
    header.every((f) => parseNumber(f) === undefined)
  ) {
    return readNamedColumns(text, path, header, meta.featureNames, meta);
  }
  if (width === model.inputSize) {
    return { rows: readFeatureRows(text, path, model.inputSize) };
  }
  if (width !== model.inputSize + 1) {
    throw new RuntimeError(
      `CSV file ${quote(path)} has ${width} column${
        width === 1 ? "" : "s"
      }; the model takes ${model.inputSize} features (${
        inputNames(model, meta)
      }), optionally followed by a label column`,
    );
  }
  const { rows, actual } = readCsvWithLabels(text, path, meta);
  const labelFrom = typeof meta.labelColumn === "string"
    ? `column ${quote(meta.labelColumn)}`
    : `column ${(meta.labelColumn ?? width - 1) + 1} of ${width}${
      meta.labelColumn === undefined ? ", the last" : ""
    }`;
  return { rows, actual, labelFrom };
}

/** Reads features and labels, mapping labels to the model's classes. */
function readCsvWithLabels(
  text: string,
  path: string,
  meta: CliMeta,
): { rows: number[][]; actual: number[] } {
  let data;
  try {
    data = parseCsv(
      text,
      meta.labelColumn === undefined ? {} : { label: meta.labelColumn },
    );
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof RangeError) {
      throw new RuntimeError(`Bad CSV file ${quote(path)}: ${error.message}`);
    }
    throw error;
  }
  const actual = data.y.map((y, i) => {
    const name = data.labelNames?.[y] ?? String(y);
    const k = meta.labelNames ? meta.labelNames.indexOf(name) : Number(name);
    if (!(Number.isInteger(k) && k >= 0 && k < meta.classes)) {
      const known = meta.labelNames ??
        Array.from({ length: meta.classes }, (_, j) => String(j));
      throw new RuntimeError(
        `Bad CSV file ${quote(path)}: label ${quote(name)} of row ${
          i + 1
        } is not a class of the model (classes: ${known.join(", ")})`,
      );
    }
    return k;
  });
  return { rows: data.x, actual };
}

/**
 * Reads a CSV whose header names the model's features, in any order: each
 * feature is taken from the column of its name; one other column, if any,
 * holds the labels.
 */
function readNamedColumns(
  text: string,
  path: string,
  header: string[],
  features: readonly string[],
  meta: CliMeta,
): { rows: number[][]; actual?: number[]; labelFrom?: string } {
  const missing = features.filter((f) => !header.includes(f));
  if (missing.length > 0) {
    throw new RuntimeError(
      `CSV file ${quote(path)} has no column ${
        missing.map(quote).join(", ")
      }; the model takes ${features.join(", ")} (matched by header name)`,
    );
  }
  const others = header.filter((f) => !features.includes(f));
  if (others.length > 1) {
    throw new RuntimeError(
      `CSV file ${quote(path)} has unknown columns ${
        others.map(quote).join(", ")
      }; expected the model's features (${
        features.join(", ")
      }) and at most one label column`,
    );
  }
  if (others.length === 0) {
    const rows = readFeatureRows(text, path, header.length);
    const order = features.map((f) => header.indexOf(f));
    return { rows: rows.map((row) => order.map((j) => row[j])) };
  }
  const labelMeta = { ...meta, labelColumn: others[0] };
  const { rows, actual } = readCsvWithLabels(text, path, labelMeta);
  // parseCsv keeps the file's order of the feature columns.
  const fileOrder = header.filter((f) => f !== others[0]);
  const order = features.map((f) => fileOrder.indexOf(f));
  return {
    rows: rows.map((row) => order.map((j) => row[j])),
    actual,
    labelFrom: `column ${quote(others[0])}`,
  };
}

/** The `predict` command. */
export const predictCommand: Command = {
  name: "predict",
  summary: "Classify points with a model saved by train --save",
  usage: [
    "predict --model <model.json> <x1,x2,…> [more points…] [options]",
    "predict --model <model.json> --csv <file.csv> [options]",
  ],
  positionals: true,
  options: {
    model: {
      type: "string",
      value: "<model.json>",
      help: "The model file (required)",
    },
    csv: {
      type: "string",
      value: "<file.csv>",
      help:
        "Read points from a CSV file: the model's features, optionally then the label " +
        "(then the accuracy is shown too)",
    },
    json: {
      type: "boolean",
      help:
        'Print {"predictions": [{"input", "class", "score", "outputs", …}], "accuracy"?}',
    },
  },
  description: [
    "Scores: the raw output for hinge and 2-class mse models (class 1 when",
    "positive); the probability of class 1 for bce; the predicted class's",
    "probability (softmax) for cross-entropy; its output for multi-class mse.",
    "Inputs are standardised as in training when the model says so. With",
    "--csv: when the model knows its feature names (a CSV header in",
    "training) and the file has a header, columns are matched by name, in",
    "any order, and one other column is the label; otherwise the model's",
    "features come first, in training order, optionally followed by the",
    "label. The accuracy line says which column held the labels. An input",
    "that overflows when standardised, or an output that is not finite, is",
    "an error (exit 1).",
  ].join(" "),
  permissions: "--allow-read for the model file and the CSV file.",
  examples: [
    "predict --model model.json 0.5,-0.25 1.5,0.8",
    "predict --model model.json --csv points.csv --json",
  ],
  run(args, io) {
    const modelPath = typeof args.values.model === "string"
      ? args.values.model
      : undefined;
    const csvPath = typeof args.values.csv === "string"
      ? args.values.csv
      : undefined;
    if (modelPath === undefined) {
      throw new UsageError(
        "predict needs --model <model.json>, a file saved by: train --save model.json",
      );
    }
    if (csvPath !== undefined && args.positionals.length > 0) {
      throw new UsageError(
        `Give points on the command line or --csv, not both (got ${
          quote(args.positionals[0])
        })`,
      );
    }
    if (csvPath === undefined && args.positionals.length === 0) {
      throw new UsageError(
        "predict needs points such as 0.5,-1.2 (one argument per point) or --csv <file.csv>",
      );
    }
    // Points are checked before the model is read: usage errors come first.
    const points = args.positionals.map((text) => numberList("Point", text));
    const { model, meta } = loadModel(modelPath);
    let rows: number[][], actual: number[] | undefined;
    let labelFrom: string | undefined;
    if (csvPath !== undefined) {
      ({ rows, actual, labelFrom } = readCsvInputs(csvPath, model, meta));
    } else {
      points.forEach((point, i) => {
        if (point.length !== model.inputSize) {
          throw new UsageError(
            `Point ${quote(args.positionals[i])} has ${point.length} value${
              point.length === 1 ? "" : "s"
            }; the model takes ${model.inputSize} (${inputNames(model, meta)})`,
          );
        }
      });
      rows = points;
    }
    const point = (i: number) =>
      csvPath === undefined
        ? `Point ${quote(args.positionals[i])}`
        : `Row ${i + 1} of ${quote(csvPath)}`;
    const names = inputNames(model, meta).split(", ");
    const predictions: Prediction[] = rows.map((input, i) => {
      // The model standardises raw inputs itself when it was trained so;
      // an input far outside the training data can overflow doing it.
      const features = model.features;
      const raw = features ? expandFeatures(input, features) : input;
      const x = normalize(raw, model.normalization);
      const bad = firstNonFinite(x);
      if (bad >= 0) {
        throw new RuntimeError(
          `${point(i)}: ${
            features ? FEATURE_LABELS[features[bad]] : names[bad]
          } = ${
            raw[bad]
          } is too far from the training data: standardised it is ${x[bad]}`,
        );
      }
      const outputs = model.predict(input);
      if (firstNonFinite(outputs) >= 0) {
        throw new RuntimeError(
          `${point(i)}: the model's output is ${
            outputs.find((o) => !Number.isFinite(o))
          }, not a finite number (the weights or the input are too large)`,
        );
      }
      if (meta.classes === 0) {
        // A regression model: its output is the prediction.
        return { input, value: outputs[0], outputs } as unknown as Prediction;
      }
      const scored = scoreOutputs(outputs, meta.loss);
      const p: Prediction = {
        input,
        class: scored.cls,
        score: scored.score,
        outputs,
      };
      if (meta.labelNames) p.label = meta.labelNames[scored.cls];
      if (scored.probabilities) p.probabilities = scored.probabilities;
      if (actual) p.actual = actual[i];
      return p;
    });
    const correct = actual
      ? predictions.filter((p) => p.class === p.actual).length
      : 0;
    const accuracy = actual ? correct / predictions.length : undefined;
    if (args.values.json) {
      const out: { predictions: Prediction[]; accuracy?: number } = {
        predictions,
      };
      if (accuracy !== undefined) out.accuracy = accuracy;
      io.out(JSON.stringify(out) + "\n");
      return 0;
    }
    if (meta.classes === 0) {
      const [head, ...lines] = table([
        ["input", "value"],
        ...predictions.map((p) => [
          p.input.map((x) => formatNumber(x)).join(", "),
          formatNumber(p.outputs[0], 6),
        ]),
      ]);
      io.out([makeStyle(io.color).dim(head), ...lines].join("\n") + "\n");
      return 0;
    }
    const name = (k: number) => meta.labelNames?.[k] ?? String(k);
    const header = ["input", "class", "score"];
    if (actual) header.push("actual");
    const body = predictions.map((p) => {
      const row = [
        p.input.map((x) => formatNumber(x)).join(", "),
        name(p.class),
        formatNumber(p.score, 4),
      ];
      if (p.actual !== undefined) {
        row.push(`${name(p.actual)}${p.actual === p.class ? "" : "  ✗"}`);
      }
      return row;
    });
    const style = makeStyle(io.color);
    const [head, ...lines] = table([header, ...body]);
    const out = [style.dim(head), ...lines];
    if (accuracy !== undefined) {
      out.push(
        "",
        `accuracy ${
          formatPercent(accuracy)
        } (${correct}/${predictions.length})`,
        `labels from ${labelFrom}`,
      );
    }
    io.out(out.join("\n") + "\n");
    return 0;
  },
};
