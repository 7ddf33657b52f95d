// The loss of a batch over sample slots, for the compiled and the wasm mini-batch steps: recorded once per batch size, its labels set as constants, and compiled per sample where it is one block per sample. Internal: nn/minibatch.ts and nn/wasm_batch.ts share it.

import {
  compileRange,
  Op,
  type RangeProgram,
  sameStructure,
  type Tape,
  Value,
} from "../engine/mod.ts";
import type { BatchLoss, SampleSlots } from "./minibatch.ts";

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

/**
 * The loss of a batch, after `capacity` sample slots (see `recordSlots`)
 * and an optional regulariser of the parameters alone (recorded once, after
 * the slots, compiled where it can be, and added last to the loss, as a
 * recorded step adds it; its backward pass runs after the loss's).
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
 * otherwise (mse, a batch of one, or no code generation) the interpreter
 * replays the loss. Any other loss is recorded per batch (and replayed
 * while the same batch comes back).
 */
export class LossTail {
  private readonly tape: Tape;
  private readonly capacity: number;
  private readonly nout: number;
  private readonly firstSample: number;
  private readonly sampleSize: number;
  private readonly loss: BatchLoss;
  private readonly classes: number;
  private readonly compile: boolean;
  /** The regulariser's first node (the loss's, without one). */
  readonly regStart: number;
  private readonly tailStart: number;
  private readonly reg?: Value;
  /** The regulariser compiled, if it could be. */
  private readonly regProgram?: RangeProgram;
  private readonly tables = new Map<number, TailTable | null>();
  /**
   * Where a loss is recorded: after the slots, the regulariser and the
   * losses kept for the batch sizes seen so far.
   */
  private scratch: number;
  /** One past the last loss recorded at `scratch`. */
  private scratchEnd = -1;
  private samples = 0;
  /** The loss node of the last batch. */
  root = -1;
  /** The compiled loss of the last batch, if it ran compiled. */
  private split?: TailSplit;

  /**
   * Records the regulariser at the tape's end (right after the slots).
   *
   * @param tape The tape the slots are on.
   * @param slots Where the sample slots are.
   * @param capacity The number of slots.
   * @param nout Outputs per sample the loss reads.
   * @param loss Records the batch loss.
   * @param regularizer Records a term of the parameters alone, once.
   * @param classes The number of classes, to record the loss once per batch
   * size (0: record it every batch).
   * @param compile Whether code generation may compile the loss.
   */
  constructor(
    tape: Tape,
    slots: SampleSlots,
    capacity: number,
    nout: number,
    loss: BatchLoss,
    regularizer: (() => Value) | undefined,
    classes: number,
    compile: boolean,
  ) {
    this.tape = tape;
    this.capacity = capacity;
    this.nout = nout;
    this.firstSample = slots.first;
    this.sampleSize = slots.sampleSize;
    this.loss = loss;
    this.classes = classes;
    this.compile = compile;
    this.regStart = tape.size;
    this.reg = regularizer?.();
    this.tailStart = tape.size;
    this.scratch = tape.size;
    if (this.reg && compile) {
      try {
        this.regProgram = compileRange(tape, this.regStart, this.tailStart);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
      }
    }
  }

  /**
   * Arrays for the outputs and labels of a batch of `count` samples: the
   * same ones for every batch of a size whose loss is kept.
   */
  buffers(count: number): { outputs: Int32Array; labels: number[] } {
    const table = this.tables.get(count);
    return {
      outputs: table?.outputs ?? new Int32Array(count),
      labels: table?.labels ?? new Array<number>(count),
    };
  }

  /**
   * Runs the regulariser and the loss of a batch whose samples' outputs
   * (in their slots) and labels are given.
   *
   * @param outputs Each sample's first output node.
   * @param labels Each sample's label.
   * @param same Whether this is the very batch of the last call (then a
   * loss recorded per batch is replayed).
   * @returns The loss node.
   */
  forward(outputs: Int32Array, labels: number[], same = false): number {
    const tape = this.tape, count = outputs.length;
    if (this.regProgram) this.regProgram.forward(0);
    else if (this.reg) tape.replay(this.regStart, this.tailStart);
    this.split = undefined;
    let table = this.tables.get(count);
    if (table === undefined) {
      table = this.tables.size < MAX_KEPT_LOSSES
        ? this.probe(outputs, labels) ?? null
        : null;
      this.tables.set(count, table);
      // Later losses go after this one, which stays on the tape.
      if (table !== null) this.scratch = table.end;
      same = false;
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
        const sampleSize = this.sampleSize;
        for (let s = 0; s < count; s++) {
          split.block.forward(s * split.size, s * sampleSize);
        }
        split.rest.forward(0);
        this.split = split;
      } else {
        tape.replay(table.start, table.end);
      }
      this.root = table.root;
    } else if (same && count === this.samples && this.scratchEnd > 0) {
      tape.replay(this.scratch, this.scratchEnd);
    } else {
      this.root = this.recordTail(outputs, labels);
      this.scratchEnd = tape.size;
    }
    this.samples = count;
    return this.root;
  }

  /** Whether the last batch's loss ran compiled (else the interpreter). */
  get compiled(): boolean {
    return this.split !== undefined;
  }

  /**
   * Backpropagates the last batch's loss and the regulariser, down to the
   * slots' outputs (accumulating there) and the parameters.
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
  }

  /**
   * Compiles the loss over `count` samples that the tape holds now, when it
   * is one block per sample (see {@linkcode TailSplit}) and the regulariser
   * compiled too; else `null`.
   */
  private splitTail(table: TailTable, count: number): TailSplit | null {
    const tape = this.tape, from = table.start, end = table.end;
    if (!this.compile || count < 2 || (this.reg && !this.regProgram)) {
      return null;
    }
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
}
