// Mini-batches on the compiled path: fixed sample slots run by one compiled per-sample program, and the loss recorded once per batch size and compiled per sample.

import {
  compileRange,
  Op,
  type RangeProgram,
  sameStructure,
  type Tape,
  Value,
} from "../engine/mod.ts";
import type { MLP } from "./mlp.ts";

/**
 * Records the loss of a batch from its samples' output rows: a function of
 * the rows and labels alone (it may be recorded once and replayed).
 */
export type BatchLoss = (
  outputs: Value[][],
  labels: readonly number[],
) => Value;

/** The loss over `count` samples, recorded once, and where its labels go. */
interface TailTable {
  /** The loss's first node, its root and one past its last node. */
  start: number;
  root: number;
  end: number;
  /** Per sample, the tail nodes its label sets. */
  positions: Int32Array[];
  /** Per sample, `positions.length × classes` values, by class. */
  values: Float64Array[];
  /**
   * The loss compiled (`undefined`: not tried yet; `null`: it cannot be, so
   * the interpreter replays it).
   */
  split?: TailSplit | null;
  /** The batch's slot outputs and labels, reused by every batch this size. */
  outputs: Int32Array;
  labels: number[];
}

/**
 * How many batch sizes keep their loss on the tape (a full batch and the
 * last, smaller one of an epoch; a few more for the chunks of parallel
 * workers); the losses of other sizes are recorded every batch.
 */
const MAX_KEPT_LOSSES = 4;

/**
 * A batch loss that is one block of nodes per sample, alike and reading only
 * that sample's slot, then a few nodes over the blocks (the mean): one
 * program compiled from sample 0's block runs every block, linked to its
 * sample's slot.
 */
interface TailSplit {
  /** Nodes per sample's block; block s starts at `start + s * size`. */
  size: number;
  /** One past the last block. */
  blocksEnd: number;
  /** Sample 0's block, its slot linked. */
  block: RangeProgram;
  /** The nodes after the blocks (the mean, the regulariser added). */
  rest: RangeProgram;
}

/** Where one batch's graph lies on the tape (what a training step reads). */
export interface BatchGraph {
  /** The loss node. */
  root: number;
  /** Index of each sample's first output node. */
  outputs: Int32Array;
  /** The batch's labels. */
  labels: readonly number[];
}

/** Where {@linkcode recordSlots} put the sample slots. */
export interface SampleSlots {
  /** Index of slot 0's first input. */
  first: number;
  /** Nodes per slot (its inputs, then the model's forward pass). */
  sampleSize: number;
  /** A slot's first output, relative to the slot's start. */
  outputOffset: number;
}

/**
 * Records `capacity` sample slots after the tape's end, every slot alike:
 * `model.nin` input leaves (no gradient), then the model's forward pass on
 * them. What the compiled and wasm mini-batch steps run their samples in.
 *
 * @param model The model (the slots go on its tape).
 * @param capacity The number of slots.
 * @returns Where the slots are.
 */
export function recordSlots(model: MLP, capacity: number): SampleSlots {
  const tape = model.tape;
  const first = tape.size;
  let outputOffset = 0;
  for (let s = 0; s < capacity; s++) {
    const start = tape.size;
    for (let k = 0; k < model.nin; k++) tape.leaf(0, false);
    outputOffset = model.record(tape, start) - start;
  }
  return { first, sampleSize: (tape.size - first) / capacity, outputOffset };
}

/**
 * A training step for mini-batches of up to `capacity` samples on compiled
 * code. At construction it records `capacity` sample slots (inputs, then the
 * model's forward pass; every slot alike) and compiles slot 0's subgraph.
 * Each batch then writes its samples into the first slots, runs the compiled
 * forward program at each slot's offset, sets the loss's label constants,
 * runs the loss, and backpropagates through the loss and then through the
 * slots with the compiled backward program, last slot first. Values and
 * gradients are bit-identical to recording the same batch with
 * {@linkcode MLP.record} and calling `tape.backward(root)`: the same
 * formulas run in the same order.
 *
 * A regularisation term of the parameters alone (L2) is recorded once,
 * after the slots, compiled, run each batch and added last to the loss, as
 * the recorded step adds it. Its backward pass runs after the loss's and
 * before the slots', the recorded order.
 *
 * The loss over a batch is recorded once per batch size (for up to four
 * sizes, kept on the tape) when the labels enter it only as constants, one
 * sample's label at a time (as in every loss `fit` knows: one-hot rows, ±1
 * signs): probing records it with each sample set to each class, finds the
 * constants each sample's label sets, and checks the prediction on one more
 * labelling. Later batches of that size write their labels' constants and
 * run the loss again: the same nodes and values a fresh recording would
 * give. When the loss is one block of alike nodes per sample, reading only
 * that sample's outputs, and a few nodes over the blocks (hinge,
 * cross-entropy, bce: the mean of per-sample terms), one program compiled
 * from sample 0's block runs every block, linked to its sample's slot;
 * otherwise (mse, a batch of one) the interpreter replays the loss. Any
 * other loss is recorded per batch.
 */
export class MiniBatchStep {
  /** The most samples a batch may have. */
  readonly capacity: number;
  private readonly tape: Tape;
  private readonly nin: number;
  private readonly nout: number;
  private readonly firstSample: number;
  private readonly sampleSize: number;
  private readonly outputOffset: number;
  private readonly tailStart: number;
  private readonly regStart: number;
  private readonly reg?: Value;
  /** The regulariser compiled, if it could be. */
  private readonly regProgram?: RangeProgram;
  private readonly program: RangeProgram;
  private readonly loss: BatchLoss;
  private readonly classes: number;
  private readonly tables = new Map<number, TailTable | null>();
  /**
   * Where a loss is recorded: after the slots, the regulariser and the
   * losses kept for the batch sizes seen so far.
   */
  private scratch: number;
  private samples = 0;
  private root = -1;
  /** The compiled loss of the last batch, if it ran compiled. */
  private split?: TailSplit;

  /**
   * Records the slots after the tape's current end and compiles them.
   *
   * @param model The model (its parameters live on `model`'s tape).
   * @param capacity The largest batch.
   * @param nout Outputs per sample the loss reads.
   * @param loss Records the batch loss.
   * @param regularizer Records a term added to the loss that depends on the
   * parameters only (such as L2), once.
   * @param classes The number of classes, to record the loss once per batch
   * size (0: record it every batch).
   * @throws {Error} When code generation is not allowed.
   */
  constructor(
    model: MLP,
    capacity: number,
    nout: number,
    loss: BatchLoss,
    regularizer?: () => Value,
    classes = 0,
  ) {
    this.classes = classes;
    const tape = model.parameters()[0].tape;
    this.tape = tape;
    this.capacity = capacity;
    this.nin = model.nin;
    this.nout = nout;
    this.loss = loss;
    const slots = recordSlots(model, capacity);
    this.firstSample = slots.first;
    this.sampleSize = slots.sampleSize;
    this.outputOffset = slots.outputOffset;
    this.regStart = tape.size;
    this.reg = regularizer?.();
    this.tailStart = tape.size;
    this.scratch = tape.size;
    if (this.reg) {
      try {
        this.regProgram = compileRange(tape, this.regStart, this.tailStart);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
      }
    }
    this.program = compileRange(
      tape,
      this.firstSample,
      this.firstSample + this.sampleSize,
    );
  }

  /**
   * Runs the forward pass of a batch and records its loss.
   *
   * @param x All samples' features.
   * @param y All samples' labels.
   * @param indices Which samples form the batch (at most `capacity`).
   * @param count How many entries of `indices` to use.
   * @returns Where the batch's graph lies.
   */
  forward(
    x: ArrayLike<ArrayLike<number>>,
    y: ArrayLike<number>,
    indices: ArrayLike<number>,
    count: number = indices.length,
  ): BatchGraph {
    const tape = this.tape, data = tape.data, nin = this.nin;
    const sampleSize = this.sampleSize;
    let table = this.tables.get(count);
    const outputs = table?.outputs ?? new Int32Array(count);
    const labels = table?.labels ?? new Array<number>(count);
    if (this.regProgram) this.regProgram.forward(0);
    else if (this.reg) tape.replay(this.regStart, this.tailStart);
    for (let s = 0; s < count; s++) {
      const offset = s * sampleSize;
      const first = this.firstSample + offset;
      const row = x[indices[s]];
      for (let k = 0; k < nin; k++) data[first + k] = row[k];
      this.program.forward(offset);
      outputs[s] = first + this.outputOffset;
      labels[s] = y[indices[s]];
    }
    this.samples = count;
    this.split = undefined;
    if (table === undefined) {
      table = this.tables.size < MAX_KEPT_LOSSES
        ? this.probe(outputs, labels) ?? null
        : null;
      this.tables.set(count, table);
      // Later losses go after this one, which stays on the tape.
      if (table !== null) this.scratch = table.end;
    }
    if (table !== null) {
      // The probe may have grown the tape: read its arrays again.
      const data = tape.data, classes = this.classes;
      for (let s = 0; s < count; s++) {
        const positions = table.positions[s], values = table.values[s];
        const c = labels[s];
        for (let k = 0; k < positions.length; k++) {
          data[positions[k]] = values[k * classes + c];
        }
      }
      if (table.split === undefined) table.split = this.splitTail(table, count);
      const split = table.split;
      if (split !== null) {
        for (let s = 0; s < count; s++) {
          split.block.forward(s * split.size, s * sampleSize);
        }
        split.rest.forward(0);
        this.split = split;
      } else {
        tape.replay(table.start, table.end);
      }
      this.root = table.root;
    } else {
      this.root = this.recordTail(outputs, labels);
    }
    return { root: this.root, outputs, labels };
  }

  /**
   * Compiles the loss over `count` samples that the tape holds now, when it
   * is one block per sample (see {@linkcode TailSplit}) and the regulariser
   * compiled too; else `null`.
   */
  private splitTail(table: TailTable, count: number): TailSplit | null {
    const tape = this.tape, from = table.start, end = table.end;
    if (count < 2 || (this.reg && !this.regProgram)) return null;
    const slots = this.firstSample, size = this.sampleSize;
    const owner = this.owners(from, end);
    let firstOfOne = -1;
    let lastOfZero = -1;
    for (let i = from; i < end; i++) {
      const who = owner[i - from];
      if (who === 1 && firstOfOne < 0) firstOfOne = i;
      if (who === 0 && firstOfOne < 0) lastOfZero = i;
    }
    if (lastOfZero < 0 || firstOfOne < 0) return null;
    const linked = { start: slots, end: slots + size };
    for (
      let block = lastOfZero + 1 - from;
      block <= firstOfOne - from;
      block++
    ) {
      const blocksEnd = from + count * block;
      if (blocksEnd >= end) break;
      let alike = true;
      for (let s = 1; s < count && alike; s++) {
        alike = sameStructure(tape, from, from + block, s * block, {
          ...linked,
          shift: s * size,
        });
      }
      if (!alike) continue;
      try {
        return {
          size: block,
          blocksEnd,
          block: compileRange(tape, from, from + block, undefined, linked),
          rest: compileRange(tape, blocksEnd, end),
        };
      } catch (error) {
        if (error instanceof RangeError) return null;
        throw error;
      }
    }
    return null;
  }

  /**
   * Which sample each node of `[from, end)` (a loss) depends on, through
   * its inputs: the slot's index, -1 for none (constants), -2 for several.
   */
  private owners(from: number, end: number): Int32Array {
    const tape = this.tape, slots = this.firstSample, size = this.sampleSize;
    const slotsEnd = slots + this.capacity * size;
    const owner = new Int32Array(end - from);
    for (let i = from; i < end; i++) {
      let who = -1;
      for (const j of tape.inputsOf(i)) {
        const w = j >= from
          ? owner[j - from]
          : j >= slots && j < slotsEnd
          ? Math.floor((j - slots) / size)
          : -1;
        if (w === -1 || w === who) continue;
        who = who === -1 ? w : -2;
      }
      owner[i - from] = who;
    }
    return owner;
  }

  /** Records the loss over the samples' outputs after the slots. */
  private recordTail(outputs: Int32Array, labels: readonly number[]): number {
    const tape = this.tape;
    tape.rewind(this.scratch);
    const rows: Value[][] = [];
    for (let s = 0; s < outputs.length; s++) {
      const values: Value[] = [];
      for (let k = 0; k < this.nout; k++) {
        values.push(Value.at(tape, outputs[s] + k));
      }
      rows.push(values);
    }
    const loss = this.loss(rows, labels);
    return (this.reg ? loss.add(this.reg) : loss).index;
  }

  /**
   * Finds the constants each sample's label sets in the loss over `count`
   * samples, or `undefined` when the loss does not take its labels that way
   * (or probing would take too long).
   */
  private probe(
    outputs: Int32Array,
    labels: number[],
  ): TailTable | undefined {
    const tape = this.tape, classes = this.classes, count = outputs.length;
    if (classes < 2 || count * classes * classes > 1 << 21) return undefined;
    const from = this.scratch;
    tape.rewind(from);
    const poolStart = tape.poolSize;
    const zeros = new Array<number>(count).fill(0);
    const root = this.recordTail(outputs, zeros);
    const end = tape.size, pool = tape.poolSize;
    const op = tape.op.slice(from, end), arg0 = tape.arg0.slice(from, end);
    const arg1 = tape.arg1.slice(from, end), base = tape.data.slice(from, end);
    const poolCopy = tape.pool.slice(poolStart, pool);
    const same = () => {
      if (tape.size !== end || tape.poolSize !== pool) return false;
      for (let i = from; i < end; i++) {
        const k = i - from;
        if (
          tape.op[i] !== op[k] || tape.arg0[i] !== arg0[k] ||
          tape.arg1[i] !== arg1[k]
        ) return false;
      }
      for (let k = 0; k < poolCopy.length; k++) {
        if (tape.pool[poolStart + k] !== poolCopy[k]) return false;
      }
      return true;
    };
    const isConstant = (i: number) =>
      tape.op[i] === Op.Const || tape.op[i] === Op.Leaf;
    // A constant belongs to the sample whose nodes read it (-2: several).
    const owner = this.owners(from, end);
    const unread = -3;
    const constantOwner = new Int32Array(end - from).fill(unread);
    for (let i = from; i < end; i++) {
      if (isConstant(i)) continue;
      for (const j of tape.inputsOf(i)) {
        if (j < from || !isConstant(j)) continue;
        const k = j - from, o = owner[i - from];
        const before = constantOwner[k];
        constantOwner[k] = before === unread || before === o ? o : -2;
      }
    }
    // Every sample set to class c at once: each changed constant goes to
    // its sample (the check labelling below catches labels that interact).
    const byNode = new Map<number, Float64Array>();
    for (let c = 1; c < classes; c++) {
      const labels = zeros.map(() => c);
      if (this.recordTail(outputs, labels) !== root || !same()) {
        return undefined;
      }
      for (let i = from; i < end; i++) {
        const k = i - from;
        if (!isConstant(i) || Object.is(tape.data[i], base[k])) continue;
        if (constantOwner[k] < 0) return undefined;
        let values = byNode.get(i);
        if (values === undefined) {
          values = new Float64Array(classes).fill(base[k]);
          byNode.set(i, values);
        }
        values[c] = tape.data[i];
      }
    }
    const positions: number[][] = Array.from({ length: count }, () => []);
    for (const i of byNode.keys()) positions[constantOwner[i - from]].push(i);
    const table: TailTable = {
      start: from,
      root,
      end,
      outputs,
      labels,
      positions: positions.map((p) => Int32Array.from(p)),
      values: positions.map((p) => {
        const out = new Float64Array(p.length * classes);
        p.forEach((i, k) => out.set(byNode.get(i)!, k * classes));
        return out;
      }),
    };
    // One more labelling, recorded and predicted, must agree everywhere.
    const check = zeros.map((_, s) => (s * 7 + 3) % classes);
    if (this.recordTail(outputs, check) !== root || !same()) return undefined;
    const predicted = base.slice();
    for (let s = 0; s < count; s++) {
      const p = table.positions[s], v = table.values[s];
      for (let k = 0; k < p.length; k++) {
        predicted[p[k] - from] = v[k * classes + check[s]];
      }
    }
    for (let i = from; i < end; i++) {
      if (isConstant(i) && !Object.is(tape.data[i], predicted[i - from])) {
        return undefined;
      }
    }
    return table;
  }

  /** Whether the last batch's loss ran compiled (else the interpreter). */
  get lossCompiled(): boolean {
    return this.split !== undefined;
  }

  /**
   * Backpropagates the last {@linkcode MiniBatchStep.forward}'s loss; leaf
   * gradients accumulate, so zero the parameters' gradients first.
   */
  backward(): void {
    const split = this.split;
    if (split !== undefined) {
      // Tape.backward's order: the root seeded, the nodes after the blocks,
      // the blocks from the last sample's, then the regulariser. Seeded
      // through setGrad, so that the tape knows that gradients up to the
      // root may be nonzero (and resets them in a later Tape.backward).
      this.tape.setGrad(this.root, 1);
      split.rest.backward(0);
      for (let s = this.samples - 1; s >= 0; s--) {
        split.block.backward(s * split.size, undefined, s * this.sampleSize);
      }
      this.regProgram?.backward(0);
    } else {
      this.tape.backward(this.root, this.regStart);
    }
    for (let s = this.samples - 1; s >= 0; s--) {
      this.program.backward(s * this.sampleSize);
    }
  }
}
