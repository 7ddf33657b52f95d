/**
 * Real classification data sets shipped in `data/` (digits, iris, wine,
 * breast cancer, from the UCI repository by way of scikit-learn): their
 * names, file layouts and training defaults, and a parser from a file's
 * bytes. Reading the file is the caller's job, so the library stays free of
 * runtime APIs; gzip is inflated with the standard `DecompressionStream`.
 *
 * @module
 */

import type { Dataset } from "./data.ts";

/**
 * The names of the shipped data sets, in the order the CLI lists them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BUILTIN_DATASET_NAMES } from "./builtin_datasets.ts";
 * assert.ok(BUILTIN_DATASET_NAMES.includes("digits"));
 * ```
 */
export const BUILTIN_DATASET_NAMES: readonly [
  "digits",
  "iris",
  "wine",
  "breast-cancer",
] = ["digits", "iris", "wine", "breast-cancer"];

/** One of {@linkcode BUILTIN_DATASET_NAMES}. */
export type BuiltinDatasetName = typeof BUILTIN_DATASET_NAMES[number];

/** Training settings that give a good model on a shipped data set. */
export interface BuiltinTrainingDefaults {
  /** Hidden layer sizes. */
  layers: readonly number[];
  /** Weight initialisation. */
  init: "uniform" | "xavier" | "he";
  /** Optimizer name. */
  optimizer: "sgd" | "adam" | "adamw";
  /** Initial learning rate. */
  lr: number;
  /** Learning-rate schedule. */
  schedule: "linear" | "cosine" | "constant";
  /** Passes over the training part. */
  epochs: number;
  /** Samples per mini-batch. */
  batchSize: number;
  /** Fraction held out as the test split. */
  valSplit: number;
}

/** What one shipped file holds and how to read it. */
export interface BuiltinDatasetInfo {
  /** The file name inside `data/`. */
  file: string;
  /** Whether the file is gzip-compressed. */
  gzip: boolean;
  /** Whether the first line is scikit-learn's `rows,features,names…` header. */
  header: boolean;
  /** Number of samples. */
  rows: number;
  /** Features per sample. */
  features: number;
  /** Number of classes. */
  classes: number;
  /** The class names, by index. */
  labelNames: readonly string[];
  /** Training defaults that reach a good held-out accuracy in seconds. */
  defaults: BuiltinTrainingDefaults;
}

/**
 * Every shipped data set's file, shape and training defaults: the one table
 * the CLI's help, validation and defaults read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BUILTIN_DATASETS } from "./builtin_datasets.ts";
 * assert.equal(BUILTIN_DATASETS.digits.file, "digits.csv.gz");
 * assert.equal(BUILTIN_DATASETS.digits.features, 64);
 * ```
 */
export const BUILTIN_DATASETS: Readonly<
  Record<BuiltinDatasetName, BuiltinDatasetInfo>
> = {
  digits: {
    file: "digits.csv.gz",
    gzip: true,
    header: false,
    rows: 1797,
    features: 64,
    classes: 10,
    labelNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    defaults: {
      layers: [64],
      init: "he",
      optimizer: "adam",
      lr: 0.01,
      schedule: "cosine",
      epochs: 5,
      batchSize: 32,
      valSplit: 0.2,
    },
  },
  iris: {
    file: "iris.csv",
    gzip: false,
    header: true,
    rows: 150,
    features: 4,
    classes: 3,
    labelNames: ["setosa", "versicolor", "virginica"],
    defaults: {
      layers: [16],
      init: "he",
      optimizer: "adam",
      lr: 0.02,
      schedule: "cosine",
      epochs: 50,
      batchSize: 16,
      valSplit: 0.2,
    },
  },
  wine: {
    file: "wine_data.csv",
    gzip: false,
    header: true,
    rows: 178,
    features: 13,
    classes: 3,
    labelNames: ["class_0", "class_1", "class_2"],
    defaults: {
      layers: [16],
      init: "he",
      optimizer: "adam",
      lr: 0.02,
      schedule: "cosine",
      epochs: 30,
      batchSize: 16,
      valSplit: 0.2,
    },
  },
  "breast-cancer": {
    file: "breast_cancer.csv",
    gzip: false,
    header: true,
    rows: 569,
    features: 30,
    classes: 2,
    labelNames: ["malignant", "benign"],
    defaults: {
      layers: [16],
      init: "he",
      optimizer: "adam",
      lr: 0.01,
      schedule: "cosine",
      epochs: 20,
      batchSize: 32,
      valSplit: 0.2,
    },
  },
};

/**
 * Inflates gzip bytes with the runtime's `DecompressionStream`.
 *
 * @param bytes The compressed bytes.
 * @param file The file name, for the error message.
 * @returns The inflated bytes.
 * @throws {SyntaxError} `<file>: corrupt or truncated gzip data (…)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gunzip } from "./builtin_datasets.ts";
 * const packed = await new Response(
 *   new Blob(["1,2\n"]).stream().pipeThrough(new CompressionStream("gzip")),
 * ).arrayBuffer();
 * const text = new TextDecoder().decode(await gunzip(new Uint8Array(packed), "a.gz"));
 * assert.equal(text, "1,2\n");
 * ```
 */
export async function gunzip(
  bytes: Uint8Array,
  file: string,
): Promise<Uint8Array> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${file}: bytes must be a Uint8Array`);
  }
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(
      `${file}: corrupt or truncated gzip data (${why.split("\n")[0]})`,
    );
  }
}

/**
 * Parses one shipped data set from its file's bytes (inflating gzip first),
 * checking every row against the table: the column count, numeric fields,
 * class indexes, and the row count (which catches a truncated file).
 *
 * @param name Which data set the bytes hold.
 * @param bytes The file's bytes, as read from `data/<file>`.
 * @param file The name to use in error messages (default: the table's file).
 * @returns The data set, with its class names.
 * @throws {RangeError} On an unknown name.
 * @throws {SyntaxError} On bad bytes: one line naming the file, the line and
 * the problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBuiltinDataset } from "./builtin_datasets.ts";
 * const text = "150,4,setosa,versicolor,virginica\n" +
 *   "5.1,3.5,1.4,0.2,0\n".repeat(150);
 * const iris = await parseBuiltinDataset("iris", new TextEncoder().encode(text));
 * assert.equal(iris.x.length, 150);
 * assert.deepEqual(iris.x[0], [5.1, 3.5, 1.4, 0.2]);
 * ```
 */
export async function parseBuiltinDataset(
  name: BuiltinDatasetName,
  bytes: Uint8Array,
  file?: string,
): Promise<Dataset> {
  const info = builtinDatasetInfo(name);
  const where = file ?? info.file;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${where}: bytes must be a Uint8Array`);
  }
  const raw = info.gzip ? await gunzip(bytes, where) : bytes;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw new SyntaxError(`${where}: not UTF-8 text`);
  }
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  let first = 0;
  const columns = info.features + 1;
  if (info.header) {
    const expected = `${info.rows},${info.features}`;
    if (!lines[0]?.startsWith(expected + ",")) {
      throw new SyntaxError(
        `${where}: line 1 should start with "${expected}," (rows, features), got "${
          (lines[0] ?? "").slice(0, 40)
        }"`,
      );
    }
    first = 1;
  }
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = first; i < lines.length; i++) {
    const fields = lines[i].replace(/\r$/, "").split(",");
    if (fields.length !== columns) {
      throw new SyntaxError(
        `${where}: line ${
          i + 1
        } has ${fields.length} columns, expected ${columns} (${info.features} features and the class)`,
      );
    }
    const row = new Array<number>(info.features);
    for (let j = 0; j < info.features; j++) {
      const v = fields[j] === "" ? NaN : Number(fields[j]);
      if (!Number.isFinite(v)) {
        throw new SyntaxError(
          `${where}: line ${i + 1} column ${j + 1} is not a number: "${
            fields[j].slice(0, 20)
          }"`,
        );
      }
      row[j] = v;
    }
    const label = Number(fields[info.features]);
    if (!Number.isInteger(label) || label < 0 || label >= info.classes) {
      throw new SyntaxError(
        `${where}: line ${i + 1} has class "${
          fields[info.features].slice(0, 20)
        }", expected an integer from 0 to ${info.classes - 1}`,
      );
    }
    x.push(row);
    y.push(label);
  }
  if (x.length !== info.rows) {
    throw new SyntaxError(
      `${where}: has ${x.length} data rows, expected ${info.rows} (truncated or wrong file?)`,
    );
  }
  return {
    x,
    y,
    classes: info.classes,
    labelNames: [...info.labelNames],
  };
}

/**
 * The table entry for a shipped data set, with a clear error for any other
 * name.
 *
 * @param name The data set's name.
 * @returns Its file, shape and defaults.
 * @throws {RangeError} When `name` is not one of
 * {@linkcode BUILTIN_DATASET_NAMES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtinDatasetInfo } from "./builtin_datasets.ts";
 * assert.equal(builtinDatasetInfo("wine").classes, 3);
 * assert.throws(() => builtinDatasetInfo("mnist" as "wine"), RangeError);
 * ```
 */
export function builtinDatasetInfo(
  name: BuiltinDatasetName,
): BuiltinDatasetInfo {
  if (!(BUILTIN_DATASET_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(
      `Unknown data set ${JSON.stringify(name)}; expected one of ${
        BUILTIN_DATASET_NAMES.join(", ")
      }`,
    );
  }
  return BUILTIN_DATASETS[name];
}
