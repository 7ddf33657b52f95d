// Full and mini-batches on the WebAssembly SIMD backend: fixed sample slots compiled once, the loss over a batch's slots on the tape (recorded once per batch size, compiled per sample where it can be).

import {
  codegenAvailable,
  type Tape,
  type WasmPrecision,
  WasmStep,
} from "../engine/mod.ts";
import { l2 } from "./loss.ts";
import type { MLP } from "./mlp.ts";
import {
  type BatchGraph,
  type BatchLoss,
  recordSlots,
  type SampleSlots,
} from "./minibatch.ts";
import { LossTail } from "./_loss_tail.ts";

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
 * slots only, and runs the loss over their outputs on the tape: recorded
 * once per batch size and compiled per sample where code generation is
 * allowed, as the compiled mini-batch step does (see `LossTail`), else
 * replayed, or recorded per batch. The backward pass runs the loss on the
 * tape and the slots in the module.
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
  /** Where the sample slots are. */
  private readonly slots: SampleSlots;
  /** The regulariser (unless resident) and the loss, after the slots. */
  private readonly tail: LossTail;
  private readonly alpha: number;
  private lastX?: unknown;
  private lastY?: unknown;
  private samples = 0;

  /**
   * Records the slots after the tape's current end and compiles them.
   *
   * @param model The model (its parameters live on its tape).
   * @param capacity The largest batch.
   * @param nout Outputs per sample the loss reads.
   * @param loss Records the batch loss (without L2).
   * @param options Precision, L2 strength, resident parameters.
   * @param classes The number of classes, to record the loss once per batch
   * size (0: record it every batch).
   * @throws {WasmUnsupportedError} When the backend cannot run the model
   * here (the caller rewinds the tape and falls back).
   */
  constructor(
    model: MLP,
    capacity: number,
    nout: number,
    loss: BatchLoss,
    options: WasmBatchOptions,
    classes = 0,
  ) {
    const parameters = model.parameters();
    const tape = parameters[0].tape;
    this.tape = tape;
    this.capacity = capacity;
    this.nin = model.nin;
    this.nout = nout;
    this.alpha = options.alpha;
    this.resident = options.resident;
    const slots = recordSlots(model, capacity);
    this.slots = slots;
    this.lastSlotNode = tape.size - 1;
    this.tail = new LossTail(
      tape,
      slots,
      capacity,
      nout,
      loss,
      options.alpha > 0 && !options.resident
        ? () => l2(parameters, options.alpha)
        : undefined,
      classes,
      codegenAvailable(),
    );
    // The slots (and L2) serve every step: no Value backward() may release
    // them.
    tape.keep();
    this.step = new WasmStep(tape, {
      firstSample: slots.first,
      sampleSize: this.slots.sampleSize,
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
   * Runs the forward pass of a batch and its loss.
   *
   * @param x The batch's features, at most `capacity` rows.
   * @param y The batch's labels.
   * @returns Where the batch's graph lies.
   */
  forward(x: readonly ArrayLike<number>[], y: readonly number[]): BatchGraph {
    const data = this.tape.data, nin = this.nin;
    const count = x.length;
    const { outputs, labels } = this.tail.buffers(count);
    for (let s = 0; s < count; s++) {
      const first = this.slots.first + s * this.slots.sampleSize;
      const row = x[s];
      for (let k = 0; k < nin; k++) data[first + k] = row[k];
      outputs[s] = first + this.slots.outputOffset;
      labels[s] = y[s];
    }
    this.step.forwardSamples(count);
    const same = x === this.lastX && y === this.lastY &&
      count === this.samples;
    const root = this.tail.forward(outputs, labels, same);
    this.lastX = x;
    this.lastY = y;
    this.samples = count;
    return { root, outputs, labels: y };
  }

  /** Whether the last batch's loss ran compiled (else the interpreter). */
  get lossCompiled(): boolean {
    return this.tail.compiled;
  }

  /** The last batch's loss, L2 included. */
  get loss(): number {
    const tail = this.tape.data[this.tail.root];
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
      const o = this.slots.first + s * this.slots.sampleSize +
        this.slots.outputOffset;
      for (let k = 0; k < this.nout; k++) grad[o + k] = 0;
    }
    this.tail.backward();
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
