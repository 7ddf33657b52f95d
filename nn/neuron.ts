/**
 * Neuron: `activation(b + Σ wᵢxᵢ)` recorded as one fused dot node plus one
 * activation node, with its weights and bias stored contiguously on the tape.
 *
 * @module
 */

import { noGrad, type Tape, Value } from "../engine/mod.ts";
import {
  type Activation,
  activationName,
  activationOp,
  parseActivation,
} from "./activation.ts";
import {
  type Init,
  initialWeight,
  parseInit,
  type RandomOptions,
  rngFrom,
} from "./init.ts";
import { ContiguousModule, type ContiguousModuleOptions } from "./module.ts";

/** Options for {@linkcode Neuron}. */
export interface NeuronOptions extends RandomOptions, ContiguousModuleOptions {
  /** The non-linearity (default `"relu"`, as micrograd's `nonlin=True`). */
  activation?: Activation;
  /** How the weights are drawn (default `"uniform"`); the bias starts at 0. */
  init?: Init;
  /**
   * Neurons in the enclosing layer, for `"xavier"` init (default 1; `Layer`
   * sets it).
   */
  fanOut?: number;
}

/**
 * One neuron: `activation(b + Σ wᵢxᵢ)`, with the sum in micrograd's order.
 * Its `nin` weights and then its bias are consecutive leaves on the tape; a
 * forward pass records one dot node and (unless linear) one activation node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tape } from "@tapegrad/tapegrad";
 * import { Neuron } from "@tapegrad/tapegrad";
 * const n = new Neuron(2, { activation: "tanh", tape: new Tape() });
 * n.w[0].data = 0.5;
 * n.w[1].data = -1;
 * n.b.data = 0.25;
 * const y = n.forward([2, 1]);
 * assert.equal(y.data, Math.tanh(0.25 + 1 - 1));
 * y.backward();
 * assert.equal(n.w[0].grad, 2 * (1 - y.data ** 2));
 * assert.equal(String(n), "TanhNeuron(2)");
 * ```
 */
export class Neuron extends ContiguousModule {
  /** The non-linearity applied after the dot product. */
  readonly activation: Activation;
  /** Tape index of the first weight; weight `k` is at `weightStart + k`. */
  readonly weightStart: number;
  /** Tape index of the bias: `weightStart + nin`. */
  readonly biasIndex: number;
  readonly #op: number;

  /**
   * Creates a neuron and records its parameters on the tape: `nin` weights
   * drawn by `init`, then a bias of 0.
   *
   * @param nin Number of inputs, a positive integer.
   * @param options Activation, init, random source and tape.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Neuron } from "@tapegrad/tapegrad";
   * const n = new Neuron(3, { activation: "linear", seed: 7 });
   * assert.equal(n.biasIndex, n.weightStart + 3);
   * assert.equal(n.b.data, 0);
   * assert.ok(n.w.every((w) => w.data >= -1 && w.data < 1));
   * ```
   *
   * @throws {TypeError} If an option has the wrong type or names an unknown
   * activation or init, or both `rng` and `seed` are given.
   * @throws {RangeError} If `nin` or `fanOut` is not a positive integer, or
   * `seed` not a safe integer.
   */
  constructor(nin: number, options: NeuronOptions = {}) {
    super("Neuron", nin, options);
    const activation = parseActivation(
      options.activation ?? "relu",
      "Neuron activation",
    );
    const init = parseInit(options.init ?? "uniform", "Neuron init");
    const fanOut = options.fanOut ?? 1;
    ContiguousModule.checkPositiveInteger(fanOut, "Neuron fanOut");
    const rng = rngFrom(options, "Neuron");
    const tape = this.tape;
    const weightStart = tape.size;
    for (let k = 0; k < nin; k++) {
      tape.leaf(initialWeight(init, rng, nin, fanOut));
    }
    this.biasIndex = tape.leaf(0);
    this.weightStart = weightStart;
    this.activation = activation;
    this.#op = activationOp(activation);
    this.adopt(weightStart, nin + 1);
  }

  /**
   * The weights, as Values (micrograd's `n.w`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Neuron } from "@tapegrad/tapegrad";
   * assert.equal(new Neuron(4).w.length, 4);
   * ```
   *
   * @throws {Error} If the parameters were dropped by `tape.rewind()`.
   */
  get w(): Value[] {
    return this.parameters().slice(0, this.nin);
  }

  /**
   * The bias, as a Value (micrograd's `n.b`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Neuron } from "@tapegrad/tapegrad";
   * assert.equal(new Neuron(4).b.data, 0);
   * ```
   *
   * @throws {Error} If the parameters were dropped by `tape.rewind()`.
   */
  get b(): Value {
    return this.parameters()[this.nin];
  }

  /**
   * Computes `activation(b + Σ wᵢxᵢ)` on the neuron's tape. Reads the inputs
   * as a range when they are consecutive live Values on that tape; otherwise
   * gathers them (numbers become constants).
   *
   * @param x `nin` Values (on the neuron's tape) and numbers.
   * @returns The output.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Neuron } from "@tapegrad/tapegrad";
   * const n = new Neuron(2, { activation: "relu" });
   * n.w[0].data = 1;
   * n.w[1].data = -3;
   * assert.equal(n.forward([2, 1]).data, 0);
   * assert.equal(n.forward([2, 0.5]).data, 0.5);
   * ```
   *
   * @throws {TypeError} If `x` is not an array of Values and finite numbers.
   * @throws {RangeError} If `x` does not hold `nin` elements.
   * @throws {Error} For a Value from another tape, a stale Value, or a neuron
   * whose parameters were dropped by `tape.rewind()`.
   */
  forward(x: readonly (Value | number)[]): Value {
    this.settle(x);
    this.checkLive();
    const start = this.inputRange(x);
    const out = start >= 0
      ? this.recordDense(start, 1, this.#op, true)
      : this.recordDenseGathered(this.inputIndices(x), 1, this.#op);
    return Value.at(this.tape, out);
  }

  /**
   * Evaluates the neuron without keeping anything on the tape (inside
   * {@linkcode noGrad}): the same number as `forward(x).data`.
   *
   * @param x `nin` finite numbers.
   * @returns The output.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Neuron } from "@tapegrad/tapegrad";
   * const n = new Neuron(2, { activation: "linear" });
   * const size = n.tape.size;
   * assert.equal(n.predict([1, 2]), n.w[0].data + 2 * n.w[1].data);
   * assert.equal(n.tape.size, size);
   * ```
   *
   * @throws {TypeError} If `x` is not an array of finite numbers.
   * @throws {RangeError} If `x` does not hold `nin` numbers.
   * @throws {Error} If the parameters were dropped by `tape.rewind()`.
   */
  predict(x: readonly number[]): number {
    return noGrad(() => this.forward(x).data, this.tape);
  }

  /**
   * The index-level fast path: records the neuron on the `nin` consecutive
   * nodes from `inputStart` (one `dotRange` node, then the activation node).
   *
   * @param tape The neuron's tape.
   * @param inputStart Index of the first input node.
   * @returns The output node's index.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape } from "@tapegrad/tapegrad";
   * import { Neuron } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const n = new Neuron(2, { activation: "linear", tape });
   * const x = tape.constant(3);
   * tape.constant(4);
   * const y = n.record(tape, x);
   * assert.equal(tape.data[y], 3 * n.w[0].data + 4 * n.w[1].data);
   * ```
   *
   * @throws {TypeError} If `tape` is not a Tape or `inputStart` not a number.
   * @throws {RangeError} If the inputs are not all on the tape.
   * @throws {Error} If `tape` is not the neuron's tape, or the neuron's
   * parameters were dropped by `tape.rewind()`.
   */
  record(tape: Tape, inputStart: number): number {
    this.checkRecord(tape, inputStart);
    return this.recordDense(inputStart, 1, this.#op);
  }

  /**
   * Records the neuron on arbitrary input nodes (one gathered dot node, then
   * the activation node).
   *
   * @param tape The neuron's tape.
   * @param inputs `nin` node indices.
   * @returns The output node's index.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape } from "@tapegrad/tapegrad";
   * import { Neuron } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const n = new Neuron(2, { activation: "linear", tape });
   * const a = tape.constant(3), b = tape.constant(4);
   * const y = n.recordIndices(tape, [b, a]);
   * assert.equal(tape.data[y], 4 * n.w[0].data + 3 * n.w[1].data);
   * ```
   *
   * @throws {TypeError} If `tape` is not a Tape or `inputs` not an array.
   * @throws {RangeError} If `inputs` does not hold `nin` node indices.
   * @throws {Error} If `tape` is not the neuron's tape, or the neuron's
   * parameters were dropped by `tape.rewind()`.
   */
  recordIndices(tape: Tape, inputs: readonly number[]): number {
    this.checkIndices(tape, inputs);
    return this.recordDenseGathered(inputs, 1, this.#op);
  }

  /**
   * micrograd's display: `ReLUNeuron(2)`, `TanhNeuron(2)`,
   * `SigmoidNeuron(2)` or `LinearNeuron(2)`.
   *
   * @returns The text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Neuron } from "@tapegrad/tapegrad";
   * assert.equal(new Neuron(3).toString(), "ReLUNeuron(3)");
   * ```
   */
  override toString(): string {
    return `${activationName(this.activation)}Neuron(${this.nin})`;
  }
}
