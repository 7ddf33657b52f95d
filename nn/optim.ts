// Optimizers (SGD, Adam, AdamW) that update parameters in place on the tape's typed arrays.

import { type DescentRule, type Tape, Value } from "../engine/mod.ts";
import { show, type ShowOptions } from "./_show.ts";

/** Optimizer messages name a stray Value (`got a Value`), not just `an object`. */
const NAMED_VALUES: ShowOptions = { value: true };

/**
 * What every optimizer shares: the parameters, resolved once to tape node
 * indices, a settable learning rate, a step counter and `zeroGrad()`.
 *
 * A subclass implements {@linkcode Optimizer.update}: one loop over
 * {@linkcode Optimizer.indices} that reads gradients from `grad` and writes
 * new values into `data`, keeping its per-parameter state in typed arrays
 * indexed like `indices`.
 *
 * @example A custom optimizer: sign descent
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { Optimizer } from "@tapegrad/tapegrad";
 *
 * class SignDescent extends Optimizer {
 *   constructor(parameters: Value[], lr: number) {
 *     super("SignDescent", parameters, lr);
 *   }
 *   protected override update(data: Float64Array, grad: Float64Array, lr: number): void {
 *     for (const i of this.indices) data[i] -= lr * Math.sign(grad[i]);
 *   }
 * }
 *
 * const w = new Value(1);
 * const opt = new SignDescent([w], 0.25);
 * w.mul(w).backward();
 * opt.step();
 * assert.equal(w.data, 0.75);
 * ```
 */
export abstract class Optimizer {
  /**
   * The parameters this optimizer updates, in the order given (a frozen copy).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { SGD } from "@tapegrad/tapegrad";
   * const a = new Value(1), b = new Value(2);
   * const opt = new SGD([a, b]);
   * assert.deepEqual(opt.parameters, [a, b]);
   * ```
   */
  readonly parameters: readonly Value[];
  /** Each parameter's node index on the parameters' tape, in order. */
  protected readonly indices: Int32Array;
  readonly #tape: Tape;
  readonly #name: string;
  // The generation each parameter was created in, to detect stale handles.
  readonly #born: Uint32Array;
  // The tape generation at which every parameter was last seen live.
  #checkedGeneration: number;
  // The parameter with the largest node index: a rewind that drops any
  // parameter drops this one (a rewind drops a suffix of the tape).
  #last = 0;
  /** The first node index when the parameters are contiguous on the tape, else -1. */
  protected readonly contiguousStart: number;
  #lr: number;
  #stepCount = 0;

  /**
   * Validates the parameters and the learning rate and resolves the
   * parameters to node indices.
   *
   * @param name The optimizer's name, used in error messages.
   * @param parameters Live leaf Values on one tape, each at most once.
   * @param lr The learning rate: a finite number >= 0.
   * @throws {TypeError} If `parameters` is not an array of Values or `lr`
   * not a number.
   * @throws {RangeError} If `parameters` is empty, spans two tapes, repeats a
   * Value or holds a non-leaf or stale Value, or if `lr` is negative or not
   * finite.
   */
  protected constructor(
    name: string,
    parameters: readonly Value[],
    lr: number,
  ) {
    this.#name = name;
    this.#lr = nonNegative(`${name} lr`, lr);
    if (!Array.isArray(parameters)) {
      throw new TypeError(
        `${name} parameters must be a non-empty array of Values, got ${
          show(parameters, NAMED_VALUES)
        }`,
      );
    }
    if (parameters.length === 0) {
      throw new RangeError(
        `${name} parameters must be a non-empty array of Values, got an empty array`,
      );
    }
    const n = parameters.length;
    const indices = new Int32Array(n);
    const born = new Uint32Array(n);
    const seen = new Map<number, number>();
    let tape: Tape | undefined;
    for (let k = 0; k < n; k++) {
      const p: unknown = parameters[k];
      if (!(p instanceof Value)) {
        throw new TypeError(
          `${name} parameters[${k}] must be a Value, got ${
            show(p, NAMED_VALUES)
          }`,
        );
      }
      if (tape === undefined) tape = p.tape;
      else if (p.tape !== tape) {
        throw new RangeError(
          `${name} parameters must all be on one tape; parameters[${k}] is on a different tape than parameters[0]`,
        );
      }
      if (!tape.isLive(p.index, p.generation)) {
        throw new RangeError(staleMessage(name, k, p.index));
      }
      if (p.op !== "leaf") {
        throw new RangeError(
          `${name} parameters[${k}] must be a leaf Value, got a "${p.op}" node`,
        );
      }
      const first = seen.get(p.index);
      if (first !== undefined) {
        throw new RangeError(
          `${name} parameters must be distinct; parameters[${k}] repeats parameters[${first}]`,
        );
      }
      seen.set(p.index, k);
      indices[k] = p.index;
      born[k] = p.generation;
    }
    this.#tape = tape as Tape;
    this.indices = indices;
    this.#born = born;
    let contiguous = true;
    for (let k = 0; k < n; k++) {
      if (indices[k] > indices[this.#last]) this.#last = k;
      if (indices[k] !== indices[0] + k) contiguous = false;
    }
    this.contiguousStart = contiguous ? indices[0] : -1;
    this.#checkedGeneration = this.#tape.generation;
    this.parameters = Object.freeze(parameters.slice());
  }

  /**
   * The learning rate used by the next {@linkcode Optimizer.step}. Set it
   * between steps to follow a schedule.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { SGD } from "@tapegrad/tapegrad";
   * const opt = new SGD([new Value(1)], { lr: 0.1 });
   * opt.lr = 0.05;
   * assert.equal(opt.lr, 0.05);
   * ```
   */
  get lr(): number {
    return this.#lr;
  }

  /**
   * Sets the learning rate.
   *
   * @param value A finite number >= 0.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is negative or not finite.
   */
  set lr(value: number) {
    this.#lr = nonNegative(`${this.#name} lr`, value);
  }

  /**
   * How many times {@linkcode Optimizer.step} has run.
   *
   * @returns The number of steps taken, 0 before the first.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { SGD } from "@tapegrad/tapegrad";
   * const opt = new SGD([new Value(1)]);
   * opt.step();
   * opt.step();
   * assert.equal(opt.stepCount, 2);
   * ```
   */
  get stepCount(): number {
    return this.#stepCount;
  }

  /**
   * Updates every parameter in place from its current gradient. Allocates
   * nothing.
   *
   * @throws {RangeError} If a parameter was dropped by `tape.rewind()`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { SGD } from "@tapegrad/tapegrad";
   * const w = new Value(3);
   * const opt = new SGD([w], { lr: 0.5 });
   * w.mul(2).backward(); // d(2w)/dw = 2
   * opt.step();
   * assert.equal(w.data, 2);
   * ```
   */
  step(): void {
    this.#checkLive();
    this.#stepCount++;
    // Read the arrays now: the tape replaces them when it grows.
    this.update(this.#tape.data, this.#tape.grad, this.#lr, this.#stepCount);
  }

  /**
   * Sets every parameter's gradient to 0, ready for the next `backward()`
   * (leaf gradients accumulate across backward passes).
   *
   * @throws {RangeError} If a parameter was dropped by `tape.rewind()`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { SGD } from "@tapegrad/tapegrad";
   * const w = new Value(3);
   * const opt = new SGD([w]);
   * w.mul(w).backward();
   * assert.equal(w.grad, 6);
   * opt.zeroGrad();
   * assert.equal(w.grad, 0);
   * ```
   */
  zeroGrad(): void {
    this.#checkLive();
    const grad = this.#tape.grad, indices = this.indices;
    const start = this.contiguousStart;
    if (start >= 0) grad.fill(0, start, start + indices.length);
    else for (let k = 0; k < indices.length; k++) grad[indices[k]] = 0;
  }

  /**
   * Applies one update to every parameter: called by
   * {@linkcode Optimizer.step}, which has already counted the step.
   *
   * @param data The tape's node values; write the new parameters here.
   * @param grad The tape's node gradients.
   * @param lr The learning rate for this step.
   * @param t The step number, 1 on the first step.
   */
  protected abstract update(
    data: Float64Array,
    grad: Float64Array,
    lr: number,
    t: number,
  ): void;

  // A rewind bumps the tape's generation, so the per-parameter check only
  // runs after one.
  #checkLive(): void {
    const tape = this.#tape;
    if (tape.generation === this.#checkedGeneration) return;
    const indices = this.indices, born = this.#born, last = this.#last;
    if (tape.isLive(indices[last], born[last])) {
      this.#checkedGeneration = tape.generation;
      return;
    }
    for (let k = 0; k < indices.length; k++) {
      if (!tape.isLive(indices[k], born[k])) {
        throw new RangeError(staleMessage(this.#name, k, indices[k]));
      }
    }
  }
}

/**
 * Options of {@linkcode SGD}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { SGD, type SGDOptions } from "@tapegrad/tapegrad";
 * const options: SGDOptions = { lr: 0.1, momentum: 0.9, nesterov: true };
 * assert.equal(new SGD([new Value(1)], options).nesterov, true);
 * ```
 */
export interface SGDOptions {
  /** Learning rate, a finite number >= 0; defaults to 0.01. */
  lr?: number;
  /** Momentum factor, a finite number >= 0; defaults to 0 (no momentum). */
  momentum?: number;
  /** Whether to use Nesterov momentum (needs `momentum > 0`); defaults to `false`. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (`g + weightDecay·p`), a finite number >= 0; defaults to 0. */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and
 * weight decay, as PyTorch's `torch.optim.SGD` (without dampening). Each step,
 * for each parameter `p` with gradient `g`:
 *
 * ```text
 * g = g + weightDecay·p
 * if momentum > 0:
 *   buf = momentum·buf + g          (buf = g on the first step)
 *   g = nesterov ? g + momentum·buf : buf
 * p = p - lr·g
 * ```
 *
 * @example micrograd's training loop on a one-parameter problem
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tape, Value } from "@tapegrad/tapegrad";
 * import { SGD } from "@tapegrad/tapegrad";
 *
 * const tape = new Tape();
 * const w = new Value(0, { tape });
 * const opt = new SGD([w], { lr: 0.1, momentum: 0.5 });
 * const mark = tape.mark();
 * for (let k = 0; k < 100; k++) {
 *   const loss = w.sub(3).pow(2);
 *   opt.zeroGrad();
 *   loss.backward();
 *   opt.step();
 *   tape.rewind(mark); // constant memory: drop this step's graph
 * }
 * assert.ok(Math.abs(w.data - 3) < 1e-6);
 * ```
 */
export class SGD extends Optimizer {
  /**
   * The momentum factor (0 for plain gradient descent).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { SGD } from "@tapegrad/tapegrad";
   * assert.equal(new SGD([new Value(1)], { momentum: 0.9 }).momentum, 0.9);
   * ```
   */
  readonly momentum: number;
  /**
   * Whether the update uses Nesterov momentum.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { SGD } from "@tapegrad/tapegrad";
   * const opt = new SGD([new Value(1)], { momentum: 0.9, nesterov: true });
   * assert.equal(opt.nesterov, true);
   * ```
   */
  readonly nesterov: boolean;
  /**
   * The L2 penalty added to each gradient.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { SGD } from "@tapegrad/tapegrad";
   * assert.equal(new SGD([new Value(1)]).weightDecay, 0);
   * ```
   */
  readonly weightDecay: number;
  // The momentum buffer of each parameter, indexed like `indices`.
  readonly #buffer: Float64Array;

  /**
   * Creates the optimizer.
   *
   * @param parameters Live leaf Values on one tape, each at most once.
   * @param options Learning rate, momentum, Nesterov and weight decay.
   * @throws {TypeError} If `parameters` is not an array of Values, `options`
   * not an object, an option unknown or of the wrong type.
   * @throws {RangeError} If `parameters` is empty, spans two tapes, repeats a
   * Value or holds a non-leaf or stale Value, if a number is negative or not
   * finite, or if `nesterov` is set without momentum.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { SGD } from "@tapegrad/tapegrad";
   * const opt = new SGD([new Value(1)], { lr: 0.1, weightDecay: 1e-4 });
   * assert.equal(opt.lr, 0.1);
   * ```
   */
  constructor(parameters: readonly Value[], options: SGDOptions = {}) {
    checkOptions("SGD", options, SGD_OPTIONS);
    const {
      lr = 0.01,
      momentum = 0,
      nesterov = false,
      weightDecay = 0,
    } = options;
    super("SGD", parameters, lr);
    this.momentum = nonNegative("SGD momentum", momentum);
    if (typeof nesterov !== "boolean") {
      throw new TypeError(
        `SGD nesterov must be true or false, got ${
          show(nesterov, NAMED_VALUES)
        }`,
      );
    }
    if (nesterov && this.momentum === 0) {
      throw new RangeError("SGD nesterov needs momentum > 0, got momentum 0");
    }
    this.nesterov = nesterov;
    this.weightDecay = nonNegative("SGD weightDecay", weightDecay);
    // Starting at 0 makes the first step's buffer exactly g, as in torch.
    this.#buffer = new Float64Array(this.indices.length);
  }

  /**
   * The update a compiled step may apply in place during backward
   * (`CompiledStep`'s descent block): plain SGD's rule, the very one
   * {@linkcode SGD.step} runs, or `undefined` with momentum or weight decay,
   * whose updates need more than the gradient. An engine detail between
   * the optimizer and {@linkcode fit}, left out of the generated docs.
   *
   * @ignore
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { SGD } from "@tapegrad/tapegrad";
   * const plain = new SGD([new Value(1)]);
   * assert.equal(plain.descentRule?.emit("p", "g"), "p -= lr * (g);");
   * assert.equal(new SGD([new Value(1)], { momentum: 0.9 }).descentRule, undefined);
   * ```
   */
  get descentRule(): DescentRule | undefined {
    return this.momentum === 0 && this.weightDecay === 0
      ? PLAIN_SGD
      : undefined;
  }

  /**
   * One SGD update of every parameter.
   *
   * @param data The tape's node values.
   * @param grad The tape's node gradients.
   * @param lr The learning rate.
   */
  protected override update(
    data: Float64Array,
    grad: Float64Array,
    lr: number,
  ): void {
    const indices = this.indices, buffer = this.#buffer;
    const momentum = this.momentum, nesterov = this.nesterov;
    const weightDecay = this.weightDecay;
    const start = this.contiguousStart;
    if (start >= 0 && momentum === 0 && weightDecay === 0) {
      // Plain SGD over a contiguous block (a model's parameters): the hot
      // case. Same statement as PLAIN_SGD emits for compiled steps.
      const end = start + indices.length;
      for (let i = start; i < end; i++) data[i] -= lr * grad[i];
      return;
    }
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      let g = grad[i];
      if (weightDecay !== 0) g += weightDecay * data[i];
      if (momentum !== 0) {
        const b = momentum * buffer[k] + g;
        buffer[k] = b;
        g = nesterov ? g + momentum * b : b;
      }
      data[i] -= lr * g;
    }
  }
}

// Plain SGD, p ← p − lr·g, as compiled code: CompiledStep applies it in
// place during backward when the trainer fuses the update. It must stay the
// statement of the loops in SGD#update (optim_test checks bit-identity).
const PLAIN_SGD: DescentRule = {
  emit: (param, grad) => `${param} -= lr * (${grad});`,
};

/**
 * Options of {@linkcode Adam}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { Adam, type AdamOptions } from "@tapegrad/tapegrad";
 * const options: AdamOptions = { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6 };
 * assert.deepEqual(new Adam([new Value(1)], options).betas, [0.8, 0.99]);
 * ```
 */
export interface AdamOptions {
  /** Learning rate, a finite number >= 0; defaults to 0.001. */
  lr?: number;
  /**
   * Decay rates of the first and second moment estimates, each in [0, 1);
   * defaults to `[0.9, 0.999]`.
   */
  betas?: readonly [number, number];
  /** Added to the denominator for numerical stability, a finite number >= 0; defaults to 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient (`g + weightDecay·p`), a finite number >= 0; defaults to 0. */
  weightDecay?: number;
}

/**
 * Options of {@linkcode AdamW}: those of {@linkcode AdamOptions}, but
 * `weightDecay` is the decoupled decay rate and defaults to 0.01.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { AdamW, type AdamWOptions } from "@tapegrad/tapegrad";
 * const options: AdamWOptions = { lr: 0.01, weightDecay: 0.1 };
 * assert.equal(new AdamW([new Value(1)], options).weightDecay, 0.1);
 * ```
 */
export type AdamWOptions = AdamOptions;

/**
 * Adam (Kingma and Ba), as PyTorch's `torch.optim.Adam`: weight decay is an
 * L2 penalty added to the gradient. Each step `t` (from 1), for each
 * parameter `p` with gradient `g`:
 *
 * ```text
 * g = g + weightDecay·p
 * m = β1·m + (1 - β1)·g
 * v = β2·v + (1 - β2)·g²
 * p = p - lr · (m / (1 - β1^t)) / (√(v / (1 - β2^t)) + eps)
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tape, Value } from "@tapegrad/tapegrad";
 * import { Adam } from "@tapegrad/tapegrad";
 *
 * const tape = new Tape();
 * const w = new Value(0, { tape });
 * const opt = new Adam([w], { lr: 0.1 });
 * const mark = tape.mark();
 * for (let k = 0; k < 300; k++) {
 *   const loss = w.sub(3).pow(2);
 *   opt.zeroGrad();
 *   loss.backward();
 *   opt.step();
 *   tape.rewind(mark);
 * }
 * assert.ok(Math.abs(w.data - 3) < 1e-3);
 * ```
 */
export class Adam extends Optimizer {
  /**
   * Decay rates of the first and second moment estimates.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { Adam } from "@tapegrad/tapegrad";
   * assert.deepEqual(new Adam([new Value(1)]).betas, [0.9, 0.999]);
   * ```
   */
  readonly betas: readonly [number, number];
  /**
   * The term added to the denominator for numerical stability.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { Adam } from "@tapegrad/tapegrad";
   * assert.equal(new Adam([new Value(1)]).eps, 1e-8);
   * ```
   */
  readonly eps: number;
  /**
   * The weight decay rate: for Adam an L2 penalty added to each gradient;
   * for AdamW decoupled, each step multiplying every parameter by
   * `1 - lr·weightDecay`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { Adam } from "@tapegrad/tapegrad";
   * assert.equal(new Adam([new Value(1)], { weightDecay: 0.1 }).weightDecay, 0.1);
   * ```
   */
  readonly weightDecay: number;
  // First and second moment estimates, indexed like `indices`.
  readonly #m: Float64Array;
  readonly #v: Float64Array;
  readonly #decoupled: boolean;
  /** The name used in error messages. */
  protected static readonly title: string = "Adam";
  /** The `weightDecay` used when none is given. */
  protected static readonly defaultWeightDecay: number = 0;
  /** Whether weight decay is decoupled from the gradient (AdamW). */
  protected static readonly decoupled: boolean = false;

  /**
   * Creates the optimizer.
   *
   * @param parameters Live leaf Values on one tape, each at most once.
   * @param options Learning rate, betas, eps and weight decay.
   * @throws {TypeError} If `parameters` is not an array of Values, `options`
   * not an object, an option unknown or of the wrong type.
   * @throws {RangeError} If `parameters` is empty, spans two tapes, repeats a
   * Value or holds a non-leaf or stale Value, if a number is negative or not
   * finite, or a beta outside [0, 1).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { Adam } from "@tapegrad/tapegrad";
   * const opt = new Adam([new Value(1)], { lr: 0.01, betas: [0.8, 0.99] });
   * assert.equal(opt.lr, 0.01);
   * ```
   */
  constructor(parameters: readonly Value[], options: AdamOptions = {}) {
    // AdamW reuses this class; its static settings pick its name, default
    // decay and decoupled update.
    const kind = new.target as typeof Adam;
    const resolved = adamOptions(kind.title, options, kind.defaultWeightDecay);
    super(kind.title, parameters, resolved.lr);
    this.#decoupled = kind.decoupled;
    this.betas = resolved.betas;
    this.eps = resolved.eps;
    this.weightDecay = resolved.weightDecay;
    this.#m = new Float64Array(this.indices.length);
    this.#v = new Float64Array(this.indices.length);
  }

  /**
   * One Adam update of every parameter.
   *
   * @param data The tape's node values.
   * @param grad The tape's node gradients.
   * @param lr The learning rate.
   * @param t The step number, from 1.
   */
  protected override update(
    data: Float64Array,
    grad: Float64Array,
    lr: number,
    t: number,
  ): void {
    adamUpdate(
      data,
      grad,
      this.indices,
      this.#m,
      this.#v,
      lr,
      this.betas[0],
      this.betas[1],
      this.eps,
      this.weightDecay,
      this.#decoupled,
      t,
    );
  }
}

/**
 * AdamW (Loshchilov and Hutter), as PyTorch's `torch.optim.AdamW`: Adam with
 * decoupled weight decay. Each step first shrinks every parameter, whatever
 * its gradient, then applies the Adam update with the raw gradient:
 *
 * ```text
 * p = p - lr·weightDecay·p
 * m = β1·m + (1 - β1)·g
 * v = β2·v + (1 - β2)·g²
 * p = p - lr · (m / (1 - β1^t)) / (√(v / (1 - β2^t)) + eps)
 * ```
 *
 * @example A parameter with no gradient still decays
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { AdamW } from "@tapegrad/tapegrad";
 * const unused = new Value(2);
 * const opt = new AdamW([unused], { lr: 0.1, weightDecay: 0.5 });
 * opt.step();
 * assert.ok(Math.abs(unused.data - 2 * (1 - 0.1 * 0.5)) < 1e-15);
 * ```
 */
export class AdamW extends Adam {
  /** The name used in error messages. */
  protected static override readonly title: string = "AdamW";
  /** The `weightDecay` used when none is given: 0.01, as PyTorch. */
  protected static override readonly defaultWeightDecay: number = 0.01;
  /** Weight decay is decoupled from the gradient. */
  protected static override readonly decoupled: boolean = true;
}

/** The Adam and AdamW update loop; `decoupled` picks AdamW's weight decay. */
function adamUpdate(
  data: Float64Array,
  grad: Float64Array,
  indices: Int32Array,
  m: Float64Array,
  v: Float64Array,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay: number,
  decoupled: boolean,
  t: number,
): void {
  const correction1 = 1 - beta1 ** t, correction2 = 1 - beta2 ** t;
  const l2 = decoupled ? 0 : weightDecay;
  // torch's AdamW scales by (1 - lr·wd) rather than subtracting lr·wd·p.
  const shrink = decoupled ? 1 - lr * weightDecay : 1;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    const p = data[i] * shrink;
    let g = grad[i];
    if (l2 !== 0) g += l2 * data[i];
    const mk = beta1 * m[k] + (1 - beta1) * g;
    const vk = beta2 * v[k] + (1 - beta2) * g * g;
    m[k] = mk;
    v[k] = vk;
    data[i] = p - lr * (mk / correction1) / (Math.sqrt(vk / correction2) + eps);
  }
}

const SGD_OPTIONS: readonly string[] = [
  "lr",
  "momentum",
  "nesterov",
  "weightDecay",
];
const ADAM_OPTIONS: readonly string[] = ["lr", "betas", "eps", "weightDecay"];

/** Adam's options with defaults filled in and every value checked. */
interface ResolvedAdamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
}

function adamOptions(
  name: string,
  options: AdamOptions,
  defaultWeightDecay: number,
): ResolvedAdamOptions {
  checkOptions(name, options, ADAM_OPTIONS);
  const {
    lr = 0.001,
    betas = [0.9, 0.999],
    eps = 1e-8,
    weightDecay = defaultWeightDecay,
  } = options;
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new TypeError(
      `${name} betas must be an array of two numbers in [0, 1), got ${
        show(betas, NAMED_VALUES)
      }`,
    );
  }
  for (let k = 0; k < 2; k++) {
    const beta: unknown = betas[k];
    const message = `${name} betas[${k}] must be a number in [0, 1), got ${
      show(beta, NAMED_VALUES)
    }`;
    if (typeof beta !== "number") throw new TypeError(message);
    if (!(beta >= 0 && beta < 1)) throw new RangeError(message);
  }
  return {
    lr,
    betas: Object.freeze([betas[0], betas[1]] as const),
    eps: nonNegative(`${name} eps`, eps),
    weightDecay: nonNegative(`${name} weightDecay`, weightDecay),
  };
}

/** Rejects a non-object `options` and, to catch typos, unknown keys. */
function checkOptions(
  name: string,
  options: unknown,
  accepted: readonly string[],
): void {
  if (
    typeof options !== "object" || options === null || Array.isArray(options)
  ) {
    throw new TypeError(
      `${name} options must be an object, got ${show(options, NAMED_VALUES)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!accepted.includes(key)) {
      throw new TypeError(
        `Unknown ${name} option ${JSON.stringify(key)}; accepted: ${
          accepted.join(", ")
        }`,
      );
    }
  }
}

/** Returns `value` if it is a finite number >= 0; throws otherwise. */
function nonNegative(what: string, value: unknown): number {
  const message = `${what} must be a finite number >= 0, got ${
    show(value, NAMED_VALUES)
  }`;
  if (typeof value !== "number") throw new TypeError(message);
  if (!(value >= 0 && value < Infinity)) throw new RangeError(message);
  return value;
}

function staleMessage(name: string, k: number, index: number): string {
  return `${name} parameters[${k}] is stale: node ${index} was dropped by tape.rewind(); create parameters before the mark you rewind to`;
}

/**
 * The optimizers {@linkcode optimizerByName} creates, by name: what `fit`
 * accepts and the CLI and the playground offer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPTIMIZER_NAMES } from "@tapegrad/tapegrad";
 * assert.equal(OPTIMIZER_NAMES.join("|"), "sgd|adam|adamw");
 * ```
 */
export const OPTIMIZER_NAMES: readonly ["sgd", "adam", "adamw"] = Object
  .freeze(["sgd", "adam", "adamw"] as const);

/**
 * An optimizer name: `"sgd"`, `"adam"` or `"adamw"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LR, type OptimizerName } from "@tapegrad/tapegrad/nn";
 * const name: OptimizerName = "adam";
 * assert.equal(DEFAULT_LR[name], 0.01);
 * ```
 */
export type OptimizerName = typeof OPTIMIZER_NAMES[number];

/**
 * The learning rate an optimizer created by name starts from when none is
 * given: 1.0 for SGD (micrograd's demo), 0.01 for Adam and AdamW.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LR } from "@tapegrad/tapegrad/nn";
 * assert.deepEqual(DEFAULT_LR, { sgd: 1, adam: 0.01, adamw: 0.01 });
 * ```
 */
export const DEFAULT_LR: Readonly<Record<OptimizerName, number>> = Object
  .freeze({ sgd: 1.0, adam: 0.01, adamw: 0.01 });

/**
 * An optimizer created by name with its default options and `lr` (default
 * {@linkcode DEFAULT_LR}).
 *
 * @param name `"sgd"`, `"adam"` or `"adamw"`.
 * @param parameters The Values to update.
 * @param lr The learning rate (default: the optimizer's).
 * @returns The optimizer.
 * @throws {RangeError} If `name` is not an optimizer name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { optimizerByName, SGD } from "@tapegrad/tapegrad";
 * const opt = optimizerByName("sgd", [new Value(1)]);
 * assert.ok(opt instanceof SGD);
 * assert.equal(opt.lr, 1);
 * assert.throws(() => optimizerByName("rmsprop" as "sgd", []), {
 *   name: "RangeError",
 *   message: 'Unknown optimizer "rmsprop"; expected one of sgd, adam, adamw',
 * });
 * ```
 */
export function optimizerByName(
  name: OptimizerName,
  parameters: readonly Value[],
  lr?: number,
): Optimizer {
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(
      `Unknown optimizer ${JSON.stringify(name)}; expected one of ${
        OPTIMIZER_NAMES.join(", ")
      }`,
    );
  }
  const options = { lr: lr ?? DEFAULT_LR[name] };
  if (name === "sgd") return new SGD(parameters, options);
  if (name === "adam") return new Adam(parameters, options);
  return new AdamW(parameters, options);
}
