/**
 * `train`: builds a dataset (generated or from a CSV file), trains an MLP on
 * it with live progress, and reports loss, accuracy and a picture of the
 * decision boundary; optionally saves the model and an SVG plot.
 *
 * @module
 */

import {
  type Activation,
  ACTIVATIONS,
  BUILTIN_DATASET_NAMES,
  BUILTIN_DATASETS,
  type BuiltinDatasetName,
  type Dataset,
  DATASET_NAMES,
  type DatasetName,
  DEFAULT_NOISE,
  defaultWorkers,
  type EpochInfo,
  fit,
  type FitOptions,
  fitParallel,
  type FitResult,
  type Init,
  INITS,
  type LossName,
  makeDataset,
  MLP,
  type OptimizerName,
  outputsForLoss,
  PARALLEL_WORKER_URL,
  parseCsv,
  SCHEDULE_NAMES,
  type ScheduleName,
  serializeModel,
  type StepInfo,
  Tape,
  TrainingError,
  trainValSplit,
} from "../mod.ts";
import {
  choiceOption,
  closest,
  integerOption,
  layersOption,
  numberOption,
  type ParsedArgs,
} from "./args.ts";
import { DEFAULT_DATA_DIR, readBuiltinDataset } from "./builtin_data.ts";
import type { Command } from "./command.ts";
import { quote, RuntimeError, UsageError } from "./errors.ts";
import {
  formatDuration,
  formatNumber,
  formatPercent,
  formatRate,
  makeStyle,
} from "./format.ts";
import { type Io, readText } from "./io.ts";
import {
  chooseBatch,
  DEFAULT_MAX_MEMORY_MB,
  DEFAULT_MAX_PARAMETERS,
} from "./limits.ts";
import { checkOutputs, type NamedFile, writeOutputs } from "./safe_write.ts";
import {
  type CliMeta,
  fitNormalization,
  LOSS_NAMES,
  type Normalization,
  normalize,
  scoreOutputs,
} from "./model_meta.ts";
import {
  dataBounds,
  renderSvg,
  renderTerminal,
  sampleBoundary,
  squareBounds,
  terminalGridSize,
} from "./plot.ts";
import { VERSION } from "./version.ts";

const OPTIMIZER_NAMES: readonly OptimizerName[] = ["sgd", "adam", "adamw"];

/** Everything `train` was asked to do, after validation. */
export interface TrainPlan {
  /** A generated dataset's name, or `undefined` for a CSV file. */
  datasetName?: DatasetName;
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
  /** Training steps. */
  steps: number;
  /** Epochs, when given instead of steps (then `steps` is 0 until known). */
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
  /** Largest parameter count allowed. */
  maxParameters: number;
  /** Largest estimated memory of training, in MB. */
  maxMemoryMb: number;
}

const str = (args: ParsedArgs, name: string): string | undefined => {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
};

/**
 * Validates `train`'s options into a plan (no file is touched).
 *
 * @param args Parsed arguments.
 * @returns The plan.
 * @throws {UsageError} For any bad option.
 */
export function planTraining(args: ParsedArgs): TrainPlan {
  const datasetText = str(args, "dataset") ?? "moons";
  let datasetName: DatasetName | undefined;
  let csvPath: string | undefined;
  let builtin: BuiltinDatasetName | undefined;
  if ((DATASET_NAMES as readonly string[]).includes(datasetText)) {
    datasetName = datasetText as DatasetName;
  } else if (
    (BUILTIN_DATASET_NAMES as readonly string[]).includes(datasetText)
  ) {
    builtin = datasetText as BuiltinDatasetName;
  } else if (/[\\/.]/.test(datasetText)) {
    csvPath = datasetText;
  } else {
    const names = [...DATASET_NAMES, ...BUILTIN_DATASET_NAMES];
    const best = closest(datasetText, names);
    throw new UsageError(
      `--dataset must be one of ${
        names.join(", ")
      } or a path to a .csv file; got ${quote(datasetText)}${
        best ? ` (did you mean ${best}?)` : ""
      }`,
    );
  }
  const forGenerated = (name: string) => {
    if (datasetName === undefined && str(args, name) !== undefined) {
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
  for (const name of ["label", "normalize"]) {
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
  const samples = integerOption("samples", str(args, "samples") ?? "100", {
    min: 2,
    max: 1_000_000,
  });
  const noise = numberOption(
    "noise",
    str(args, "noise") ?? String(datasetName ? DEFAULT_NOISE[datasetName] : 0),
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
  if (builtin === undefined && str(args, "data-dir") !== undefined) {
    throw new UsageError(
      `--data-dir applies to the shipped data sets (${
        BUILTIN_DATASET_NAMES.join(", ")
      })`,
    );
  }
  // A shipped data set brings its own defaults (BUILTIN_DATASETS' table).
  const preset = builtin && BUILTIN_DATASETS[builtin].defaults;
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
    str(args, "optimizer") ?? preset?.optimizer ?? "sgd",
    OPTIMIZER_NAMES,
  );
  const lrText = str(args, "lr");
  const lr = lrText === undefined
    ? (preset && optimizer === preset.optimizer ? preset.lr : undefined)
    : numberOption("lr", lrText, {
      min: 0,
      minExclusive: true,
    });
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
  const logText = str(args, "log-every");
  const workersText = str(args, "workers");
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
    layers: layersOption(
      "layers",
      str(args, "layers") ?? preset?.layers.join(",") ?? "16,16",
    ),
    activation: choiceOption(
      "activation",
      str(args, "activation") ?? "relu",
      ACTIVATIONS,
    ),
    init: choiceOption(
      "init",
      str(args, "init") ?? preset?.init ?? "uniform",
      INITS,
    ),
    loss,
    optimizer,
    lr,
    schedule: choiceOption(
      "schedule",
      str(args, "schedule") ?? preset?.schedule ?? "linear",
      SCHEDULE_NAMES,
    ),
    steps: epochs !== undefined ? 0 : integerOption(
      "steps",
      stepsText ?? "100",
      { min: 1, max: 10_000_000 },
    ),
    epochs,
    batchSize: batchText === undefined
      ? undefined
      : integerOption("batch-size", batchText, { min: 1 }),
    valSplit: numberOption(
      "val-split",
      str(args, "val-split") ?? String(preset?.valSplit ?? 0),
      {
        min: 0,
        max: 1,
        maxExclusive: true,
      },
    ),
    l2: numberOption("l2", str(args, "l2") ?? "1e-4", { min: 0 }),
    seed: integerOption("seed", str(args, "seed") ?? "1337", {
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
    workers: workersText === undefined
      ? undefined
      : integerOption("workers", workersText, { min: 1, max: 256 }),
    maxParameters: integerOption(
      "max-parameters",
      str(args, "max-parameters") ?? String(DEFAULT_MAX_PARAMETERS),
      { min: 1 },
    ),
    maxMemoryMb: integerOption(
      "max-memory",
      str(args, "max-memory") ?? String(DEFAULT_MAX_MEMORY_MB),
      { min: 1 },
    ),
  };
}

/** A dataset ready for training, with what predict needs to reuse it. */
interface PreparedData {
  /** Raw data, for plots. */
  raw: Dataset;
  /** Training part, normalised. */
  train: Dataset;
  /** Validation part, normalised, if any. */
  val?: Dataset;
  /** Raw training part (for plots). */
  rawTrain: Dataset;
  /** Normalisation applied, if any. */
  normalization?: Normalization;
  /** A short description, e.g. `moons (100 samples, noise 0.1)`. */
  description: string;
}

function generate(plan: TrainPlan): Dataset {
  const { samples, noise, seed } = plan;
  return makeDataset(plan.datasetName!, samples, {
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

async function prepare(plan: TrainPlan): Promise<PreparedData> {
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
  const apply = (ds: Dataset): Dataset =>
    normalization
      ? { ...ds, x: ds.x.map((row) => normalize(row, normalization)) }
      : ds;
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
    }${raw.classes > 2 ? `, ${raw.classes} classes` : ""})`;
  return {
    raw,
    train: apply(rawTrain),
    val: rawVal ? apply(rawVal) : undefined,
    rawTrain,
    normalization,
    description,
  };
}

/**
 * `--workers`, or the library's default when Deno may load the worker
 * module (else one thread: the default never needs a new permission).
 */
function chooseWorkers(
  plan: TrainPlan,
  batch: number,
  parameters: number,
): number {
  const path = decodeURIComponent(PARALLEL_WORKER_URL.pathname);
  const readable = PARALLEL_WORKER_URL.protocol !== "file:" ||
    Deno.permissions.querySync({ name: "read", path }).state === "granted";
  if (plan.workers === undefined) {
    return readable ? defaultWorkers(batch, parameters) : 1;
  }
  if (plan.workers > 1 && !readable) {
    throw new RuntimeError(
      `--workers ${plan.workers} needs read access to the worker module; run deno with --allow-read=${path}`,
    );
  }
  return plan.workers;
}

function chooseLoss(plan: TrainPlan, classes: number): LossName {
  const loss = plan.loss ?? (classes === 2 ? "hinge" : "cross-entropy");
  if ((loss === "hinge" || loss === "bce") && classes !== 2) {
    throw new UsageError(
      `--loss ${loss} is for 2 classes and the data has ${classes}; use --loss cross-entropy or mse`,
    );
  }
  return loss;
}

/** Writes progress: a live line on a terminal, plain lines or JSON otherwise. */
class Progress {
  private lastDraw = 0;
  private firstStepSeconds = 0;
  private drawn = false;

  constructor(
    private readonly io: Io,
    private readonly plan: TrainPlan,
    private readonly live: boolean,
    private readonly every: number,
  ) {}

  step(info: StepInfo): void {
    const { plan, io } = this;
    // Trained by epochs, the log is one line per epoch unless asked otherwise.
    if (
      plan.epochs !== undefined && plan.logEvery === undefined && !this.live
    ) {
      return;
    }
    const logged = info.step % this.every === 0 || info.step === 1 ||
      info.step === info.steps;
    if (plan.json) {
      if (!logged) return;
      const record: Record<string, number> = {
        step: info.step,
        steps: info.steps,
        loss: info.loss,
        accuracy: info.accuracy,
        lr: info.lr,
      };
      if (info.valAccuracy !== undefined) record.valAccuracy = info.valAccuracy;
      record.seconds = info.seconds;
      io.out(JSON.stringify(record) + "\n");
      return;
    }
    if (plan.quiet) return;
    if (this.live) {
      // The first step includes recording or compiling the graph: measure
      // the rate from its end, or the ETA starts far too high.
      if (info.step === 1) this.firstStepSeconds = info.seconds;
      const now = performance.now();
      if (now - this.lastDraw < 80 && info.step !== info.steps) return;
      this.lastDraw = now;
      const rate = info.step === 1
        ? 1 / Math.max(info.seconds, 1e-9)
        : (info.step - 1) /
          Math.max(info.seconds - this.firstStepSeconds, 1e-9);
      const eta = (info.steps - info.step) / rate;
      const line = `${this.line(info, true)}  ${
        formatRate(rate)
      } steps/s  ETA ${formatDuration(eta)}`;
      io.out(`\r${line.slice(0, Math.max(20, io.columns - 1))}\x1b[K`);
      this.drawn = true;
      return;
    }
    if (logged) io.out(this.line(info) + "\n");
  }

  epoch(info: EpochInfo): void {
    const { plan, io } = this;
    if (plan.json) {
      const record: Record<string, number> = {
        epoch: info.epoch,
        epochs: info.epochs,
        step: info.step,
        loss: info.loss,
        accuracy: info.accuracy,
      };
      if (info.valAccuracy !== undefined) record.valAccuracy = info.valAccuracy;
      record.seconds = info.seconds;
      io.out(JSON.stringify(record) + "\n");
      return;
    }
    if (plan.quiet) return;
    this.finish();
    const width = String(info.epochs).length;
    let text = `epoch ${
      String(info.epoch).padStart(width)
    }/${info.epochs}  loss ${formatNumber(info.loss, 4).padEnd(9)} accuracy ${
      formatPercent(info.accuracy).padStart(6)
    }`;
    if (info.valAccuracy !== undefined) {
      text += `  held out ${formatPercent(info.valAccuracy)}`;
    }
    io.out(`${text}  ${formatDuration(info.seconds)}\n`);
  }

  line(info: StepInfo, compact = false): string {
    const width = String(info.steps).length;
    const loss = formatNumber(info.loss, 4);
    const accuracy = formatPercent(info.accuracy);
    let text = `step ${String(info.step).padStart(width)}/${info.steps}  ` +
      (compact
        ? `loss ${loss}  acc ${accuracy}`
        : `loss ${loss.padEnd(9)} accuracy ${accuracy.padStart(6)}`) +
      `  lr ${formatNumber(info.lr, 3)}`;
    if (info.valAccuracy !== undefined) {
      text += `  val ${formatPercent(info.valAccuracy)}`;
    }
    return text;
  }

  /** Ends the live line so later output starts on a fresh line. */
  finish(): void {
    if (this.drawn) this.io.out("\r\x1b[K");
    this.drawn = false;
  }
}

/**
 * Runs `train` with a validated plan.
 *
 * @param plan What to do.
 * @param io Where to write.
 * @returns The exit code.
 * @throws {UsageError} If outputs clash with each other or the input.
 * @throws {RuntimeError} If a file cannot be read or written, or training diverges.
 */
export async function runTraining(plan: TrainPlan, io: Io): Promise<number> {
  // Fail before training, not after, on outputs that cannot be written or
  // that name an input or each other.
  const outputs: NamedFile[] = [];
  if (plan.save !== undefined) outputs.push({ flag: "save", path: plan.save });
  if (plan.plot !== undefined) outputs.push({ flag: "plot", path: plan.plot });
  checkOutputs(
    outputs,
    plan.csvPath === undefined ? [] : [{ flag: "dataset", path: plan.csvPath }],
  );
  const data = await prepare(plan);
  const classes = data.raw.classes;
  const loss = chooseLoss(plan, classes);
  const nin = data.raw.x[0].length;
  const nouts = [...plan.layers, outputsForLoss(loss, classes)];
  // Limits are checked on estimates, before the model or graph exists.
  const batching = chooseBatch(
    nin,
    nouts,
    data.train.x.length,
    plan.batchSize,
    plan,
  );
  if (batching.error !== undefined) throw new UsageError(batching.error);
  const batchSize = batching.batchSize;
  const model = new MLP(nin, nouts, {
    activation: plan.activation,
    init: plan.init,
    seed: plan.seed,
    tape: new Tape(),
  });
  const live = io.isTerminal && !plan.json && !plan.quiet;
  const every = plan.logEvery ?? Math.max(1, Math.ceil(plan.steps / 10));
  const progress = new Progress(io, plan, live, every);
  const style = makeStyle(io.color);
  if (!plan.json && !plan.quiet) {
    io.out(
      `Training MLP ${model.architecture} (${plan.activation}, ${model.parameterCount} parameters) on ${data.description}\n`,
    );
    if (batching.note !== undefined) io.out(`Note: ${batching.note}\n`);
  }
  let result: FitResult;
  const batch = Math.min(batchSize ?? Infinity, data.train.x.length);
  const workers = chooseWorkers(plan, batch, model.parameterCount);
  try {
    const options: FitOptions = {
      loss,
      optimizer: plan.optimizer,
      lr: plan.lr,
      schedule: plan.schedule,
      steps: plan.epochs === undefined ? plan.steps : undefined,
      epochs: plan.epochs,
      batchSize,
      l2: plan.l2,
      seed: plan.seed,
      val: data.val,
      // By epochs, the held-out part is evaluated once per epoch instead.
      evalEvery: plan.epochs === undefined
        ? Math.min(every, 10)
        : Number.MAX_SAFE_INTEGER,
      onStep: (info) => progress.step(info),
      onEpoch: plan.epochs === undefined
        ? undefined
        : (info) => progress.epoch(info),
    };
    result = workers > 1
      ? await fitParallel(model, data.train, { ...options, workers })
      : fit(model, data.train, options);
  } catch (error) {
    progress.finish();
    if (error instanceof TrainingError) {
      const report = error.report;
      const where = report
        ? `; it first appeared in op ${report.op} (node ${report.index}), which produced ${report.data}`
        : "";
      throw new RuntimeError(
        `Training diverged at step ${error.step}: the loss became ${error.loss}${where}; try a smaller --lr (or --optimizer adam)`,
        { cause: error },
      );
    }
    throw error;
  }
  progress.finish();

  const classify = (row: number[]) =>
    scoreOutputs(model.predict(normalize(row, data.normalization)), loss);
  // Everything to write is built in memory first: a failure leaves no file.
  const meta: CliMeta = {
    createdBy: `tapegrad ${VERSION} cli train`,
    dataset: plan.datasetName ?? plan.builtin ?? "csv",
    classes,
    loss,
    steps: result.steps,
    accuracy: result.accuracy,
  };
  if (plan.csvPath !== undefined) meta.source = plan.csvPath;
  if (result.valAccuracy !== undefined) meta.valAccuracy = result.valAccuracy;
  if (data.raw.labelNames) meta.labelNames = data.raw.labelNames;
  if (data.raw.featureNames) meta.featureNames = data.raw.featureNames;
  if (plan.label !== undefined) meta.labelColumn = plan.label;
  if (data.normalization) meta.normalization = data.normalization;
  model.meta = meta as unknown as MLP["meta"];
  const modelText = plan.save === undefined
    ? undefined
    : serializeModel(model) + "\n";
  const svgText = plan.plot === undefined
    ? undefined
    : svgFor(plan, data, model, loss, result, classify);
  const files = [];
  if (modelText !== undefined) {
    files.push({ path: plan.save!, text: modelText });
  }
  if (svgText !== undefined) files.push({ path: plan.plot!, text: svgText });
  await writeOutputs(files);

  const valAccuracy = result.valAccuracy ?? null;
  if (plan.json) {
    io.out(
      JSON.stringify({
        final: {
          loss: result.loss,
          accuracy: result.accuracy,
          valAccuracy,
          steps: result.steps,
          parameters: model.parameterCount,
          seconds: result.seconds,
        },
      }) + "\n",
    );
    return 0;
  }
  const accuracyText = `${formatPercent(result.accuracy)} train${
    result.valAccuracy === undefined
      ? ""
      : ` · ${formatPercent(result.valAccuracy)} val`
  }`;
  if (plan.quiet) {
    io.out(
      `loss ${
        formatNumber(result.loss, 4)
      }  accuracy ${accuracyText}  steps ${result.steps}  parameters ${model.parameterCount}  time ${
        formatDuration(result.seconds)
      }\n`,
    );
    return 0;
  }
  const rate = result.steps / Math.max(result.seconds, 1e-9);
  const lines = [
    `${style.bold("Done")}: ${result.steps} steps in ${
      formatDuration(result.seconds)
    } (${formatRate(rate)} steps/s, ${result.mode}${
      workers > 1 ? `, ${workers} workers` : ""
    })`,
    `  loss        ${formatNumber(result.loss, 4)} (${loss}${
      plan.l2 > 0 ? ` + l2 ${formatNumber(plan.l2)}` : ""
    })`,
    `  accuracy    ${style.bold(accuracyText)}`,
    `  model       MLP ${model.architecture}, ${plan.activation}, ${model.parameterCount} parameters`,
    `  optimizer   ${plan.optimizer}, ${lrText(plan)}${
      batchSize ? `, batch ${batchSize}` : ", full batch"
    }`,
  ];
  if (nin === 2) {
    const bounds = dataBounds(data.raw.x, 0.08);
    const width = Math.max(20, Math.min(72, io.columns - 2));
    // Generated data shares one scale on both axes; a CSV file's features
    // need not, so each axis then gets the whole picture.
    const size = plan.csvPath === undefined
      ? terminalGridSize(bounds, width)
      : { cols: width, rows: Math.round(width / 4) };
    const grid = sampleBoundary(classify, bounds, size.cols, size.rows);
    lines.push(
      "",
      "Decision boundary (all data):",
      ...renderTerminal(grid, data.raw.x, data.raw.y, classes, {
        color: io.color,
        labelNames: data.raw.labelNames,
        axisNames: axisNames(data.raw),
      }),
    );
  } else {
    lines.push(
      "",
      `(No boundary picture: the data has ${nin} features, not 2.)`,
    );
  }
  if (plan.save !== undefined) lines.push("", `Saved model to ${plan.save}`);
  if (plan.plot !== undefined) {
    lines.push(
      `${plan.save === undefined ? "\n" : ""}Saved plot to ${plan.plot}`,
    );
  }
  io.out(lines.join("\n") + "\n");
  return 0;
}

function axisNames(data: Dataset): [string, string] {
  const [x = "x1", y = "x2"] = data.featureNames ?? [];
  return [x, y];
}

function lrText(plan: TrainPlan): string {
  const lr = plan.lr ?? (plan.optimizer === "sgd" ? 1 : 0.01);
  // The end points of fit's schedules: linear decays to lr/10, cosine to 0.
  if (plan.schedule === "constant") return `lr ${formatNumber(lr)} (constant)`;
  const end = plan.schedule === "linear" ? lr / 10 : 0;
  return `lr ${formatNumber(lr)} → ${formatNumber(end)} (${plan.schedule})`;
}

function svgFor(
  plan: TrainPlan,
  data: PreparedData,
  model: MLP,
  loss: LossName,
  result: FitResult,
  classify: (row: number[]) => { cls: number; confidence: number },
): string {
  const name = plan.datasetName ?? plan.csvPath!;
  const title =
    `tapegrad · ${name} · MLP ${model.architecture} (${plan.activation}, ${loss}) · ${
      formatPercent(result.accuracy)
    } train accuracy${
      result.valAccuracy === undefined
        ? ""
        : `, ${formatPercent(result.valAccuracy)} val`
    }`;
  const common = {
    title,
    classes: data.raw.classes,
    labelNames: data.raw.labelNames,
    losses: result.losses,
    accuracies: result.accuracies,
  };
  if (data.raw.x[0].length !== 2) return renderSvg(common);
  const box = dataBounds(data.raw.x, 0.08);
  const bounds = plan.csvPath === undefined ? squareBounds(box) : box;
  const grid = sampleBoundary(classify, bounds, 100, 100);
  const predicted = data.raw.x.map((row) => classify(row).cls);
  return renderSvg({
    ...common,
    axisNames: axisNames(data.raw),
    grid,
    points: data.raw.x,
    labels: data.raw.y,
    predicted,
  });
}

/** The `train` command. */
export const trainCommand: Command = {
  name: "train",
  summary: "Train an MLP on a toy dataset or a CSV file, and report",
  usage: ["train [options]"],
  positionals: false,
  options: {
    dataset: {
      type: "string",
      value: "<name|file.csv>",
      default: "moons",
      help: `${DATASET_NAMES.join(", ")} (generated), ${
        BUILTIN_DATASET_NAMES.join(", ")
      } (shipped in data/, each with its own defaults), or a CSV file (features, then the label)`,
    },
    "data-dir": {
      type: "string",
      value: "<dir>",
      default: "the repository's data/",
      help: "Where the shipped data sets' files are",
    },
    samples: {
      type: "string",
      value: "<n>",
      default: "100",
      help: "Points to generate",
    },
    noise: {
      type: "string",
      value: "<x>",
      default: "moons 0.1, circles 0.1, spirals 0.2, xor 0.1, blobs 0.5",
      help: "Noise of generated data (std of each blob for blobs)",
    },
    classes: {
      type: "string",
      value: "<n>",
      default: "3",
      help: "Classes for spirals and blobs",
    },
    label: {
      type: "string",
      value: "<column>",
      default: "last column",
      help: "CSV label column: header name or 0-based index",
    },
    normalize: {
      type: "boolean",
      default: "on",
      help:
        "Standardise CSV features (saved in the model); --no-normalize to turn off",
    },
    layers: {
      type: "string",
      value: "<n,n,…>",
      default: "16,16",
      help: "Hidden layer sizes; the output layer is added to fit the loss",
    },
    activation: {
      type: "string",
      value: `<${ACTIVATIONS.join("|")}>`,
      default: "relu",
      help: "Hidden layers' activation (the output is linear)",
    },
    init: {
      type: "string",
      value: `<${INITS.join("|")}>`,
      default: "uniform",
      help: "Weight initialisation",
    },
    loss: {
      type: "string",
      value: `<${LOSS_NAMES.join("|")}>`,
      default: "hinge for 2 classes, cross-entropy for more",
      help: "Training loss",
    },
    optimizer: {
      type: "string",
      value: `<${OPTIMIZER_NAMES.join("|")}>`,
      default: "sgd",
      help: "Optimizer",
    },
    lr: {
      type: "string",
      value: "<x>",
      default: "1.0 for sgd, 0.01 for adam and adamw",
      help: "Initial learning rate",
    },
    schedule: {
      type: "string",
      value: `<${SCHEDULE_NAMES.join("|")}>`,
      default: "linear",
      help: "Learning-rate schedule (linear: down to lr/10, as micrograd)",
    },
    steps: {
      type: "string",
      value: "<n>",
      default: "100 (shipped data sets: by epochs)",
      help: "Training steps",
    },
    epochs: {
      type: "string",
      value: "<n>",
      default: BUILTIN_DATASET_NAMES.map((name) =>
        `${name} ${BUILTIN_DATASETS[name].defaults.epochs}`
      ).join(", "),
      help: "Passes over the training data (instead of --steps); one line each",
    },
    "batch-size": {
      type: "string",
      value: "<n>",
      default: "full batch",
      help: "Samples per step",
    },
    "val-split": {
      type: "string",
      value: "<x>",
      default: "0; shipped data sets 0.2 (the held-out test split)",
      help: "Fraction of the data held out for validation, in [0, 1)",
    },
    l2: {
      type: "string",
      value: "<x>",
      default: "1e-4",
      help: "L2 regularisation strength",
    },
    seed: {
      type: "string",
      value: "<n>",
      default: "1337",
      help: "Seed for the data, the weights, the split and the batches",
    },
    save: {
      type: "string",
      value: "<model.json>",
      help: "Save the trained model (with what predict needs)",
    },
    plot: {
      type: "string",
      value: "<plot.svg>",
      help: "Write an SVG: decision boundary over the data, and the loss curve",
    },
    json: {
      type: "boolean",
      help: 'JSON lines: one per logged step, then {"final": {…}}',
    },
    quiet: {
      type: "boolean",
      short: "q",
      help: "Print only the final summary line",
    },
    workers: {
      type: "string",
      value: "<n>",
      default: "every core when a step is big enough to gain, else 1",
      help: "Web Workers sharing each step's samples (same result for any n)",
    },
    "log-every": {
      type: "string",
      value: "<n>",
      default: "steps/10",
      help: "Log every n steps when not on a terminal, and with --json",
    },
    "max-parameters": {
      type: "string",
      value: "<n>",
      default: String(DEFAULT_MAX_PARAMETERS),
      help: "Refuse models with more weights and biases than this",
    },
    "max-memory": {
      type: "string",
      value: "<MB>",
      default: String(DEFAULT_MAX_MEMORY_MB),
      help:
        "Refuse runs estimated to need more memory; without --batch-size, data too large for a full batch trains in mini-batches of 256",
    },
  },
  description: [
    "On a terminal a live progress line is redrawn in place; otherwise a",
    "line is printed every --log-every steps. Then a summary and, for 2-D",
    "data, a picture of the decision boundary. Output files are checked",
    "before training (an input or another output under another name, a",
    "directory, device, FIFO or symbolic link, or - is refused) and written",
    "only when training succeeds: all to temporary files first, flushed to",
    "disk, then renamed together; SIGINT or SIGTERM while writing leaves",
    "nothing behind. Limits: --max-parameters and --max-memory (estimated",
    "before anything is allocated); --samples 2-1000000; --steps up to",
    "10000000; layers of up to 100000 neurons; CSV files need 2 classes.",
  ].join(" "),
  permissions: "none for generated data; --allow-read=<file.csv> for CSV " +
    "data, --allow-read=data (or --data-dir) for a shipped data set; " +
    "--allow-read and --allow-write for the directory of --save and " +
    "--plot (to compare files and replace them atomically; with write " +
    "permission for the file alone it is written in place).",
  examples: [
    "train",
    "train --dataset spirals --layers 32,32 --optimizer adam --lr 0.02 --steps 300",
    "train --dataset data.csv --label species --val-split 0.2 --save model.json",
    "train --json --steps 50 | tail -n 1",
    "train --dataset digits   (MLP 64-64-10, adam, batch 32, 5 epochs, 20% held out)",
  ],
  run(args, io) {
    return runTraining(planTraining(args), io);
  },
};
