// Full and mini-batches on the WebAssembly SIMD backend: fixed sample slots compiled once, the loss over a batch's slots recorded on the tape.

import {
  type Tape,
  Value,
  type WasmPrecision,
  WasmStep,
} from "../engine/mod.ts";
import { l2 } from "./loss.ts";
import type { MLP } from "./mlp.ts";
import { type BatchGraph, type BatchLoss, recordSlots } from "./minibatch.ts";

/** Options for {@linkcode WasmBatchStep}. */
export interface WasmBatchOptions {
  /** The number format of the module's memory. */
  precision: WasmPrecision;
  /** L2 strength: the loss adds `alpha * Σ p²` over the model's parameters. */
  alpha: number;
  /**
   * Keep the model's parameters in the module and update them there with
   * plain SGD ({@linkcode WasmBatchStep.descend}); otherwise they stay on
   * the tape, are copied in every step and get their gradients there.
   */
  resident: boolean;
}

/**
 * A training step for batches of up to `capacity` samples on
 * {@linkcode WasmStep}. At construction it records `capacity` sample slots
 * (inputs, then the model's forward pass) and compiles them. Each batch
 * writes its samples into the first slots, runs the module over those
 * slots only, and records the loss over their outputs on the tape (replayed
 * instead while the same batch comes back, as a full batch does). The
 * backward pass runs the loss on the tape and the slots in the module.
 *
 * With resident parameters the L2 term is not on the tape: the module keeps
 * `Σ p²` current and {@linkcode WasmBatchStep.loss} adds it.
 */
export class WasmBatchStep {
  /** The most samples a batch may have. */
  readonly capacity: number;
  /** The compiled slots. */
  readonly step: WasmStep;
  /** Whether the module owns the parameters. */
  readonly resident: boolean;
  /** The last node of the slots: a Trainer anchors its tape check there. */
  readonly lastSlotNode: number;
  private readonly tape: Tape;
  private readonly nin: number;
  private readonly nout: number;
  private readonly firstSample: number;
  private readonly sampleSize: number;
  private readonly outputOffset: number;
  private readonly regStart: number;
  private readonly tailStart: number;
  private readonly reg?: Value;
  private readonly lossOf: BatchLoss;
  private readonly alpha: number;
  private lastX?: unknown;
  private lastY?: unknown;
  private samples = 0;
  private root = -1;
  private tailEnd = -1;

  /**
   * Records the slots after the tape's current end and compiles them.
   *
   * @param model The model (its parameters live on its tape).
   * @param capacity The largest batch.
   * @param nout Outputs per sample the loss reads.
   * @param loss Records the batch loss (without L2).
   * @param options Precision, L2 strength, resident parameters.
   * @throws {WasmUnsupportedError} When the backend cannot run the model
   * here (the caller rewinds the tape and falls back).
   */
  constructor(
    model: MLP,
    capacity: number,
    nout: number,
    loss: BatchLoss,
    options: WasmBatchOptions,
  ) {
    const parameters = model.parameters();
    const tape = parameters[0].tape;
    this.tape = tape;
    this.capacity = capacity;
    this.nin = model.nin;
    this.nout = nout;
    this.lossOf = loss;
    this.alpha = options.alpha;
    this.resident = options.resident;
    const slots = recordSlots(model, capacity);
    this.firstSample = slots.first;
    this.sampleSize = slots.sampleSize;
    this.outputOffset = slots.outputOffset;
    this.lastSlotNode = tape.size - 1;
    this.regStart = tape.size;
    if (options.alpha > 0 && !options.resident) {
      this.reg = l2(parameters, options.alpha);
    }
    this.tailStart = tape.size;
    // The slots (and L2) serve every step: no Value backward() may release
    // them.
    tape.keep();
    this.step = new WasmStep(tape, {
      firstSample: slots.first,
      sampleSize: this.sampleSize,
      samples: capacity,
      root: this.lastSlotNode,
    }, {
      precision: options.precision,
      outputs: Array.from({ length: nout }, (_, k) => slots.outputOffset + k),
      parameters: options.resident
        ? { start: model.parameterStart, count: model.parameterCount }
        : undefined,
    });
  }

  /**
   * Runs the forward pass of a batch and records (or replays) its loss.
   *
   * @param x The batch's features, at most `capacity` rows.
   * @param y The batch's labels.
   * @returns Where the batch's graph lies.
   */
  forward(x: readonly ArrayLike<number>[], y: readonly number[]): BatchGraph {
    const tape = this.tape, data = tape.data, nin = this.nin;
    const count = x.length;
    const outputs = new Int32Array(count);
    for (let s = 0; s < count; s++) {
      const first = this.firstSample + s * this.sampleSize;
      const row = x[s];
      for (let k = 0; k < nin; k++) data[first + k] = row[k];
      outputs[s] = first + this.outputOffset;
    }
    this.step.forwardSamples(count);
    if (x === this.lastX && y === this.lastY && count === this.samples) {
      tape.replay(this.regStart, this.tailEnd);
    } else {
      if (this.reg) tape.replay(this.regStart, this.tailStart);
      tape.rewind(this.tailStart);
      const rows: Value[][] = [];
      for (let s = 0; s < count; s++) {
        const row: Value[] = [];
        for (let k = 0; k < this.nout; k++) {
          row.push(Value.at(tape, outputs[s] + k));
        }
        rows.push(row);
      }
      const loss = this.lossOf(rows, y);
      this.root = (this.reg ? loss.add(this.reg) : loss).index;
      this.tailEnd = tape.size;
      this.lastX = x;
      this.lastY = y;
    }
    this.samples = count;
    return { root: this.root, outputs, labels: y };
  }

  /** The last batch's loss, L2 included. */
  get loss(): number {
    const tail = this.tape.data[this.root];
    return this.resident ? tail + this.alpha * this.step.squaredNorm() : tail;
  }

  /**
   * Backpropagates the last batch's loss. Parameter gradients go to the
   * tape (accumulating: zero them first) or, resident, stay in the module
   * for {@linkcode WasmBatchStep.descend}.
   */
  backward(): void {
    const grad = this.tape.grad;
    for (let s = 0; s < this.samples; s++) {
      const o = this.firstSample + s * this.sampleSize + this.outputOffset;
      for (let k = 0; k < this.nout; k++) grad[o + k] = 0;
    }
    this.tape.backward(this.root, this.regStart);
    this.step.backwardSamples(this.samples);
  }

  /**
   * Plain SGD on the resident parameters, L2 included.
   *
   * @param lr The learning rate.
   */
  descend(lr: number): void {
    this.step.descend(lr, this.alpha);
  }

  /** Copies every value of the last batch (and resident parameters) to the tape. */
  writeBack(): void {
    this.step.writeBack();
    if (this.resident) this.step.storeParameters();
  }
}
