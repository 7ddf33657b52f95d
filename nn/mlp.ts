/**
 * MLP: micrograd's multi-layer perceptron on one contiguous parameter block,
 * with an index-level fast path, graph-free prediction, and its JSON form
 * (the model file format).
 *
 * @module
 */

import { type Tape, unaryForward, Value } from "../engine/mod.ts";
import { recordDenseLayer } from "./_dense.ts";
import {
  type Activation,
  activationOp,
  parseActivation,
} from "./activation.ts";
import { type Init, parseInit, type RandomOptions, rngFrom } from "./init.ts";
import { Layer } from "./layer.ts";
import {
  checkParameters,
  copyMeta,
  MODEL_FORMAT,
  MODEL_VERSION,
  type ModelJSON,
  type ModelMeta,
  validateModelFile,
} from "./model_file.ts";
import { ContiguousModule, type ContiguousModuleOptions } from "./module.ts";
import type { Normalization } from "./normalization.ts";
import { FEATURE_INPUTS, type FeatureName, featureValue } from "./features.ts";
import { show } from "./_show.ts";

/** Options for {@linkcode MLP}. */
export interface MLPOptions extends RandomOptions, ContiguousModuleOptions {
  /** The hidden layers' non-linearity (default `"relu"`). */
  activation?: Activation;
  /** The last layer's non-linearity (default `"linear"`, as micrograd). */
  outputActivation?: Activation;
  /**
   * One non-linearity per layer, instead of `activation` and
   * `outputActivation`.
   */
  activations?: readonly Activation[];
  /** How the weights are drawn (default `"uniform"`); biases start at 0. */
  init?: Init;
  /**
   * Initial parameters in micrograd's order (instead of random ones), as many
   * as the architecture has.
   */
  parameters?: readonly number[];
}

/** Options for {@linkcode MLP.fromJSON}. */
export interface ModelLoadOptions {
  /** The tape to build the model on (default: the engine's default tape). */
  tape?: Tape;
}

/**
 * A multi-layer perceptron (micrograd's `MLP`): `MLP(nin, [h1, h2, …, out])`.
 * Every layer but the last uses `activation` (default ReLU); the last uses
 * `outputActivation` (default linear), as in micrograd. All parameters form
 * one block on the tape, layer by layer, neuron by neuron, each neuron's
 * weights then its bias.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MLP } from "@tapegrad/tapegrad";
 * const model = new MLP(2, [16, 16, 1]);
 * assert.equal(model.parameterCount, 337);
 * const [y] = model.forward([1, -2]);
 * assert.equal(y.data, model.predict([1, -2])[0]);
 * model.zeroGrad();
 * y.backward();
 * assert.ok(model.parameters().some((p) => p.grad !== 0));
 * ```
 */
export class MLP extends ContiguousModule {
  /** Layer sizes after the input: `nouts[l]` neurons in layer `l`. */
  readonly nouts: readonly number[];
  /** Each layer's non-linearity. */
  readonly activations: readonly Activation[];
  /** The layers, first to last. */
  readonly layers: readonly Layer[];
  #meta: ModelMeta | undefined = undefined;
  readonly #ops: Int32Array;
  // Scratch for predict(), big enough for the widest layer.
  readonly #bufferA: Float64Array;
  readonly #bufferB: Float64Array;

  /**
   * Creates the layers and records their parameters on the tape.
   *
   * @param nin Number of inputs, a positive integer.
   * @param nouts Each layer's number of neurons (at least one layer).
   * @param options Activations, init, random source, tape, or parameters.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * const model = new MLP(3, [4, 4, 1], { activation: "tanh", outputActivation: "tanh" });
   * assert.deepEqual(model.activations, ["tanh", "tanh", "tanh"]);
   * assert.equal(model.parameterCount, 41);
   * const same = new MLP(3, [4, 4, 1], { activation: "tanh", outputActivation: "tanh" });
   * assert.deepEqual(same.toJSON().parameters, model.toJSON().parameters);
   * ```
   *
   * @throws {TypeError} If an argument has the wrong type, an option names an
   * unknown activation or init, or conflicting options are given (`rng` and
   * `seed`; `activations` and `activation` or `outputActivation`).
   * @throws {RangeError} If a size is not a positive integer, `nouts` is
   * empty, `activations` or `parameters` has the wrong length, or `seed` is
   * not a safe integer.
   */
  constructor(nin: number, nouts: readonly number[], options: MLPOptions = {}) {
    super("MLP", nin, options);
    if (!Array.isArray(nouts)) {
      throw new TypeError(
        `MLP nouts must be a non-empty array of positive integers, got ${
          show(nouts)
        }`,
      );
    }
    if (nouts.length === 0) {
      throw new RangeError(
        "MLP nouts must be a non-empty array of positive integers, got an empty array",
      );
    }
    for (let l = 0; l < nouts.length; l++) {
      ContiguousModule.checkPositiveInteger(nouts[l], `MLP nouts[${l}]`);
    }
    const activations = layerActivations(options, nouts.length);
    const init = parseInit(options.init ?? "uniform", "MLP init");
    const rng = rngFrom(options, "MLP");
    const sizes = [nin, ...nouts];
    let count = 0;
    for (let l = 0; l < nouts.length; l++) {
      count += (sizes[l] + 1) * sizes[l + 1];
    }
    const parameters = options.parameters;
    if (parameters !== undefined) {
      checkParameters(parameters, count, sizes.join("-"), "MLP options");
    }
    const tape = this.tape;
    const layers = new Array<Layer>(nouts.length);
    for (let l = 0; l < nouts.length; l++) {
      layers[l] = new Layer(sizes[l], sizes[l + 1], {
        activation: activations[l],
        init,
        rng,
        tape,
      });
    }
    this.nouts = Object.freeze(nouts.slice());
    this.activations = Object.freeze(activations);
    this.layers = Object.freeze(layers);
    this.adopt(layers[0].parameterStart, count);
    if (parameters !== undefined) {
      tape.data.set(parameters, this.parameterStart);
    }
    this.#ops = Int32Array.from(activations, activationOp);
    // At least 2: a model with features reads a raw point first.
    const width = Math.max(2, ...sizes);
    this.#bufferA = new Float64Array(width);
    this.#bufferB = new Float64Array(width);
  }

  /**
   * The architecture as `nin-h1-…-out`, e.g. `"2-16-16-1"`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * assert.equal(new MLP(2, [16, 16, 1]).architecture, "2-16-16-1");
   * ```
   */
  get architecture(): string {
    return [this.nin, ...this.nouts].join("-");
  }

  /**
   * Metadata saved with the model (see {@linkcode ModelMeta}): a JSON
   * object, stored as a frozen deep copy, or `undefined`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * const model = new MLP(2, [1]);
   * model.meta = { dataset: "moons", labelNames: ["a", "b"] };
   * assert.deepEqual(MLP.fromJSON(model.toJSON()).meta, model.meta);
   * ```
   *
   * @throws {TypeError} On set, if the value is not a JSON object (nested
   * values must be null, booleans, finite numbers, strings, arrays or plain
   * objects, without cycles).
   */
  get meta(): ModelMeta | undefined {
    return this.#meta;
  }

  set meta(value: ModelMeta | undefined) {
    this.#meta = value === undefined
      ? undefined
      : copyMeta(value, "MLP meta", this.nin);
  }

  /**
   * The input standardisation stored in `meta.normalization`, if any:
   * {@linkcode MLP.predict} (and `fit()`, `evaluate()`, `predictClasses()`)
   * apply it to raw inputs, so a saved model takes the data as it comes.
   * `forward()` and `record()` take the model's inputs as they are.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * const model = new MLP(1, [1], { parameters: [1, 0] });
   * model.meta = { normalization: { mean: [10], std: [2] } };
   * assert.deepEqual(model.normalization, { mean: [10], std: [2] });
   * assert.deepEqual(model.predict([14]), [2]);
   * assert.equal(model.forward([14])[0].data, 14);
   * ```
   */
  get normalization(): Normalization | undefined {
    return this.#meta?.normalization as Normalization | undefined;
  }

  /**
   * The input features stored in `meta.features`, if any: the model's
   * inputs are these features of a raw point `[x, y]`, which
   * {@linkcode MLP.predict} (and `fit()`, `evaluate()`, `predictClasses()`)
   * compute before the normalisation. `forward()` and `record()` take the
   * model's inputs as they are.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * const model = new MLP(3, [1], { parameters: [1, 1, 1, 0] });
   * model.meta = { features: ["x", "x2", "xy"] };
   * assert.deepEqual(model.features, ["x", "x2", "xy"]);
   * assert.equal(model.inputSize, 2);
   * assert.deepEqual(model.predict([2, 3]), [2 + 4 + 6]);
   * ```
   */
  get features(): readonly FeatureName[] | undefined {
    return this.#meta?.features as readonly FeatureName[] | undefined;
  }

  /**
   * The length of the rows {@linkcode MLP.predict} and `fit()` take: 2 (a
   * point) for a model with `features`, `nin` otherwise.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * assert.equal(new MLP(3, [1]).inputSize, 3);
   * ```
   */
  get inputSize(): number {
    return this.features === undefined ? this.nin : FEATURE_INPUTS;
  }

  /**
   * Runs the network on the MLP's tape, recording one dot node per neuron
   * and one activation node per non-linear neuron. Reads the inputs as a
   * range when they are consecutive live Values on that tape; otherwise
   * gathers them (numbers become constants).
   *
   * @param x `nin` Values (on the MLP's tape) and numbers.
   * @returns The last layer's outputs: always an array, even for a single
   * output (`const [y] = model.forward(x)`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * const model = new MLP(2, [3, 2]);
   * const out = model.forward([0.5, 1]);
   * assert.equal(out.length, 2);
   * assert.deepEqual(out.map((v) => v.data), model.predict([0.5, 1]));
   * ```
   *
   * @throws {TypeError} If `x` is not an array of Values and finite numbers.
   * @throws {RangeError} If `x` does not hold `nin` elements.
   * @throws {Error} For a Value from another tape, a stale Value, or a model
   * whose parameters were dropped by `tape.rewind()`.
   */
  forward(x: readonly (Value | number)[]): Value[] {
    this.settle(x);
    this.checkLive();
    const tape = this.tape, layers = this.layers;
    const start = this.inputRange(x);
    // Each ReLU neuron as one DotRangeRelu node (record() keeps them apart).
    let first = start >= 0
      ? this.#recordLayer(0, start)
      : layers[0].recordIndices(tape, this.inputIndices(x));
    for (let l = 1; l < layers.length; l++) {
      first = this.#recordLayer(l, first);
    }
    const nout = this.nouts[this.nouts.length - 1];
    const out = new Array<Value>(nout);
    for (let j = 0; j < nout; j++) out[j] = Value.at(tape, first + j);
    return out;
  }

  /**
   * The index-level fast path for training code: records every layer on
   * the `nin` consecutive nodes from `inputStart`.
   *
   * @param tape The MLP's tape.
   * @param inputStart Index of the first input node.
   * @returns The index of the last layer's first output; its outputs are
   * consecutive.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape } from "@tapegrad/tapegrad";
   * import { MLP } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const model = new MLP(2, [4, 1], { tape });
   * const mark = tape.mark();
   * const x = tape.constant(0.5);
   * tape.constant(-1);
   * const y = model.record(tape, x);
   * tape.backward(y);
   * assert.equal(tape.data[y], model.predict([0.5, -1])[0]);
   * tape.rewind(mark);
   * ```
   *
   * @throws {TypeError} If `tape` is not a Tape or `inputStart` not a number.
   * @throws {RangeError} If the inputs are not all on the tape.
   * @throws {Error} If `tape` is not the MLP's tape, or its parameters were
   * dropped by `tape.rewind()`.
   */
  record(tape: Tape, inputStart: number): number {
    this.checkRecord(tape, inputStart);
    const layers = this.layers;
    let first = inputStart;
    for (let l = 0; l < layers.length; l++) {
      first = layers[l].record(tape, first);
    }
    return first;
  }

  /**
   * Evaluates the network without recording anything: reads the parameters
   * from the tape and computes with exactly the tape's arithmetic (the same
   * results as `forward`), leaving the tape, its gradients and every Value
   * untouched.
   *
   * @param x `nin` finite numbers.
   * @returns The last layer's outputs.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * const model = new MLP(1, [1], { parameters: [3, 0.5] });
   * const size = model.tape.size;
   * assert.deepEqual(model.predict([2]), [6.5]);
   * assert.equal(model.tape.size, size);
   * ```
   *
   * @throws {TypeError} If `x` is not an array of finite numbers.
   * @throws {RangeError} If `x` does not hold `nin` numbers.
   * @throws {Error} If the parameters were dropped by `tape.rewind()`.
   */
  predict(x: readonly number[]): number[] {
    return this.#run(x, undefined, "predict");
  }

  /**
   * Like {@linkcode MLP.predict}, but returns every layer's values: the
   * model's inputs (after its features and normalisation), then each
   * layer's outputs (after its non-linearity). What a network view draws.
   *
   * @param x A raw input, as `predict()` takes it.
   * @returns `nouts.length + 1` arrays, the last equal to `predict(x)`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * const model = new MLP(1, [2, 1], { parameters: [1, 0, -1, 0, 1, 1, 0] });
   * assert.deepEqual(model.predictLayers([3]), [[3], [3, 0], [3]]);
   * assert.deepEqual(model.predictLayers([3]).at(-1), model.predict([3]));
   * ```
   *
   * @throws {TypeError} If `x` is not an array of finite numbers.
   * @throws {RangeError} If `x` does not hold `inputSize` numbers.
   */
  predictLayers(x: readonly number[]): number[][] {
    const layers: number[][] = [];
    this.#run(x, layers, "predictLayers");
    return layers;
  }

  #run(
    x: readonly number[],
    layers: number[][] | undefined,
    method: string,
  ): number[] {
    this.checkLive();
    const nin = this.nin, size = this.inputSize;
    if (!Array.isArray(x)) {
      throw new TypeError(
        `MLP ${method}() input must be an array of ${size} numbers, got ${
          show(x)
        }`,
      );
    }
    if (x.length !== size) {
      throw new RangeError(
        `MLP ${method}() input must be an array of ${size} numbers${
          this.features === undefined
            ? ""
            : " (a point; the model computes its features)"
        }, got an array of length ${x.length}`,
      );
    }
    let input = this.#bufferA, output = this.#bufferB;
    for (let k = 0; k < size; k++) {
      const v: unknown = x[k];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new TypeError(
          `MLP ${method}() input[${k}] must be a finite number, got ${show(v)}`,
        );
      }
      input[k] = v;
    }
    const features = this.features;
    if (features !== undefined) {
      const px = input[0], py = input[1];
      for (let k = 0; k < nin; k++) {
        input[k] = featureValue(features[k], px, py);
      }
    }
    const norm = this.normalization;
    if (norm !== undefined) {
      for (let k = 0; k < nin; k++) {
        input[k] = (input[k] - norm.mean[k]) / norm.std[k];
      }
    }
    layers?.push(Array.from(input.subarray(0, nin)));
    const data = this.tape.data, nouts = this.nouts, ops = this.#ops;
    let p = this.parameterStart, n = nin;
    for (let l = 0; l < nouts.length; l++) {
      const nout = nouts[l], op = ops[l];
      for (let j = 0; j < nout; j++, p += n + 1) {
        // The tape's DotRange order: bias first, then the terms in order.
        let s = data[p + n];
        for (let k = 0; k < n; k++) s += data[p + k] * input[k];
        output[j] = op < 0 ? s : unaryForward(op, s);
      }
      layers?.push(Array.from(output.subarray(0, nout)));
      const held = input;
      input = output;
      output = held;
      n = nout;
    }
    return Array.from(input.subarray(0, n));
  }

  /**
   * Records layer `l` on the inputs from `inputStart`, already checked: the
   * same values as `layers[l].record(tape, inputStart)`, with each ReLU
   * neuron as one `DotRangeRelu` node (as `Layer.forward` records it).
   */
  #recordLayer(l: number, inputStart: number): number {
    const layer = this.layers[l];
    return recordDenseLayer(
      this.tape,
      layer.parameterStart,
      layer.nin,
      inputStart,
      layer.nout,
      this.#ops[l],
      true,
    );
  }

  /**
   * micrograd's display:
   * `MLP of [Layer of [ReLUNeuron(2), …], Layer of [LinearNeuron(16)]]`.
   *
   * @returns The text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * assert.equal(
   *   String(new MLP(1, [2, 1])),
   *   "MLP of [Layer of [ReLUNeuron(1), ReLUNeuron(1)], Layer of [LinearNeuron(2)]]",
   * );
   * ```
   */
  override toString(): string {
    return `MLP of [${this.layers.join(", ")}]`;
  }

  /**
   * The model file form: architecture, parameters (micrograd's order) and
   * `meta`, as a plain JSON-safe object. `JSON.stringify(model)` uses it.
   *
   * @returns A new object; changing it does not change the model.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * const json = new MLP(2, [1], { parameters: [0.5, -1, 0.25] }).toJSON();
   * assert.deepEqual(json, {
   *   format: "tapegrad-mlp",
   *   version: 1,
   *   nin: 2,
   *   layers: [{ nout: 1, activation: "linear" }],
   *   parameters: [0.5, -1, 0.25],
   * });
   * ```
   *
   * @throws {Error} If the parameters were dropped by `tape.rewind()`.
   */
  toJSON(): ModelJSON {
    this.checkLive();
    const start = this.parameterStart;
    const json: ModelJSON = {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      nin: this.nin,
      layers: this.nouts.map((nout, l) => ({
        nout,
        activation: this.activations[l],
      })),
      parameters: Array.from(
        this.tape.data.subarray(start, start + this.parameterCount),
      ),
    };
    if (this.#meta !== undefined) {
      json.meta = JSON.parse(JSON.stringify(this.#meta));
    }
    return json;
  }

  /**
   * Builds a model from its JSON form (a parsed model file), after checking
   * all of it: shape, format name, version, sizes, activations, parameter
   * count and values, and `meta`. Nothing is recorded on the tape unless the
   * whole file is valid. The error names the first problem.
   *
   * @param json A parsed model file.
   * @param options The tape to build on.
   * @returns The model, with the file's parameters and `meta`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * const model = new MLP(2, [3, 1], { activation: "tanh", seed: 1 });
   * const copy = MLP.fromJSON(JSON.parse(JSON.stringify(model)));
   * assert.equal(String(copy), String(model));
   * assert.deepEqual(copy.predict([0.5, -1]), model.predict([0.5, -1]));
   * assert.throws(() => MLP.fromJSON({ format: "foo" }), {
   *   name: "TypeError",
   *   message: 'Not a tapegrad model file: format is "foo", expected "tapegrad-mlp"',
   * });
   * ```
   *
   * @throws {TypeError} If `json` is not a model file or a field has the
   * wrong type, or `options.tape` is not a Tape.
   * @throws {RangeError} If the version is not supported, a size is not a
   * positive integer, the parameter count does not match the
   * architecture, or `meta` nests more than 64 levels deep.
   */
  static fromJSON(json: unknown, options: ModelLoadOptions = {}): MLP {
    if (
      options === null || typeof options !== "object" || Array.isArray(options)
    ) {
      throw new TypeError(
        `MLP.fromJSON() options must be an object, got ${show(options)}`,
      );
    }
    const file = validateModelFile(json);
    const model = new MLP(file.nin, file.layers.map((l) => l.nout), {
      activations: file.layers.map((l) => l.activation),
      parameters: file.parameters,
      tape: options.tape,
    });
    model.#meta = file.meta;
    return model;
  }
}

/** Each layer's activation, from `activations` or the two defaults. */
function layerActivations(options: MLPOptions, layers: number): Activation[] {
  const { activations, activation, outputActivation } = options;
  if (activations === undefined) {
    const hidden = parseActivation(activation ?? "relu", "MLP activation");
    const output = parseActivation(
      outputActivation ?? "linear",
      "MLP outputActivation",
    );
    return Array.from(
      { length: layers },
      (_, l) => l === layers - 1 ? output : hidden,
    );
  }
  if (activation !== undefined || outputActivation !== undefined) {
    throw new TypeError(
      "MLP options take activations or activation and outputActivation, not both",
    );
  }
  if (!Array.isArray(activations)) {
    throw new TypeError(
      `MLP activations must be an array of ${layers} activation names, got ${
        show(activations)
      }`,
    );
  }
  if (activations.length !== layers) {
    throw new RangeError(
      `MLP activations must be an array of ${layers} activation names (one per layer), got an array of length ${activations.length}`,
    );
  }
  return Array.from(
    { length: layers },
    (_, l) => parseActivation(activations[l], `MLP activations[${l}]`),
  );
}
