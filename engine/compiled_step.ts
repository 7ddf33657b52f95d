/**
 * A training step compiled per sample ({@linkcode CompiledStep}), and its
 * fused path: an optimizer's update applied in place during backward.
 *
 * @module
 */

import { checkStepLayout } from "./_step_layout.ts";
import {
  compileRange,
  type DescentBlock,
  type RangeProgram,
} from "./compile.ts";
import { Arity, dotRangeArgs, Need, Op, opArity } from "./ops.ts";
import type { Tape } from "./tape.ts";

/** Where the parts of a batched training step lie on the tape. */
export interface StepLayout {
  /** The first node of sample 0's subgraph. */
  firstSample: number;
  /** Nodes per sample; sample k starts at `firstSample + k * sampleSize`. */
  sampleSize: number;
  /** Number of samples. */
  samples: number;
  /** The loss node: after the samples (or the last node of a lone sample). */
  root: number;
}

/**
 * A training step's graph compiled per sample: one generated function for
 * sample 0's subgraph, looped over every sample, and the interpreter for the
 * few nodes after them (the batch mean, regularisation). Values and gradients
 * are bit-identical to {@linkcode Tape.replay} plus {@linkcode Tape.backward}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompiledStep, Op, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(0.5);
 * const first = tape.size;
 * const terms = [1, 2, 3].map((x) => tape.binary(Op.Mul, w, tape.leaf(x, false)));
 * const root = tape.sum(terms);
 * const step = new CompiledStep(tape, { firstSample: first, sampleSize: 2, samples: 3, root });
 * step.forward();
 * tape.grad[w] = 0;
 * step.backward();
 * assert.equal(tape.data[root], 3);
 * assert.equal(tape.grad[w], 6);
 * ```
 */
export class CompiledStep {
  /** The tape the step runs on. */
  readonly tape: Tape;
  /** Where the samples and the loss lie. */
  readonly layout: StepLayout;
  /** The per-sample program. */
  readonly program: RangeProgram;
  /** The leaves updated in place by {@linkcode CompiledStep.backwardAndDescend}. */
  readonly descent?: DescentBlock;
  private readonly tailStart: number;

  /**
   * Checks that every sample repeats sample 0's structure and compiles it.
   *
   * @param tape The tape holding the recorded step.
   * @param layout Where the samples and the loss lie.
   * @param options `descent`: leaves to update in place during backward
   * (see {@linkcode CompiledStep.backwardAndDescend}).
   * @throws {RangeError} When the layout does not fit the tape, the samples
   * differ in structure, or the descent block is not valid for this step.
   */
  constructor(
    tape: Tape,
    layout: StepLayout,
    options: { descent?: DescentBlock } = {},
  ) {
    const { firstSample, sampleSize, samples, root } = layout;
    checkStepLayout(tape, layout);
    const end = firstSample + samples * sampleSize;
    const descent = options.descent;
    if (descent !== undefined) checkDescent(tape, layout, descent);
    this.tape = tape;
    this.layout = { firstSample, sampleSize, samples, root };
    this.tailStart = end;
    this.descent = descent && {
      start: descent.start,
      count: descent.count,
      update: descent.update,
    };
    this.program = compileRange(
      tape,
      firstSample,
      firstSample + sampleSize,
      this.descent,
    );
  }

  /** Recomputes every value of the step from the current leaves. */
  forward(): void {
    const { sampleSize, samples, root } = this.layout;
    for (let k = 0; k < samples; k++) this.program.forward(k * sampleSize);
    this.tape.replay(this.tailStart, root + 1);
  }

  /**
   * Backpropagates from the loss. Like {@linkcode Tape.backward}, leaf
   * gradients accumulate: zero the parameters' gradients first.
   */
  backward(): void {
    if (this.descent !== undefined) {
      throw new Error(
        "This step was compiled with a descent block; call backwardAndDescend(lr)",
      );
    }
    const { sampleSize, samples, root } = this.layout;
    this.tape.backward(root, this.tailStart);
    for (let k = samples - 1; k >= 0; k--) {
      this.program.backward(k * sampleSize);
    }
  }

  /**
   * Backpropagates from the loss and, in the same pass, applies the descent
   * block's update rule (the optimizer's, e.g. plain SGD
   * `data -= lr · gradient`) to its leaves (their gradients are not stored).
   * With `SGD`'s rule the result is bit-identical to zeroing their gradients,
   * {@linkcode CompiledStep.backward} and `SGD.step()`, with one pass over
   * the parameters instead of three.
   *
   * @param lr The learning rate.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { CompiledStep, Op, Tape } from "@tapegrad/tapegrad/engine";
   * const tape = new Tape();
   * const w = tape.leaf(0.5), b = tape.leaf(0.1);
   * const x = tape.leaf(2, false);
   * const y = tape.dotRange(w, x, 1, b); // b + w·x
   * const sgd = { emit: (p: string, g: string) => `${p} -= lr * (${g});` };
   * const step = new CompiledStep(
   *   tape,
   *   { firstSample: x, sampleSize: 2, samples: 1, root: y },
   *   { descent: { start: w, count: 2, update: sgd } },
   * );
   * step.backwardAndDescend(0.1); // dy/dw = x = 2, dy/db = 1
   * assert.equal(tape.data[w], 0.5 - 0.1 * 2);
   * assert.equal(tape.data[b], 0.1 - 0.1 * 1);
   * ```
   */
  backwardAndDescend(lr: number): void {
    if (this.descent === undefined) {
      throw new Error(
        "This step has no descent block; call backward() and update the parameters",
      );
    }
    if (typeof lr !== "number" || !Number.isFinite(lr)) {
      throw new RangeError(`Learning rate must be a finite number, got ${lr}`);
    }
    this.tape.backward(this.layout.root, this.tailStart);
    this.program.backward(0, lr);
  }
}

/**
 * Throws unless every leaf of `block` gets at most one gradient contribution
 * in the step, as the weight or bias of a dot in the (single) sample.
 */
function checkDescent(tape: Tape, layout: StepLayout, block: DescentBlock) {
  const { start, count, update } = block;
  const fail = (why: string) => {
    throw new RangeError(
      `Cannot descend in place on nodes [${start}, ${start + count}): ${why}`,
    );
  };
  if (
    !Number.isInteger(start) || !Number.isInteger(count) || start < 0 ||
    count < 1 || start + count > tape.size
  ) {
    fail("the block must be a non-empty range of the tape");
  }
  if (typeof update?.emit !== "function") {
    fail("the block needs an update rule from the optimizer (update.emit)");
  }
  if (layout.samples !== 1) {
    fail(`the step has ${layout.samples} samples sharing them, not 1`);
  }
  for (let j = start; j < start + count; j++) {
    if (tape.op[j] !== Op.Leaf || tape.needsGrad[j] !== 1) {
      fail(`node ${j} is not a leaf that needs a gradient`);
    }
  }
  const sampleEnd = layout.firstSample + layout.sampleSize;
  const uses = new Uint8Array(count);
  for (let i = layout.firstSample; i <= layout.root; i++) {
    if (opArity(tape.op[i]) === Arity.Leaf || tape.needsGrad[i] === 0) {
      continue;
    }
    const dot = tape.op[i] === Op.DotRange
      ? dotRangeArgs(tape.pool, tape.arg0[i])
      : undefined;
    for (const j of tape.inputsOf(i)) {
      if (j < start || j >= start + count) continue;
      const n = tape.arg1[i];
      const asWeight = dot !== undefined && j >= dot.weightStart &&
        j < dot.weightStart + n && dot.weightNeed === Need.All;
      const asBias = dot !== undefined && j === dot.bias;
      if (i >= sampleEnd || !(asWeight || asBias)) {
        fail(
          `node ${j} is used by node ${i} (${
            tape.op[i] === Op.DotRange ? "as a dot input" : "not a dot"
          })`,
        );
      }
      if (++uses[j - start] > 1) fail(`node ${j} gets more than one gradient`);
    }
  }
}
