/**
 * `train`: builds a dataset (generated, shipped in `data/`, or from a CSV
 * file), trains an MLP on
 * it with live progress, and reports loss, accuracy and a picture of the
 * decision boundary; optionally saves the model and an SVG plot. Planning
 * (`train_plan.ts`), data preparation (`train_data.ts`) and the progress
 * display (`train_progress.ts`) have files of their own; the run and its
 * report are here.
 *
 * @module
 */

import {
  ACTIVATIONS,
  BUILTIN_DATASET_NAMES,
  BUILTIN_DATASETS,
  type Dataset,
  DATASET_NAMES,
  defaultLoss,
  FEATURE_NAMES,
  fit,
  FIT_MODES,
  FIT_PRECISIONS,
  type FitOptions,
  fitParallel,
  type FitResult,
  INITS,
  LOSS_NAMES,
  type LossName,
  MLP,
  OPTIMIZER_NAMES,
  REGRESSION_NAMES,
  SCHEDULE_NAMES,
  serializeModel,
  Tape,
  TrainingError,
} from "../mod.ts";
import {
  DEFAULT_LR,
  DEFAULT_NOISE,
  fitLearningRates,
  outputsForLoss,
  PARALLEL_WORKER_URL,
  scoreOutputs,
} from "../nn/mod.ts";
import type { Command } from "./command.ts";
import { RuntimeError, UsageError } from "../app/errors.ts";
import {
  formatDuration,
  formatNumber,
  formatPercent,
  formatRate,
  makeStyle,
} from "../app/format.ts";
import type { Io } from "./io.ts";
import {
  chooseBatch,
  DEFAULT_MAX_MEMORY_MB,
  DEFAULT_MAX_PARAMETERS,
} from "./limits.ts";
import { builtinDatasetPath } from "./builtin_data.ts";
import { checkOutputs, type NamedFile, writeOutputs } from "./safe_write.ts";
import type { CliMeta } from "../app/model_meta.ts";
import {
  dataBounds,
  renderSvg,
  renderTerminal,
  sampleBoundary,
  squareBounds,
  terminalGridSize,
} from "./plot.ts";
import { VERSION } from "../app/version.ts";
import { chooseLoss, prepare, type PreparedData } from "./train_data.ts";
import {
  DEFAULT_STEPS,
  DEFAULT_VAL_SPLIT,
  planTraining,
  type TrainPlan,
} from "./train_plan.ts";
import { Progress } from "./train_progress.ts";

export { planTraining, type TrainPlan };

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
  // The data file read is an input too, a shipped data set's included.
  const input = plan.csvPath ??
    (plan.builtin === undefined
      ? undefined
      : builtinDatasetPath(plan.builtin, plan.dataDir));
  checkOutputs(
    outputs,
    input === undefined ? [] : [{ flag: "dataset", path: input }],
  );
  const data = await prepare(plan);
  const classes = data.raw.classes;
  const loss = chooseLoss(plan, classes);
  const width = data.raw.x[0].length;
  const nin = plan.features?.length ?? width;
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
  // The model computes its features and standardises raw inputs itself, in
  // training and after.
  if (data.normalization) model.meta = { normalization: data.normalization };
  if (plan.features) model.meta = { features: plan.features };
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
  let result: FitResult & { workers?: number };
  // Regression trains on one thread (the library's parallel trainer is for
  // classes); undefined: fitParallel's default (one thread where workers do
  // not pay).
  const workers = classes === 0 ? 1 : chooseWorkers(plan);
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
      mode: plan.mode,
      precision: plan.precision,
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
    result = workers === undefined || workers > 1
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

  const classify = (row: number[]) => scoreOutputs(model.predict(row), loss);
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
  if (data.raw.featureNames && !plan.features) {
    meta.featureNames = data.raw.featureNames;
  }
  if (plan.features) meta.features = plan.features;
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
  // Regression scores R² (1 is a perfect fit) where classifiers score accuracy.
  const regression = classes === 0;
  const score = regression ? (x: number) => formatNumber(x, 4) : formatPercent;
  const scoreName = regression ? "R²" : "accuracy";
  const accuracyText = `${score(result.accuracy)} train${
    result.valAccuracy === undefined
      ? ""
      : ` · ${score(result.valAccuracy)} val`
  }`;
  if (plan.quiet) {
    io.out(
      `loss ${
        formatNumber(result.loss, 4)
      }  ${scoreName} ${accuracyText}  steps ${result.steps}  parameters ${model.parameterCount}  time ${
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
      (result.workers ?? 0) > 1 ? `, ${result.workers} workers` : ""
    })`,
    `  loss        ${formatNumber(result.loss, 4)} (${loss}${
      plan.l2 > 0 ? ` + l2 ${formatNumber(plan.l2)}` : ""
    })`,
    `  ${scoreName.padEnd(12)}${style.bold(accuracyText)}`,
    `  model       MLP ${model.architecture}, ${plan.activation}, ${model.parameterCount} parameters`,
    `  optimizer   ${plan.optimizer}, ${lrText(plan)}${
      batchSize ? `, batch ${batchSize}` : ", full batch"
    }`,
  ];
  if (width === 2 && !regression) {
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
      regression
        ? "(No boundary picture: a regression model has no classes.)"
        : `(No boundary picture: the data has ${width} features, not 2.)`,
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

/**
 * `--workers`, or `undefined` for the library's default when Deno may load
 * the worker module (else one thread: the default never needs a new
 * permission).
 */
function chooseWorkers(plan: TrainPlan): number | undefined {
  const path = decodeURIComponent(PARALLEL_WORKER_URL.pathname);
  const readable = PARALLEL_WORKER_URL.protocol !== "file:" ||
    Deno.permissions.querySync({ name: "read", path }).state === "granted";
  if (plan.workers === undefined) {
    // Workers run float64 compiled steps: an explicit --mode or float32
    // stays on this thread, where that backend runs (fitParallel does so).
    return readable ? undefined : 1;
  }
  if (plan.workers > 1 && !readable) {
    throw new RuntimeError(
      `--workers ${plan.workers} needs read access to the worker module; run deno with --allow-read=${path}`,
    );
  }
  return plan.workers;
}

function axisNames(data: Dataset): [string, string] {
  const [x = "x1", y = "x2"] = data.featureNames ?? [];
  return [x, y];
}

function lrText(plan: TrainPlan): string {
  const { start, end } = fitLearningRates(
    plan.optimizer,
    plan.schedule,
    plan.lr,
  );
  if (plan.schedule === "constant") {
    return `lr ${formatNumber(start)} (constant)`;
  }
  return `lr ${formatNumber(start)} → ${formatNumber(end)} (${plan.schedule})`;
}

function svgFor(
  plan: TrainPlan,
  data: PreparedData,
  model: MLP,
  loss: LossName,
  result: FitResult,
  classify: (row: number[]) => { cls: number; confidence: number },
): string {
  const name = plan.datasetName ?? plan.builtin ?? plan.csvPath!;
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
        REGRESSION_NAMES.join(", ")
      } (regression, mse), ${
        BUILTIN_DATASET_NAMES.join(", ")
      } (shipped in data/, each with its own defaults), or a CSV file (features, then the label)`,
    },
    "data-dir": {
      type: "string",
      value: "<dir>",
      defaultText: "the repository's data/",
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
      defaultText: DATASET_NAMES.map((name) => `${name} ${DEFAULT_NOISE[name]}`)
        .join(", "),
      help: "Noise of generated data (std of each blob for blobs)",
    },
    classes: {
      type: "string",
      value: "<n>",
      defaultText: "3",
      help: "Classes for spirals and blobs",
    },
    label: {
      type: "string",
      value: "<column>",
      defaultText: "last column",
      help: "CSV label column: header name or 0-based index",
    },
    features: {
      type: "string",
      value: "<f,f,…>",
      defaultText: "x,y",
      help: `Input features of generated data, some of ${
        FEATURE_NAMES.join(", ")
      } (saved in the model)`,
    },
    normalize: {
      type: "boolean",
      defaultText: "on",
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
      defaultText: `${defaultLoss(2)} for 2 classes, ${
        defaultLoss(3)
      } for more`,
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
      defaultText: OPTIMIZER_NAMES.map((name) => `${name} ${DEFAULT_LR[name]}`)
        .join(", "),
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
      defaultText: `${DEFAULT_STEPS}; shipped data sets train by --epochs`,
      help: "Training steps",
    },
    epochs: {
      type: "string",
      value: "<n>",
      defaultText: BUILTIN_DATASET_NAMES.map((name) =>
        `${name} ${BUILTIN_DATASETS[name].defaults.epochs}`
      ).join(", "),
      help: "Passes over the training data (instead of --steps); one line each",
    },
    "batch-size": {
      type: "string",
      value: "<n>",
      defaultText: "full batch",
      help: "Samples per step",
    },
    "val-split": {
      type: "string",
      value: "<x>",
      defaultText: `${DEFAULT_VAL_SPLIT}; shipped data sets ${
        [
          ...new Set(
            BUILTIN_DATASET_NAMES.map((name) =>
              BUILTIN_DATASETS[name].defaults.valSplit
            ),
          ),
        ].join(" or ")
      } (the held-out test split)`,
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
    mode: {
      type: "string",
      value: "<mode>",
      default: "auto",
      help: `How steps run: ${
        FIT_MODES.join(", ")
      } (auto picks wasm for wide layers where WebAssembly SIMD runs, else compiled)`,
    },
    precision: {
      type: "string",
      value: "<p>",
      default: "float64",
      help: `Number format of wasm steps: ${
        FIT_PRECISIONS.join(", ")
      } (float32: twice the SIMD lanes, about 1e-7 relative rounding)`,
    },
    workers: {
      type: "string",
      value: "<n>",
      defaultText: "every core when a step is big enough to gain, else 1",
      help:
        "threads sharing each step's samples, this one and n-1 Web Workers (same result for any n)",
    },
    "log-every": {
      type: "string",
      value: "<n>",
      defaultText: "steps/10",
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
