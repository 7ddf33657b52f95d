/**
 * Module: what every model shares (micrograd's `Module`), and
 * ContiguousModule, the base of models whose parameters are one run of
 * leaves on one tape (`Neuron`, `Layer`, `MLP`).
 *
 * @module
 */

import { defaultTape, indexOn, Tape, Value } from "../engine/mod.ts";
import { recordDenseLayer } from "./_dense.ts";
import { checkPositiveInteger, show } from "./_show.ts";

/**
 * The base of every model: it owns parameters and can reset their
 * gradients. `Neuron`, `Layer` and `MLP` extend it; so can your own models.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { Module } from "@tapegrad/tapegrad";
 * class Scale extends Module {
 *   readonly k = new Value(2);
 *   parameters(): Value[] {
 *     return [this.k];
 *   }
 * }
 * const model = new Scale();
 * model.k.mul(3).backward();
 * assert.equal(model.k.grad, 3);
 * model.zeroGrad();
 * assert.equal(model.k.grad, 0);
 * assert.equal(model.parameterCount, 1);
 * ```
 */
export abstract class Module {
  /**
   * Declares everything already on the default tape persistent
   * ({@linkcode Tape.keep}), so the Values a subclass creates as fields
   * (its parameters) are never released by a training step's `backward()`.
   */
  constructor() {
    defaultTape().keep();
  }

  /**
   * The trainable parameters, as Values (new handles on every call).
   *
   * @returns The parameters, in a fixed order.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Neuron } from "@tapegrad/tapegrad";
   * assert.equal(new Neuron(3).parameters().length, 4);
   * ```
   */
  abstract parameters(): Value[];

  /**
   * Sets the gradient of every parameter to 0. Call it before each
   * `backward()`: leaf gradients accumulate.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { Module } from "@tapegrad/tapegrad";
   * class Pair extends Module {
   *   readonly ps = [new Value(1), new Value(2)];
   *   parameters(): Value[] {
   *     return this.ps;
   *   }
   * }
   * const model = new Pair();
   * model.ps[0].mul(model.ps[1]).backward();
   * model.zeroGrad();
   * assert.deepEqual(model.ps.map((p) => p.grad), [0, 0]);
   * ```
   */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = 0;
  }

  /**
   * The number of parameters.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * assert.equal(new MLP(3, [4, 4, 1]).parameterCount, 41);
   * ```
   */
  get parameterCount(): number {
    return this.parameters().length;
  }

  /**
   * A short description: `Scale(1 parameter)` unless the subclass says
   * more (`MLP`, `Layer` and `Neuron` print like micrograd).
   *
   * @returns The text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * import { Module } from "@tapegrad/tapegrad";
   * class Scale extends Module {
   *   readonly k = new Value(2);
   *   parameters(): Value[] {
   *     return [this.k];
   *   }
   * }
   * assert.equal(String(new Scale()), "Scale(1 parameter)");
   * ```
   */
  toString(): string {
    const n = this.parameterCount;
    return `${this.constructor.name}(${n} parameter${n === 1 ? "" : "s"})`;
  }

  /**
   * Deno's `console.log` / `Deno.inspect` hook: {@linkcode Module.toString}.
   *
   * @returns The text.
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /**
   * Node's `console.log` / `util.inspect` hook: {@linkcode Module.toString}.
   *
   * @returns The text.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** The options every {@linkcode ContiguousModule} takes. */
export interface ContiguousModuleOptions {
  /** The tape the parameters live on (default: the engine's default tape). */
  tape?: Tape;
}

/**
 * A model whose parameters are one run of consecutive leaves on one tape,
 * so that `parameters()` is a range, `zeroGrad()` a single `fill`, and
 * optimizers and model files can work on the tape's arrays directly.
 * `Neuron`, `Layer` and `MLP` extend it.
 *
 * Rewinding the tape to a mark taken before the model was built drops its
 * parameters; the model then throws on use instead of reading other nodes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tape } from "@tapegrad/tapegrad";
 * import { MLP } from "@tapegrad/tapegrad";
 * const tape = new Tape();
 * const model = new MLP(2, [3, 1], { tape });
 * assert.equal(model.parameterStart, 0);
 * assert.equal(model.parameterCount, 13);
 * assert.equal(model.parameters()[12].index, 12);
 * ```
 */
export abstract class ContiguousModule extends Module {
  /** Number of inputs. */
  readonly nin: number;
  /** The tape the parameters live on (and forward passes record on). */
  readonly tape: Tape;
  #name: string;
  #start = 0;
  #count = 0;
  #generation = 0;
  #parameters: Value[] | undefined = undefined;

  /**
   * Validates the arguments every contiguous model shares. Subclasses check
   * their own options next, then record their parameters and call
   * {@linkcode ContiguousModule.adopt}.
   *
   * @param name The class name, for error messages.
   * @param nin Number of inputs, a positive integer.
   * @param options The subclass's options (an object, maybe with `tape`).
   * @throws {TypeError} If `nin` is not a number, `options` not an object or
   * `options.tape` not a Tape.
   * @throws {RangeError} If `nin` is not a positive integer.
   */
  protected constructor(
    name: string,
    nin: number,
    options: ContiguousModuleOptions,
  ) {
    super();
    this.#name = name;
    checkPositiveInteger(nin, `${name} nin`);
    if (
      options === null || typeof options !== "object" || Array.isArray(options)
    ) {
      throw new TypeError(
        `${name} options must be an object, got ${show(options)}`,
      );
    }
    const tape: unknown = options.tape ?? defaultTape();
    if (!(tape instanceof Tape)) {
      throw new TypeError(`${name} tape must be a Tape, got ${show(tape)}`);
    }
    this.nin = nin;
    this.tape = tape;
  }

  /**
   * Records where the parameters were allocated: `count` consecutive leaves
   * from `start`, created in the tape's current generation.
   *
   * @param start Index of the first parameter.
   * @param count Number of parameters.
   */
  protected adopt(start: number, count: number): void {
    this.#start = start;
    this.#count = count;
    this.#generation = this.tape.generation;
    // Parameters outlive every training step's release.
    this.tape.keep();
  }

  /**
   * Applies a pending release of the previous step before a forward pass
   * on `x` records anything (see {@linkcode Tape.settle}).
   *
   * @param x The forward-pass inputs.
   */
  protected settle(x: readonly (Value | number)[]): void {
    const first: unknown = Array.isArray(x) ? x[0] : undefined;
    this.tape.settle(first instanceof Value ? first.index : -1);
  }

  /**
   * Tape index of the first parameter; parameter `k` (in micrograd's order)
   * is at `parameterStart + k`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape } from "@tapegrad/tapegrad";
   * import { Layer } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * tape.leaf(0);
   * assert.equal(new Layer(2, 3, { tape }).parameterStart, 1);
   * ```
   */
  get parameterStart(): number {
    return this.#start;
  }

  /**
   * The number of parameters (without creating any Value).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * assert.equal(new MLP(2, [16, 16, 1]).parameterCount, 337);
   * ```
   */
  override get parameterCount(): number {
    return this.#count;
  }

  /**
   * The parameters in micrograd's order, as Values: the tape nodes
   * `parameterStart … parameterStart + parameterCount - 1`.
   *
   * @returns The parameters' handles, in a new array.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Neuron } from "@tapegrad/tapegrad";
   * const n = new Neuron(2);
   * assert.deepEqual(n.parameters().map((p) => p.index), [
   *   n.weightStart,
   *   n.weightStart + 1,
   *   n.biasIndex,
   * ]);
   * ```
   *
   * @throws {Error} If the parameters were dropped by `tape.rewind()`.
   */
  parameters(): Value[] {
    this.checkLive();
    if (this.#parameters === undefined) {
      const out = new Array<Value>(this.#count);
      for (let k = 0; k < this.#count; k++) {
        out[k] = Value.at(this.tape, this.#start + k);
      }
      this.#parameters = out;
    }
    // Handles are immutable: the same ones, in a new array.
    return this.#parameters.slice();
  }

  /**
   * Sets every parameter's gradient to 0 with one `fill` on the tape's
   * `grad` array.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MLP } from "@tapegrad/tapegrad";
   * const model = new MLP(2, [3, 1]);
   * model.forward([1, 2])[0].backward();
   * model.zeroGrad();
   * assert.ok(model.parameters().every((p) => p.grad === 0));
   * ```
   *
   * @throws {Error} If the parameters were dropped by `tape.rewind()`.
   */
  override zeroGrad(): void {
    this.checkLive();
    this.tape.grad.fill(0, this.#start, this.#start + this.#count);
  }

  /**
   * Throws if a rewind dropped the parameters (the last one is enough: a
   * rewind drops every node from its mark on).
   *
   * @throws {Error} If the parameters were dropped by `tape.rewind()`.
   */
  protected checkLive(): void {
    const last = this.#start + this.#count - 1;
    if (!this.tape.isLive(last, this.#generation)) {
      throw new Error(
        `Stale ${this.#name}: its parameters were dropped by tape.rewind(); rewind only to marks taken after building the model`,
      );
    }
  }

  /**
   * The node indices of forward-pass inputs: Values are used as they are
   * (checked with the engine's errors: same tape, live), numbers become
   * constants. Everything is checked before anything is recorded.
   *
   * @param x `nin` Values and finite numbers.
   * @returns One node index per input.
   * @throws {TypeError} If `x` is not an array or holds something other than
   * a Value or a finite number.
   * @throws {RangeError} If `x` does not hold `nin` elements.
   * @throws {Error} The engine's error for a Value from another tape or a
   * stale Value.
   */
  protected inputIndices(x: readonly (Value | number)[]): number[] {
    const nin = this.nin, tape = this.tape, name = `${this.#name} input`;
    if (!Array.isArray(x)) {
      throw new TypeError(
        `${name} must be an array of ${nin} Values or numbers, got ${show(x)}`,
      );
    }
    if (x.length !== nin) {
      throw new RangeError(
        `${name} must be an array of ${nin} Values or numbers, got an array of length ${x.length}`,
      );
    }
    const indices = new Array<number>(nin);
    for (let k = 0; k < nin; k++) {
      const v: unknown = x[k];
      if (v instanceof Value) indices[k] = indexOn(tape, v);
      else if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new TypeError(
          `${name}[${k}] must be a Value or a finite number, got ${show(v)}`,
        );
      }
    }
    for (let k = 0; k < nin; k++) {
      const v = x[k];
      if (typeof v === "number") indices[k] = tape.constant(v);
    }
    return indices;
  }

  /**
   * The index of `x[0]` when `x` is `nin` live Values stored one after
   * another on the model's tape (a previous layer's outputs, say), so that
   * they can be read as a range; otherwise -1.
   *
   * @param x The forward-pass inputs.
   * @returns The index of the first input, or -1.
   */
  protected inputRange(x: readonly (Value | number)[]): number {
    const nin = this.nin, tape = this.tape;
    if (!Array.isArray(x) || x.length !== nin) return -1;
    const first: unknown = x[0];
    if (!(first instanceof Value) || first.tape !== tape) return -1;
    const start = first.index;
    for (let k = 0; k < nin; k++) {
      const v: unknown = x[k];
      if (
        !(v instanceof Value) || v.tape !== tape || v.index !== start + k ||
        !tape.isLive(v.index, v.generation)
      ) return -1;
    }
    return start;
  }

  /**
   * Checks the arguments of a `record()` call: the model's own tape, and
   * `nin` input nodes from `inputStart`, all on it; and that the parameters
   * are live.
   *
   * @param tape The tape passed in.
   * @param inputStart The first input's index.
   * @throws {TypeError} If `tape` is not a Tape or `inputStart` not a number.
   * @throws {RangeError} If the inputs are not all on the tape.
   * @throws {Error} If `tape` is another tape than the model's, or the
   * parameters were dropped by `tape.rewind()`.
   */
  protected checkRecord(tape: Tape, inputStart: number): void {
    this.#checkTape(tape);
    if (typeof inputStart !== "number") {
      throw new TypeError(
        `${this.#name} inputStart must be a node index, got ${
          show(inputStart)
        }`,
      );
    }
    const last = tape.size - this.nin;
    if (!Number.isInteger(inputStart) || inputStart < 0 || inputStart > last) {
      throw new RangeError(
        `${this.#name} inputStart must be an integer from 0 to ${last} (tape size ${tape.size} minus nin ${this.nin}), got ${
          show(inputStart)
        }`,
      );
    }
    this.checkLive();
  }

  /**
   * Checks the arguments of a `recordIndices()` call: the model's own tape,
   * `nin` node indices on it; and that the parameters are live.
   *
   * @param tape The tape passed in.
   * @param inputs The input indices.
   * @throws {TypeError} If `tape` is not a Tape or `inputs` not an array.
   * @throws {RangeError} If `inputs` does not hold `nin` node indices.
   * @throws {Error} If `tape` is another tape than the model's, or the
   * parameters were dropped by `tape.rewind()`.
   */
  protected checkIndices(tape: Tape, inputs: readonly number[]): void {
    this.#checkTape(tape);
    const nin = this.nin, name = this.#name;
    if (!Array.isArray(inputs)) {
      throw new TypeError(
        `${name} inputs must be an array of ${nin} node indices, got ${
          show(inputs)
        }`,
      );
    }
    if (inputs.length !== nin) {
      throw new RangeError(
        `${name} inputs must be an array of ${nin} node indices, got an array of length ${inputs.length}`,
      );
    }
    for (let k = 0; k < nin; k++) {
      const i: unknown = inputs[k];
      if (
        typeof i !== "number" || !Number.isInteger(i) || i < 0 ||
        i >= tape.size
      ) {
        throw new RangeError(
          `${name} inputs[${k}] must be a node index from 0 to ${
            tape.size - 1
          }, got ${show(i)}`,
        );
      }
    }
    this.checkLive();
  }

  /**
   * Records `nout` dense neurons whose parameters are this module's block
   * (neuron by neuron, `nin` weights then a bias) on the `nin` consecutive
   * nodes from `inputStart`: `nout` `dotRange` nodes, then their activation
   * `op` (none when `op` is negative). What a Layer records, and a Neuron as
   * a one-output layer.
   *
   * @param inputStart Index of the first input node.
   * @param nout Number of neurons.
   * @param op The activation's unary op code, or -1 for linear.
   * @param fuse Record a ReLU neuron as one `DotRangeRelu` node (what the
   * `Value` façade's `forward` does: half the nodes to record and walk
   * back); the trainers' `record` keeps the dot and the ReLU apart, as the
   * compiled and WebAssembly steps read them.
   * @returns The first output's index; the `nout` outputs are consecutive.
   */
  protected recordDense(
    inputStart: number,
    nout: number,
    op: number,
    fuse = false,
  ): number {
    return recordDenseLayer(
      this.tape,
      this.parameterStart,
      this.nin,
      inputStart,
      nout,
      op,
      fuse,
    );
  }

  /**
   * {@linkcode ContiguousModule.recordDense} on arbitrary input nodes:
   * `nout` gathered `dot` nodes, then their activation.
   *
   * @param inputs `nin` node indices.
   * @param nout Number of neurons.
   * @param op The activation's unary op code, or -1 for linear.
   * @returns The first output's index; the `nout` outputs are consecutive.
   */
  protected recordDenseGathered(
    inputs: readonly number[],
    nout: number,
    op: number,
  ): number {
    const tape = this.tape, nin = this.nin;
    const weights = new Array<number>(nin);
    let first = -1;
    for (let j = 0; j < nout; j++) {
      const w = this.parameterStart + j * (nin + 1);
      for (let k = 0; k < nin; k++) weights[k] = w + k;
      const dot = tape.dot(weights, inputs, w + nin);
      if (j === 0) first = dot;
    }
    return op < 0 ? first : tape.unaryRange(op, first, nout);
  }

  /**
   * Throws unless `x` is a positive integer, for subclasses' own size
   * arguments (`nout`, `nouts[i]`…).
   *
   * @param x The value to check.
   * @param name What it is, for the error message.
   * @throws {TypeError} If `x` is not a number.
   * @throws {RangeError} If `x` is not a positive integer.
   */
  protected static checkPositiveInteger(x: unknown, name: string): void {
    checkPositiveInteger(x, name);
  }

  #checkTape(tape: Tape): void {
    if (!(tape instanceof Tape)) {
      throw new TypeError(
        `${this.#name} tape must be a Tape, got ${show(tape)}`,
      );
    }
    if (tape !== this.tape) {
      // The engine's message for mixing tapes.
      throw new Error(
        "Cannot combine Values from different tapes; create them on one tape",
      );
    }
  }
}
