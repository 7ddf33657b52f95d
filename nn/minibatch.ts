// Mini-batches on the compiled path: fixed sample slots run by one compiled per-sample program, and the loss recorded once per batch size and compiled per sample.

import {
  compileRange,
  type RangeProgram,
  type Tape,
  type Value,
} from "../engine/mod.ts";
import type { MLP } from "./mlp.ts";
import { LossTail } from "./_loss_tail.ts";

/**
 * Records the loss of a batch from its samples' output rows: a function of
 * the rows and labels alone (it may be recorded once and replayed).
 */
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
  /** Where the sample slots are. */
  private readonly slots: SampleSlots;
  private readonly program: RangeProgram;
  /** The regulariser and the loss, after the slots. */
  private readonly tail: LossTail;
  private samples = 0;

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
    const tape = model.parameters()[0].tape;
    this.tape = tape;
    this.capacity = capacity;
    this.nin = model.nin;
    const slots = recordSlots(model, capacity);
    this.slots = slots;
    this.tail = new LossTail(
      tape,
      slots,
      capacity,
      nout,
      loss,
      regularizer,
      classes,
      true,
    );
    this.program = compileRange(
      tape,
      this.slots.first,
      this.slots.first + this.slots.sampleSize,
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
    const data = this.tape.data, nin = this.nin;
    const sampleSize = this.slots.sampleSize;
    const { outputs, labels } = this.tail.buffers(count);
    for (let s = 0; s < count; s++) {
      const offset = s * sampleSize;
      const first = this.slots.first + offset;
      const row = x[indices[s]];
      for (let k = 0; k < nin; k++) data[first + k] = row[k];
      this.program.forward(offset);
      outputs[s] = first + this.slots.outputOffset;
      labels[s] = y[indices[s]];
    }
    this.samples = count;
    const root = this.tail.forward(outputs, labels);
    return { root, outputs, labels };
  }

  /** Whether the last batch's loss ran compiled (else the interpreter). */
  get lossCompiled(): boolean {
    return this.tail.compiled;
  }

  /**
   * Backpropagates the last {@linkcode MiniBatchStep.forward}'s loss; leaf
   * gradients accumulate, so zero the parameters' gradients first.
   */
  backward(): void {
    this.tail.backward();
    for (let s = this.samples - 1; s >= 0; s--) {
      this.program.backward(s * this.slots.sampleSize);
    }
  }
}
