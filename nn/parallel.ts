/**
 * Data-parallel training on several threads, the calling one and Web
 * Workers: each step's batch is cut into fixed chunks, the threads take the
 * chunks as they go, run the compiled per-sample step on them into
 * `SharedArrayBuffer`s and sum the chunks' gradients over a fixed tree; the
 * calling thread updates the parameters. The chunks do not depend on the number of threads, so the
 * results are bit-identical for any number of them. Each step costs no
 * message: the threads meet through `Atomics`.
 *
 * @module
 */

import type { Tape } from "../engine/mod.ts";
import type { Dataset } from "./data.ts";
import { wasmSimdAvailable } from "../engine/mod.ts";
import {
  fit,
  type FitOptions,
  type FitResult,
  Trainer,
  TrainingError,
  WASM_AUTO_MACS,
} from "./fit.ts";
import type { MLP } from "./mlp.ts";
import { expandFeatures } from "./features.ts";
import { normalize } from "./normalization.ts";
import {
  arrive,
  ChunkRunner,
  closeStep,
  Control,
  controlSize,
  type InitMessage,
  joined,
  openStep,
  raise,
  spinWhile,
  type WorkerReply,
} from "./_parallel_step.ts";
import { Rng } from "./rng.ts";
import { FitLog } from "./_fit_log.ts";

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
   * Number of threads each step runs on: this one and `workers - 1` Web
   * Workers (default {@linkcode defaultWorkers}: every core when the batch
   * is big enough to gain, else 1; where that default is 1,
   * {@linkcode fitParallel} trains on this thread with {@linkcode fit}).
   */
  workers?: number;
  /**
   * Chunks each batch is cut into (default 16, at most the batch size): the
   * unit of work, and of the fixed reduction order.
   */
  chunks?: number;
  /**
   * Starts one worker running `nn/parallel_worker.ts` (default: a module
   * Web Worker; in Node, where there is none, a `worker_threads` Worker).
   */
  createWorker?: (url: URL) => WorkerLike;
  /** The worker script (default: `parallel_worker.ts` beside this file). */
  workerUrl?: URL;
}

/**
 * The number of threads worth running a step over `batch` samples of a
 * model with `parameters` parameters on (the `workers` option: this thread
 * and `workers - 1` Web Workers): every core (`navigator.
 * hardwareConcurrency`, at most 16) when a step does enough work to pay for
 * waking the workers and adding up their gradients, else 1. Workers run
 * compiled JavaScript; where one thread would run WebAssembly SIMD instead
 * (`oneThread: "wasm"`, as {@linkcode Trainer}'s `"auto"` does for a step
 * with enough work), about 2 to 3 times faster per sample on the models
 * measured, workers pay only from 6 cores. Also 1 where
 * `SharedArrayBuffer` is unavailable, as on a page that is not cross-origin
 * isolated.
 *
 * @param batch Samples per step.
 * @param parameters The model's parameter count.
 * @param oneThread What one thread would run: `"compiled"` (default) or
 * `"wasm"`.
 * @returns How many threads to use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultWorkers } from "@tapegrad/tapegrad";
 * assert.equal(defaultWorkers(100, 337), 1); // micrograd's demo: too small
 * assert.ok(defaultWorkers(100, 66_561) >= 1);
 * assert.ok(defaultWorkers(100, 66_561, "wasm") <= defaultWorkers(100, 66_561));
 * ```
 */
export function defaultWorkers(
  batch: number,
  parameters: number,
  oneThread: "compiled" | "wasm" = "compiled",
): number {
  if (!sharedMemoryAvailable()) return 1;
  const cores = hardwareConcurrency();
  // About 6 flops per parameter per sample; below ~0.3 ms of work a step's
  // wake-ups and reduction cost more than the second core gains.
  if (batch * parameters < 200_000) return 1;
  if (oneThread === "wasm" && cores < 6) return 1;
  return Math.max(1, Math.min(cores, 16));
}

/** What one thread's `Trainer` in `"auto"` mode runs for this model and batch. */
function oneThreadBackend(model: MLP, batch: number): "compiled" | "wasm" {
  // As fit.ts's wasmPays: wide enough samples, and enough work per step.
  if (batch < 2 || !wasmSimdAvailable()) return "compiled";
  let macs = 0, nin = model.nin;
  for (const nout of model.nouts) {
    macs += nin * nout;
    nin = nout;
  }
  return macs * 64 >= WASM_AUTO_MACS && macs * batch >= WASM_AUTO_MACS
    ? "wasm"
    : "compiled";
}

/**
 * Memory the workers share: a `SharedArrayBuffer`, or (for one thread,
 * where there is none) an `ArrayBuffer`.
 */
function sharedBuffer(bytes: number): SharedArrayBuffer {
  return typeof SharedArrayBuffer === "undefined"
    ? new ArrayBuffer(bytes) as unknown as SharedArrayBuffer
    : new SharedArrayBuffer(bytes);
}

/** `navigator.hardwareConcurrency`, or 1 where it is missing. */
function hardwareConcurrency(): number {
  return (globalThis.navigator as { hardwareConcurrency?: number })
    ?.hardwareConcurrency ?? 1;
}

function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean })
    .crossOriginIsolated;
  return isolated !== false;
}

/** The part of Node's `worker_threads` Worker the adapter uses. */
interface NodeWorker {
  postMessage(message: unknown): void;
  terminate(): Promise<number>;
  on(event: "message", listener: (data: unknown) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  on(event: "exit", listener: (code: number) => void): void;
}

/** How workers start here: Web Workers, or Node's `worker_threads`. */
function defaultCreateWorker(): (url: URL) => WorkerLike {
  if (typeof Worker !== "undefined") {
    return (url) =>
      new Worker(url, { type: "module" }) as unknown as WorkerLike;
  }
  // Node (20.16 and later) hands out its built-in modules synchronously.
  const process = (globalThis as {
    process?: { getBuiltinModule?: (name: string) => unknown };
  }).process;
  const threads = process?.getBuiltinModule?.("node:worker_threads") as
    | { Worker: new (url: URL) => NodeWorker }
    | undefined;
  if (threads === undefined) {
    throw new Error(
      "Web Workers are not available here (nor Node's worker_threads, from Node 20.16); pass options.createWorker",
    );
  }
  return (url) => {
    const worker = new threads.Worker(url);
    let ended = false;
    const like: WorkerLike = {
      onmessage: null,
      onerror: null,
      postMessage: (message) => worker.postMessage(message),
      terminate: () => {
        ended = true;
        void worker.terminate();
      },
    };
    worker.on("message", (data) => like.onmessage?.({ data }));
    worker.on("error", (error) => like.onerror?.({ message: error.message }));
    worker.on("exit", (code) => {
      if (!ended) like.onerror?.({ message: `exited with code ${code}` });
    });
    return like;
  };
}

/**
 * A {@linkcode Trainer} whose steps run on workers: `await step()`. Start it
 * with {@linkcode ParallelTrainer.create} (the workers are started once and
 * reused), and {@linkcode ParallelTrainer.close} it to end them. If a worker
 * fails, `step()` rejects with its error, the parameters stay as they were
 * before the step, and the trainer closes.
 *
 * A step runs on `workers` threads: this one and `workers - 1` Web Workers
 * (none for `workers: 1`). Each thread compiles the model's per-sample step
 * once and runs it on chunks of the batch: the threads go in pairs, which
 * take a pair's chunks one at a time from both ends, so that a thread
 * slowed down (by another process on its core, or woken late) runs fewer.
 * The chunks' gradients are summed over a fixed binary tree, so the sums
 * depend neither on the number of threads nor on which ran which chunk.
 * This thread wakes the workers through `Atomics` on shared memory (a step
 * sends no message), runs chunks, then waits for theirs: spinning briefly
 * where every thread has a core of its own, so that a step does not wait
 * for the operating system to wake a thread. A step no worker has begun
 * by the time this thread has run its pair's chunks, it runs alone (at most
 * 8 in a row). `step()` therefore holds this thread for its share of the
 * work; in a browser, train in a worker to keep the page responsive. Steps
 * run in float64 on compiled code.
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
  /** Number of threads each step runs on: this one and `workers - 1` workers. */
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
  /** This thread's share of each step. */
  private readonly runner: ChunkRunner;
  /** Whether this thread spins while it waits for the workers. */
  private readonly spin: boolean;
  private readonly batchSize: number;
  private readonly rng: Rng;
  private readonly tape: Tape;
  private readonly control: Int32Array;
  private readonly params: Float64Array;
  private readonly grad: Float64Array;
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
  private running = false;
  /** Steps in a row this thread has run alone (see {@linkcode closeStep}). */
  private alone = 0;

  private constructor(
    model: MLP,
    data: Dataset,
    options: ParallelOptions,
    trainer: Trainer,
    workers: number,
    create: (url: URL) => WorkerLike,
  ) {
    this.model = model;
    this.data = data;
    this.trainer = trainer;
    this.workers = workers;
    this.tape = model.parameters()[0].tape;
    const n = data.x.length, nin = model.nin;
    this.batchSize = Math.min(options.batchSize ?? n, n);
    this.chunks = Math.min(options.chunks ?? 16, this.batchSize);
    this.rng = new Rng(options.seed ?? 0);
    const count = model.parameterCount;
    const f64 = (length: number) => new Float64Array(sharedBuffer(8 * length));
    const x = f64(n * nin);
    // A model with stored features or normalisation takes raw data, as
    // Trainer does.
    const norm = model.normalization, features = model.features;
    for (let i = 0; i < n; i++) {
      const row = features === undefined
        ? data.x[i]
        : expandFeatures(data.x[i], features);
      x.set(norm === undefined ? row : normalize(row, norm), i * nin);
    }
    const y = new Int32Array(sharedBuffer(4 * n));
    y.set(data.y);
    this.control = new Int32Array(sharedBuffer(4 * controlSize(workers)));
    this.params = f64(count);
    this.grad = f64(count);
    this.stats = f64(2 * this.chunks);
    this.indices = new Int32Array(sharedBuffer(4 * this.batchSize));
    if (this.batchSize >= n) {
      for (let i = 0; i < n; i++) this.indices[i] = i;
    }
    const url = options.workerUrl ?? PARALLEL_WORKER_URL;
    // Spinning pays where every thread has a core of its own.
    this.spin = workers <= hardwareConcurrency();
    const shared = {
      type: "init" as const,
      model: model.toJSON(),
      loss: trainer.loss,
      classes: data.classes,
      alpha: trainer.alpha,
      workers,
      chunkCapacity: Math.ceil(this.batchSize / this.chunks),
      spin: this.spin,
      postWake: !waitAsyncAvailable(),
      control: this.control.buffer as SharedArrayBuffer,
      x: x.buffer as SharedArrayBuffer,
      y: y.buffer as SharedArrayBuffer,
      params: this.params.buffer as SharedArrayBuffer,
      partials: sharedBuffer(8 * this.chunks * count),
      grad: this.grad.buffer as SharedArrayBuffer,
      stats: this.stats.buffer as SharedArrayBuffer,
      indices: this.indices.buffer as SharedArrayBuffer,
    };
    // This thread's share, compiled first: a failure shows before any
    // worker starts.
    this.runner = new ChunkRunner({ ...shared, index: 0 });
    this.pool = [];
    for (let w = 1; w < workers; w++) {
      const worker = create(url);
      worker.onmessage = (event) => this.reply(event.data as WorkerReply);
      worker.onerror = (event) => {
        event.preventDefault?.();
        this.fail(
          new Error(
            `Worker ${w} of ${workers - 1} crashed: ${
              event.message ?? "unknown error"
            }`,
          ),
        );
      };
      this.pool.push(worker);
      const init: InitMessage = { ...shared, index: w };
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
   * @throws {RangeError} On options that do not fit the model or the data,
   * or a precision or mode the workers do not run.
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
    checkBackend(options);
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
    if (workers > 1 && !sharedMemoryAvailable()) {
      trainer.close();
      throw new Error(
        "SharedArrayBuffer is not available (a page must be cross-origin isolated); use Trainer or workers: 1 with fit()",
      );
    }
    let parallel: ParallelTrainer;
    try {
      const create = options.createWorker ??
        (workers > 1 ? defaultCreateWorker() : () => {
          throw new Error("No worker is needed for workers: 1");
        });
      parallel = new ParallelTrainer(
        model,
        data,
        options,
        trainer,
        workers,
        create,
      );
    } catch (error) {
      trainer.close();
      throw error;
    }
    try {
      await parallel.wait(workers - 1);
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
   * Runs one step on this thread and the workers: forward, loss, backward
   * per chunk; the chunk gradients added up over a fixed tree; then the
   * optimizer updates the parameters. This thread runs its share of the
   * chunks itself, so the step holds it for about the step's time divided
   * by {@linkcode ParallelTrainer.workers}; the promise settles after that.
   *
   * @returns The loss of this step's forward pass (before the update).
   * @throws {TrainingError} When the loss is NaN or ±Infinity.
   * @throws {Error} When a worker fails (the parameters are left unchanged).
   */
  async step(): Promise<number> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error("Trainer is closed; create a new one");
    if (this.running) {
      throw new Error("A step is running; await it before the next");
    }
    const step = this.stepCount + 1;
    const n = this.data.x.length;
    if (this.batchSize < n && this.queue.length === 0) {
      // Shuffled each epoch, as Trainer's batches are.
      const order = Int32Array.from(this.rng.permutation(n));
      for (let s = 0; s < n; s += this.batchSize) {
        this.queue.push(order.subarray(s, s + this.batchSize));
      }
    }
    // A full batch keeps the data's order (set once, in the constructor).
    const full = this.batchSize >= n;
    const batch = full ? this.indices : this.queue[0];
    const b = batch.length, chunks = Math.min(this.chunks, b);
    if (!full) this.indices.set(batch);
    const model = this.model, count = model.parameterCount;
    const start = model.parameterStart;
    const data = this.tape.data, grad = this.tape.grad;
    this.params.set(data.subarray(start, start + count));
    const control = this.control, threads = this.workers;
    control[Control.Batch] = b;
    control[Control.Chunks] = chunks;
    // The L2 term's sum of squares: summed while this thread waits for the
    // workers (or after, when it has not waited).
    let squares = -1;
    this.running = true;
    try {
      openStep(control, step);
      try {
        this.runner.runChunks();
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }
      if (
        threads > 1 && this.alone < MAX_ALONE && closeStep(control, step)
      ) {
        // No worker has begun the step (each is asleep, or waiting for a
        // core), and this thread has run its pair's chunks: it runs the
        // rest too, rather than wait for a worker to wake.
        this.runner.runOthers();
        this.runner.reduce(true);
        raise(control, Control.Done, step);
        this.alone++;
      } else {
        this.alone = 0;
        // Every chunk must be done before any slice is added up.
        const barrier = Atomics.load(control, Control.Barrier);
        if (
          !arrive(
            control,
            Control.Arrived,
            Control.Barrier,
            threads,
            barrier + 1,
          )
        ) {
          squares = this.sumOfSquares();
          if (!this.spun(Control.Barrier, barrier)) {
            await this.until(Control.Barrier, barrier);
          }
        }
        this.runner.reduce();
        if (!arrive(control, Control.Reduced, Control.Done, threads, step)) {
          if (squares < 0) squares = this.sumOfSquares();
          if (!this.spun(Control.Done, step - 1)) {
            await this.until(Control.Done, step - 1);
          }
        }
      }
    } finally {
      this.running = false;
    }
    if (squares < 0) squares = this.sumOfSquares();
    if (!full) this.queue.shift();
    // Fixed order: chunk 0, 1, …, then L2 (as the recorded graph's tail).
    let loss = 0, correct = 0;
    for (let c = 0; c < chunks; c++) {
      loss += this.stats[2 * c];
      correct += this.stats[2 * c + 1];
    }
    const alpha = this.trainer.alpha;
    if (alpha > 0) loss += alpha * squares;
    if (!Number.isFinite(loss)) {
      this.close();
      throw new TrainingError(step, loss);
    }
    grad.set(this.grad, start);
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
    // Out of their loops, then ended (terminate also stops a busy one).
    Atomics.store(this.control, Control.Stop, 1);
    Atomics.add(this.control, Control.Step, 1);
    Atomics.notify(this.control, Control.Step);
    for (const worker of this.pool) worker.terminate();
    this.trainer.close();
    this.settle(new Error("Trainer was closed during a step"));
  }

  /** A promise settled when `replies` workers have answered, or one fails. */
  private wait(replies: number): Promise<void> {
    if (replies === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pending = { left: replies, resolve, reject };
    });
  }

  /**
   * The sum of `p * p` over the parameters, in order, as `l2()`'s dot node
   * computes it (0 without L2). A local sum: one in a closure's variable
   * would box every partial sum (75 KB a step on W2). And `p * p`, not
   * `p ** 2`, which V8 runs as a call to `pow`, 2.6x slower.
   */
  private sumOfSquares(): number {
    if (this.trainer.alpha === 0) return 0;
    const data = this.tape.data, model = this.model;
    const start = model.parameterStart, end = start + model.parameterCount;
    let sum = 0;
    for (let j = start; j < end; j++) {
      const p = data[j];
      sum += p * p;
    }
    return sum;
  }

  /**
   * Spins while `control[index]` is `value` (see {@linkcode spinWhile}),
   * where every thread has a core, every worker has begun the step (a
   * worker that has not is waiting for a core, maybe this thread's) and
   * they make progress. Apart from {@linkcode ParallelTrainer.until} so that
   * a wait the spin ends costs no `await`.
   *
   * @returns Whether the value changed.
   */
  private spun(index: number, value: number): boolean {
    const control = this.control;
    return this.spin &&
      joined(control) === this.workers - 1 &&
      spinWhile(control, index, value, this.runner.patience);
  }

  /**
   * Waits until the workers change `control[index]` from `value`, after
   * {@linkcode ParallelTrainer.spun}: asleep, in `Atomics.wait` where this
   * thread may block, for {@linkcode BLOCK_MS} at a time, and in the event
   * loop (through `Atomics.waitAsync`, or the workers' `wake` messages where
   * it is missing), so that a failing worker's message or `close()` can end
   * the step.
   */
  private async until(index: number, value: number): Promise<void> {
    const control = this.control;
    if (blockingAllowed()) {
      // Asleep in Atomics.wait: woken within microseconds of the notify,
      // where waitAsync's promise takes hundreds (a turn of the event
      // loop), long enough for the workers to fall asleep before the next
      // step. A worker's failure or close() shows after BLOCK_MS, below.
      const deadline = performance.now() + BLOCK_MS;
      for (;;) {
        if (Atomics.load(control, index) !== value) return;
        const left = deadline - performance.now();
        if (left <= 0) break;
        Atomics.wait(control, index, value, left);
      }
    }
    while (Atomics.load(control, index) === value) {
      if (this.failure) throw this.failure;
      if (this.closed) throw new Error("Trainer was closed during a step");
      const woken = this.wait(1);
      if (waitAsyncAvailable()) {
        const waiting = (Atomics as unknown as AtomicsWaitAsync).waitAsync(
          control,
          index,
          value,
        );
        if (waiting.async) waiting.value.then(() => this.settle());
        else this.settle();
      }
      await woken;
    }
  }

  /** Settles the pending promise: resolved, or rejected with `error`. */
  private settle(error?: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending === undefined) return;
    if (error === undefined) pending.resolve();
    else pending.reject(error);
    // Wakes a waitAsync still pending on a failed or closed step.
    Atomics.notify(this.control, Control.Barrier);
    Atomics.notify(this.control, Control.Done);
  }

  /** Counts a worker's answer: `ready` at start, `wake` in a step. */
  private reply(reply: WorkerReply): void {
    if (reply.type === "error") {
      this.fail(new Error(reply.message));
      return;
    }
    const pending = this.pending;
    if (pending !== undefined && --pending.left === 0) this.settle();
  }

  /** Records a worker's failure, ends the workers, rejects the pending step. */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.settle(error);
    this.close();
  }
}

/** Throws unless the options ask for what workers run: float64, compiled. */
function checkBackend(options: ParallelOptions): void {
  const precision = options.precision ?? "float64";
  const mode = options.mode ?? "auto";
  if (precision !== "float64" || (mode !== "auto" && mode !== "compiled")) {
    throw new RangeError(
      `Workers run float64 compiled steps: precision "float64" and mode "auto" or "compiled", got precision ${
        JSON.stringify(precision)
      } and mode ${JSON.stringify(mode)}`,
    );
  }
}

/**
 * Most steps in a row the calling thread runs alone, because no worker had
 * begun them: the next one waits for the workers, which lets a worker's
 * error (a message, seen only while this thread waits) come in.
 */
const MAX_ALONE = 8;

/** `Atomics.waitAsync` (ES2024), typed here for older TypeScript libs. */
interface AtomicsWaitAsync {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
  ): { async: false; value: string } | { async: true; value: Promise<string> };
}

/**
 * How long, in ms, the calling thread blocks in `Atomics.wait` for the
 * workers before it goes back to the event loop (where a worker's error
 * message and `close()` come in) to wait there.
 */
const BLOCK_MS = 20;

let blocking: boolean | undefined;

/**
 * Whether this thread may block in `Atomics.wait`: in Deno and Node, and in
 * workers; not on a browser page's main thread.
 */
function blockingAllowed(): boolean {
  if (blocking === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blocking = true;
    } catch {
      blocking = false;
    }
  }
  return blocking;
}

function waitAsyncAvailable(): boolean {
  return typeof (Atomics as { waitAsync?: unknown }).waitAsync === "function";
}

/**
 * {@linkcode fit} on workers: the same options and result, plus `workers`
 * and `chunks` (see {@linkcode ParallelTrainer}). Within 1e-12 of `fit`, and
 * bit-identical for any number of workers. Without `workers`, where
 * {@linkcode defaultWorkers} gives 1 (a step too small to share, one
 * thread's WebAssembly faster than the cores' workers, or no shared
 * memory), and for regression data or an explicit `mode` or `precision`,
 * it trains on this thread with {@linkcode fit} instead (`workers` is then 0
 * in the result).
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
  if (options.workers === undefined && data?.x?.length > 0) {
    const n = data.x.length;
    const batch = Math.min(options.batchSize ?? n, n);
    const precision = options.precision ?? "float64";
    const mode = options.mode ?? "auto";
    const backend = mode === "auto" && precision === "float64"
      ? oneThreadBackend(model, batch)
      : "explicit";
    if (
      backend === "explicit" || data.classes === 0 ||
      defaultWorkers(batch, model.parameterCount, backend) === 1
    ) {
      return { ...fit(model, data, options), workers: 0 };
    }
  }
  const trainer = await ParallelTrainer.create(model, data, options);
  const log = new FitLog(
    model,
    options,
    trainer.trainer.loss,
    trainer.steps,
    trainer.trainer.stepsPerEpoch,
    started,
  );
  try {
    while (trainer.stepCount < trainer.steps) {
      const loss = await trainer.step();
      const more = log.record(
        trainer.stepCount,
        loss,
        trainer.lastAccuracy,
        trainer.lastBatchSize,
        trainer.trainer.optimizer.lr,
      );
      if (!more) break;
    }
  } finally {
    trainer.close();
  }
  return { ...log.result(data, "compiled"), workers: trainer.workers };
}
