/**
 * Data-parallel training on Web Workers: each step's batch is cut into fixed
 * chunks, workers compute the chunks' gradients into `SharedArrayBuffer`s,
 * and the main thread adds them in chunk order and updates the parameters.
 * The chunks do not depend on the number of workers, so the results are
 * bit-identical for any number of them.
 *
 * @module
 */

import type { Dataset } from "./data.ts";
import { evaluate } from "./metrics.ts";
import {
  type EpochInfo,
  type FitOptions,
  type FitResult,
  type StepInfo,
  Trainer,
  TrainingError,
} from "./fit.ts";
import type { MLP } from "./mlp.ts";
import { normalize } from "./normalization.ts";
import type {
  InitMessage,
  StepMessage,
  WorkerReply,
} from "./parallel_worker.ts";
import { Rng } from "./rng.ts";

/**
 * The worker script {@linkcode ParallelTrainer} starts by default. Under
 * Deno's permissions, starting it needs read access to this file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PARALLEL_WORKER_URL } from "@tapegrad/tapegrad/nn";
 * assert.ok(PARALLEL_WORKER_URL.pathname.endsWith("/parallel_worker.ts"));
 * ```
 */
export const PARALLEL_WORKER_URL: URL = new URL(
  // The npm build compiles this file to .js, the worker beside it too.
  import.meta.url.endsWith(".js")
    ? "./parallel_worker.js"
    : "./parallel_worker.ts",
  import.meta.url,
);

/** The part of a worker the trainer uses: a Web Worker has it. */
export interface WorkerLike {
  /** Sends a message to the worker. */
  postMessage(message: unknown): void;
  /** Stops the worker. */
  terminate(): void;
  /** Receives the worker's replies. */
  onmessage: ((event: { data: unknown }) => void) | null;
  /** Receives an uncaught error in the worker (or a failure to start it). */
  onerror:
    | ((event: { message?: string; preventDefault?(): void }) => void)
    | null;
}

/** Options for {@linkcode ParallelTrainer} and {@linkcode fitParallel}. */
export interface ParallelOptions extends FitOptions {
  /**
   * Number of workers (default {@linkcode defaultWorkers}: every core when
   * the batch is big enough to gain, else 1).
   */
  workers?: number;
  /**
   * Chunks each batch is cut into (default 16, at most the batch size): the
   * unit of work, and of the fixed reduction order.
   */
  chunks?: number;
  /**
   * Starts one worker running `nn/parallel_worker.ts` (default: a module
   * Web Worker; in Node, pass one built on `worker_threads`).
   */
  createWorker?: (url: URL) => WorkerLike;
  /** The worker script (default: `parallel_worker.ts` beside this file). */
  workerUrl?: URL;
}

/**
 * The number of workers worth starting for a step over `batch` samples of
 * a model with `parameters` parameters: every core (`navigator.
 * hardwareConcurrency`) when a step does enough work to pay for the
 * messages, else 1. Also 1 where `SharedArrayBuffer` is unavailable, as on
 * a page that is not cross-origin isolated.
 *
 * @param batch Samples per step.
 * @param parameters The model's parameter count.
 * @returns How many workers to use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultWorkers } from "@tapegrad/tapegrad";
 * assert.equal(defaultWorkers(100, 337), 1); // micrograd's demo: too small
 * assert.ok(defaultWorkers(100, 66_561) >= 1);
 * ```
 */
export function defaultWorkers(batch: number, parameters: number): number {
  if (!sharedMemoryAvailable()) return 1;
  const cores = (globalThis.navigator as { hardwareConcurrency?: number })
    ?.hardwareConcurrency ?? 1;
  // About 3 flops per parameter per sample; below ~1 ms of work a step's
  // messages and reduction cost more than the second core gains.
  return batch * parameters >= 200_000 ? Math.max(1, Math.min(cores, 16)) : 1;
}

function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean })
    .crossOriginIsolated;
  return isolated !== false;
}

function defaultCreateWorker(url: URL): WorkerLike {
  if (typeof Worker === "undefined") {
    throw new Error(
      "Web Workers are not available here; pass options.createWorker (in Node, one built on worker_threads)",
    );
  }
  return new Worker(url, { type: "module" }) as unknown as WorkerLike;
}

/**
 * A {@linkcode Trainer} whose steps run on workers: `await step()`. Start it
 * with {@linkcode ParallelTrainer.create} (the workers are started once and
 * reused), and {@linkcode ParallelTrainer.close} it to end them. If a worker
 * fails, `step()` rejects with its error, the parameters stay as they were
 * before the step, and the trainer closes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeMoons, MLP, ParallelTrainer } from "@tapegrad/tapegrad";
 * const model = new MLP(2, [8, 1], { seed: 1 });
 * const trainer = await ParallelTrainer.create(model, makeMoons(40, { seed: 2 }), {
 *   steps: 20,
 *   workers: 2,
 * });
 * const first = await trainer.step();
 * let last = first;
 * while (trainer.stepCount < 20) last = await trainer.step();
 * trainer.close();
 * assert.ok(last < first);
 * ```
 */
export class ParallelTrainer {
  /** The model being trained. */
  readonly model: MLP;
  /** The training set. */
  readonly data: Dataset;
  /** Validates the options and holds the optimizer and schedule. */
  readonly trainer: Trainer;
  /** Number of workers. */
  readonly workers: number;
  /** Chunks per full batch. */
  readonly chunks: number;
  /** Steps taken so far. */
  stepCount = 0;
  /** The training accuracy of the last step's batch (before its update). */
  lastAccuracy: number = NaN;
  /** The number of samples in the last step's batch. */
  lastBatchSize = 0;

  private readonly pool: WorkerLike[];
  private readonly batchSize: number;
  private readonly rng: Rng;
  private readonly params: Float64Array;
  private readonly partials: Float64Array;
  private readonly stats: Float64Array;
  private readonly indices: Int32Array;
  private readonly queue: Int32Array[] = [];
  private pending?: {
    left: number;
    resolve: () => void;
    reject: (error: Error) => void;
  };
  private failure?: Error;
  private closed = false;

  private constructor(
    model: MLP,
    data: Dataset,
    options: ParallelOptions,
    trainer: Trainer,
    workers: number,
  ) {
    this.model = model;
    this.data = data;
    this.trainer = trainer;
    this.workers = workers;
    const n = data.x.length, nin = model.nin;
    this.batchSize = Math.min(options.batchSize ?? n, n);
    this.chunks = Math.min(options.chunks ?? 16, this.batchSize);
    this.rng = new Rng(options.seed ?? 0);
    const count = model.parameterCount;
    const f64 = (length: number) =>
      new Float64Array(new SharedArrayBuffer(8 * length));
    const x = f64(n * nin);
    // A model with a stored normalisation takes raw data, as Trainer does.
    const norm = model.normalization;
    for (let i = 0; i < n; i++) {
      x.set(
        norm === undefined ? data.x[i] : normalize(data.x[i], norm),
        i * nin,
      );
    }
    const y = new Int32Array(new SharedArrayBuffer(4 * n));
    y.set(data.y);
    this.params = f64(count);
    this.partials = f64(this.chunks * count);
    this.stats = f64(2 * this.chunks);
    this.indices = new Int32Array(new SharedArrayBuffer(4 * this.batchSize));
    const create = options.createWorker ?? defaultCreateWorker;
    const url = options.workerUrl ?? PARALLEL_WORKER_URL;
    const init: InitMessage = {
      type: "init",
      model: model.toJSON(),
      loss: trainer.loss,
      classes: data.classes,
      chunkCapacity: Math.ceil(this.batchSize / this.chunks),
      x: x.buffer as SharedArrayBuffer,
      y: y.buffer as SharedArrayBuffer,
      params: this.params.buffer as SharedArrayBuffer,
      partials: this.partials.buffer as SharedArrayBuffer,
      stats: this.stats.buffer as SharedArrayBuffer,
      indices: this.indices.buffer as SharedArrayBuffer,
    };
    this.pool = [];
    for (let w = 0; w < workers; w++) {
      const worker = create(url);
      worker.onmessage = (event) => this.reply(event.data as WorkerReply);
      worker.onerror = (event) => {
        event.preventDefault?.();
        this.fail(
          new Error(
            `Worker ${w + 1} of ${workers} crashed: ${
              event.message ?? "unknown error"
            }`,
          ),
        );
      };
      this.pool.push(worker);
      worker.postMessage(init);
    }
  }

  /**
   * Validates the options, starts the workers and waits until they are ready.
   *
   * @param model The model to train (its parameters are updated in place).
   * @param data The training set.
   * @param options As for {@linkcode Trainer}, plus `workers` and `chunks`.
   * @returns The trainer.
   * @throws {RangeError} On options that do not fit the model or the data.
   * @throws {Error} When `SharedArrayBuffer` or workers are unavailable, or a
   * worker fails to start.
   */
  static async create(
    model: MLP,
    data: Dataset,
    options: ParallelOptions = {},
  ): Promise<ParallelTrainer> {
    if (data?.classes === 0) {
      // The workers count correct classes; R² needs every output together.
      throw new RangeError(
        "Parallel training is for classification data; train regression data (classes 0) with fit()",
      );
    }
    const trainer = new Trainer(model, data, { ...options, mode: "record" });
    const batch = Math.min(options.batchSize ?? data.x.length, data.x.length);
    const workers = options.workers ??
      defaultWorkers(batch, model.parameterCount);
    if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
      trainer.close();
      throw new RangeError(
        `Workers must be an integer from 1 to 256, got ${workers}`,
      );
    }
    const chunks = options.chunks ?? 16;
    if (!Number.isInteger(chunks) || chunks < 1) {
      trainer.close();
      throw new RangeError(`Chunks must be an integer >= 1, got ${chunks}`);
    }
    if (!sharedMemoryAvailable()) {
      trainer.close();
      throw new Error(
        "SharedArrayBuffer is not available (a page must be cross-origin isolated); use Trainer or workers: 1 with fit()",
      );
    }
    const parallel = new ParallelTrainer(
      model,
      data,
      options,
      trainer,
      workers,
    );
    try {
      await parallel.wait(workers);
    } catch (error) {
      parallel.close();
      throw error;
    }
    return parallel;
  }

  /** Planned number of steps. */
  get steps(): number {
    return this.trainer.steps;
  }

  /**
   * Runs one step on the workers: forward, loss, backward per chunk; then
   * the chunk gradients are added in chunk order and the optimizer updates
   * the parameters.
   *
   * @returns The loss of this step's forward pass (before the update).
   * @throws {TrainingError} When the loss is NaN or ±Infinity.
   * @throws {Error} When a worker fails (the parameters are left unchanged).
   */
  async step(): Promise<number> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error("Trainer is closed; create a new one");
    const step = this.stepCount + 1;
    const n = this.data.x.length;
    if (this.queue.length === 0) {
      // Shuffled each epoch, as Trainer's batches are; a full batch keeps order.
      const full = this.batchSize >= n;
      const order = full
        ? Int32Array.from({ length: n }, (_, i) => i)
        : Int32Array.from(this.rng.permutation(n));
      for (let s = 0; s < n; s += this.batchSize) {
        this.queue.push(order.subarray(s, s + this.batchSize));
      }
    }
    const batch = this.queue.shift()!;
    const b = batch.length, chunks = Math.min(this.chunks, b);
    this.indices.set(batch);
    const model = this.model, count = model.parameterCount;
    const start = model.parameterStart;
    const tape = model.parameters()[0].tape;
    this.params.set(tape.data.subarray(start, start + count));
    const done = this.wait(this.workers);
    for (let w = 0; w < this.workers; w++) {
      const message: StepMessage = {
        type: "step",
        step,
        batch: b,
        chunks,
        first: w,
        stride: this.workers,
      };
      this.pool[w].postMessage(message);
    }
    await done;
    // Fixed order: L2 first (as the recorded graph's tail), then chunk 0, 1, …
    const alpha = this.trainer.alpha;
    const data = tape.data, grad = tape.grad, partials = this.partials;
    let loss = 0, correct = 0;
    for (let c = 0; c < chunks; c++) {
      loss += this.stats[2 * c];
      correct += this.stats[2 * c + 1];
    }
    if (alpha > 0) {
      let squares = 0;
      for (let j = 0; j < count; j++) squares += data[start + j] ** 2;
      loss += alpha * squares;
    }
    if (!Number.isFinite(loss)) {
      this.close();
      throw new TrainingError(step, loss);
    }
    for (let j = 0; j < count; j++) {
      const p = data[start + j];
      grad[start + j] = alpha > 0 ? alpha * p + alpha * p : 0;
    }
    for (let c = 0; c < chunks; c++) {
      const offset = c * count;
      for (let j = 0; j < count; j++) grad[start + j] += partials[offset + j];
    }
    const { optimizer, schedule } = this.trainer;
    const steps = this.trainer.steps;
    optimizer.lr = schedule(Math.min(step - 1, steps), steps);
    optimizer.step();
    this.lastAccuracy = correct / b;
    this.lastBatchSize = b;
    this.stepCount = step;
    return loss;
  }

  /** Ends the workers (the parameters stay). Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const worker of this.pool) worker.terminate();
    this.trainer.close();
    this.pending?.reject(new Error("Trainer was closed during a step"));
    this.pending = undefined;
  }

  /** A promise settled when `replies` workers have answered, or one fails. */
  private wait(replies: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending = { left: replies, resolve, reject };
    });
  }

  /** Counts a worker's answer to the pending step. */
  private reply(reply: WorkerReply): void {
    const pending = this.pending;
    if (pending === undefined) return;
    if (reply.type === "error") {
      this.fail(new Error(reply.message));
      return;
    }
    if (--pending.left === 0) {
      this.pending = undefined;
      pending.resolve();
    }
  }

  /** Records a worker's failure, ends the workers, rejects the pending step. */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const pending = this.pending;
    this.pending = undefined;
    this.close();
    pending?.reject(error);
  }
}

/**
 * {@linkcode fit} on workers: the same options and result, plus `workers`
 * and `chunks` (see {@linkcode ParallelTrainer}). Within 1e-12 of `fit`, and
 * bit-identical for any number of workers.
 *
 * @param model The model to train (its parameters are updated in place).
 * @param data The training set.
 * @param options As for {@linkcode fit}, plus `workers` and `chunks`.
 * @returns Losses, accuracies, timing (`mode` is `"parallel"`).
 * @throws {TrainingError} When the loss becomes non-finite.
 * @throws {RangeError} On options that do not fit the model or the data.
 * @throws {Error} When a worker fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitParallel, makeMoons, MLP } from "@tapegrad/tapegrad";
 * const data = makeMoons(100, { noise: 0.1, seed: 1 });
 * const model = new MLP(2, [16, 16, 1], { seed: 1337 });
 * const result = await fitParallel(model, data, { steps: 100, workers: 2 });
 * assert.ok(result.accuracy >= 0.95);
 * ```
 */
export async function fitParallel(
  model: MLP,
  data: Dataset,
  options: ParallelOptions = {},
): Promise<FitResult & { workers: number }> {
  const started = performance.now();
  const trainer = await ParallelTrainer.create(model, data, options);
  const evalEvery = options.evalEvery ?? 10;
  const losses: number[] = [];
  const accuracies: number[] = [];
  const perEpoch = trainer.trainer.stepsPerEpoch;
  const epochs = Math.ceil(trainer.steps / perEpoch);
  let epochLoss = 0, epochCorrect = 0, epochSeen = 0;
  const lossName = trainer.trainer.loss;
  try {
    while (trainer.stepCount < trainer.steps) {
      const loss = await trainer.step();
      losses.push(loss);
      accuracies.push(trainer.lastAccuracy);
      const step = trainer.stepCount;
      const epoch = Math.ceil(step / perEpoch);
      epochLoss += loss;
      epochCorrect += trainer.lastAccuracy * trainer.lastBatchSize;
      epochSeen += trainer.lastBatchSize;
      if (options.onStep !== undefined) {
        const info: StepInfo = {
          step,
          steps: trainer.steps,
          loss,
          accuracy: trainer.lastAccuracy,
          lr: trainer.trainer.optimizer.lr,
          seconds: (performance.now() - started) / 1000,
          epoch,
        };
        if (
          options.val && (step % evalEvery === 0 || step === trainer.steps)
        ) {
          info.valAccuracy = evaluate(model, options.val, lossName);
        }
        if (options.onStep(info) === false) break;
      }
      const endOfEpoch = step % perEpoch === 0 || step === trainer.steps;
      if (options.onEpoch !== undefined && endOfEpoch) {
        const info: EpochInfo = {
          epoch,
          epochs,
          loss: epochLoss / (step - (epoch - 1) * perEpoch),
          accuracy: epochCorrect / epochSeen,
          step,
          seconds: (performance.now() - started) / 1000,
        };
        if (options.val) {
          info.valAccuracy = evaluate(model, options.val, lossName);
        }
        if (options.onEpoch(info) === false) break;
      }
      if (endOfEpoch) epochLoss = epochCorrect = epochSeen = 0;
    }
  } finally {
    trainer.close();
  }
  return {
    losses,
    accuracies,
    loss: losses[losses.length - 1],
    accuracy: evaluate(model, data, lossName),
    valAccuracy: options.val
      ? evaluate(model, options.val, lossName)
      : undefined,
    steps: losses.length,
    seconds: (performance.now() - started) / 1000,
    mode: "compiled",
    workers: trainer.workers,
  };
}
