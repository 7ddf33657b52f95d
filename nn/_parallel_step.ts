// The part of a data-parallel step every thread runs, the calling thread and the Web Workers alike: its block of each step's chunks on compiled code, then its slice of the parameters' gradients added up over every chunk, in a fixed order, in shared memory. Internal: nn/parallel.ts and nn/parallel_worker.ts share it.

import { Tape } from "../engine/mod.ts";
import { lossKind } from "./_loss_kind.ts";
import type { LossName } from "./loss.ts";
import { MiniBatchStep } from "./minibatch.ts";
import { MLP } from "./mlp.ts";
import type { ModelJSON } from "./model_file.ts";

/**
 * Slots of the control array (an `Int32Array` over the init message's
 * `control`), through which the threads meet each step with `Atomics`
 * instead of messages.
 */
export const Control = {
  /** The step to run: the calling thread raises it and notifies the workers. */
  Step: 0,
  /** Set to 1 (then `Step` raised) to end the workers' loops. */
  Stop: 1,
  /** Samples in this step's batch. */
  Batch: 2,
  /** Chunks this step's batch is cut into. */
  Chunks: 3,
  /** Threads done with their chunks this step (the barrier's count). */
  Arrived: 4,
  /** Raised when every thread has done its chunks. */
  Barrier: 5,
  /** Threads done with their slice of the reduction this step. */
  Reduced: 6,
  /** Set to the step when every thread is done with it. */
  Done: 7,
  /** Workers that have begun this step's chunks. */
  Started: 8,
  /**
   * Raised by every thread after each chunk and each block of its
   * reduction: a waiting thread spins only while it moves (see
   * {@linkcode spinWhile}).
   */
  Progress: 9,
  /** Number of slots. */
  Size: 10,
} as const;

/** What every thread is given: the model, the loss and the shared buffers. */
export interface InitMessage {
  type: "init";
  model: ModelJSON;
  loss: LossName;
  classes: number;
  /** L2 strength: the reduction starts each gradient from its L2 term. */
  alpha: number;
  /** This thread's number, from 0 (the calling thread). */
  index: number;
  /** Number of threads: the calling one and the workers. */
  workers: number;
  /** Most samples in one chunk. */
  chunkCapacity: number;
  /**
   * Whether threads waiting for each other spin for a while before they
   * sleep (when there is a core for every thread).
   */
  spin: boolean;
  /** Post a `wake` message when the calling thread may go on (where `Atomics.waitAsync` is missing). */
  postWake: boolean;
  /** The {@linkcode Control} slots (Int32). */
  control: SharedArrayBuffer;
  /** Features, `samples × nin`, row-major. */
  x: SharedArrayBuffer;
  /** Labels, one Int32 per sample. */
  y: SharedArrayBuffer;
  /** The model's parameters, written by the calling thread before each step. */
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
  | { type: "wake"; step: number }
  | { type: "error"; step: number; message: string };

/** Where chunk `c` of `chunks` starts in a batch of `batch` samples. */
export function chunkStart(c: number, chunks: number, batch: number): number {
  return Math.floor((c * batch) / chunks);
}

/**
 * How long a thread waiting for the others spins at most before it sleeps,
 * in ms. Waking a sleeping thread costs tens of microseconds, and on a
 * machine with as many threads as cores the scheduler may wake two on one
 * core; spinning through the short waits of a training loop avoids both (as
 * OpenMP runtimes do before they block).
 */
export const SPIN_MS = 1;

/**
 * Spins while `control[index]` is `value`: for at most {@linkcode SPIN_MS},
 * and only while the other threads make progress (`control[Progress]`
 * moves at least every `patience` ms). A thread that stops making progress
 * is most likely waiting for a core, perhaps the one this thread spins on:
 * the spinner then gives its core up, where spinning on would stall the
 * step for the whole spin (as it did by about 2 ms a step on 2 cores with
 * a third busy process).
 *
 * @returns Whether the value changed.
 */
export function spinWhile(
  control: Int32Array,
  index: number,
  value: number,
  patience: number,
): boolean {
  let now = performance.now();
  const until = now + SPIN_MS;
  let progress = Atomics.load(control, Control.Progress), moved = now;
  while (Atomics.load(control, index) === value) {
    for (let k = 0; k < 256; k++) {
      if (Atomics.load(control, index) !== value) return true;
    }
    now = performance.now();
    const seen = Atomics.load(control, Control.Progress);
    if (seen !== progress) {
      progress = seen;
      moved = now;
    } else if (now - moved > patience) return false;
    if (now > until) return false;
  }
  return true;
}

/**
 * Counts this thread in at a barrier slot (`count`) and, when it is the
 * last of `threads`, resets the count and raises `gate`.
 *
 * @returns Whether this thread was the last.
 */
export function arrive(
  control: Int32Array,
  count: number,
  gate: number,
  threads: number,
  value: number,
): boolean {
  if (Atomics.add(control, count, 1) !== threads - 1) return false;
  Atomics.store(control, count, 0);
  Atomics.store(control, gate, value);
  Atomics.notify(control, gate);
  return true;
}

/**
 * One thread's share of the steps: the model's compiled step, on a tape of
 * its own (a copy of the model), and views of the shared buffers.
 */
export class ChunkRunner {
  readonly control: Int32Array;
  /** This thread's number. */
  readonly index: number;
  /** Number of threads. */
  readonly workers: number;
  private readonly classify: (x: ArrayLike<number>, o: number) => number;
  private readonly tape: Tape;
  /**
   * The largest chunk's step. It keeps a compiled loss per chunk size, so
   * the smaller chunks run on it too.
   */
  private readonly step: MiniBatchStep;
  /** The model's first parameter on `tape`. */
  private readonly start: number;
  private readonly count: number;
  private readonly rows: Float64Array[];
  private readonly y: Int32Array;
  private readonly params: Float64Array;
  private readonly partials: Float64Array;
  private readonly grad: Float64Array;
  private readonly stats: Float64Array;
  private readonly indices: Int32Array;
  private readonly alpha: number;
  /** Per depth of the tree, a sum being built (this thread's memory). */
  private readonly buffers: Float64Array[] = [];
  private batch = 0;
  private chunks = 0;
  /**
   * How long, in ms, another thread may go without progress while this one
   * spins for it: a few of this thread's last chunk times, for the threads
   * run the same chunks.
   */
  patience = SPIN_MS;

  /**
   * Compiles the model's step for the largest chunk (a failure shows at
   * start).
   */
  constructor(message: InitMessage) {
    const kind = lossKind(message.loss, message.classes);
    this.classify = kind.classify;
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
    this.tape = new Tape();
    const model = MLP.fromJSON(message.model, { tape: this.tape });
    this.start = model.parameterStart;
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
   * Forward and backward of this thread's chunks, a contiguous block: the
   * sums of the tree's nodes that lie inside the block (see
   * {@linkcode ChunkRunner.reduce}) go to the rows of `partials` at their
   * first chunks, the parts of them summed here, in this thread's memory.
   */
  runChunks(): void {
    const control = this.control;
    this.batch = control[Control.Batch];
    this.chunks = control[Control.Chunks];
    this.tape.data.set(this.params, this.start);
    const [lo, hi] = this.block(this.index);
    if (hi <= lo) return;
    const started = performance.now();
    this.cover(0, treeSize(this.chunks), lo, hi);
    const perChunk = (performance.now() - started) / (hi - lo);
    this.patience = Math.min(SPIN_MS, 3 * perChunk + PATIENCE_MS);
  }

  /** Computes the maximal nodes under node `(a, size)` inside `[lo, hi)`. */
  private cover(a: number, size: number, lo: number, hi: number): void {
    const end = Math.min(a + size, this.chunks);
    if (end <= lo || a >= hi) return;
    if (lo <= a && end <= hi) {
      this.sum(a, size, this.row(a), 0, false);
      return;
    }
    const half = size / 2;
    this.cover(a, half, lo, hi);
    this.cover(a + half, half, lo, hi);
  }

  /**
   * Sets `target` to node `(a, size)`'s sum (its left child's, plus its
   * right's), or with `add`, adds that sum to `target` (built first in this
   * thread's buffer for `depth`).
   */
  private sum(
    a: number,
    size: number,
    target: Float64Array,
    depth: number,
    add: boolean,
  ): void {
    if (size === 1) {
      this.runChunk(a, target, add);
      return;
    }
    if (add) {
      const buffer = this.buffers[depth] ??= new Float64Array(this.count);
      this.sum(a, size, buffer, depth + 1, false);
      for (let j = 0; j < this.count; j++) target[j] += buffer[j];
      return;
    }
    const half = size / 2;
    this.sum(a, half, target, depth, false);
    if (a + half < this.chunks) this.sum(a + half, half, target, depth, true);
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
    const graph = this.step.forward(
      this.rows,
      this.y,
      this.indices.subarray(from, to),
    );
    this.step.backward();
    const data = this.tape.data, grad = this.tape.grad;
    const start = this.start, count = this.count, scale = (to - from) / batch;
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
    Atomics.add(this.control, Control.Progress, 1);
  }

  /**
   * Adds up this thread's slice of the parameters' gradients. The chunks'
   * gradients are summed over a fixed binary tree (node `(a, size)` covers
   * chunks `[a, a + size)`, `size` a power of 2; a node's sum is its left
   * child's plus its right's), the L2 term added last: the same sums in the
   * same order whatever the number of threads. The nodes inside one
   * thread's block were summed by that thread; the nodes above them are
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
      Atomics.add(this.control, Control.Progress, 1);
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
    if (end <= blockEnd) return a; // Summed by the thread owning the block.
    const half = size / 2;
    const left = this.sumNode(a, half, first, last);
    if (a + half >= this.chunks) return left;
    const right = this.sumNode(a + half, half, first, last);
    const partials = this.partials, count = this.count;
    const l = left * count, r = right * count;
    for (let j = first; j < last; j++) partials[l + j] += partials[r + j];
    return left;
  }

  /** Thread `w`'s chunks, `[lo, hi)`: contiguous, about as many for each. */
  private block(w: number): [number, number] {
    const chunks = this.chunks, workers = this.workers;
    return [
      Math.floor((w * chunks) / workers),
      Math.floor(((w + 1) * chunks) / workers),
    ];
  }

  /** The thread whose block holds chunk `c`. */
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

/**
 * Added to a thread's patience (ms): the time the scheduler may take to
 * wake a thread, and the serial work between steps.
 */
const PATIENCE_MS = 0.02;

/** Parameters per block of the reduction (16 KiB of float64). */
const REDUCE_BLOCK = 2048;
