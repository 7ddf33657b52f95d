// The part of a data-parallel step every thread runs, the calling thread and the Web Workers alike: chunks of each step's batch on compiled code (its own range, then ranges taken from threads that are behind), their gradients summed up a fixed tree in shared memory, then blocks of the parameters' gradients added up over every chunk, in a fixed order. Internal: nn/parallel.ts and nn/parallel_worker.ts share it.

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
 *
 * A step needs no worker: the calling thread runs every chunk nobody else
 * has taken. A worker joins the steps it is awake for: it counts itself
 * `Inside`, and leaves while the calling thread is `Preparing` the next
 * step's data, which waits for no worker to be inside.
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
  /** 1 while the calling thread writes a step's data. */
  Preparing: 4,
  /** Workers in the current step (reading its data). */
  Inside: 5,
  /** Chunks done this step. */
  Finished: 6,
  /** Blocks of the reduction taken this step. */
  Claimed: 7,
  /** Blocks of the reduction done this step. */
  Reduced: 8,
  /**
   * Raised by every thread after each chunk and each block of the
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
  /**
   * Per thread, the chunks it has left this step (Uint32: the next one
   * times 65536, plus the end), taken from the front by the thread and
   * from the back by the others once they are done with theirs; then per
   * thread, 1 once it has taken a chunk this step.
   */
  ranges: SharedArrayBuffer;
  /**
   * Per chunk, 1 where a range of chunks run by one thread starts (Int32):
   * what the reduction needs to know which sums the threads made.
   */
  starts: SharedArrayBuffer;
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
 * Spins until `done()`: for at most {@linkcode SPIN_MS}, and only while the
 * threads make progress (`control[Progress]` moves at least every
 * `patience` ms). A thread that stops making progress is most likely
 * waiting for a core, perhaps the one this thread spins on: the spinner
 * then gives its core up, where spinning on would stall the step for the
 * whole spin (as it did by about 2 ms a step on 2 cores with a third busy
 * process).
 *
 * @returns Whether `done()` came true.
 */
export function spinUntil(
  done: () => boolean,
  patience: number,
  control: Int32Array,
): boolean {
  let now = performance.now();
  const until = now + SPIN_MS;
  let progress = Atomics.load(control, Control.Progress), moved = now;
  while (!done()) {
    for (let k = 0; k < 256; k++) {
      if (done()) return true;
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
 * Spins while `control[index]` is `value`, as {@linkcode spinUntil} does.
 *
 * @returns Whether the value changed.
 */
export function spinWhile(
  control: Int32Array,
  index: number,
  value: number,
  patience: number,
): boolean {
  return spinUntil(
    () => Atomics.load(control, index) !== value,
    patience,
    control,
  );
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
  private readonly ranges: Uint32Array;
  private readonly starts: Int32Array;
  /** Per chunk, its row of `partials`. */
  private readonly partialRows: Float64Array[] = [];
  /**
   * The stack of nodes being summed in a range: first chunks and sizes;
   * above the bottom, each sum is built in `buffers` (this thread's memory).
   */
  private readonly nodes = new Int32Array(32);
  private readonly sizes = new Int32Array(32);
  private readonly buffers: Float64Array[] = [];
  /** The reduction's additions, pairs of row offsets (see `sumNode`). */
  private readonly additions = new Int32Array(2 * 65536);
  private added = 0;
  private batch = 0;
  private chunks = 0;
  /** Blocks of parameters in the reduction. */
  readonly blocks: number;
  /** Called after each chunk this thread runs (for tests: a faulty worker). */
  onChunk?: () => void;
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
    this.blocks = Math.ceil(this.count / REDUCE_BLOCK);
    this.control = new Int32Array(message.control);
    this.y = new Int32Array(message.y);
    this.params = new Float64Array(message.params);
    this.partials = new Float64Array(message.partials);
    for (let r = 0; r < this.partials.length / this.count; r++) {
      this.partialRows.push(
        this.partials.subarray(r * this.count, (r + 1) * this.count),
      );
    }
    this.ranges = new Uint32Array(message.ranges);
    this.starts = new Int32Array(message.starts);
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
   * Sets up a step of `chunks` chunks: every thread's range (a block of
   * chunks, contiguous, about as many for each), their starts, and the
   * step's counts at 0. The calling thread runs it while no worker is
   * inside a step.
   */
  plan(chunks: number): void {
    const control = this.control;
    control[Control.Chunks] = chunks;
    control[Control.Finished] = 0;
    control[Control.Claimed] = 0;
    control[Control.Reduced] = 0;
    this.starts.fill(0, 0, chunks);
    this.ranges.fill(0, this.workers);
    for (let w = 0; w < this.workers; w++) {
      const lo = Math.floor((w * chunks) / this.workers);
      const hi = Math.floor(((w + 1) * chunks) / this.workers);
      this.ranges[w] = lo * RANGE_SHIFT + hi;
      if (lo < chunks) this.starts[lo] = 1;
    }
  }

  /**
   * Forward and backward of chunks: this thread's range, then ranges taken
   * from threads that are behind or absent (the back half of what they
   * have left), until every chunk is taken. The sums of the tree's nodes
   * inside a range (see {@linkcode ChunkRunner.reduce}) go to the rows of
   * `partials` at their first chunks; `Finished` counts the range's chunks
   * in once they are there.
   *
   * @returns Whether this thread finished the step's last chunk.
   */
  runChunks(): boolean {
    const control = this.control;
    this.batch = control[Control.Batch];
    this.chunks = control[Control.Chunks];
    this.tape.data.set(this.params, this.start);
    const started = performance.now();
    let done = 0, last = false;
    for (let more = true; more; more = this.steal()) {
      const ran = this.runRange();
      if (ran === 0) continue;
      done += ran;
      last = Atomics.add(control, Control.Finished, ran) + ran === this.chunks;
      // Every change, not only the last: a thread asleep on the count woke
      // only at its next deadline otherwise.
      Atomics.notify(control, Control.Finished);
    }
    if (done > 0) {
      const perChunk = (performance.now() - started) / done;
      this.patience = Math.min(SPIN_MS, 3 * perChunk + PATIENCE_MS);
    }
    return last;
  }

  /** Whether every chunk of this step is done (its sums in `partials`). */
  finished(): boolean {
    const control = this.control;
    return Atomics.load(control, Control.Finished) === control[Control.Chunks];
  }

  /** Whether every block of this step's reduction is done. */
  reduced(): boolean {
    return Atomics.load(this.control, Control.Reduced) === this.blocks;
  }

  /** The next chunk of this thread's range, or -1 when it has none left. */
  private claim(): number {
    const ranges = this.ranges, w = this.index;
    for (;;) {
      const range = Atomics.load(ranges, w);
      const next = Math.floor(range / RANGE_SHIFT);
      if (next >= range % RANGE_SHIFT) return -1;
      if (
        Atomics.compareExchange(ranges, w, range, range + RANGE_SHIFT) === range
      ) {
        if (ranges[this.workers + w] === 0) {
          Atomics.store(ranges, this.workers + w, 1);
        }
        return next;
      }
    }
  }

  /**
   * Takes the back half of the chunks left to the thread with the most
   * left among those that have not begun their range (asleep, or waiting
   * for a core), as this thread's range. A thread that is running keeps its
   * chunks: taking its last ones would cut its sums into more rows for the
   * reduction than the wait saves (2-256-256-1: about 90 µs a row).
   *
   * @returns Whether there were any to take.
   */
  private steal(): boolean {
    const ranges = this.ranges;
    for (;;) {
      let victim = -1, most = 0;
      for (let w = 0; w < this.workers; w++) {
        const range = Atomics.load(ranges, w);
        const left = range % RANGE_SHIFT - Math.floor(range / RANGE_SHIFT);
        const started = Atomics.load(ranges, this.workers + w) !== 0;
        if (w !== this.index && !started && left > most) {
          victim = w;
          most = left;
        }
      }
      if (victim < 0) return false;
      const range = Atomics.load(ranges, victim);
      const next = Math.floor(range / RANGE_SHIFT), end = range % RANGE_SHIFT;
      if (next >= end) continue;
      const from = end - Math.ceil((end - next) / 2);
      const cut = next * RANGE_SHIFT + from;
      if (Atomics.compareExchange(ranges, victim, range, cut) !== range) {
        continue;
      }
      Atomics.store(this.starts, from, 1);
      Atomics.store(ranges, this.index, from * RANGE_SHIFT + end);
      return true;
    }
  }

  /**
   * Runs the chunks of this thread's range, in order, while it has any
   * (the back of it may be taken meanwhile), summing them up the tree as
   * they complete: a stack of nodes whose sums are done, the top two added
   * when they are siblings. The bottom node's sum is built in the row of
   * its first chunk; the others, in this thread's memory, go to the rows of
   * their first chunks at the end.
   *
   * @returns The number of chunks run.
   */
  private runRange(): number {
    const nodes = this.nodes, sizes = this.sizes;
    let top = 0, done = 0;
    for (let c = this.claim(); c >= 0; c = this.claim()) {
      done++;
      this.onChunk?.();
      if (top > 0 && this.siblings(nodes[top - 1], sizes[top - 1], c, 1)) {
        this.runChunk(c, this.sum(top - 1), true);
        sizes[top - 1] *= 2;
      } else {
        nodes[top] = c;
        sizes[top] = 1;
        this.runChunk(c, this.sum(top++), false);
      }
      while (
        top > 1 &&
        this.siblings(
          nodes[top - 2],
          sizes[top - 2],
          nodes[top - 1],
          sizes[top - 1],
        )
      ) {
        const target = this.sum(top - 2), right = this.sum(top - 1);
        for (let j = 0; j < this.count; j++) target[j] += right[j];
        sizes[top - 2] *= 2;
        top--;
      }
    }
    for (let k = 1; k < top; k++) this.row(nodes[k]).set(this.buffers[k]);
    return done;
  }

  /**
   * Whether the sum of node `(b, sb)` is the right child's of node
   * `(a, 2 * sa)`, whose left child is `(a, sa)`: `(b, sa)`, or the part of
   * it inside the batch (nodes past the last chunk are empty).
   */
  private siblings(a: number, sa: number, b: number, sb: number): boolean {
    return b === a + sa && a % (2 * sa) === 0 &&
      (sb === sa || (sb < sa && b + sb >= this.chunks));
  }

  /** Where the sum at depth `k` of the stack is built. */
  private sum(k: number): Float64Array {
    if (k === 0) return this.row(this.nodes[0]);
    this.buffers[k] ??= new Float64Array(this.count);
    return this.buffers[k];
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
   * Adds up the parameters' gradients, a block of parameters at a time,
   * taking blocks until none is left (once every chunk is finished). The
   * chunks' gradients are summed over a fixed binary tree (node `(a, size)`
   * covers chunks `[a, a + size)`, `size` a power of 2; a node's sum is its
   * left child's plus its right's), the L2 term added last: the same sums in
   * the same order whatever the number of threads and whoever ran which
   * chunk. The nodes inside one range were summed by the thread that ran
   * it; the nodes above them are summed here, in place in the row of their
   * first chunk.
   *
   * @returns Whether this thread finished the reduction's last block.
   */
  reduce(): boolean {
    const control = this.control, count = this.count, blocks = this.blocks;
    const grad = this.grad, params = this.params, partials = this.partials;
    const alpha = this.alpha, additions = this.additions;
    // The additions are the same for every block: listed once.
    this.added = 0;
    const offset = this.sumNode(0, treeSize(this.chunks)) * count;
    const added = this.added;
    let mine = 0;
    for (
      let block = Atomics.add(control, Control.Claimed, 1);
      block < blocks;
      block = Atomics.add(control, Control.Claimed, 1)
    ) {
      const first = block * REDUCE_BLOCK;
      const end = Math.min(first + REDUCE_BLOCK, count);
      // The root's own addition, the last, is made on the way to `grad`.
      for (let k = 0; k < added - 2; k += 2) {
        addRow(partials, additions[k], additions[k + 1], first, end);
      }
      const left = added > 0 ? additions[added - 2] : offset;
      const right = added > 0 ? additions[added - 1] : -1;
      for (let j = first; j < end; j++) {
        const p = params[j];
        const sum = right < 0
          ? partials[left + j]
          : partials[left + j] + partials[right + j];
        grad[j] = (alpha > 0 ? alpha * p + alpha * p : 0) + sum;
      }
      Atomics.add(control, Control.Progress, 1);
      mine++;
    }
    if (mine === 0) return false;
    // Counted in once, and notified at every change (see runChunks).
    const last = Atomics.add(control, Control.Reduced, mine) + mine === blocks;
    Atomics.notify(control, Control.Reduced);
    return last;
  }

  /**
   * Lists the additions that sum node `(a, size)` in the row of its first
   * chunk (offsets into `partials`: target, then source), children first;
   * returns its row.
   */
  private sumNode(a: number, size: number): number {
    if (this.summed(a, size)) return a;
    const half = size / 2;
    const left = this.sumNode(a, half);
    if (a + half >= this.chunks) return left;
    const right = this.sumNode(a + half, half);
    this.additions[this.added++] = left * this.count;
    this.additions[this.added++] = right * this.count;
    return left;
  }

  /**
   * Whether node `(a, size)` lies in one range (no range starts inside it),
   * so that the thread that ran the range summed it.
   */
  private summed(a: number, size: number): boolean {
    const end = Math.min(a + size, this.chunks);
    for (let c = a + 1; c < end; c++) {
      if (Atomics.load(this.starts, c) !== 0) return false;
    }
    return true;
  }

  /** Row `r` of `partials`. */
  private row(r: number): Float64Array {
    return this.partialRows[r];
  }
}

/** Adds `partials[source + j]` to `partials[target + j]` for `j` in `[first, end)`. */
function addRow(
  partials: Float64Array,
  target: number,
  source: number,
  first: number,
  end: number,
): void {
  for (let j = first; j < end; j++) {
    partials[target + j] += partials[source + j];
  }
}

/** The tree's root size: the smallest power of 2 >= `chunks`. */
function treeSize(chunks: number): number {
  let size = 1;
  while (size < chunks) size *= 2;
  return size;
}

/** A range's next chunk is its value's high 16 bits, its end the low ones. */
const RANGE_SHIFT = 65536;

/**
 * Added to a thread's patience (ms): the time the scheduler may take to
 * wake a thread, and the serial work between steps.
 */
const PATIENCE_MS = 0.02;

/**
 * Parameters per block of the reduction (4 KiB of float64): small enough
 * for the threads to share the reduction of a small model.
 */
const REDUCE_BLOCK = 512;
