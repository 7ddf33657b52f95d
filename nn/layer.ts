/**
 * Layer: `nout` neurons on the same inputs, with all their parameters in one
 * contiguous block and all their outputs in one contiguous run of nodes.
 *
 * @module
 */

import { noGrad, type Tape, Value } from "../engine/mod.ts";
import {
  type Activation,
  activationOp,
  parseActivation,
} from "./activation.ts";
import { type Init, parseInit, type RandomOptions, rngFrom } from "./init.ts";
import { ContiguousModule, type ContiguousModuleOptions } from "./module.ts";
import { Neuron } from "./neuron.ts";

/** Options for {@linkcode Layer}. */
export interface LayerOptions extends RandomOptions, ContiguousModuleOptions {
  /** Every neuron's non-linearity (default `"relu"`). */
  activation?: Activation;
  /** How the weights are drawn (default `"uniform"`); biases start at 0. */
  init?: Init;
}

/**
 * A layer of `nout` neurons, each seeing all `nin` inputs (micrograd's
 * `Layer`). Neuron `j`'s weights are the tape nodes
 * `parameterStart + j·(nin + 1) + k` and its bias follows them. A forward
 * pass records the `nout` dot nodes, then the `nout` activation nodes, so the
 * outputs are consecutive nodes that the next layer reads as a range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tape } from "@tapegrad/tapegrad";
 * import { Layer } from "@tapegrad/tapegrad";
 * const layer = new Layer(2, 3, { activation: "tanh", tape: new Tape() });
 * const out = layer.forward([0.5, -1]);
 * assert.equal(out.length, 3);
 * assert.equal(out[1].index, out[0].index + 1);
 * const [w0, w1] = layer.neurons[2].w;
 * assert.equal(out[2].data, Math.tanh(0 + w0.data * 0.5 + w1.data * -1));
 * assert.equal(layer.parameterCount, 9);
 * ```
 */
export class Layer extends ContiguousModule {
  /** Number of neurons (outputs). */
  readonly nout: number;
  /** Every neuron's non-linearity. */
  readonly activation: Activation;
  /** The neurons, in order. */
  readonly neurons: readonly Neuron[];
  readonly #op: number;

  /**
   * Creates a layer and records its parameters on the tape, neuron by
   * neuron (each neuron's weights, then its bias).
   *
   * @param nin Inputs per neuron, a positive integer.
   * @param nout Number of neurons, a positive integer.
   * @param options Activation, init, random source and tape.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Layer } from "@tapegrad/tapegrad";
   * const layer = new Layer(2, 4, { init: "xavier", seed: 3 });
   * const limit = Math.sqrt(6 / (2 + 4));
   * assert.ok(layer.neurons.every((n) => n.w.every((w) => Math.abs(w.data) < limit)));
   * assert.equal(layer.neurons[1].weightStart, layer.parameterStart + 3);
   * ```
   *
   * @throws {TypeError} If an option has the wrong type or names an unknown
   * activation or init, or both `rng` and `seed` are given.
   * @throws {RangeError} If `nin` or `nout` is not a positive integer, or
   * `seed` not a safe integer.
   */
  constructor(nin: number, nout: number, options: LayerOptions = {}) {
    super("Layer", nin, options);
    ContiguousModule.checkPositiveInteger(nout, "Layer nout");
    const activation = parseActivation(
      options.activation ?? "relu",
      "Layer activation",
    );
    const init = parseInit(options.init ?? "uniform", "Layer init");
    const rng = rngFrom(options, "Layer");
    const tape = this.tape;
    // Neurons record their parameters one after another: one block.
    const neurons = new Array<Neuron>(nout);
    for (let j = 0; j < nout; j++) {
      neurons[j] = new Neuron(nin, {
        activation,
        init,
        rng,
        tape,
        fanOut: nout,
      });
    }
    this.nout = nout;
    this.activation = activation;
    this.neurons = Object.freeze(neurons);
    this.#op = activationOp(activation);
    this.adopt(neurons[0].weightStart, nout * (nin + 1));
  }

  /**
   * Computes every neuron's output on the layer's tape. Reads the inputs as
   * a range when they are consecutive live Values on that tape (such as the
   * previous layer's outputs); otherwise gathers them (numbers become
   * constants).
   *
   * @param x `nin` Values (on the layer's tape) and numbers.
   * @returns `nout` outputs, consecutive nodes on the tape.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Layer } from "@tapegrad/tapegrad";
   * const layer = new Layer(1, 2, { activation: "relu" });
   * const [a, b] = layer.neurons.map((n) => n.w[0].data);
   * const out = layer.forward([2]).map((v) => v.data);
   * assert.deepEqual(out, [Math.max(0, 2 * a), Math.max(0, 2 * b)]);
   * ```
   *
   * @throws {TypeError} If `x` is not an array of Values and finite numbers.
   * @throws {RangeError} If `x` does not hold `nin` elements.
   * @throws {Error} For a Value from another tape, a stale Value, or a layer
   * whose parameters were dropped by `tape.rewind()`.
   */
  forward(x: readonly (Value | number)[]): Value[] {
    this.settle(x);
    this.checkLive();
    const start = this.inputRange(x);
    const first = start >= 0
      ? this.recordDense(start, this.nout, this.#op, true)
      : this.recordDenseGathered(this.inputIndices(x), this.nout, this.#op);
    const tape = this.tape, out = new Array<Value>(this.nout);
    for (let j = 0; j < this.nout; j++) out[j] = Value.at(tape, first + j);
    return out;
  }

  /**
   * Evaluates the layer without keeping anything on the tape (inside
   * {@linkcode noGrad}): the same numbers as `forward(x)`'s data.
   *
   * @param x `nin` finite numbers.
   * @returns The outputs.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Layer } from "@tapegrad/tapegrad";
   * const layer = new Layer(2, 3);
   * const size = layer.tape.size;
   * const out = layer.predict([0.5, -1]);
   * assert.equal(layer.tape.size, size);
   * assert.deepEqual(out, layer.forward([0.5, -1]).map((v) => v.data));
   * ```
   *
   * @throws {TypeError} If `x` is not an array of finite numbers.
   * @throws {RangeError} If `x` does not hold `nin` numbers.
   * @throws {Error} If the parameters were dropped by `tape.rewind()`.
   */
  predict(x: readonly number[]): number[] {
    return noGrad(() => this.forward(x).map((v) => v.data), this.tape);
  }

  /**
   * The index-level fast path for training code: records the layer on the
   * `nin` consecutive nodes from `inputStart`: `nout` `dotRange` nodes, then
   * `nout` activation nodes (none when linear).
   *
   * @param tape The layer's tape.
   * @param inputStart Index of the first input node.
   * @returns The index of the first output; the `nout` outputs are
   * consecutive.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape } from "@tapegrad/tapegrad";
   * import { Layer } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const layer = new Layer(2, 3, { tape });
   * const x = tape.constant(1);
   * tape.constant(2);
   * const first = layer.record(tape, x);
   * assert.equal(tape.size, first + 3);
   * assert.equal(tape.data[first + 1], layer.forward([1, 2])[1].data);
   * ```
   *
   * @throws {TypeError} If `tape` is not a Tape or `inputStart` not a number.
   * @throws {RangeError} If the inputs are not all on the tape.
   * @throws {Error} If `tape` is not the layer's tape, or the layer's
   * parameters were dropped by `tape.rewind()`.
   */
  record(tape: Tape, inputStart: number): number {
    this.checkRecord(tape, inputStart);
    return this.recordDense(inputStart, this.nout, this.#op);
  }

  /**
   * Records the layer on arbitrary input nodes: `nout` gathered dot nodes,
   * then `nout` activation nodes (none when linear).
   *
   * @param tape The layer's tape.
   * @param inputs `nin` node indices.
   * @returns The index of the first output; the `nout` outputs are
   * consecutive.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape } from "@tapegrad/tapegrad";
   * import { Layer } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const layer = new Layer(2, 1, { activation: "linear", tape });
   * const a = tape.constant(3), b = tape.leaf(4, false);
   * const y = layer.recordIndices(tape, [b, a]);
   * const [w0, w1] = layer.neurons[0].w;
   * assert.equal(tape.data[y], 4 * w0.data + 3 * w1.data);
   * ```
   *
   * @throws {TypeError} If `tape` is not a Tape or `inputs` not an array.
   * @throws {RangeError} If `inputs` does not hold `nin` node indices.
   * @throws {Error} If `tape` is not the layer's tape, or the layer's
   * parameters were dropped by `tape.rewind()`.
   */
  recordIndices(tape: Tape, inputs: readonly number[]): number {
    this.checkIndices(tape, inputs);
    return this.recordDenseGathered(inputs, this.nout, this.#op);
  }

  /**
   * micrograd's display: `Layer of [ReLUNeuron(2), ReLUNeuron(2)]`.
   *
   * @returns The text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Layer } from "@tapegrad/tapegrad";
   * assert.equal(
   *   String(new Layer(2, 2, { activation: "sigmoid" })),
   *   "Layer of [SigmoidNeuron(2), SigmoidNeuron(2)]",
   * );
   * ```
   */
  override toString(): string {
    return `Layer of [${this.neurons.join(", ")}]`;
  }
}
