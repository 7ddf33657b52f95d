// A data-parallel training worker: computes the gradient of its chunks of each step's batch on compiled code, then adds its slice of the parameters' gradients over every chunk, in chunk order, in shared memory.

import { Tape } from "../engine/mod.ts";
import { type LossKind, lossKind } from "./_loss_kind.ts";
import type { LossName } from "./loss.ts";
import { MiniBatchStep } from "./minibatch.ts";
import { MLP } from "./mlp.ts";
import { Control } from "./parallel.ts";
import type { ModelJSON } from "./model_file.ts";

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
  /** Per chunk, a row for a sum of chunk gradients (`chunks × parameters`). */
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

/**
 * One chunk size's compiled step, on a tape of its own (a copy of the
 * model): a step records its loss once per batch size and replays it while
 * the size stays, and the chunks of a batch come in two sizes.
 */
interface Lane {
  tape: Tape;
  step: MiniBatchStep;
  /** The model's first parameter on `tape`. */
  start: number;
  /** The step whose parameters `tape` holds. */
  copied: number;
}

/** A worker's state after `init`: its models, compiled steps and shared views. */
class ChunkRunner {
  readonly control: Int32Array;
  private readonly model: ModelJSON;
  private readonly kind: LossKind;
  private readonly classes: number;
  private readonly lanes = new Map<number, Lane>();
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
  /** Per depth of the tree, a sum being built (this worker's memory). */
  private readonly buffers: Float64Array[] = [];
  private batch = 0;
  private chunks = 0;
  private stepNumber = 0;

  constructor(message: InitMessage) {
    this.model = message.model;
    this.classes = message.classes;
    this.kind = lossKind(message.loss, message.classes);
    this.classify = this.kind.classify;
    const x = new Float64Array(message.x);
    const nin = x.length / (message.y.byteLength / 4);
    this.rows = [];
    for (let i = 0; i < x.length / nin; i++) {
      this.rows.push(x.subarray(i * nin, (i + 1) * nin));
    }
    this.count = message.params.byteLength / 8;
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
    // The largest chunk's step, compiled now: a failure shows at start.
    this.lane(message.chunkCapacity, 0);
  }

  /**
   * The step for chunks of `size` samples, compiled at its first use, with
   * the parameters of step `step`.
   */
  private lane(size: number, step: number): Lane {
    let lane = this.lanes.get(size);
    if (lane === undefined) {
      const tape = new Tape();
      const model = MLP.fromJSON(this.model, { tape });
      const kind = this.kind;
      lane = {
        tape,
        step: new MiniBatchStep(
          model,
          size,
          kind.outputs,
          (out, labels) => kind.loss(out, labels),
          undefined,
          this.classes,
        ),
        start: model.parameterStart,
        copied: -1,
      };
      this.lanes.set(size, lane);
    }
    if (lane.copied !== step) {
      lane.tape.data.set(this.params, lane.start);
      lane.copied = step;
    }
    return lane;
  }

  /**
   * Forward and backward of this worker's chunks, a contiguous block: the
   * sums of the tree's nodes that lie inside the block (see
   * {@linkcode ChunkRunner.reduce}) go to the rows of `partials` at their
   * first chunks, the parts of them summed here, in this worker's memory.
   */
  runChunks(): void {
    const control = this.control;
    this.batch = control[Control.Batch];
    this.chunks = control[Control.Chunks];
    this.stepNumber = control[Control.Step];
    const [lo, hi] = this.block(this.index);
    this.cover(0, treeSize(this.chunks), lo, hi);
  }

  /** Computes the maximal nodes under node `(a, size)` inside `[lo, hi)`. */
  private cover(a: number, size: number, lo: number, hi: number): void {
    const end = Math.min(a + size, this.chunks);
    if (end <= lo || a >= hi) return;
    if (lo <= a && end <= hi) {
      this.compute(a, size, this.row(a), 0);
      return;
    }
    const half = size / 2;
    this.cover(a, half, lo, hi);
    this.cover(a + half, half, lo, hi);
  }

  /** Sets `target` to node `(a, size)`'s sum: its left child's, plus its right's. */
  private compute(
    a: number,
    size: number,
    target: Float64Array,
    depth: number,
  ): void {
    if (size === 1) {
      this.runChunk(a, target, false);
      return;
    }
    const half = size / 2;
    this.compute(a, half, target, depth);
    if (a + half < this.chunks) this.add(a + half, half, target, depth);
  }

  /** Adds node `(a, size)`'s sum to `target`. */
  private add(
    a: number,
    size: number,
    target: Float64Array,
    depth: number,
  ): void {
    if (size === 1) {
      this.runChunk(a, target, true);
      return;
    }
    this.buffers[depth] ??= new Float64Array(this.count);
    const buffer = this.buffers[depth];
    this.compute(a, size, buffer, depth + 1);
    for (let j = 0; j < this.count; j++) target[j] += buffer[j];
  }

  /**
   * Runs chunk `c` and sets (or adds to) `target` its gradient times its
   * fraction of the batch (its share of the batch mean), leaving the
   * parameters' gradients on the tape at 0 for the next chunk.
   */
  private runChunk(c: number, target: Float64Array, add: boolean): void {
    const batch = this.batch, chunks = this.chunks;
    const from = chunkStart(c, chunks, batch);
    const to = chunkStart(c + 1, chunks, batch);
    const lane = this.lane(to - from, this.stepNumber);
    const graph = lane.step.forward(
      this.rows,
      this.y,
      this.indices.subarray(from, to),
    );
    lane.step.backward();
    const data = lane.tape.data, grad = lane.tape.grad;
    const start = lane.start, count = this.count, scale = (to - from) / batch;
    if (add) {
      for (let j = 0; j < count; j++) {
        target[j] += grad[start + j] * scale;
        grad[start + j] = 0;
      }
    } else {
      for (let j = 0; j < count; j++) {
        target[j] = grad[start + j] * scale;
        grad[start + j] = 0;
      }
    }
    let correct = 0;
    const outputs = graph.outputs, labels = graph.labels;
    for (let k = 0; k < outputs.length; k++) {
      if (this.classify(data, outputs[k]) === labels[k]) correct++;
    }
    this.stats[2 * c] = data[graph.root] * scale;
    this.stats[2 * c + 1] = correct;
  }

  /**
   * Adds up this worker's slice of the parameters' gradients. The chunks'
   * gradients are summed over a fixed binary tree (node `(a, size)` covers
   * chunks `[a, a + size)`, `size` a power of 2; a node's sum is its left
   * child's plus its right's), the L2 term added last: the same sums in the
   * same order whatever the number of workers. The nodes inside one
   * worker's block were summed by that worker; the nodes above them are
   * summed here, in place in the row of their first chunk.
   */
  reduce(): void {
    const count = this.count;
    const lo = Math.floor((this.index * count) / this.workers);
    const hi = Math.floor(((this.index + 1) * count) / this.workers);
    const grad = this.grad, params = this.params, partials = this.partials;
    const alpha = this.alpha, size = treeSize(this.chunks);
    for (let first = lo; first < hi; first += REDUCE_BLOCK) {
      const last = Math.min(first + REDUCE_BLOCK, hi);
      const offset = this.sumNode(0, size, first, last) * count;
      for (let j = first; j < last; j++) {
        const p = params[j];
        grad[j] = (alpha > 0 ? alpha * p + alpha * p : 0) +
          partials[offset + j];
      }
    }
  }

  /** Sums node `(a, size)` over parameters `[first, last)`; returns its row. */
  private sumNode(
    a: number,
    size: number,
    first: number,
    last: number,
  ): number {
    const end = Math.min(a + size, this.chunks);
    const [, blockEnd] = this.block(this.owner(a));
    if (end <= blockEnd) return a; // Summed by the worker owning the block.
    const half = size / 2;
    const left = this.sumNode(a, half, first, last);
    if (a + half >= this.chunks) return left;
    const right = this.sumNode(a + half, half, first, last);
    const partials = this.partials, count = this.count;
    const l = left * count, r = right * count;
    for (let j = first; j < last; j++) partials[l + j] += partials[r + j];
    return left;
  }

  /** Worker `w`'s chunks, `[lo, hi)`: contiguous, about as many for each. */
  private block(w: number): [number, number] {
    const chunks = this.chunks, workers = this.workers;
    return [
      Math.floor((w * chunks) / workers),
      Math.floor(((w + 1) * chunks) / workers),
    ];
  }

  /** The worker whose block holds chunk `c`. */
  private owner(c: number): number {
    let w = Math.floor((c * this.workers) / this.chunks);
    while (this.block(w)[1] <= c) w++;
    while (this.block(w)[0] > c) w--;
    return w;
  }

  /** Row `r` of `partials`. */
  private row(r: number): Float64Array {
    return this.partials.subarray(r * this.count, (r + 1) * this.count);
  }
}

/** The tree's root size: the smallest power of 2 >= `chunks`. */
function treeSize(chunks: number): number {
  let size = 1;
  while (size < chunks) size *= 2;
  return size;
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
