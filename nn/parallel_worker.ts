// A data-parallel training worker: computes the gradient of its chunks of each step's batch on compiled code, then adds its slice of the parameters' gradients over every chunk, in chunk order, in shared memory.

import { Tape } from "../engine/mod.ts";
import { lossKind } from "./_loss_kind.ts";
import type { LossName } from "./loss.ts";
import { MiniBatchStep } from "./minibatch.ts";
import { MLP } from "./mlp.ts";
import type { ModelJSON } from "./model_file.ts";

/**
 * Slots of the control array (`Int32Array` over {@linkcode InitMessage}'s
 * `control`), through which the main thread and the workers meet each step
 * with `Atomics` instead of messages.
 */
export const Control = {
  /** The step to run: the main thread raises it and notifies the workers. */
  Step: 0,
  /** Set to 1 (then `Step` raised) to end the workers' loops. */
  Stop: 1,
  /** Samples in this step's batch. */
  Batch: 2,
  /** Chunks this step's batch is cut into. */
  Chunks: 3,
  /** Workers done with their chunks this step (the barrier's count). */
  Arrived: 4,
  /** Raised when every worker has done its chunks. */
  Barrier: 5,
  /** Workers done with their slice of the reduction this step. */
  Reduced: 6,
  /** Set to the step when every worker is done: the main thread waits on it. */
  Done: 7,
  /** Number of slots. */
  Size: 8,
} as const;

/** The first message: the model, the loss and the shared buffers. */
export interface InitMessage {
  type: "init";
  model: ModelJSON;
  loss: LossName;
  classes: number;
  /** L2 strength: the reduction starts each gradient from its L2 term. */
  alpha: number;
  /** This worker's number, from 0. */
  index: number;
  /** Number of workers. */
  workers: number;
  /** Most samples in one chunk. */
  chunkCapacity: number;
  /** Post a `done` message after each step (where `Atomics.waitAsync` is missing). */
  postDone: boolean;
  /** The {@linkcode Control} slots (Int32). */
  control: SharedArrayBuffer;
  /** Features, `samples × nin`, row-major. */
  x: SharedArrayBuffer;
  /** Labels, one Int32 per sample. */
  y: SharedArrayBuffer;
  /** The model's parameters, written by the main thread before each step. */
  params: SharedArrayBuffer;
  /** Per chunk, its gradient (`chunks × parameters`). */
  partials: SharedArrayBuffer;
  /** The step's gradient: L2 term, then every chunk's, in chunk order. */
  grad: SharedArrayBuffer;
  /** Per chunk, its loss share and its count of correct predictions. */
  stats: SharedArrayBuffer;
  /** The step's sample indices, in batch order. */
  indices: SharedArrayBuffer;
}

/** What a worker posts back. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "done"; step: number }
  | { type: "error"; step: number; message: string };

/** Where chunk `c` of `chunks` starts in a batch of `batch` samples. */
export function chunkStart(c: number, chunks: number, batch: number): number {
  return Math.floor((c * batch) / chunks);
}

/** Hooks for tests: a faulty worker built on the real one. */
export interface WorkerHooks {
  /**
   * Called before each step; `false` skips it (the hook has reported an
   * error), and a throw escapes the worker as an uncaught error.
   */
  beforeStep?(step: number): boolean;
}

/** A worker's state after `init`: its model, compiled step and shared views. */
class ChunkRunner {
  readonly control: Int32Array;
  private readonly step: MiniBatchStep;
  private readonly tape: Tape;
  private readonly start: number;
  private readonly count: number;
  private readonly classify: (x: ArrayLike<number>, o: number) => number;
  private readonly rows: Float64Array[];
  private readonly y: Int32Array;
  private readonly params: Float64Array;
  private readonly partials: Float64Array;
  private readonly grad: Float64Array;
  private readonly stats: Float64Array;
  private readonly indices: Int32Array;
  private readonly alpha: number;
  private readonly index: number;
  private readonly workers: number;

  constructor(message: InitMessage) {
    const tape = new Tape();
    const model = MLP.fromJSON(message.model, { tape });
    const kind = lossKind(message.loss, message.classes);
    const x = new Float64Array(message.x);
    const nin = model.nin;
    this.rows = [];
    for (let i = 0; i < x.length / nin; i++) {
      this.rows.push(x.subarray(i * nin, (i + 1) * nin));
    }
    this.tape = tape;
    this.start = model.parameterStart;
    this.count = model.parameterCount;
    this.classify = kind.classify;
    this.control = new Int32Array(message.control);
    this.y = new Int32Array(message.y);
    this.params = new Float64Array(message.params);
    this.partials = new Float64Array(message.partials);
    this.grad = new Float64Array(message.grad);
    this.stats = new Float64Array(message.stats);
    this.indices = new Int32Array(message.indices);
    this.alpha = message.alpha;
    this.index = message.index;
    this.workers = message.workers;
    // The per-sample program compiled once; only the loss is per batch.
    this.step = new MiniBatchStep(
      model,
      message.chunkCapacity,
      kind.outputs,
      (out, labels) => kind.loss(out, labels),
      undefined,
      message.classes,
    );
  }

  /**
   * Forward and backward of chunks `index, index + workers, …`: each chunk's
   * gradient is moved to its row of `partials` (the parameters' gradients
   * on the tape left at 0 for the next chunk).
   */
  runChunks(): void {
    const control = this.control, tape = this.tape;
    const batch = control[Control.Batch], chunks = control[Control.Chunks];
    const start = this.start, count = this.count;
    const data = tape.data, grad = tape.grad, partials = this.partials;
    data.set(this.params, start);
    for (let c = this.index; c < chunks; c += this.workers) {
      const from = chunkStart(c, chunks, batch);
      const to = chunkStart(c + 1, chunks, batch);
      const graph = this.step.forward(
        this.rows,
        this.y,
        this.indices.subarray(from, to),
      );
      this.step.backward();
      const partial = c * count;
      for (let j = 0; j < count; j++) {
        partials[partial + j] = grad[start + j];
        grad[start + j] = 0;
      }
      let correct = 0;
      const outputs = graph.outputs, labels = graph.labels;
      for (let k = 0; k < outputs.length; k++) {
        if (this.classify(data, outputs[k]) === labels[k]) correct++;
      }
      // The chunk's share of the batch mean: its mean loss (and, in reduce,
      // its gradient) times its fraction of the batch.
      this.stats[2 * c] = data[graph.root] * ((to - from) / batch);
      this.stats[2 * c + 1] = correct;
    }
  }

  /**
   * Adds this worker's slice of the parameters' gradients: the L2 term
   * first (as the recorded graph's tail), then chunk 0, 1, … each times its
   * fraction of the batch: the same order whatever the number of workers.
   * In blocks, so a block of the sum stays in cache across the chunks.
   */
  reduce(): void {
    const count = this.count, control = this.control;
    const batch = control[Control.Batch], chunks = control[Control.Chunks];
    const lo = Math.floor((this.index * count) / this.workers);
    const hi = Math.floor(((this.index + 1) * count) / this.workers);
    const grad = this.grad, params = this.params, partials = this.partials;
    const alpha = this.alpha;
    for (let first = lo; first < hi; first += REDUCE_BLOCK) {
      const last = Math.min(first + REDUCE_BLOCK, hi);
      for (let j = first; j < last; j++) {
        const p = params[j];
        grad[j] = alpha > 0 ? alpha * p + alpha * p : 0;
      }
      for (let c = 0; c < chunks; c++) {
        const scale = (chunkStart(c + 1, chunks, batch) -
          chunkStart(c, chunks, batch)) / batch;
        const offset = c * count;
        for (let j = first; j < last; j++) {
          grad[j] += partials[offset + j] * scale;
        }
      }
    }
  }
}

/** Parameters per block of the reduction (16 KiB of float64). */
const REDUCE_BLOCK = 2048;

/**
 * The worker's message handler, apart from the transport so Deno, browsers
 * and Node's worker_threads (and tests) can wire it up. After `init` it
 * replies `ready` and then stays in a loop, woken by `Atomics` for each
 * step, until the main thread stops or terminates it.
 *
 * @param post Sends a reply to the main thread.
 * @param hooks For tests: see {@linkcode WorkerHooks}.
 * @returns The handler for the `init` message.
 */
export function createWorkerHandler(
  post: (reply: WorkerReply) => void,
  hooks: WorkerHooks = {},
): (message: InitMessage) => void {
  return (message) => {
    let runner: ChunkRunner;
    try {
      runner = new ChunkRunner(message);
    } catch (error) {
      post({ type: "error", step: 0, message: errorText(error) });
      return;
    }
    post({ type: "ready" });
    const control = runner.control, workers = message.workers;
    let step = 0;
    for (;;) {
      Atomics.wait(control, Control.Step, step);
      step = Atomics.load(control, Control.Step);
      if (Atomics.load(control, Control.Stop) !== 0) return;
      if (hooks.beforeStep?.(step) === false) return;
      try {
        runner.runChunks();
      } catch (error) {
        // The main thread ends every worker, the others waiting below too.
        post({ type: "error", step, message: errorText(error) });
        return;
      }
      // Every chunk must be done before any slice is added up.
      const barrier = Atomics.load(control, Control.Barrier);
      if (Atomics.add(control, Control.Arrived, 1) === workers - 1) {
        Atomics.store(control, Control.Arrived, 0);
        Atomics.add(control, Control.Barrier, 1);
        Atomics.notify(control, Control.Barrier);
      } else {
        Atomics.wait(control, Control.Barrier, barrier);
      }
      runner.reduce();
      if (Atomics.add(control, Control.Reduced, 1) === workers - 1) {
        Atomics.store(control, Control.Reduced, 0);
        Atomics.store(control, Control.Done, step);
        Atomics.notify(control, Control.Done);
        if (message.postDone) post({ type: "done", step });
      }
    }
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The part of Node's `worker_threads` module the entry point uses. */
interface NodeWorkerThreads {
  parentPort: {
    postMessage(message: unknown): void;
    on(event: "message", listener: (message: InitMessage) => void): void;
  } | null;
}

// As a worker's entry point: wire the handler to the worker's messages.
// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (
  typeof scope.WorkerGlobalScope !== "undefined" &&
  scope instanceof scope.WorkerGlobalScope
) {
  const handle = createWorkerHandler((reply) => scope.postMessage(reply));
  scope.onmessage = (event: MessageEvent) => handle(event.data);
} else if (typeof scope.process?.versions?.node === "string") {
  // Node's worker_threads: the same handler on parentPort, when there is one.
  // A computed specifier: browsers and the npm build's type check never see it.
  const nodeModule = "node:worker_threads";
  import(nodeModule).then((mod: NodeWorkerThreads) => {
    const port = mod.parentPort;
    if (port === null) return;
    const handle = createWorkerHandler((reply) => port.postMessage(reply));
    port.on("message", (message) => handle(message));
  });
}
