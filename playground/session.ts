/**
 * The train view's training session: a dataset, an MLP and the library's own
 * step-at-a-time {@linkcode Trainer}, run a slice at a time so the worker can
 * stop between slices for pause, step and reset. DOM-free, tested under Deno.
 *
 * @module
 */

import {
  type Activation,
  ACTIVATIONS,
  type Dataset,
  DATASET_NAMES,
  type DatasetName,
  describeValue as show,
  evaluate,
  FIT_MODES,
  FIT_PRECISIONS,
  type FitMode,
  type FitPrecision,
  LOSS_NAMES,
  type LossName,
  makeDataset,
  makeRegression,
  MLP,
  OPTIMIZER_NAMES,
  type OptimizerName,
  ParallelTrainer,
  serializeModel,
  Tape,
  Trainer,
  TrainingError,
} from "../mod.ts";
import {
  lossFitsClasses,
  outputsForLoss,
  REGRESSION_NAMES,
  type RegressionName,
  scoreOutputs,
} from "../nn/mod.ts";
import {
  checkFeatures,
  FEATURE_LABELS,
  type FeatureName,
} from "../nn/features.ts";
import type { NetworkMessage } from "./protocol.ts";
import type { CliMeta } from "../app/model_meta.ts";
import type { BoundaryGrid, PlotBounds } from "../mod.ts";
import { dataBounds, sampleBoundary, squareBounds } from "../viz/mod.ts";
import { VERSION } from "../app/version.ts";
import { wasmSimdAvailable } from "../engine/mod.ts";

/** The datasets the page offers, as `cli.ts train --dataset` names them. */
export const DATASETS: readonly DatasetName[] = DATASET_NAMES;

/** The regression problems the page offers, as `cli.ts train --dataset` names them. */
export const REGRESSIONS: readonly RegressionName[] = REGRESSION_NAMES;

/** Whether a dataset name is a regression problem. */
export function isRegression(name: string): name is RegressionName {
  return (REGRESSION_NAMES as readonly string[]).includes(name);
}

/** The optimizers the page offers: the library's. */
export const OPTIMIZERS: readonly OptimizerName[] = OPTIMIZER_NAMES;

/** Everything the train view lets the user choose. */
export interface TrainConfig {
  /** The dataset (a classification dataset or a regression problem). */
  dataset: DatasetName | RegressionName;
  /** Number of training samples (a test set of the same size is drawn too). */
  samples: number;
  /** Noise (the standard deviation of each blob for blobs). */
  noise: number;
  /** Number of classes, for spirals and blobs (the others have 2). */
  classes: number;
  /** Hidden layer sizes. */
  layers: number[];
  /** The hidden layers' non-linearity. */
  activation: Activation;
  /** The loss. */
  loss: LossName;
  /** The optimizer. */
  optimizer: OptimizerName;
  /** The learning rate (constant). */
  lr: number;
  /** Samples per step; 0 for the full batch. */
  batchSize: number;
  /** L2 regularisation strength. */
  l2: number;
  /** Seed for data and weights. */
  seed: number;
  /** The model's input features, computed from each point. */
  features: FeatureName[];
  /** How steps run: `fit`'s modes (`"auto"` picks the fastest). */
  mode: FitMode;
  /** The number format of `"wasm"` steps. */
  precision: FitPrecision;
  /** Threads to train on: 1 (the page's worker) or more (data-parallel workers). */
  workers: number;
}

/** The settings a running session takes without starting over. */
export type LiveSettings = Pick<
  TrainConfig,
  "lr" | "l2" | "batchSize" | "mode" | "precision" | "workers"
>;

/** The fields of {@linkcode LiveSettings}. */
export const LIVE_SETTINGS: readonly (keyof LiveSettings)[] = Object.freeze([
  "lr",
  "l2",
  "batchSize",
  "mode",
  "precision",
  "workers",
]);

/** The most workers the page offers. */
export const MAX_WORKERS = 16;

/** The page's starting configuration: micrograd's moons demo, trained with Adam. */
export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze({
  dataset: "moons",
  samples: 200,
  noise: 0.1,
  classes: 3,
  layers: [16, 16],
  activation: "relu",
  loss: "hinge",
  optimizer: "adam",
  lr: 0.01,
  batchSize: 0,
  l2: 1e-4,
  seed: 1337,
  features: ["x", "y"],
  mode: "auto",
  precision: "float64",
  workers: 1,
}) as Readonly<TrainConfig>;

/** Thrown for a configuration a session cannot use; the message is for people. */
export class ConfigError extends Error {
  /** The field at fault, so the page can mark its control. */
  readonly field: keyof TrainConfig;

  /**
   * Creates the error.
   *
   * @param field The field at fault.
   * @param message One line.
   */
  constructor(field: keyof TrainConfig, message: string) {
    super(message);
    this.name = "ConfigError";
    this.field = field;
  }
}

/** Whether a dataset has a choice of class count. */
export function hasClassChoice(dataset: DatasetName | RegressionName): boolean {
  return dataset === "spirals" || dataset === "blobs";
}

/** The number of classes a configuration's data has. */
export function classCount(
  config: Pick<TrainConfig, "dataset" | "classes">,
): number {
  if (isRegression(config.dataset)) return 0;
  return hasClassChoice(config.dataset) ? config.classes : 2;
}

/**
 * Checks a configuration field by field, with messages that name the field
 * as the page labels it.
 *
 * @param config The configuration.
 * @returns The same configuration.
 * @throws {ConfigError} For the first bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkConfig, ConfigError, DEFAULT_CONFIG } from "./session.ts";
 * assert.throws(() => checkConfig({ ...DEFAULT_CONFIG, lr: -1 }), ConfigError);
 * ```
 */
export function checkConfig(config: TrainConfig): TrainConfig {
  const fail = (field: keyof TrainConfig, message: string): never => {
    throw new ConfigError(field, message);
  };
  const integer = (
    field: keyof TrainConfig,
    label: string,
    x: number,
    min: number,
    max: number,
  ) => {
    if (!Number.isInteger(x) || x < min || x > max) {
      fail(
        field,
        `${label} must be a whole number from ${min} to ${max}, got ${show(x)}`,
      );
    }
  };
  if (
    !(DATASETS as readonly string[]).includes(config.dataset) &&
    !isRegression(config.dataset)
  ) {
    fail("dataset", `Unknown dataset ${show(config.dataset)}`);
  }
  integer("samples", "Samples", config.samples, 4, 5000);
  if (!(config.noise >= 0 && config.noise <= 5)) {
    fail(
      "noise",
      `Noise must be a number from 0 to 5, got ${show(config.noise)}`,
    );
  }
  if (hasClassChoice(config.dataset)) {
    integer("classes", "Classes", config.classes, 2, 8);
  }
  if (!Array.isArray(config.layers) || config.layers.length > 6) {
    fail("layers", "Hidden layers must be from 0 to 6 layers");
  }
  for (const width of config.layers) {
    integer("layers", "Layer width", width, 1, 128);
  }
  if (!ACTIVATIONS.includes(config.activation)) {
    fail("activation", `Unknown activation ${show(config.activation)}`);
  }
  if (!(LOSS_NAMES as readonly string[]).includes(config.loss)) {
    fail("loss", `Unknown loss ${show(config.loss)}`);
  }
  const classes = classCount(config);
  if (classes === 0 && config.loss !== "mse") {
    fail(
      "loss",
      `${config.dataset} is a regression problem: it trains with mse, not ${config.loss}`,
    );
  }
  if (classes > 0 && !lossFitsClasses(config.loss, classes)) {
    fail(
      "loss",
      `The ${config.loss} loss is for 2 classes and ${config.dataset} has ${classes}; choose cross-entropy or mse`,
    );
  }
  if (!OPTIMIZERS.includes(config.optimizer)) {
    fail("optimizer", `Unknown optimizer ${show(config.optimizer)}`);
  }
  if (!(config.lr > 0 && Number.isFinite(config.lr))) {
    fail(
      "lr",
      `Learning rate must be a number above 0, got ${show(config.lr)}`,
    );
  }
  integer("batchSize", "Batch size", config.batchSize, 0, 5000);
  if (!(config.l2 >= 0 && Number.isFinite(config.l2))) {
    fail("l2", `L2 must be a number of at least 0, got ${show(config.l2)}`);
  }
  integer("seed", "Seed", config.seed, 0, 2 ** 31 - 1);
  if (!FIT_MODES.includes(config.mode)) {
    fail(
      "mode",
      `Unknown backend ${show(config.mode)}; expected ${FIT_MODES.join(", ")}`,
    );
  }
  if (!FIT_PRECISIONS.includes(config.precision)) {
    fail(
      "precision",
      `Unknown precision ${show(config.precision)}; expected ${
        FIT_PRECISIONS.join(" or ")
      }`,
    );
  }
  if (
    config.precision === "float32" && config.mode !== "wasm" &&
    config.mode !== "auto"
  ) {
    fail(
      "precision",
      `Precision float32 runs on the wasm backend: choose backend wasm or auto, not ${config.mode}`,
    );
  }
  integer("workers", "Threads", config.workers, 1, MAX_WORKERS);
  if (!Array.isArray(config.features) || config.features.length === 0) {
    fail("features", "Choose at least one input feature");
  }
  try {
    checkFeatures(config.features, config.features.length, "Features");
  } catch (error) {
    fail("features", (error as Error).message);
  }
  return config;
}

/**
 * Generates a configuration's data, as `cli.ts train` does for the same
 * options (the test set uses a different seed).
 *
 * @param config The configuration.
 * @param seed The data seed.
 * @returns The dataset.
 */
export function makeData(config: TrainConfig, seed: number): Dataset {
  if (isRegression(config.dataset)) {
    return makeRegression(config.dataset, config.samples, {
      noise: config.noise,
      seed,
    });
  }
  return makeDataset(config.dataset, config.samples, {
    noise: config.noise,
    seed,
    classes: config.classes,
  });
}

/** What one slice of training did. */
export interface SliceResult {
  /** Steps taken in this slice. */
  steps: number;
  /** The loss of each step. */
  losses: number[];
  /** The batch accuracy of each step (before its update). */
  accuracies: number[];
  /**
   * Set when the loss stopped being a number: the steps before it are
   * reported, and the session can train no more (start a new one).
   */
  error?: TrainingError;
}

/** How a session's steps run, as the page shows it. */
export interface BackendInfo {
  /** What runs the steps: the trainer's mode, or `"parallel"` on workers. */
  mode: "record" | "replay" | "compiled" | "wasm" | "parallel";
  /** The number format of the steps (float32 only on wasm). */
  precision: FitPrecision;
  /** Threads computing the steps. */
  workers: number;
  /** Why this differs from what was asked for, when it does. */
  note?: string;
}

/** What decides whether workers can run here. */
export interface WorkerEnvironment {
  /**
   * Whether threads can share memory: `SharedArrayBuffer` exists and the
   * page is cross-origin isolated (a page needs the COOP and COEP headers).
   */
  sharedMemory: boolean;
}

/**
 * This runtime's {@linkcode WorkerEnvironment}: shared memory where
 * `SharedArrayBuffer` exists and `crossOriginIsolated` is not false (Deno
 * has no such flag).
 *
 * @returns The environment.
 */
export function workerEnvironment(): WorkerEnvironment {
  const isolated = (globalThis as { crossOriginIsolated?: boolean })
    .crossOriginIsolated;
  return {
    sharedMemory: typeof SharedArrayBuffer !== "undefined" &&
      isolated !== false,
  };
}

/**
 * How many threads a configuration trains on, and why not as many as asked
 * when that is so: workers need shared memory and classification data (the
 * workers count correct classes).
 *
 * @param config The configuration.
 * @param env Whether shared memory is available.
 * @returns The number of threads, and the reason for fewer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CONFIG, planWorkers } from "./session.ts";
 * const config = { ...DEFAULT_CONFIG, workers: 2 };
 * assert.deepEqual(planWorkers(config, { sharedMemory: true }), { workers: 2 });
 * assert.equal(planWorkers(config, { sharedMemory: false }).workers, 1);
 * ```
 */
export function planWorkers(
  config: Pick<TrainConfig, "workers" | "dataset">,
  env: WorkerEnvironment,
): { workers: number; note?: string } {
  if (config.workers <= 1) return { workers: 1 };
  const one = (why: string) => ({
    workers: 1,
    note: `One thread, not ${config.workers}: ${why}`,
  });
  if (!env.sharedMemory) {
    return one(
      "this page is not cross-origin isolated, so workers cannot share memory",
    );
  }
  if (isRegression(config.dataset)) {
    return one("workers train classification data only");
  }
  return { workers: config.workers };
}

/** Whether the features are just the point, x then y. */
function plainFeatures(features: readonly FeatureName[]): boolean {
  return features.length === 2 && features[0] === "x" && features[1] === "y";
}

/** A seed far from the training seed, for the held-out test set. */
const TEST_SEED_OFFSET = 7919;

/**
 * A model being trained: data, MLP, the library's {@linkcode Trainer} (which
 * keeps the step's graph and the optimizer's state between slices) and the
 * step count so far.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CONFIG, TrainingSession } from "./session.ts";
 * const session = new TrainingSession({ ...DEFAULT_CONFIG, samples: 40 });
 * session.run(5);
 * assert.equal(session.step, 5);
 * ```
 */
export class TrainingSession {
  /** The configuration. */
  config: TrainConfig;
  /** The training data. */
  readonly train: Dataset;
  /** Held-out data from the same distribution. */
  readonly test: Dataset;
  /** The model. */
  readonly model: MLP;
  /** The plot area: the data's bounds, padded and made square. */
  readonly bounds: PlotBounds;
  /** Whether the data has one input (a 1-D regression problem). */
  readonly oneD: boolean;
  // One thread (#trainer) or workers (#parallel), never both.
  #trainer: Trainer | undefined;
  #parallel: ParallelTrainer | undefined;
  #workers: { workers: number; note?: string };
  #backend!: BackendInfo;
  // Steps taken by trainers replaced by tune().
  #stepsBefore = 0;
  #failed = false;

  /**
   * Builds the data, the model and the trainer.
   *
   * @param config The configuration (checked).
   * @throws {ConfigError} For a bad configuration.
   */
  constructor(
    config: TrainConfig,
    private readonly env: WorkerEnvironment = workerEnvironment(),
  ) {
    this.config = checkConfig({
      ...config,
      layers: [...config.layers],
      features: [...config.features],
    });
    this.train = makeData(config, config.seed);
    this.test = makeData(config, config.seed + TEST_SEED_OFFSET);
    const classes = this.train.classes;
    // 1-D problems take x alone: the features are of a point (x, y).
    this.oneD = this.train.x[0].length === 1;
    this.model = new MLP(this.oneD ? 1 : this.config.features.length, [
      ...config.layers,
      outputsForLoss(config.loss, classes),
    ], {
      activation: config.activation,
      seed: config.seed,
      tape: new Tape(),
    });
    // The model computes its features from each point (and a saved model
    // says which), so the data and predict() take points.
    // Plain (x, y) needs no note: such a model takes the point as it is.
    if (!this.oneD && !plainFeatures(this.config.features)) {
      this.model.meta = { features: [...this.config.features] };
    }
    this.#workers = planWorkers(this.config, env);
    this.#trainer = this.#makeTrainer();
    // A 1-D problem is drawn as (x, target).
    this.bounds = squareBounds(
      dataBounds(
        [...this.train.x, ...this.test.x].map((row, i) =>
          this.oneD
            ? [
              row[0],
              i < this.train.x.length
                ? this.train.y[i]
                : this.test.y[i - this.train.x.length],
            ]
            : row
        ),
        0.08,
      ),
    );
  }

  /** The options one thread and workers share. */
  #options() {
    const config = this.config;
    return {
      loss: config.loss,
      optimizer: config.optimizer,
      lr: config.lr,
      // Open-ended training: a constant rate over as many steps as it takes.
      schedule: "constant" as const,
      steps: Number.MAX_SAFE_INTEGER,
      batchSize: config.batchSize > 0 ? config.batchSize : undefined,
      l2: config.l2,
      seed: config.seed + this.#stepsBefore,
    };
  }

  #makeTrainer(note?: string): Trainer {
    const config = this.config;
    const trainer = new Trainer(this.model, this.train, {
      ...this.#options(),
      mode: config.mode,
      precision: config.precision,
    });
    this.#backend = this.#describe(trainer, note ?? this.#workers.note);
    return trainer;
  }

  /** What runs, and why it is not what was asked for where it is not. */
  #describe(trainer: Trainer, workersNote?: string): BackendInfo {
    const config = this.config, mode = trainer.mode;
    const notes: string[] = [];
    if (config.mode === "wasm" && mode !== "wasm") {
      notes.push(
        wasmSimdAvailable()
          ? `the wasm backend does not cover this model, so ${mode} runs instead`
          : `this browser has no WebAssembly SIMD, so ${mode} runs instead of wasm`,
      );
    }
    if (config.precision === "float32" && mode !== "wasm") {
      notes.push(`float32 applies to wasm steps only; ${mode} runs in float64`);
    }
    if (workersNote) notes.push(workersNote);
    return {
      mode,
      precision: mode === "wasm" ? config.precision : "float64",
      workers: 1,
      ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
    };
  }

  /** How the steps run now. */
  get backend(): BackendInfo {
    return this.#backend;
  }

  /**
   * Whether the session should train on workers that are not started yet:
   * then call {@linkcode TrainingSession.startWorkers} before training on.
   */
  get wantsWorkers(): boolean {
    return this.#workers.workers > 1 && this.#parallel === undefined &&
      !this.#failed;
  }

  /** Whether the steps run on workers (train with `runAsync` then). */
  get parallel(): boolean {
    return this.#parallel !== undefined;
  }

  /**
   * Starts the workers the configuration asks for, in place of the one
   * thread; if they cannot start, trains on one thread and says why in
   * {@linkcode TrainingSession.backend}.
   */
  async startWorkers(): Promise<void> {
    if (!this.wantsWorkers) return;
    const workers = this.#workers.workers;
    this.#stepsBefore = this.step;
    this.#trainer?.close();
    this.#trainer = undefined;
    try {
      this.#parallel = await ParallelTrainer.create(this.model, this.train, {
        ...this.#options(),
        workers,
      });
      this.#backend = { mode: "parallel", precision: "float64", workers };
    } catch (error) {
      this.#workers = { workers: 1 };
      const why = error instanceof Error ? error.message : String(error);
      this.#trainer = this.#makeTrainer(
        `One thread, not ${workers}: the workers did not start (${why})`,
      );
    }
  }

  /**
   * Applies a new learning rate, L2 and batch size to the running model:
   * the weights and the step count stay; the optimizer starts a new
   * trainer (Adam's moments start again from zero).
   *
   * @param settings The new settings.
   * @throws {ConfigError} For a bad value (the session is unchanged).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DEFAULT_CONFIG, TrainingSession } from "./session.ts";
   * const session = new TrainingSession({ ...DEFAULT_CONFIG, samples: 20 });
   * session.run(3);
   * session.tune({ lr: 0.05, l2: 0, batchSize: 8 });
   * session.run(2);
   * assert.equal(session.step, 5);
   * assert.equal(session.config.lr, 0.05);
   * ```
   */
  tune(settings: Partial<LiveSettings>): void {
    const config = checkConfig({ ...this.config, ...settings });
    if (this.#failed) {
      this.config = config;
      return;
    }
    this.#stepsBefore = this.step;
    this.#trainer?.close();
    this.#parallel?.close();
    this.#trainer = this.#parallel = undefined;
    this.config = config;
    this.#workers = planWorkers(config, this.env);
    this.#trainer = this.#makeTrainer();
  }

  /** Steps taken so far. */
  get step(): number {
    return this.#stepsBefore +
      (this.#trainer?.stepCount ?? this.#parallel?.stepCount ?? 0);
  }

  /** Whether the loss stopped being a number (no more training). */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * Trains up to `steps` steps, stopping early when `budgetMs` has passed.
   *
   * @param steps The most steps to take.
   * @param budgetMs Stop after this many milliseconds (at least one step runs).
   * @returns The steps taken, their losses and accuracies, and the
   * {@linkcode TrainingError} if the loss stopped being a number.
   */
  run(steps: number, budgetMs: number = Infinity): SliceResult {
    const losses: number[] = [], accuracies: number[] = [];
    const trainer = this.#trainer;
    if (this.#failed) {
      throw new Error("This session's loss is not a number; start a new one");
    }
    if (trainer === undefined) {
      throw new Error("This session trains on workers; use runAsync()");
    }
    const started = performance.now();
    try {
      while (losses.length < steps) {
        losses.push(trainer.step());
        accuracies.push(trainer.lastAccuracy);
        if (performance.now() - started >= budgetMs) break;
      }
    } catch (error) {
      if (!(error instanceof TrainingError)) throw error;
      this.#failed = true;
      return { steps: losses.length, losses, accuracies, error };
    }
    return { steps: losses.length, losses, accuracies };
  }

  /**
   * {@linkcode TrainingSession.run} for either kind of session: on workers,
   * each step waits for them.
   *
   * @param steps The most steps to take.
   * @param budgetMs Stop after this many milliseconds (at least one step runs).
   * @returns As {@linkcode TrainingSession.run}.
   */
  async runAsync(
    steps: number,
    budgetMs: number = Infinity,
  ): Promise<SliceResult> {
    const parallel = this.#parallel;
    if (parallel === undefined || this.#failed) {
      return this.run(steps, budgetMs);
    }
    const losses: number[] = [], accuracies: number[] = [];
    const started = performance.now();
    try {
      while (losses.length < steps) {
        losses.push(await parallel.step());
        accuracies.push(parallel.lastAccuracy);
        if (performance.now() - started >= budgetMs) break;
      }
    } catch (error) {
      if (!(error instanceof TrainingError)) throw error;
      this.#failed = true;
      return { steps: losses.length, losses, accuracies, error };
    }
    return { steps: losses.length, losses, accuracies };
  }

  /** Drops the trainer's graph from the tape and ends any workers; the model stays usable. */
  close(): void {
    this.#trainer?.close();
    this.#parallel?.close();
  }

  /** Accuracy on the whole training set. */
  trainAccuracy(): number {
    return evaluate(this.model, this.train, this.config.loss);
  }

  /** Accuracy on the held-out test set. */
  testAccuracy(): number {
    return evaluate(this.model, this.test, this.config.loss);
  }

  /**
   * The predicted class and its confidence over a grid spanning
   * {@linkcode TrainingSession.bounds}, row 0 at the top.
   *
   * @param size Cells per side.
   * @returns The grid.
   */
  grid(size: number): BoundaryGrid {
    if (this.config.loss === "mse" && this.train.classes === 0) {
      throw new Error("A regression session has no classes; use surface()");
    }
    const loss = this.config.loss, model = this.model;
    return sampleBoundary(
      (point) => scoreOutputs(model.predict(point), loss),
      this.bounds,
      size,
      size,
    );
  }

  /**
   * A regression model's fit: its output at `size` points across the plot
   * (1-D, left to right), or over a `size` × `size` grid (2-D, row 0 at the
   * top).
   *
   * @param size Points (1-D) or cells per side (2-D).
   * @returns The outputs.
   */
  surface(size: number): Float64Array {
    const b = this.bounds, model = this.model;
    if (this.oneD) {
      return Float64Array.from(
        { length: size },
        (_, c) =>
          model.predict([b.xMin + (c / (size - 1)) * (b.xMax - b.xMin)])[0],
      );
    }
    const out = new Float64Array(size * size);
    for (let r = 0; r < size; r++) {
      const y = b.yMax - ((r + 0.5) / size) * (b.yMax - b.yMin);
      for (let c = 0; c < size; c++) {
        const x = b.xMin + ((c + 0.5) / size) * (b.xMax - b.xMin);
        out[r * size + c] = model.predict([x, y])[0];
      }
    }
    return out;
  }

  /**
   * What every neuron computes over a grid spanning
   * {@linkcode TrainingSession.bounds} (row 0 at the top), for the network
   * view, with the weights: `sizes` are the inputs then each layer's
   * widths; `values` holds `size * size` numbers per neuron, neuron by
   * neuron, inputs first; `weights` are the parameters in micrograd's order.
   *
   * @param size Cells per side.
   * @returns The network's picture data.
   */
  network(size: number): NetworkMessage {
    const model = this.model, sizes = [model.nin, ...model.nouts];
    const neurons = sizes.reduce((a, b) => a + b, 0), cells = size * size;
    const values = new Float32Array(neurons * cells);
    const [xMin, xMax, yMin, yMax] = [
      this.bounds.xMin,
      this.bounds.xMax,
      this.bounds.yMin,
      this.bounds.yMax,
    ];
    for (let r = 0; r < size; r++) {
      const y = yMax - ((r + 0.5) / size) * (yMax - yMin);
      for (let c = 0; c < size; c++) {
        const x = xMin + ((c + 0.5) / size) * (xMax - xMin);
        const layers = model.predictLayers(this.oneD ? [x] : [x, y]);
        let neuron = 0;
        for (const layer of layers) {
          for (const v of layer) values[neuron++ * cells + r * size + c] = v;
        }
      }
    }
    return {
      size,
      sizes,
      values,
      weights: model.parameters().map((p) => p.data),
      labels: this.oneD
        ? ["x"]
        : this.config.features.map((f) => FEATURE_LABELS[f]),
    };
  }

  /**
   * The model file `cli.ts train --save` would write for this model: the
   * same serialisation and the same `meta` fields, so `cli.ts predict
   * --model` reads it.
   *
   * @returns The file's text.
   */
  modelFile(): string {
    const meta: CliMeta = {
      createdBy: `tapegrad ${VERSION} playground`,
      dataset: this.config.dataset,
      classes: this.train.classes,
      loss: this.config.loss,
      steps: this.step,
      accuracy: this.trainAccuracy(),
    };
    if (this.model.features !== undefined) {
      meta.features = [...this.model.features];
    } else if (this.train.featureNames) {
      // Names of the model's inputs: only when they are the data's columns.
      meta.featureNames = this.train.featureNames;
    }
    this.model.meta = meta as unknown as MLP["meta"];
    return serializeModel(this.model) + "\n";
  }
}
