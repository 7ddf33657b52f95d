// Mini-batches on the compiled path: fixed sample slots run by one compiled per-sample program, with the small loss tail recorded per batch.

import {
  compileRange,
  type RangeProgram,
  type Tape,
  Value,
} from "../engine/mod.ts";
import type { MLP } from "./mlp.ts";

/** Records the loss of a batch from its samples' output rows. */
export type BatchLoss = (
  outputs: Value[][],
  labels: readonly number[],
) => Value;

/** Where one batch's graph lies on the tape (what a training step reads). */
export interface BatchGraph {
  /** The loss node. */
  root: number;
  /** Index of each sample's first output node. */
  outputs: Int32Array;
  /** The batch's labels. */
  labels: readonly number[];
}

/**
 * A training step for mini-batches of up to `capacity` samples on compiled
 * code. At construction it records `capacity` sample slots (inputs, then the
 * model's forward pass; every slot alike) and compiles slot 0's subgraph.
 * Each batch then writes its samples into the first slots, runs the compiled
 * forward program at each slot's offset, records only the loss over those
 * slots (a few nodes per sample; the labels may change every batch), and
 * backpropagates through the loss with the interpreter and through the
 * slots with the compiled backward program, last slot first. Values and
 * gradients are bit-identical to recording the same batch with
 * {@linkcode MLP.record} and calling `tape.backward(root)`: the same
 * formulas run in the same order.
 *
 * A regularisation term of the parameters alone (L2) is recorded once,
 * after the slots, replayed each batch and added last to the loss, as the
 * recorded step adds it. Its backward pass still runs before the slots', so
 * the parameters' gradients accumulate in the recorded order.
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
  private readonly program: RangeProgram;
  private readonly loss: BatchLoss;
  private samples = 0;
  private root = -1;

  /**
   * Records the slots after the tape's current end and compiles them.
   *
   * @param model The model (its parameters live on `model`'s tape).
   * @param capacity The largest batch.
   * @param nout Outputs per sample the loss reads.
   * @param loss Records the batch loss.
   * @param regularizer Records a term added to the loss that depends on the
   * parameters only (such as L2), once.
   * @throws {Error} When code generation is not allowed.
   */
  constructor(
    model: MLP,
    capacity: number,
    nout: number,
    loss: BatchLoss,
    regularizer?: () => Value,
  ) {
    const tape = model.parameters()[0].tape;
    this.tape = tape;
    this.capacity = capacity;
    this.nin = model.nin;
    this.nout = nout;
    this.loss = loss;
    const first = tape.size;
    let outputOffset = 0;
    for (let s = 0; s < capacity; s++) {
      const start = tape.size;
      for (let k = 0; k < model.nin; k++) tape.leaf(0, false);
      outputOffset = model.record(tape, start) - start;
    }
    this.firstSample = first;
    this.sampleSize = (tape.size - first) / capacity;
    this.outputOffset = outputOffset;
    this.regStart = tape.size;
    this.reg = regularizer?.();
    this.tailStart = tape.size;
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
    tape.rewind(this.tailStart);
    if (this.reg) tape.replay(this.regStart, this.tailStart);
    const outputs = new Int32Array(count);
    const rows: Value[][] = [];
    const labels: number[] = [];
    for (let s = 0; s < count; s++) {
      const offset = s * this.sampleSize;
      const first = this.firstSample + offset;
      const row = x[indices[s]];
      for (let k = 0; k < nin; k++) data[first + k] = row[k];
      this.program.forward(offset);
      const out = first + this.outputOffset;
      outputs[s] = out;
      const values: Value[] = [];
      for (let k = 0; k < this.nout; k++) values.push(Value.at(tape, out + k));
      rows.push(values);
      labels.push(y[indices[s]]);
    }
    this.samples = count;
    const loss = this.loss(rows, labels);
    this.root = (this.reg ? loss.add(this.reg) : loss).index;
    return { root: this.root, outputs, labels };
  }

  /**
   * Backpropagates the last {@linkcode MiniBatchStep.forward}'s loss; leaf
   * gradients accumulate, so zero the parameters' gradients first.
   */
  backward(): void {
    this.tape.backward(this.root, this.regStart);
    for (let s = this.samples - 1; s >= 0; s--) {
      this.program.backward(s * this.sampleSize);
    }
  }
}
