// The part of a data-parallel step every thread runs, the calling thread and the Web Workers alike: chunks of the step's batch on compiled code, taken from its pair's end as it goes, then its slice of the parameters' gradients added up over every chunk, in a fixed order, in shared memory. Internal: nn/parallel.ts and nn/parallel_worker.ts share it.

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
  /**
   * Which workers are in this step: the step's number (its low 15 bits)
   * times 2^16, plus the number of workers that have joined it, plus
   * {@linkcode CLOSED} once the calling thread has closed it (see
   * {@linkcode join}).
   */
  Join: 8,
  /**
   * Raised by every thread after each chunk and each block of its
   * reduction: a waiting thread spins only while it moves (see
   * {@linkcode spinWhile}).
   */
  Progress: 9,
  /**
   * Number of fixed slots; after them, two per pair of threads (see
   * {@linkcode controlSize}).
   */
  Size: 10,
} as const;

/**
 * Slots of the control array for `workers` threads: the fixed ones, then
 * per pair of threads `p` (threads `2p` and `2p + 1`), the number of the
 * pair's chunks taken so far this step (slot `Control.Size + 2p`) and where
 * the first thread's chunks ended (`Control.Size + 2p + 1`).
 */
export function controlSize(workers: number): number {
  return Control.Size + 2 * Math.ceil(workers / 2);
}

/** In `Control.Join`: the calling thread runs the step alone. */
const CLOSED = 0x8000;

/** `Control.Join`'s value for step `step` open, no worker in it yet. */
function opened(step: number): number {
  return (step & 0x7fff) << 16;
}

/**
 * Starts step `step` (its batch and chunks written): zeroes every pair's
 * count of chunks taken, opens the step to the workers, then raises
 * `Control.Step` to it and wakes them.
 */
export function openStep(control: Int32Array, step: number): void {
  for (let slot = Control.Size; slot < control.length; slot += 2) {
    control[slot] = 0;
  }
  Atomics.store(control, Control.Join, opened(step));
  raise(control, Control.Step, step);
}

/**
 * Counts a worker in step `step`, unless the calling thread has closed it
 * (see {@linkcode closeStep}) or moved on to another.
 *
 * @returns Whether the worker joined: a step it has joined waits for it.
 */
export function join(control: Int32Array, step: number): boolean {
  for (;;) {
    const value = Atomics.load(control, Control.Join);
    if ((value & ~0x7fff) !== opened(step)) return false;
    const seen = Atomics.compareExchange(
      control,
      Control.Join,
      value,
      value + 1,
    );
    if (seen === value) return true;
  }
}

/** The number of workers in this step. */
export function joined(control: Int32Array): number {
  return Atomics.load(control, Control.Join) & 0x7fff;
}

/**
 * Closes step `step` to the workers if none has joined it yet: the calling
 * thread then runs it alone.
 *
 * @returns Whether it closed the step.
 */
export function closeStep(control: Int32Array, step: number): boolean {
  const open = opened(step);
  return Atomics.compareExchange(control, Control.Join, open, open | CLOSED) ===
    open;
}

/** Sets `control[slot]` to `value` and wakes the threads waiting on it. */
export function raise(control: Int32Array, slot: number, value: number): void {
  Atomics.store(control, slot, value);
  Atomics.notify(control, slot);
}

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
  raise(control, gate, value);
  return true;
}

/**
 * One thread's share of the steps: the model's compiled step, on a tape of
 * its own (a copy of the model), and views of the shared buffers.
 *
 * The threads go in pairs (threads `2p` and `2p + 1`; an odd last thread
 * alone). A pair's chunks are contiguous, and its first thread takes them
 * from the front, one at a time, while the second takes them from the back:
 * each runs about half, and a thread that runs slower (one sharing its core,
 * or woken late) takes fewer, where fixed halves would keep the other
 * waiting. Each chunk's gradient is added into the sums of a fixed binary
 * tree as soon as the node's chunks are all done (see
 * {@linkcode ChunkRunner.reduce}), so where a pair's threads meet does not
 * change a bit of the result.
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
  /** Whether this thread takes its pair's chunks from the front. */
  private readonly front: boolean;
  /** The slot of chunks taken of the pair this thread takes from. */
  private claimed = 0;
  /** Per chunk, the end of the run of chunks one thread ran this step. */
  private readonly ends: Int32Array;
  private batch = 0;
  private chunks = 0;
  /** The step this thread's counts below are for. */
  private stepSeen = 0;
  /** This pair's chunks, `[pairStart, pairEnd)`. */
  private pairStart = 0;
  private pairEnd = 0;
  /** How many this thread has taken this step. */
  private taken = 0;
  /**
   * The stack of nodes begun (see {@linkcode ChunkRunner.runAndSum}): each
   * one's first chunk and size, and the number of them.
   */
  private readonly nodeFirst = new Int32Array(STACK_DEPTH);
  private readonly nodeSize = new Int32Array(STACK_DEPTH);
  private depth = 0;
  /** Per level of the stack above the bottom, a sum being built. */
  private readonly buffers: Float64Array[] = [];
  /** Views of the rows of `partials`, made once. */
  private readonly rowViews: Float64Array[] = [];
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
    this.front = this.index % 2 === 0;
    this.ends = new Int32Array(this.partials.length / this.count);
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
   * Forward and backward of chunks of this thread's pair, taken one at a
   * time from its end of the pair's chunks until none is left (or, for
   * tests, `limit` are done), each added into the tree's sums it completes.
   */
  runChunks(limit = Infinity): void {
    const control = this.control;
    const step = control[Control.Step];
    if (step !== this.stepSeen) {
      this.stepSeen = step;
      this.batch = control[Control.Batch];
      this.chunks = control[Control.Chunks];
      this.tape.data.set(this.params, this.start);
      this.enter(this.index >> 1);
    }
    this.runPair(limit);
  }

  /**
   * Runs the chunks of every pair but this thread's, on a step no worker
   * joined (see {@linkcode closeStep}), after
   * {@linkcode ChunkRunner.runChunks}.
   */
  runOthers(): void {
    const pairs = Math.ceil(this.workers / 2);
    for (let pair = 0; pair < pairs; pair++) {
      if (pair === this.index >> 1) continue;
      this.enter(pair);
      this.runPair(Infinity);
    }
  }

  /** Makes pair `pair`'s chunks the ones this thread takes from. */
  private enter(pair: number): void {
    this.pairStart = this.pairFirst(pair);
    this.pairEnd = this.pairFirst(pair + 1);
    this.claimed = Control.Size + 2 * pair;
    this.taken = 0;
    this.depth = 0;
  }

  /**
   * Takes chunks from this thread's end of the pair's until none is left
   * (or `limit` are done), runs them and sums their nodes; then leaves the
   * sums for the reduction, and where the pair's first thread's chunks end.
   */
  private runPair(limit: number): void {
    const started = performance.now();
    let ran = 0;
    for (; ran < limit; ran++) {
      const c = this.claim();
      if (c < 0) break;
      this.runAndSum(c);
    }
    // The nodes above the bottom one, to their rows for the reduction.
    for (let level = 1; level < this.depth; level++) {
      this.row(this.nodeFirst[level]).set(this.buffers[level]);
    }
    // Final: this thread takes no chunk once the pair's are all taken.
    if (this.front) {
      Atomics.store(
        this.control,
        this.claimed + 1,
        this.pairStart + this.taken,
      );
    }
    if (ran > 0) {
      const perChunk = (performance.now() - started) / ran;
      this.patience = Math.min(SPIN_MS, 3 * perChunk + PATIENCE_MS);
    }
  }

  /** Takes the next chunk from this thread's end of the pair's; -1 if none. */
  private claim(): number {
    const size = this.pairEnd - this.pairStart;
    if (this.taken >= size) return -1;
    if (Atomics.add(this.control, this.claimed, 1) >= size) return -1;
    const k = this.taken++;
    return this.front ? this.pairStart + k : this.pairEnd - 1 - k;
  }

  /**
   * Runs chunk `c` and adds its gradient into the tree (see
   * {@linkcode ChunkRunner.reduce}). The nodes begun but not yet summed are
   * kept on a stack, in this thread's order along its chunks (left to right
   * from the front, right to left from the back): each new chunk is a node
   * on top, and the top two are replaced by their parent while they are
   * siblings. The bottom node's sum is kept in the row of `partials` of its
   * first chunk, the others' in this thread's memory (see
   * {@linkcode ChunkRunner.storage}).
   */
  private runAndSum(c: number): void {
    const chunks = this.chunks, front = this.front;
    const first = this.nodeFirst, size = this.nodeSize;
    let depth = this.depth;
    const top = depth - 1;
    if (
      depth > 0 && size[top] === 1 &&
      (front ? c % 2 === 1 && first[top] === c - 1 : c % 2 === 0 &&
        first[top] === c + 1)
    ) {
      // Its sibling is done: the pair's sum straight into their parent.
      const sibling = this.storage(top);
      if (front || top > 0) this.runChunk(c, sibling, sibling);
      else this.runChunk(c, this.row(c), sibling);
      first[top] = Math.min(c, first[top]);
      size[top] = 2;
    } else {
      first[depth] = c;
      size[depth] = 1;
      this.runChunk(c, this.storage(depth), undefined);
      depth++;
    }
    for (;;) {
      const t = depth - 1, a = first[t], n = size[t];
      if (n < chunks && a % (2 * n) === 0 && a + n >= chunks) {
        size[t] = 2 * n; // Its parent holds no other chunk: the same sum.
        continue;
      }
      if (depth < 2 || size[t - 1] !== n) break;
      const b = t - 1, left = front ? first[b] : a;
      if (left % (2 * n) !== 0 || (front ? a : first[b]) !== left + n) break;
      // Left child plus right, in the row of the parent's first chunk when
      // the parent is the bottom node (a sum in either order is the same).
      const lower = this.storage(b), upper = this.storage(t);
      if (front || b > 0) addTo(lower, upper, 0, this.count);
      else addInto(this.row(a), upper, lower, this.count);
      first[b] = left;
      size[b] = 2 * n;
      depth--;
    }
    this.depth = depth;
  }

  /**
   * Where the sum of the node at `level` of the stack is kept: the bottom
   * one's in the row of its first chunk, where the reduction looks for it;
   * the others' in this thread's memory (a buffer per level), so that a
   * thread's sums stay in a few rows of its cache, as a recursive sum's
   * would.
   */
  private storage(level: number): Float64Array {
    if (level === 0) return this.row(this.nodeFirst[0]);
    return this.buffers[level] ??= new Float64Array(this.count);
  }

  /**
   * Runs chunk `c` and sets `target` to its gradient times its fraction of
   * the batch (its share of the batch mean), plus `plus` if given, leaving
   * the parameters' gradients on the tape at 0 for the next chunk.
   */
  private runChunk(
    c: number,
    target: Float64Array,
    plus: Float64Array | undefined,
  ): void {
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
    if (plus === target) {
      for (let j = 0; j < count; j++) {
        target[j] += grad[start + j] * scale;
        grad[start + j] = 0;
      }
    } else if (plus !== undefined) {
      for (let j = 0; j < count; j++) {
        target[j] = grad[start + j] * scale + plus[j];
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
   * same order whatever the number of threads, and whichever ran which
   * chunks. The nodes whose chunks one thread ran were summed by that thread
   * (in {@linkcode ChunkRunner.runChunks}); the nodes above them are summed
   * here, in place in the row of their first chunk.
   *
   * @param all Whether to add up every parameter's gradient, not only this
   * thread's slice: on a step this thread runs alone.
   */
  reduce(all = false): void {
    const control = this.control, ends = this.ends, workers = this.workers;
    // Where each thread's chunks end: a pair's first thread's at its split.
    for (let pair = 0; 2 * pair < workers; pair++) {
      const hi = this.pairFirst(pair + 1);
      const split = Atomics.load(control, Control.Size + 2 * pair + 1);
      for (let c = this.pairFirst(pair); c < hi; c++) {
        ends[c] = c < split ? split : hi;
      }
    }
    const count = this.count;
    const lo = all ? 0 : Math.floor((this.index * count) / workers);
    const hi = all ? count : Math.floor(((this.index + 1) * count) / workers);
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
    // Summed by the thread that ran all its chunks.
    if (Math.min(a + size, this.chunks) <= this.ends[a]) return a;
    const half = size / 2;
    const left = this.sumNode(a, half, first, last);
    if (a + half >= this.chunks) return left;
    const right = this.sumNode(a + half, half, first, last);
    this.addRows(left, right, first, last);
    return left;
  }

  /** Adds row `right` of `partials` into row `left`, over `[first, last)`. */
  private addRows(left: number, right: number, first: number, last: number) {
    addTo(this.row(left), this.row(right), first, last);
  }

  /**
   * Pair `pair`'s first chunk (the chunks' end past the last pair): each
   * thread's share about the same, an odd last thread's alone.
   */
  private pairFirst(pair: number): number {
    const workers = this.workers;
    return Math.floor((Math.min(2 * pair, workers) * this.chunks) / workers);
  }

  /** Row `r` of `partials`. */
  private row(r: number): Float64Array {
    return this.rowViews[r] ??= this.partials.subarray(
      r * this.count,
      (r + 1) * this.count,
    );
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

/**
 * Most nodes on a thread's stack: one per level of the tree and one more,
 * for up to 2^31 chunks.
 */
const STACK_DEPTH = 33;

/** Adds `source` into `target`, element by element, over `[first, last)`. */
function addTo(
  target: Float64Array,
  source: Float64Array,
  first: number,
  last: number,
): void {
  for (let j = first; j < last; j++) target[j] += source[j];
}

/** Sets `target` to `left + right`, element by element. */
function addInto(
  target: Float64Array,
  left: Float64Array,
  right: Float64Array,
  count: number,
): void {
  for (let j = 0; j < count; j++) target[j] = left[j] + right[j];
}

/** Parameters per block of the reduction (16 KiB of float64). */
const REDUCE_BLOCK = 2048;
