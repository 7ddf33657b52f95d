/**
 * The training loop: forward, loss, backward, optimizer step, with the tape
 * rewound or replayed so memory stays constant over any number of steps.
 *
 * @module
 */

import {
  codegenAvailable,
  CompiledStep,
  type NonFiniteReport,
  type Tape,
  Value,
  wasmSimdAvailable,
  WasmUnsupportedError,
} from "../engine/mod.ts";
import { WasmBatchStep } from "./wasm_batch.ts";
import { FitLog } from "./_fit_log.ts";
import { batches, type Dataset } from "./data.ts";
import { l2, LOSS_NAMES, lossFitsClasses, type LossName } from "./loss.ts";
import { type LossKind, lossKind } from "./_loss_kind.ts";
import type { MLP } from "./mlp.ts";
import { type BatchGraph, MiniBatchStep } from "./minibatch.ts";
import { normalize } from "./normalization.ts";
import { expandFeatures } from "./features.ts";
import { r2Score } from "./regression.ts";
import {
  DEFAULT_LR,
  type Optimizer,
  optimizerByName,
  type OptimizerName,
  SGD,
} from "./optim.ts";
import { Rng } from "./rng.ts";
import {
  type Schedule,
  scheduleByName,
  type ScheduleName,
} from "./schedule.ts";

/**
 * How a full-batch step is run. `"record"` rebuilds the graph every step;
 * `"replay"` builds it once and re-evaluates it; `"compiled"` also generates
 * JavaScript for the per-sample subgraph. All three give identical numbers.
 * `"wasm"` compiles the per-sample subgraph to WebAssembly SIMD instead (see
 * `WasmStep`), for full batches and mini-batches alike (the last partial
 * batch and shuffled order included): sums run in another order, so numbers agree to about
 * 1e-13 relative in float64; where the runtime lacks SIMD or the model holds
 * ops the backend does not cover, it falls back to `"compiled"` and
 * {@linkcode Trainer.mode} says so. `"auto"` picks `"wasm"` for steps whose
 * dense layers do enough work for SIMD to pay ({@linkcode WASM_AUTO_MACS}), else
 * `"compiled"` where code generation is allowed, else `"replay"`.
 * Mini-batches run in wasm, compiled (the per-sample code looped over the
 * batch's samples) or, with `"record"` or `"replay"` or without code
 * generation, record every step.
 */
export type FitMode = "auto" | "record" | "replay" | "compiled" | "wasm";

/**
 * Every {@linkcode FitMode}, for menus, help texts and validation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FIT_MODES } from "@tapegrad/tapegrad";
 * assert.ok(FIT_MODES.includes("wasm"));
 * ```
 */
export const FIT_MODES: readonly FitMode[] = [
  "auto",
  "record",
  "replay",
  "compiled",
  "wasm",
];

/**
 * The number format of a `"wasm"` step: `"float64"` (the default, as the rest
 * of tapegrad) or `"float32"`, twice the SIMD lanes at float32 rounding:
 * values and gradients to about 1e-7 relative. With plain SGD (the default
 * optimizer: no momentum, no weight decay) the module keeps the parameters
 * as its own float32 copy and updates them there, so updates smaller than
 * float32's resolution (about 6e-8 of a weight) are lost; the tape gets the
 * float32 values back, widened, as {@linkcode ParameterSync} says. Other
 * optimizers keep float64 parameters on the tape and update them there;
 * the module reads them, rounded to float32, every step.
 */
export type FitPrecision = "float64" | "float32";

/**
 * Every {@linkcode FitPrecision}, for menus, help texts and validation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FIT_PRECISIONS } from "@tapegrad/tapegrad";
 * assert.deepEqual(FIT_PRECISIONS, ["float64", "float32"]);
 * ```
 */
export const FIT_PRECISIONS: readonly FitPrecision[] = ["float64", "float32"];

/**
 * `"auto"` picks `"wasm"` when a step's dense-layer multiply-adds (a
 * sample's weights times the batch's samples) reach this many, the batch has
 * two samples or more and a sample at least {@linkcode WASM_AUTO_MACS} / 64
 * weights: below that, calls, copies and the loss recorded per batch cost
 * more than SIMD saves. A lone sample runs faster compiled, with plain SGD
 * fused into its backward pass (784-50-10: 0.039 ms a step against 0.056 ms
 * in wasm, whose Trainer copies the parameters in and out every step; 0.032
 * ms with `parameterSync: "manual"`). Measured on 100 moons samples, wasm
 * step time over the compiled one: full batches gain from 48 weights per
 * sample (2-16-1: 0.7x; 2-4-4-1, 28 weights: 0.8x but left compiled),
 * batches of 32 from about 88 (2-8-8-1: 0.9x), batches of 8 from about 300
 * (2-16-16-1: 0.8x; 2-12-12-1: 1.07x).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WASM_AUTO_MACS } from "@tapegrad/tapegrad/nn";
 * // 2-16-16-1 on a full batch of 100 samples runs on wasm:
 * assert.ok((2 * 16 + 16 * 16 + 16) * 100 >= WASM_AUTO_MACS);
 * ```
 */
export const WASM_AUTO_MACS = 2048;

/**
 * When a `"wasm"` {@linkcode Trainer} that keeps the parameters in its
 * WebAssembly module (plain SGD, either precision) writes them back to the
 * model:
 * - `"step"` (default): after every `step()`, and it reads them from the
 *   model before every step, so the model's parameters are always current
 *   between steps and edits to them take effect, at the cost of two copies
 *   of the parameters per step.
 * - `"manual"`: only in {@linkcode Trainer.syncParameters} and
 *   {@linkcode Trainer.close}; between those the model's parameters are
 *   stale (the values at the last sync) and edits to them are ignored until
 *   {@linkcode Trainer.loadParameters}. {@linkcode fit} trains this way
 *   when it has no `onStep` or `onEpoch` callback (nobody can look before
 *   it returns), else as `"step"`.
 *
 * Other modes and optimizers update the model's parameters in place every
 * step; there both settings behave alike.
 */
export type ParameterSync = "step" | "manual";

/** What {@linkcode fit} reports after each step. */
export interface StepInfo {
  /** The step just taken, from 1. */
  step: number;
  /** Total steps planned. */
  steps: number;
  /** The loss of this step's forward pass (before the update). */
  loss: number;
  /** Training accuracy of this step's batch (before the update). */
  accuracy: number;
  /** The learning rate used for this step's update. */
  lr: number;
  /** Seconds since training started. */
  seconds: number;
  /** Accuracy on the validation set, on steps where it was evaluated. */
  valAccuracy?: number;
  /** The epoch this step belongs to, from 1 (one epoch: every sample once). */
  epoch: number;
}

/** What {@linkcode fit} reports after each epoch (a pass over the data). */
export interface EpochInfo {
  /** The epoch just finished, from 1. */
  epoch: number;
  /** Total epochs planned (steps rounded up to whole epochs). */
  epochs: number;
  /** The mean loss of the epoch's steps. */
  loss: number;
  /** Training accuracy over the epoch's batches (before each update). */
  accuracy: number;
  /** Steps taken so far. */
  step: number;
  /** Seconds since training started. */
  seconds: number;
  /** Accuracy on the validation set at the end of the epoch, if given. */
  valAccuracy?: number;
}

/** Options for {@linkcode fit}. */
export interface FitOptions {
  /** The loss (default `"hinge"`, micrograd's). */
  loss?: LossName;
  /** An optimizer name (default `"sgd"`) or a ready optimizer. */
  optimizer?: OptimizerName | Optimizer;
  /** Initial learning rate (default 1.0 for SGD, 0.01 for Adam/AdamW). */
  lr?: number;
  /**
   * The learning-rate schedule over the steps: a name or a function (default
   * `"linear"` from `lr` to `lr / 10`, micrograd's `1.0 - 0.9*k/100`).
   */
  schedule?: ScheduleName | Schedule;
  /** Number of steps (default 100; give `steps` or `epochs`, not both). */
  steps?: number;
  /**
   * Number of epochs, each one pass over the data in `ceil(n / batchSize)`
   * steps (the last batch smaller); sets `steps` to that many.
   */
  epochs?: number;
  /** Samples per step; default (or ≥ dataset size) is the full batch. */
  batchSize?: number;
  /** L2 regularisation strength (default 1e-4, micrograd's alpha). */
  l2?: number;
  /** Seed for mini-batch shuffling (default 0). */
  seed?: number;
  /** A validation set, evaluated every `evalEvery` steps and at the end. */
  val?: Dataset;
  /** How often to evaluate `val` (default 10 steps). */
  evalEvery?: number;
  /** How full-batch steps run (default `"auto"`). */
  mode?: FitMode;
  /**
   * The number format of `"wasm"` steps (default `"float64"`); `"float32"`
   * needs mode `"wasm"` or `"auto"` (which then picks `"wasm"`).
   */
  precision?: FitPrecision;
  /**
   * For a {@linkcode Trainer} in `"wasm"` mode: when parameters kept in the
   * module are written back to the model (default `"step"`; see
   * {@linkcode ParameterSync}). {@linkcode fit} ignores it: it syncs every
   * step when given `onStep` or `onEpoch`, else only at the end.
   */
  parameterSync?: ParameterSync;
  /** Called after every step; return `false` to stop early. */
  onStep?: (info: StepInfo) => void | boolean;
  /** Called after every epoch; return `false` to stop early. */
  onEpoch?: (info: EpochInfo) => void | boolean;
}

/** What {@linkcode fit} returns. */
export interface FitResult {
  /** The loss of every step. */
  losses: number[];
  /** The training accuracy of every step (R² for regression data). */
  accuracies: number[];
  /** The last step's loss. */
  loss: number;
  /** Accuracy of the trained model on the whole training set (R² for regression data). */
  accuracy: number;
  /** Accuracy of the trained model on `val`, when given. */
  valAccuracy?: number;
  /** Steps taken. */
  steps: number;
  /** Wall-clock seconds. */
  seconds: number;
  /** How the steps ran. */
  mode: "record" | "replay" | "compiled" | "wasm";
}

/**
 * Thrown when the loss becomes NaN or ±Infinity: it names the step and the op
 * that first produced a non-finite value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fit, makeMoons, MLP, TrainingError } from "@tapegrad/tapegrad";
 * const model = new MLP(2, [4, 1], { seed: 1 });
 * assert.throws(
 *   () => fit(model, makeMoons(20, { seed: 1 }), { lr: 1e300, steps: 5 }),
 *   TrainingError,
 * );
 * ```
 */
export class TrainingError extends Error {
  /** The step (from 1) whose loss was not finite. */
  readonly step: number;
  /** The loss value: NaN, Infinity or -Infinity. */
  readonly loss: number;
  /** Where the non-finite value first appeared, when it could be traced. */
  readonly report?: NonFiniteReport;

  /**
   * Creates the error.
   *
   * @param step The failing step.
   * @param loss The loss value.
   * @param report Where the non-finite value first appeared.
   */
  constructor(step: number, loss: number, report?: NonFiniteReport) {
    const where = report
      ? report.message.replace(/^Non-finite value: /, "")
      : "no op could be traced";
    super(`Loss became ${loss} at step ${step}: ${where}`);
    this.name = "TrainingError";
    this.step = step;
    this.loss = loss;
    this.report = report;
  }
}

/**
 * One training step at a time: the loop {@linkcode fit} runs, for callers
 * that drive it themselves (benchmarks, a page that trains between frames).
 * It records or replays the batch's graph, computes loss plus L2
 * regularisation, backpropagates, and updates the parameters. Memory stays
 * constant: a recorded step is rewound; a full batch is recorded once and
 * replayed (or compiled). Call {@linkcode Trainer.close} when done, to drop
 * the step's graph from the tape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeMoons, MLP, Trainer } from "@tapegrad/tapegrad";
 * const model = new MLP(2, [8, 1], { seed: 1 });
 * const trainer = new Trainer(model, makeMoons(40, { seed: 2 }), { steps: 20 });
 * const first = trainer.step();
 * let last = first;
 * while (trainer.stepCount < 20) last = trainer.step();
 * trainer.close();
 * assert.ok(last < first);
 * ```
 */
export class Trainer {
  /** The model being trained. */
  readonly model: MLP;
  /** The training set. */
  readonly data: Dataset;
  /** The loss. */
  readonly loss: LossName;
  /** The optimizer updating the model's parameters. */
  readonly optimizer: Optimizer;
  /** Planned number of steps (the schedule runs over them). */
  readonly steps: number;
  /** Steps per epoch: `ceil(samples / batch size)`. */
  readonly stepsPerEpoch: number;
  /**
   * How steps run: `"record"`, `"replay"`, `"compiled"` or `"wasm"` (a
   * requested `"wasm"` that could not be built reads `"compiled"`).
   */
  readonly mode: FitResult["mode"];
  /** Steps taken so far. */
  stepCount = 0;
  /** The training accuracy of the last step's batch (before its update). */
  lastAccuracy: number = NaN;
  /** The number of samples in the last step's batch. */
  lastBatchSize = 0;

  private readonly kind: LossKind;
  private readonly parameters: Value[];
  /** The L2 regularisation strength. */
  readonly alpha: number;
  /** The learning-rate schedule over the steps. */
  readonly schedule: Schedule;
  private readonly tape: Tape;
  private readonly mark: number;
  private readonly graph?: RecordedBatch;
  private readonly compiled?: CompiledStep;
  private readonly wasm?: WasmBatchStep;
  private readonly sync: ParameterSync;
  private readonly mini?: MiniBatchStep;
  private readonly nextBatches: () => Dataset[];
  private readonly queue: Dataset[] = [];
  /** Compiled mini-batches: the inputs, this epoch's order and batch size. */
  private readonly inputs: Dataset;
  private readonly nextOrder: () => Int32Array;
  private order: Int32Array = new Int32Array(0);
  private cursor = 0;
  private readonly batchSize: number;
  private closed = false;
  /** Nodes whose (index, generation) must stay live: below the mark and the graph's root. */
  private anchors: [number, number][] = [];

  /**
   * Validates the options and, for a full batch, records the step's graph.
   *
   * @param model The model to train (its parameters are updated in place).
   * @param data The training set.
   * @param options Loss, optimizer, schedule, steps, batch size, mode…
   * @throws {RangeError} On options that do not fit the model or the data.
   */
  constructor(model: MLP, data: Dataset, options: FitOptions = {}) {
    const loss = options.loss ?? "hinge";
    if (!(LOSS_NAMES as readonly string[]).includes(loss)) {
      throw new RangeError(
        `Unknown loss ${JSON.stringify(loss)}; expected one of ${
          LOSS_NAMES.join(", ")
        }`,
      );
    }
    checkDataset(data, model.inputSize, "Training data");
    if (options.val !== undefined) {
      checkDataset(options.val, model.inputSize, "Validation data");
    }
    if (data.classes === 0 && loss !== "mse") {
      throw new RangeError(
        `Regression data (classes 0) trains with the "mse" loss, got "${loss}"`,
      );
    }
    const kind = lossKind(loss, data.classes);
    const nout = model.nouts[model.nouts.length - 1];
    if (!lossFitsClasses(loss, data.classes)) {
      throw new RangeError(
        `Loss "${loss}" is for 2 classes, the data has ${data.classes}; use "cross-entropy"`,
      );
    }
    if (nout !== kind.outputs) {
      throw new RangeError(
        `Loss "${loss}" on ${data.classes} classes needs ${kind.outputs} model output${
          kind.outputs === 1 ? "" : "s"
        }, the model has ${nout}`,
      );
    }
    const batchSize = options.batchSize ?? data.x.length;
    checkInteger(batchSize, "Batch size", 1);
    const stepsPerEpoch = Math.ceil(data.x.length / batchSize);
    if (options.epochs !== undefined) {
      if (options.steps !== undefined) {
        throw new RangeError(
          `Give steps or epochs, not both; got steps ${options.steps} and epochs ${options.epochs}`,
        );
      }
      checkInteger(options.epochs, "Epochs", 1);
    }
    const steps = options.epochs !== undefined
      ? options.epochs * stepsPerEpoch
      : options.steps ?? 100;
    checkInteger(steps, "Steps", 1);
    const alpha = options.l2 ?? 1e-4;
    if (typeof alpha !== "number" || !(alpha >= 0) || !Number.isFinite(alpha)) {
      throw new RangeError(
        `L2 strength must be a finite number >= 0, got ${alpha}`,
      );
    }
    if (options.evalEvery !== undefined) {
      checkInteger(options.evalEvery, "evalEvery", 1);
    }
    const requested = options.mode ?? "auto";
    if (!FIT_MODES.includes(requested)) {
      throw new RangeError(
        `Unknown mode ${
          JSON.stringify(requested)
        }; expected auto, record, replay, compiled or wasm`,
      );
    }
    const precision = options.precision ?? "float64";
    if (!FIT_PRECISIONS.includes(precision)) {
      throw new RangeError(
        `Unknown precision ${
          JSON.stringify(precision)
        }; expected float64 or float32`,
      );
    }
    if (
      precision === "float32" && requested !== "wasm" && requested !== "auto"
    ) {
      throw new RangeError(
        `Precision "float32" needs mode "wasm" or "auto", got ${
          JSON.stringify(requested)
        }`,
      );
    }
    this.model = model;
    this.data = data;
    this.loss = loss;
    this.kind = kind;
    this.steps = steps;
    this.stepsPerEpoch = stepsPerEpoch;
    this.alpha = alpha;
    this.parameters = model.parameters();
    this.optimizer = makeOptimizer(options, this.parameters);
    this.schedule = makeSchedule(
      options.schedule ?? "linear",
      this.optimizer.lr,
    );
    this.tape = this.parameters[0].tape;
    this.mark = this.tape.mark();
    const fullBatch = batchSize >= data.x.length;
    const rng = new Rng(options.seed ?? 0);
    // A model with stored features or normalisation takes raw data, as
    // predict() does.
    const norm = model.normalization, features = model.features;
    const inputs = norm === undefined && features === undefined ? data : {
      ...data,
      x: data.x.map((row) =>
        normalize(
          features === undefined ? row : expandFeatures(row, features),
          norm,
        )
      ),
    };
    // Mini-batches are reshuffled every epoch; a full batch keeps the order.
    this.nextBatches = () =>
      fullBatch ? [inputs] : batches(inputs, batchSize, { rng });
    // The order batches() takes its slices from (one permutation per epoch,
    // the same draws), for compiled mini-batches that read the samples in
    // place instead of copying them into batches.
    this.nextOrder = () => Int32Array.from(rng.permutation(data.x.length));
    this.inputs = inputs;
    this.batchSize = batchSize;
    const sync = options.parameterSync ?? "step";
    if (sync !== "step" && sync !== "manual") {
      throw new RangeError(
        `Unknown parameterSync ${
          JSON.stringify(sync)
        }; expected step or manual`,
      );
    }
    this.sync = sync;
    const capacity = Math.min(batchSize, data.x.length);
    if (
      requested === "wasm" ||
      (requested === "auto" &&
        (precision === "float32" || wasmPays(model, capacity)))
    ) {
      try {
        this.wasm = new WasmBatchStep(
          model,
          capacity,
          kind.outputs,
          (out, y) => kind.loss(out, y),
          { precision, alpha, resident: this.plainSgd() },
          data.classes,
        );
      } catch (error) {
        if (!(error instanceof WasmUnsupportedError)) throw error;
        this.tape.rewind(this.mark);
      }
    }
    // A wasm step that could not be built falls back as "auto" does.
    const fallback = requested === "wasm" ? "auto" : requested;
    let mode: FitMode = this.wasm !== undefined
      ? "wasm"
      : fallback === "record"
      ? "record"
      : !fullBatch
      ? (fallback === "compiled" ||
          (fallback === "auto" && codegenAvailable())
        ? "compiled"
        : "record")
      : fallback;
    if (mode === "wasm") {
      // Built above.
    } else if (!fullBatch && mode === "compiled") {
      const parameters = this.parameters;
      this.mini = new MiniBatchStep(
        model,
        Math.min(batchSize, data.x.length),
        kind.outputs,
        (out, y) => kind.loss(out, y),
        alpha > 0 ? () => l2(parameters, alpha) : undefined,
        data.classes,
      );
    } else if (mode !== "record") {
      this.graph = this.record(inputs);
      // The graph is reused by every step: no Value step's backward() may
      // release it.
      this.tape.keep();
      if (mode === "auto") {
        mode = codegenAvailable() ? "compiled" : "replay";
      }
      if (mode === "compiled") {
        try {
          this.compiled = this.compile(this.graph);
        } catch (error) {
          if (requested === "compiled") throw error;
          mode = "replay";
        }
      }
    }
    this.mode = mode as FitResult["mode"];
    // The last node before the mark and the graph's root: if either is
    // dropped (another Trainer's close() or recording step, or a rewind
    // below the mark), this Trainer's indices point at other nodes.
    if (this.mark > 0) {
      this.anchors.push([this.mark - 1, this.tape.born[this.mark - 1]]);
    }
    if (this.graph !== undefined) {
      const root = this.graph.root;
      this.anchors.push([root, this.tape.born[root]]);
    }
    if (this.wasm !== undefined) {
      const last = this.wasm.lastSlotNode;
      this.anchors.push([last, this.tape.born[last]]);
    }
  }

  /**
   * Writes the parameters a `"wasm"` Trainer keeps in its module back to
   * the model (float32 ones widened to float64). Needed only with
   * `parameterSync: "manual"` (see {@linkcode ParameterSync}); elsewhere
   * the model is always current and this does nothing.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { makeMoons, MLP, Trainer } from "@tapegrad/tapegrad";
   * const model = new MLP(2, [16, 16, 1], { seed: 1 });
   * const before = model.parameters()[0].data;
   * const trainer = new Trainer(model, makeMoons(40, { seed: 2 }), {
   *   mode: "wasm",
   *   precision: "float32",
   *   parameterSync: "manual",
   * });
   * trainer.step();
   * assert.equal(model.parameters()[0].data, before); // stale until synced
   * trainer.syncParameters();
   * assert.notEqual(model.parameters()[0].data, before);
   * assert.equal(model.parameters()[0].data, Math.fround(model.parameters()[0].data));
   * trainer.close();
   * ```
   */
  syncParameters(): void {
    if (this.wasm?.resident && !this.closed) this.wasm.step.storeParameters();
  }

  /**
   * Reads the model's parameters into a `"wasm"` Trainer's module after
   * they were changed on the model, with `parameterSync: "manual"` (with
   * `"step"`, every step reads them; elsewhere the model is the only copy).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { makeMoons, MLP, Trainer } from "@tapegrad/tapegrad";
   * const model = new MLP(2, [8, 1], { seed: 1 });
   * const data = makeMoons(20, { seed: 2 });
   * const trainer = new Trainer(model, data, {
   *   mode: "wasm",
   *   parameterSync: "manual",
   *   schedule: "constant",
   * });
   * const first = trainer.step();
   * for (const p of model.parameters()) p.data = 0; // edited on the model
   * trainer.loadParameters();
   * const zeroed = trainer.step(); // every output 0: hinge loss 1
   * assert.notEqual(zeroed, first);
   * assert.equal(zeroed, 1);
   * trainer.close();
   * ```
   */
  loadParameters(): void {
    if (this.wasm?.resident && !this.closed) this.wasm.step.loadParameters();
  }

  /** Whether the optimizer is plain SGD over exactly the model's parameters. */
  private plainSgd(): boolean {
    const sgd = this.optimizer;
    if (!(sgd instanceof SGD) || sgd.descentRule === undefined) return false;
    const start = this.model.parameterStart;
    return sgd.parameters.length === this.model.parameterCount &&
      sgd.parameters.every((p, k) => p.index === start + k);
  }

  /** Throws if the tape under this Trainer was rewound by someone else. */
  private checkTape(): void {
    for (const [index, generation] of this.anchors) {
      if (!this.tape.isLive(index, generation)) {
        this.closed = true;
        throw new Error(
          `Trainer's graph was dropped from its tape (by another Trainer on the same tape, or a tape.rewind() below this Trainer's mark ${this.mark}); create a new Trainer, or give each Trainer's model its own tape`,
        );
      }
    }
  }

  /**
   * Runs one step: forward, loss, backward, optimizer update.
   *
   * @returns The loss of this step's forward pass (before the update).
   * @throws {TrainingError} When the loss is NaN or ±Infinity.
   */
  step(): number {
    if (this.closed) throw new Error("Trainer is closed; create a new one");
    this.checkTape();
    const tape = this.tape, step = this.stepCount + 1;
    if (this.wasm) return this.wasmStep(step);
    let batch: BatchGraph | undefined = this.graph;
    if (batch === undefined) {
      if (this.mini) {
        if (this.cursor >= this.order.length) {
          this.order = this.nextOrder();
          this.cursor = 0;
        }
        const from = this.cursor;
        const count = Math.min(this.batchSize, this.order.length - from);
        this.cursor = from + count;
        const { x, y } = this.inputs;
        batch = this.mini.forward(x, y, this.order.subarray(from), count);
      } else {
        if (this.queue.length === 0) this.queue.push(...this.nextBatches());
        batch = this.record(this.queue.shift()!);
      }
    } else {
      // Every step, the first too: the parameters may have been changed
      // since the graph was recorded (set by hand, loaded from a file).
      if (this.compiled) this.compiled.forward();
      else tape.replay(this.mark);
    }
    const loss = tape.data[batch.root];
    if (!Number.isFinite(loss)) {
      const report = tape.findNonFinite(batch.root);
      this.close();
      throw new TrainingError(step, loss, report);
    }
    const lr = this.schedule(Math.min(step - 1, this.steps), this.steps);
    this.optimizer.lr = lr;
    if (this.compiled?.descent) {
      // Plain SGD fused into the backward pass: same numbers, one pass. The
      // parameters' gradients are not kept; clear any left from before.
      if (step === 1) this.optimizer.zeroGrad();
      this.compiled.backwardAndDescend(lr);
    } else {
      this.optimizer.zeroGrad();
      if (this.compiled) this.compiled.backward();
      else if (this.mini) this.mini.backward();
      else tape.backward(batch.root);
      this.optimizer.step();
    }
    this.lastBatchSize = batch.labels.length;
    this.lastAccuracy = this.kind.regression
      ? r2Score(Array.from(batch.outputs, (o) => tape.data[o]), batch.labels)
      : countCorrect(tape, batch, this.kind) / batch.labels.length;
    if (this.graph === undefined && !this.mini) tape.rewind(this.mark);
    this.stepCount = step;
    return loss;
  }

  /** One step on the wasm backend, full batch or mini-batch. */
  private wasmStep(step: number): number {
    const wasm = this.wasm!, tape = this.tape;
    const resident = wasm.resident;
    // The module owns the parameters' gradients: the tape's stay 0.
    if (resident && step === 1) this.optimizer.zeroGrad();
    if (resident && this.sync === "step") wasm.step.loadParameters();
    if (this.queue.length === 0) this.queue.push(...this.nextBatches());
    const next = this.queue.shift()!;
    const batch = wasm.forward(next.x, next.y);
    const loss = wasm.loss;
    if (!Number.isFinite(loss)) {
      wasm.writeBack();
      const report = tape.findNonFinite(batch.root);
      this.close();
      throw new TrainingError(step, loss, report);
    }
    const lr = this.schedule(Math.min(step - 1, this.steps), this.steps);
    this.optimizer.lr = lr;
    if (resident) {
      wasm.backward();
      wasm.descend(lr);
      if (this.sync === "step") wasm.step.storeParameters();
    } else {
      this.optimizer.zeroGrad();
      wasm.backward();
      this.optimizer.step();
    }
    this.lastBatchSize = batch.labels.length;
    this.lastAccuracy = this.kind.regression
      ? r2Score(Array.from(batch.outputs, (o) => tape.data[o]), batch.labels)
      : countCorrect(tape, batch, this.kind) / batch.labels.length;
    this.stepCount = step;
    return loss;
  }

  /**
   * Drops the step's graph from the tape (the parameters stay, written back
   * from a `"wasm"` module that kept them).
   */
  close(): void {
    if (this.closed) return;
    if (
      this.wasm?.resident &&
      this.anchors.every(([i, g]) => this.tape.isLive(i, g))
    ) {
      this.wasm.step.storeParameters();
    }
    this.closed = true;
    // Rewinding a tape someone else rewound could drop their nodes.
    if (this.anchors.every(([i, g]) => this.tape.isLive(i, g))) {
      this.tape.rewind(this.mark);
    }
  }

  /**
   * Compiles the full-batch step. With plain SGD (no momentum or weight
   * decay) on one sample without L2, the update is fused into the backward
   * pass, as hand-written single-sample code does it; the optimizer then only
   * holds the learning rate, and the parameters' gradients are not kept.
   */
  private compile(graph: RecordedBatch): CompiledStep {
    const sgd = this.optimizer;
    const rule = sgd instanceof SGD ? sgd.descentRule : undefined;
    const plain = rule !== undefined && graph.layout.samples === 1 &&
      this.alpha === 0;
    const start = this.model.parameterStart;
    const count = this.model.parameterCount;
    const same = sgd.parameters.length === count &&
      sgd.parameters.every((p, k) => p.index === start + k);
    if (plain && same) {
      try {
        return new CompiledStep(this.tape, graph.layout, {
          descent: { start, count, update: rule },
        });
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
      }
    }
    return new CompiledStep(this.tape, graph.layout);
  }

  /** Records one batch's step graph after the mark. */
  private record(batch: Dataset): RecordedBatch {
    return recordBatch(
      this.tape,
      this.model,
      batch,
      this.kind,
      this.parameters,
      this.alpha,
    );
  }
}

/**
 * Trains `model` on `data` for `options.steps` steps with a
 * {@linkcode Trainer}, reporting each step to `options.onStep`.
 *
 * @param model The model to train (its parameters are updated in place).
 * @param data The training set.
 * @param options Loss, optimizer, schedule, steps, batch size…
 * @returns Losses, accuracies, timing.
 * @throws {TrainingError} When the loss becomes non-finite.
 * @throws {RangeError} On options that do not fit the model or the data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fit, makeMoons, MLP } from "@tapegrad/tapegrad";
 * const data = makeMoons(100, { noise: 0.1, seed: 1 });
 * const model = new MLP(2, [16, 16, 1], { seed: 1337 });
 * const result = fit(model, data, { steps: 100 });
 * assert.ok(result.accuracy >= 0.95);
 * ```
 */
export function fit(
  model: MLP,
  data: Dataset,
  options: FitOptions = {},
): FitResult {
  // Without callbacks nobody looks at the model until the end: a wasm
  // module may keep the parameters until close() writes them back.
  const watched = options.onStep !== undefined ||
    options.onEpoch !== undefined;
  const trainer = new Trainer(model, data, {
    ...options,
    parameterSync: watched ? "step" : "manual",
  });
  const log = new FitLog(
    model,
    options,
    trainer.loss,
    trainer.steps,
    trainer.stepsPerEpoch,
    performance.now(),
  );
  try {
    while (trainer.stepCount < trainer.steps) {
      const loss = trainer.step();
      const more = log.record(
        trainer.stepCount,
        loss,
        trainer.lastAccuracy,
        trainer.lastBatchSize,
        trainer.optimizer.lr,
      );
      if (!more) break;
    }
  } finally {
    trainer.close();
  }
  return log.result(data, trainer.mode);
}

/** Where one recorded batch's graph lies on the tape. */
interface RecordedBatch extends BatchGraph {
  layout: {
    firstSample: number;
    sampleSize: number;
    samples: number;
    root: number;
  };
}

/**
 * Records a batch: every sample's inputs and forward pass in turn (so each
 * sample's subgraph is contiguous and alike, ready to compile), then the
 * loss over the batch and the L2 term.
 */
function recordBatch(
  tape: Tape,
  model: MLP,
  batch: Dataset,
  kind: LossKind,
  parameters: Value[],
  alpha: number,
): RecordedBatch {
  const n = batch.x.length;
  const outputs = new Int32Array(n);
  const outValues: Value[][] = [];
  const firstSample = tape.size;
  const nout = kind.outputs;
  for (let s = 0; s < n; s++) {
    const start = tape.size;
    const x = batch.x[s];
    for (let k = 0; k < x.length; k++) tape.leaf(x[k], false);
    const out = model.record(tape, start);
    outputs[s] = out;
    const row: Value[] = [];
    for (let k = 0; k < nout; k++) row.push(Value.at(tape, out + k));
    outValues.push(row);
  }
  const sampleSize = (tape.size - firstSample) / n;
  let loss = kind.loss(outValues, batch.y);
  if (alpha > 0) loss = loss.add(l2(parameters, alpha));
  const root = loss.index;
  return {
    root,
    outputs,
    labels: batch.y,
    layout: { firstSample, sampleSize, samples: n, root },
  };
}

function countCorrect(tape: Tape, batch: BatchGraph, kind: LossKind): number {
  let correct = 0;
  const data = tape.data;
  for (let s = 0; s < batch.outputs.length; s++) {
    if (kind.classify(data, batch.outputs[s]) === batch.labels[s]) correct++;
  }
  return correct;
}

/** Whether a step has enough dense work for `"auto"` to pick wasm. */
function wasmPays(model: MLP, samples: number): boolean {
  if (samples < 2 || !wasmSimdAvailable()) return false;
  let macs = 0, nin = model.nin;
  for (const nout of model.nouts) {
    macs += nin * nout;
    nin = nout;
  }
  return macs * 64 >= WASM_AUTO_MACS && macs * samples >= WASM_AUTO_MACS;
}

function makeOptimizer(options: FitOptions, parameters: Value[]): Optimizer {
  const chosen = options.optimizer ?? "sgd";
  if (typeof chosen !== "string") return chosen;
  return optimizerByName(chosen, parameters, options.lr);
}

function makeSchedule(schedule: ScheduleName | Schedule, lr: number): Schedule {
  if (typeof schedule === "function") return schedule;
  return schedule === "constant"
    ? scheduleByName(schedule, lr)
    : scheduleByName(schedule, lr, scheduleEnd(schedule, lr));
}

function scheduleEnd(schedule: ScheduleName, start: number): number {
  // micrograd's demo decays linearly to a tenth: lr = 1.0 - 0.9*k/100.
  if (schedule === "linear") return start / 10;
  return schedule === "cosine" ? 0 : start;
}

/**
 * The learning rates {@linkcode fit} runs from and to for an optimizer and a
 * schedule chosen by name: `lr` (default {@linkcode DEFAULT_LR}) at the
 * first step; at the last, `lr` for `"constant"`, `lr / 10` for `"linear"`
 * (micrograd's demo, `1.0 - 0.9*k/100`), 0 for `"cosine"`.
 *
 * @param optimizer The optimizer's name.
 * @param schedule The schedule's name.
 * @param lr The learning rate given, if any.
 * @returns The first and last learning rates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitLearningRates } from "@tapegrad/tapegrad/nn";
 * assert.deepEqual(fitLearningRates("sgd", "linear"), { start: 1, end: 0.1 });
 * assert.deepEqual(fitLearningRates("adam", "cosine"), { start: 0.01, end: 0 });
 * assert.deepEqual(fitLearningRates("sgd", "constant", 0.5), { start: 0.5, end: 0.5 });
 * ```
 */
export function fitLearningRates(
  optimizer: OptimizerName,
  schedule: ScheduleName,
  lr?: number,
): { start: number; end: number } {
  const start = lr ?? DEFAULT_LR[optimizer];
  return { start, end: scheduleEnd(schedule, start) };
}

function checkInteger(x: unknown, what: string, min: number): void {
  if (typeof x !== "number" || !Number.isInteger(x) || x < min) {
    throw new RangeError(`${what} must be an integer >= ${min}, got ${x}`);
  }
}

function checkDataset(data: Dataset, nin: number, what: string): void {
  if (
    data === null || typeof data !== "object" || !Array.isArray(data.x) ||
    !Array.isArray(data.y)
  ) {
    throw new TypeError(`${what} must be a Dataset { x, y, classes }`);
  }
  if (data.x.length === 0 || data.x.length !== data.y.length) {
    throw new RangeError(
      `${what} needs as many labels as samples (at least one), got ${data.x.length} samples and ${data.y.length} labels`,
    );
  }
  const classes = data.classes;
  if (classes === 0) {
    // Regression: any finite target.
    for (let s = 0; s < data.x.length; s++) {
      if (!Number.isFinite(data.y[s])) {
        throw new RangeError(
          `${what} target ${s} is ${
            data.y[s]
          }; regression targets must be finite numbers`,
        );
      }
      if (data.x[s].length !== nin) {
        throw new RangeError(
          `${what} sample ${s} has ${
            data.x[s].length
          } features, the model takes ${nin}`,
        );
      }
    }
    return;
  }
  if (!Number.isInteger(classes) || classes < 2) {
    throw new RangeError(
      `${what} must have at least 2 classes (an integer), got ${classes}`,
    );
  }
  for (let s = 0; s < data.x.length; s++) {
    // Every loss reads labels as class indices: hinge and mse would
    // otherwise map 5 or -1 silently to a sign.
    const label = data.y[s];
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new RangeError(
        `${what} label ${s} is ${label}; labels are class indices, integers from 0 to ${
          classes - 1
        }`,
      );
    }
    if (data.x[s].length !== nin) {
      throw new RangeError(
        `${what} sample ${s} has ${
          data.x[s].length
        } features, the model takes ${nin}`,
      );
    }
  }
}
