/**
 * `train`'s planning: its options read and checked into a {@linkcode TrainPlan}
 * before any file is touched.
 *
 * @module
 */

import {
  type Activation,
  ACTIVATIONS,
  BUILTIN_DATASET_NAMES,
  BUILTIN_DATASETS,
  type BuiltinDatasetName,
  DATASET_NAMES,
  type DatasetName,
  FIT_MODES,
  FIT_PRECISIONS,
  type FitMode,
  type FitPrecision,
  type Init,
  INITS,
  LOSS_NAMES,
  type LossName,
  OPTIMIZER_NAMES,
  type OptimizerName,
  SCHEDULE_NAMES,
  type ScheduleName,
} from "../mod.ts";
import { DEFAULT_NOISE, DEFAULT_REGRESSION_NOISE } from "../nn/mod.ts";
import {
  choiceOption,
  closest,
  integerOption,
  layersOption,
  numberOption,
  type ParsedArgs,
} from "./args.ts";
import { quote, UsageError } from "../app/errors.ts";
import {
  type FeatureName,
  parseFeatures,
  REGRESSION_NAMES,
  regressionInputs,
  type RegressionName,
} from "../mod.ts";

function defaultNoise(name: string | undefined): number {
  if (name === undefined) return 0;
  return (REGRESSION_NAMES as readonly string[]).includes(name)
    ? DEFAULT_REGRESSION_NOISE[name as RegressionName]
    : DEFAULT_NOISE[name as DatasetName];
}
import { DEFAULT_DATA_DIR } from "./builtin_data.ts";

/** Training steps when neither --steps nor --epochs is given. */
export const DEFAULT_STEPS = 100;

/** The held-out fraction when --val-split is not given (generated and CSV data). */
export const DEFAULT_VAL_SPLIT = 0;

/** Everything `train` was asked to do, after validation. */
export interface TrainPlan {
  /** A generated dataset's name, or `undefined` for a CSV file. */
  datasetName?: DatasetName | RegressionName;
  /** The CSV file, for CSV data. */
  csvPath?: string;
  /** A shipped data set (digits, iris, …), read from `dataDir`. */
  builtin?: BuiltinDatasetName;
  /** Where the shipped data sets live. */
  dataDir: string;
  /** Samples to generate. */
  samples: number;
  /** Noise of the generated data (std for blobs). */
  noise: number;
  /** Classes for spirals and blobs. */
  classes?: number;
  /** CSV label column. */
  label?: string | number;
  /** Whether to standardise CSV features. */
  normalize: boolean;
  /** Input features computed from each point (generated data), if chosen. */
  features?: FeatureName[];
  /** Hidden layer sizes. */
  layers: number[];
  /** Hidden activation. */
  activation: Activation;
  /** Weight initialisation. */
  init: Init;
  /** Loss, or `undefined` to pick by class count. */
  loss?: LossName;
  /** Optimizer. */
  optimizer: OptimizerName;
  /** Learning rate, or `undefined` for the optimizer's default. */
  lr?: number;
  /** Learning-rate schedule. */
  schedule: ScheduleName;
  /** Training steps (0 when training by `epochs`, until fit knows them). */
  steps: number;
  /** Epochs, when given instead of steps. */
  epochs?: number;
  /** Mini-batch size, or `undefined` for the full batch. */
  batchSize?: number;
  /** Fraction held out for validation. */
  valSplit: number;
  /** L2 regularisation strength. */
  l2: number;
  /** Seed for data, weights, split and batches. */
  seed: number;
  /** Model output file. */
  save?: string;
  /** SVG output file. */
  plot?: string;
  /** JSON lines output. */
  json: boolean;
  /** Only the final line. */
  quiet: boolean;
  /** Log every this many steps (non-terminal output and JSON). */
  logEvery?: number;
  /** Workers for data-parallel steps, or `undefined` for the default. */
  workers?: number;
  /** How steps run (`fit`'s mode). */
  mode: FitMode;
  /** The number format of wasm steps. */
  precision: FitPrecision;
  /** Largest parameter count allowed. */
  maxParameters: number;
  /** Largest estimated memory of training, in MB. */
  maxMemoryMb: number;
}

const str = (args: ParsedArgs, name: string): string | undefined => {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
};

// A string option with a default in the option table: always present.
const text = (args: ParsedArgs, name: string): string =>
  String(args.values[name]);

/**
 * Validates `train`'s options into a plan (no file is touched).
 *
 * @param args Parsed arguments.
 * @returns The plan.
 * @throws {UsageError} For any bad option.
 */
export function planTraining(args: ParsedArgs): TrainPlan {
  const datasetText = text(args, "dataset");
  let datasetName: DatasetName | RegressionName | undefined;
  let csvPath: string | undefined;
  let builtin: BuiltinDatasetName | undefined;
  const generated = [...DATASET_NAMES, ...REGRESSION_NAMES];
  if ((generated as readonly string[]).includes(datasetText)) {
    datasetName = datasetText as DatasetName | RegressionName;
  } else if (
    (BUILTIN_DATASET_NAMES as readonly string[]).includes(datasetText)
  ) {
    builtin = datasetText as BuiltinDatasetName;
  } else if (/[\\/.]/.test(datasetText)) {
    csvPath = datasetText;
  } else {
    const names = [...DATASET_NAMES, ...BUILTIN_DATASET_NAMES];
    const best = closest(datasetText, [...names, ...REGRESSION_NAMES]);
    throw new UsageError(
      `--dataset must be one of ${
        names.join(", ")
      } or a path to a .csv file; got ${quote(datasetText)}${
        best ? ` (did you mean ${best}?)` : ""
      }`,
    );
  }
  const forGenerated = (name: string) => {
    if (datasetName === undefined && args.given.includes(name)) {
      throw new UsageError(
        `--${name} applies to generated datasets (${
          DATASET_NAMES.join(", ")
        }), not to ${builtin ?? "a CSV file"}`,
      );
    }
  };
  forGenerated("samples");
  forGenerated("noise");
  forGenerated("classes");
  forGenerated("features");
  if (
    datasetName !== undefined &&
    (REGRESSION_NAMES as readonly string[]).includes(datasetName) &&
    str(args, "plot") !== undefined
  ) {
    throw new UsageError(
      `--plot draws a classifier's decision boundary; ${datasetName} is a regression problem (the playground draws its fit)`,
    );
  }
  const featuresText = str(args, "features");
  if (
    featuresText !== undefined && datasetName !== undefined &&
    (REGRESSION_NAMES as readonly string[]).includes(datasetName) &&
    regressionInputs(datasetName as RegressionName) === 1
  ) {
    throw new UsageError(
      `--features applies to 2-D data; ${datasetName} has one input`,
    );
  }
  let features: FeatureName[] | undefined;
  if (featuresText !== undefined) {
    try {
      features = parseFeatures(featuresText);
    } catch (error) {
      throw new UsageError(
        `--features: ${(error as Error).message.replace(/^Features: /, "")}`,
      );
    }
  }
  for (const name of ["label", "normalize"]) {
    // Shipped data sets are standardised like CSV files; --label is CSV's.
    if (
      csvPath === undefined && args.values[name] !== undefined &&
      !(builtin !== undefined && name === "normalize")
    ) {
      throw new UsageError(
        `--${
          name === "normalize" && args.values[name] === false ? "no-" : ""
        }${name} applies to CSV files only`,
      );
    }
  }
  const samples = integerOption("samples", text(args, "samples"), {
    min: 2,
    max: 1_000_000,
  });
  const noise = numberOption(
    "noise",
    str(args, "noise") ?? String(defaultNoise(datasetName)),
    { min: 0 },
  );
  let classes: number | undefined;
  const classesText = str(args, "classes");
  if (classesText !== undefined) {
    if (datasetName !== "spirals" && datasetName !== "blobs") {
      throw new UsageError(
        `--classes applies to spirals and blobs; ${datasetName} always has 2 classes`,
      );
    }
    classes = integerOption("classes", classesText, { min: 2, max: 26 });
  }
  if (builtin === undefined && args.given.includes("data-dir")) {
    throw new UsageError(
      `--data-dir applies to the shipped data sets (${
        BUILTIN_DATASET_NAMES.join(", ")
      })`,
    );
  }
  // A shipped data set brings its own defaults (BUILTIN_DATASETS' table),
  // used for the options the user did not give.
  const preset = builtin && BUILTIN_DATASETS[builtin].defaults;
  const option = (name: string, presetValue?: string): string =>
    presetValue !== undefined && !args.given.includes(name)
      ? presetValue
      : text(args, name);
  const stepsText = str(args, "steps"), epochsText = str(args, "epochs");
  if (stepsText !== undefined && epochsText !== undefined) {
    throw new UsageError("Give --steps or --epochs, not both");
  }
  const epochs = epochsText !== undefined
    ? integerOption("epochs", epochsText, { min: 1, max: 1_000_000 })
    : stepsText === undefined && preset
    ? preset.epochs
    : undefined;
  const labelText = str(args, "label");
  const label = labelText === undefined
    ? undefined
    : /^\d+$/.test(labelText)
    ? Number(labelText)
    : labelText;
  const lossText = str(args, "loss");
  const loss = lossText === undefined
    ? undefined
    : choiceOption("loss", lossText, LOSS_NAMES);
  const optimizer = choiceOption(
    "optimizer",
    option("optimizer", preset?.optimizer),
    OPTIMIZER_NAMES,
  );
  const lrText = str(args, "lr");
  // The preset's rate is for the preset's optimizer only.
  const lr = lrText === undefined
    ? (preset && optimizer === preset.optimizer ? preset.lr : undefined)
    : numberOption("lr", lrText, { min: 0, minExclusive: true });
  const batchText = str(args, "batch-size") ??
    (preset ? String(preset.batchSize) : undefined);
  const save = str(args, "save"), plot = str(args, "plot");
  if (save !== undefined && save === plot) {
    throw new UsageError(`--save and --plot name the same file ${quote(save)}`);
  }
  for (const [name, path] of [["save", save], ["plot", plot]] as const) {
    if (path !== undefined && (path.trim() === "" || /[\\/]$/.test(path))) {
      throw new UsageError(`--${name} needs a file name, got ${quote(path)}`);
    }
  }
  for (const [name, path] of [["save", save], ["plot", plot]] as const) {
    if (path !== undefined && path === csvPath) {
      throw new UsageError(
        `--${name} would overwrite the dataset ${quote(path)}`,
      );
    }
  }
  const mode = choiceOption("mode", text(args, "mode"), FIT_MODES);
  const precision = choiceOption(
    "precision",
    text(args, "precision"),
    FIT_PRECISIONS,
  );
  if (precision === "float32" && mode !== "wasm" && mode !== "auto") {
    throw new UsageError(
      `--precision float32 needs --mode wasm or auto (the WebAssembly backend); got --mode ${mode}`,
    );
  }
  const workersText = str(args, "workers");
  const workers = workersText === undefined
    ? undefined
    : integerOption("workers", workersText, { min: 1, max: 256 });
  if (
    workers !== undefined && workers > 1 &&
    ((mode !== "auto" && mode !== "compiled") || precision !== "float64")
  ) {
    throw new UsageError(
      `--workers ${workers} runs float64 compiled steps on workers; it does not combine with --mode ${mode}${
        precision === "float64" ? "" : " --precision " + precision
      } (use one or the other)`,
    );
  }
  const logText = str(args, "log-every");
  return {
    datasetName,
    csvPath,
    builtin,
    dataDir: str(args, "data-dir") ?? DEFAULT_DATA_DIR,
    samples,
    noise,
    classes,
    label,
    normalize: args.values.normalize !== false,
    features,
    layers: layersOption("layers", option("layers", preset?.layers.join(","))),
    activation: choiceOption(
      "activation",
      text(args, "activation"),
      ACTIVATIONS,
    ),
    init: choiceOption("init", option("init", preset?.init), INITS),
    loss,
    optimizer,
    lr,
    schedule: choiceOption(
      "schedule",
      option("schedule", preset?.schedule),
      SCHEDULE_NAMES,
    ),
    steps: epochs !== undefined
      ? 0
      : integerOption("steps", stepsText ?? String(DEFAULT_STEPS), {
        min: 1,
        max: 10_000_000,
      }),
    epochs,
    batchSize: batchText === undefined
      ? undefined
      : integerOption("batch-size", batchText, { min: 1 }),
    valSplit: numberOption(
      "val-split",
      str(args, "val-split") ??
        String(preset?.valSplit ?? DEFAULT_VAL_SPLIT),
      {
        min: 0,
        max: 1,
        maxExclusive: true,
      },
    ),
    l2: numberOption("l2", text(args, "l2"), { min: 0 }),
    seed: integerOption("seed", text(args, "seed"), {
      min: -(2 ** 31),
      max: 2 ** 31 - 1,
    }),
    save,
    plot,
    json: args.values.json === true,
    quiet: args.values.quiet === true,
    logEvery: logText === undefined
      ? undefined
      : integerOption("log-every", logText, { min: 1 }),
    mode,
    precision,
    workers,
    maxParameters: integerOption(
      "max-parameters",
      text(args, "max-parameters"),
      {
        min: 1,
      },
    ),
    maxMemoryMb: integerOption("max-memory", text(args, "max-memory"), {
      min: 1,
    }),
  };
}
