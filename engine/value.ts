/**
 * The Value façade: a thin handle (tape, index, generation) with micrograd's
 * methods, plus the free functions of the Go port (`add`, `mul`, `sum`, `dot`…).
 *
 * @module
 */

import { describeValue } from "./describe.ts";
import { Op, opName } from "./ops.ts";
import { Tape } from "./tape.ts";

let sharedTape: Tape = new Tape();

/**
 * The tape that `new Value(x)` records on when no tape is given.
 *
 * @returns The default tape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultTape, Value } from "@tapegrad/tapegrad";
 * const v = new Value(1);
 * assert.equal(v.tape, defaultTape());
 * ```
 */
export function defaultTape(): Tape {
  return sharedTape;
}

/**
 * Replaces the default tape (for example with a fresh one, to let the old
 * graph be garbage collected).
 *
 * @param tape The new default tape.
 * @returns The previous default tape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultTape, setDefaultTape, Tape } from "@tapegrad/tapegrad";
 * const mine = new Tape();
 * const old = setDefaultTape(mine);
 * assert.equal(defaultTape(), mine);
 * setDefaultTape(old);
 * ```
 */
export function setDefaultTape(tape: Tape): Tape {
  if (!(tape instanceof Tape)) {
    throw new TypeError(`Default tape must be a Tape, got ${describe(tape)}`);
  }
  const previous = sharedTape;
  sharedTape = tape;
  return previous;
}

/**
 * Runs `fn` without gradients on `tape` (default: the default tape), like
 * PyTorch's `torch.no_grad()`: see {@linkcode Tape.noGrad}. Everything `fn`
 * records is released when it returns, so return numbers (`y.data`).
 *
 * @param fn The computation; synchronous.
 * @param tape The tape it records on (default: {@linkcode defaultTape}).
 * @returns What `fn` returns.
 * @throws {TypeError} If `fn` is not a function, `tape` not a Tape, or `fn`
 * returns a promise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultTape, noGrad, Value } from "@tapegrad/tapegrad";
 * const w = new Value(0.5);
 * const size = defaultTape().size;
 * const ys = noGrad(() => [1, 2, 3].map((x) => w.mul(x).data));
 * assert.deepEqual(ys, [0.5, 1, 1.5]);
 * assert.equal(defaultTape().size, size); // nothing left to free
 * ```
 */
export function noGrad<T>(fn: () => T, tape: Tape = sharedTape): T {
  if (!(tape instanceof Tape)) {
    throw new TypeError(`noGrad() tape must be a Tape, got ${describe(tape)}`);
  }
  return tape.noGrad(fn);
}

const NO_OPTIONS: ValueOptions = Object.freeze({});
// Set by Value.at() for the constructor to adopt an existing node.
let adopting: Tape | undefined;
let adoptIndex = 0;

/** Options for {@linkcode Value}'s constructor. */
export interface ValueOptions {
  /** The tape to record on (default: {@linkcode defaultTape}). */
  tape?: Tape;
  /** A name shown in graph displays. */
  label?: string;
  /**
   * Whether backward computes this leaf's gradient (default `true`). Use
   * `false` for input data: backward then does no work for it.
   */
  requiresGrad?: boolean;
}

/** Options for {@linkcode Value.backward}. */
export interface BackwardOptions {
  /**
   * Keep the step's graph after this pass (default `false`), as PyTorch's
   * `retain_graph`: for a second backward through shared nodes, or to read
   * intermediate values and gradients after the next step starts.
   */
  retainGraph?: boolean;
}

/**
 * A scalar in a computation graph. It is a handle to a node on a
 * {@linkcode Tape}: ops record new nodes, `backward()` fills in `grad`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * const a = new Value(2, { label: "a" });
 * const b = new Value(-3, { label: "b" });
 * const c = new Value(10, { label: "c" });
 * const d = a.mul(b).add(c);
 * d.backward();
 * assert.equal(d.data, 4);
 * assert.equal(a.grad, -3);
 * assert.equal(b.grad, 2);
 * assert.equal(c.grad, 1);
 * ```
 */
export class Value {
  /** The tape this value lives on. */
  readonly tape: Tape;
  /** The node's index on the tape. */
  readonly index: number;
  /** The tape generation the node was created in. */
  readonly generation: number;

  /**
   * Creates a leaf.
   *
   * @param data The leaf's value: a finite number.
   * @param options Tape, label and whether it needs a gradient.
   * @throws {TypeError} If `data` is not a finite number.
   */
  constructor(data: number, options: ValueOptions = NO_OPTIONS) {
    if (adopting !== undefined) {
      // Value.at(): a handle to an existing node, built here so that every
      // Value has the same shape (property accesses stay monomorphic).
      const tape: Tape = adopting;
      adopting = undefined;
      this.tape = tape;
      this.index = adoptIndex;
      this.generation = tape.born[adoptIndex];
      return;
    }
    if (options === NO_OPTIONS) {
      // `new Value(x)`: no options to read.
      checkNumber(data, "Value data");
      const tape = sharedTape;
      this.tape = tape;
      this.index = tape.leaf(data, true);
      this.generation = tape.generation;
      return;
    }
    const tape = options.tape ?? sharedTape;
    if (!(tape instanceof Tape)) {
      throw new TypeError(`Value tape must be a Tape, got ${describe(tape)}`);
    }
    checkNumber(data, "Value data");
    this.tape = tape;
    this.index = tape.leaf(data, options.requiresGrad ?? true);
    this.generation = tape.generation;
    if (options.label !== undefined) this.label = options.label;
  }

  /**
   * A handle to an existing node (for code that records on the tape
   * directly and wants a Value back).
   *
   * @param tape The tape.
   * @param index The node's index.
   * @returns A Value for that node.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape, Value } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const i = tape.leaf(5);
   * assert.equal(Value.at(tape, i).data, 5);
   * ```
   *
   * @throws {TypeError} If `tape` is not a Tape.
   * @throws {RangeError} If `index` is not a node of the tape.
   */
  static at(tape: Tape, index: number): Value {
    if (!(tape instanceof Tape)) {
      throw new TypeError(
        `Value.at() needs a Tape, got ${
          tape === null
            ? "null"
            : typeof tape === "object"
            ? "an object that is not a Tape"
            : typeof tape
        }`,
      );
    }
    if (!Number.isInteger(index) || index < 0 || index >= tape.size) {
      throw new RangeError(
        `Node index must be an integer below the tape size ${tape.size}, got ${index}`,
      );
    }
    return handle(tape, index);
  }

  /** The node's index after checking that the handle is still live. */
  private node(): number {
    if (!this.tape.isLive(this.index, this.generation)) {
      throw staleValueError(this.tape, this.index, this.generation);
    }
    return this.index;
  }

  /** The value. Settable on leaves (parameters and inputs) only. */
  get data(): number {
    return this.tape.data[this.node()];
  }

  set data(x: number) {
    const i = this.node();
    checkNumber(x, "Value data");
    if (this.tape.op[i] !== Op.Leaf) {
      throw new TypeError(
        `Cannot set data of a "${
          opName(this.tape.op[i])
        }" node; only leaves are settable`,
      );
    }
    this.tape.data[i] = x;
  }

  /** d(root)/d(this) after `root.backward()`. Settable (`w.grad = 0`). */
  get grad(): number {
    return this.tape.grad[this.node()];
  }

  set grad(x: number) {
    const i = this.node();
    if (typeof x !== "number") {
      throw new TypeError(`Value grad must be a number, got ${describe(x)}`);
    }
    checkNumber(x, "Value grad");
    this.tape.setGrad(i, x);
  }

  /** The op that produced this value: `"leaf"`, `"+"`, `"*"`, `"tanh"`… */
  get op(): string {
    return opName(this.tape.op[this.node()]);
  }

  /** The input Values of this node, in order (empty for leaves). */
  get children(): Value[] {
    return this.tape.inputsOf(this.node()).map((j) => Value.at(this.tape, j));
  }

  /** Whether backward computes a gradient for this node. */
  get requiresGrad(): boolean {
    return this.tape.needsGrad[this.node()] === 1;
  }

  /** An optional name shown in graph displays. */
  get label(): string | undefined {
    return this.tape.labels.get(this.node());
  }

  set label(name: string | undefined) {
    const i = this.node();
    if (name === undefined || name === "") this.tape.labels.delete(i);
    else if (typeof name !== "string") {
      throw new TypeError(
        `Value label must be a string, got ${describe(name)}`,
      );
    } else this.tape.labels.set(i, name);
  }

  /**
   * Computes the gradient of this value with respect to every node it
   * depends on, in one reverse pass over the tape. Then, as in PyTorch,
   * the step's graph is released: every node made since the step's first
   * op (and the inputs made at the start of the next steps) is dropped
   * when the next step starts recording, so a training loop runs in
   * constant memory. Until then this value and the step's nodes stay
   * readable. Values made before the step (parameters, Values created
   * before the first op) are kept. Pass `{ retainGraph: true }` to keep
   * the graph for a second backward or for reading it later.
   *
   * @param options `retainGraph`: keep the graph (default `false`).
   * @throws {TypeError} If `options` is not an object with a boolean
   * `retainGraph`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape, Value } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const w = new Value(0.4, { tape });
   * let size = 0;
   * for (let step = 0; step < 3; step++) {
   *   const loss = w.mul(2).sub(4).pow(2); // (2w - 4)²
   *   w.grad = 0;
   *   loss.backward();
   *   w.data -= 0.1 * w.grad;
   *   if (step === 1) size = tape.size;
   * }
   * assert.equal(tape.size, size); // the graph is rebuilt in place
   * ```
   */
  backward(options?: BackwardOptions): void {
    const i = this.node();
    let retain = false;
    if (options !== undefined) {
      if (options === null || typeof options !== "object") {
        throw new TypeError(
          `backward() options must be an object, got ${describe(options)}`,
        );
      }
      const r: unknown = options.retainGraph;
      if (r !== undefined && typeof r !== "boolean") {
        throw new TypeError(
          `backward() retainGraph must be a boolean, got ${describe(r)}`,
        );
      }
      retain = r === true;
    }
    this.tape.backward(i);
    if (!retain) this.tape.releaseStep();
  }

  /**
   * `this + other`
   *
   * @param other A Value or a number.
   * @returns The sum.
   */
  add(other: Value | number): Value {
    return this.binary(Op.Add, other);
  }

  /**
   * `this - other`
   *
   * @param other A Value or a number.
   * @returns The difference.
   */
  sub(other: Value | number): Value {
    return this.binary(Op.Sub, other);
  }

  /**
   * `this * other`
   *
   * @param other A Value or a number.
   * @returns The product.
   */
  mul(other: Value | number): Value {
    return this.binary(Op.Mul, other);
  }

  /**
   * `this / other`
   *
   * @param other A Value or a number.
   * @returns The quotient (IEEE: division by 0 gives ±Infinity or NaN).
   */
  div(other: Value | number): Value {
    return this.binary(Op.Div, other);
  }

  /**
   * `this ^ exponent`. With a Value exponent, its gradient is
   * `this^exponent · ln(this)`.
   *
   * @param exponent A Value or a number.
   * @returns The power.
   */
  pow(exponent: Value | number): Value {
    return this.binary(Op.Pow, exponent);
  }

  /**
   * `max(this, other)`; on a tie the gradient goes to `this`.
   *
   * @param other A Value or a number.
   * @returns The larger value.
   */
  max(other: Value | number): Value {
    return this.binary(Op.Max, other);
  }

  /**
   * `min(this, other)`; on a tie the gradient goes to `this`.
   *
   * @param other A Value or a number.
   * @returns The smaller value.
   */
  min(other: Value | number): Value {
    return this.binary(Op.Min, other);
  }

  /**
   * `-this`
   *
   * @returns The negation.
   */
  neg(): Value {
    return this.unary(Op.Neg);
  }

  /**
   * `e^this`
   *
   * @returns The exponential.
   */
  exp(): Value {
    return this.unary(Op.Exp);
  }

  /**
   * Natural logarithm (IEEE: log(0) = -Infinity).
   *
   * @returns ln(this).
   */
  log(): Value {
    return this.unary(Op.Log);
  }

  /**
   * Hyperbolic tangent.
   *
   * @returns tanh(this).
   */
  tanh(): Value {
    return this.unary(Op.Tanh);
  }

  /**
   * `max(0, this)`, gradient 0 at 0 (as micrograd).
   *
   * @returns relu(this).
   */
  relu(): Value {
    return this.unary(Op.Relu);
  }

  /**
   * Logistic sigmoid.
   *
   * @returns 1 / (1 + e^-this).
   */
  sigmoid(): Value {
    return this.unary(Op.Sigmoid);
  }

  /**
   * Square root.
   *
   * @returns √this.
   */
  sqrt(): Value {
    return this.unary(Op.Sqrt);
  }

  /**
   * Absolute value, gradient 0 at 0.
   *
   * @returns |this|.
   */
  abs(): Value {
    return this.unary(Op.Abs);
  }

  /**
   * `log(1 + e^this)`, finite for every finite input.
   *
   * @returns softplus(this).
   */
  softplus(): Value {
    return this.unary(Op.Softplus);
  }

  /**
   * micrograd's display: `Value(data=4, grad=1)`, with the label when set
   * (`Value(data=4, grad=1, label="d")`).
   *
   * @returns The text.
   * @throws {Error} If the Value was released or dropped.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * const d = new Value(4, { label: "d" });
   * assert.equal(`${d}`, 'Value(data=4, grad=0, label="d")');
   * ```
   */
  toString(): string {
    const label = this.label;
    return `Value(data=${this.data}, grad=${this.grad}${
      label === undefined ? "" : `, label=${JSON.stringify(label)}`
    })`;
  }

  /**
   * Deno's `console.log` / `Deno.inspect` hook: micrograd's display (never
   * the tape), or `Value(released: node 5)` for a stale handle.
   *
   * @returns The text.
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.inspect();
  }

  /**
   * Node's `console.log` / `util.inspect` hook, as the Deno one.
   *
   * @returns The text.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.inspect();
  }

  /**
   * Rich display for notebooks (Deno's Jupyter kernel): plain text and a
   * small HTML card with the label, data and grad.
   *
   * @returns MIME type → content.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Value } from "@tapegrad/tapegrad";
   * const v = new Value(2, { label: "a<b" });
   * // What Deno's Jupyter kernel calls to show a cell's result:
   * type Displayable = Record<symbol, () => Record<string, string>>;
   * const display = (v as unknown as Displayable)[Symbol.for("Jupyter.display")];
   * const shown = display.call(v);
   * assert.equal(shown["text/plain"], 'Value(data=2, grad=0, label="a<b")');
   * assert.match(shown["text/html"], /a&lt;b/);
   * ```
   */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    const text = this.inspect();
    if (!this.tape.isLive(this.index, this.generation)) {
      return { "text/plain": text, "text/html": `<code>${text}</code>` };
    }
    const label = this.label;
    const cell = (name: string, x: string) =>
      `<td style="padding:2px 8px"><b>${name}</b> ${escapeHtml(x)}</td>`;
    const html = `<table style="border:1px solid #888;border-radius:4px">` +
      `<tr>${label === undefined ? "" : cell("", label)}${
        cell("data", String(this.data))
      }${cell("grad", String(this.grad))}</tr></table>`;
    return { "text/plain": text, "text/html": html };
  }

  /** The display text, safe for stale handles. */
  private inspect(): string {
    return this.tape.isLive(this.index, this.generation)
      ? this.toString()
      : `Value(released: node ${this.index})`;
  }

  /** Records a unary op on this node. */
  private unary(op: number): Value {
    const tape = this.tape;
    tape.settle(this.index);
    return handle(tape, tape.unary(op, this.node()));
  }

  /** Records a binary op on this node and `other`. */
  private binary(op: number, other: Value | number): Value {
    const tape = this.tape;
    if (typeof other === "number") {
      tape.settle(this.index);
      const a = this.node();
      checkNumber(other, "Operand");
      return handle(tape, tape.binary(op, a, tape.constant(other)));
    }
    if (other instanceof Value && other.tape === tape) {
      // The usual case, checked once: both handles live on this tape.
      tape.settle(this.index, other.index);
      return handle(tape, tape.binary(op, this.node(), other.node()));
    }
    tape.settle(this.index, other instanceof Value ? other.index : -1);
    const a = this.node();
    const b = indexOn(tape, other);
    return handle(tape, tape.binary(op, a, b));
  }
}

/** A Value for node `index` of `tape`, unchecked (see Value.at). */
function handle(tape: Tape, index: number): Value {
  adopting = tape;
  adoptIndex = index;
  return new Value(0, NO_OPTIONS);
}

/**
 * The node index of `x` on `tape`: a Value's own node (checked live and on
 * the same tape), or a new constant for a plain number.
 *
 * @param tape The tape being recorded on.
 * @param x A Value or a finite number.
 * @returns The node index.
 * @throws {TypeError} For anything else, {@linkcode Error} across tapes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexOn, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const i = indexOn(tape, 3);
 * assert.equal(tape.data[i], 3);
 * ```
 */
export function indexOn(tape: Tape, x: Value | number): number {
  if (x instanceof Value) {
    if (x.tape !== tape) {
      throw new Error(
        "Cannot combine Values from different tapes; create them on one tape",
      );
    }
    if (!tape.isLive(x.index, x.generation)) {
      throw staleValueError(tape, x.index, x.generation);
    }
    return x.index;
  }
  checkNumber(x, "Operand");
  return tape.constant(x);
}

/** The tape of the first Value in the lists, else the default tape. */
function tapeOf(...lists: (readonly (Value | number)[])[]): Tape {
  for (const xs of lists) {
    for (const x of xs) if (x instanceof Value) return x.tape;
  }
  return sharedTape;
}

/** The index of the first Value in `xs`, or -1. */
function firstIndex(xs: readonly (Value | number)[]): number {
  for (const x of xs) if (x instanceof Value) return x.index;
  return -1;
}

/**
 * The one error for a handle to a node dropped by `tape.rewind()`, wherever
 * the engine detects it: a plain `Error`, one message.
 */
function staleValueError(tape: Tape, index: number, generation: number): Error {
  return new Error(tape.staleMessage(index, generation));
}

/**
 * The first index when `xs` are live Values on `tape` at consecutive
 * indices, else -1.
 */
function rangeStart(tape: Tape, xs: readonly (Value | number)[]): number {
  const first = xs[0];
  if (!(first instanceof Value) || first.tape !== tape) return -1;
  const start = first.index;
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k];
    if (
      !(x instanceof Value) || x.tape !== tape || x.index !== start + k ||
      !tape.isLive(x.index, x.generation)
    ) return -1;
  }
  return start;
}

/**
 * `a + b`
 *
 * @param a A Value or a number.
 * @param b A Value or a number.
 * @returns The sum.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { add, Value } from "@tapegrad/tapegrad";
 * assert.equal(add(new Value(2), 3).data, 5);
 * ```
 */
export function add(a: Value | number, b: Value | number): Value {
  return binaryOf(Op.Add, a, b);
}

/**
 * `a - b`
 *
 * @param a A Value or a number.
 * @param b A Value or a number.
 * @returns The difference.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sub, Value } from "@tapegrad/tapegrad";
 * assert.equal(sub(new Value(2), 3).data, -1);
 * ```
 */
export function sub(a: Value | number, b: Value | number): Value {
  return binaryOf(Op.Sub, a, b);
}

/**
 * `a * b`
 *
 * @param a A Value or a number.
 * @param b A Value or a number.
 * @returns The product.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mul, Value } from "@tapegrad/tapegrad";
 * const w = new Value(0.4);
 * const y = mul(w, 2);
 * y.backward();
 * assert.equal(y.data, 0.8);
 * assert.equal(w.grad, 2);
 * ```
 */
export function mul(a: Value | number, b: Value | number): Value {
  return binaryOf(Op.Mul, a, b);
}

/**
 * `a / b`
 *
 * @param a A Value or a number.
 * @param b A Value or a number.
 * @returns The quotient.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { div, Value } from "@tapegrad/tapegrad";
 * assert.equal(div(new Value(3), 4).data, 0.75);
 * ```
 */
export function div(a: Value | number, b: Value | number): Value {
  return binaryOf(Op.Div, a, b);
}

/**
 * `a ^ b`, where either may be a Value.
 *
 * @param a The base.
 * @param b The exponent.
 * @returns The power.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pow, Value } from "@tapegrad/tapegrad";
 * const x = new Value(3);
 * const y = pow(x, 2);
 * y.backward();
 * assert.equal(y.data, 9);
 * assert.equal(x.grad, 6);
 * ```
 */
export function pow(a: Value | number, b: Value | number): Value {
  return binaryOf(Op.Pow, a, b);
}

function binaryOf(op: number, a: Value | number, b: Value | number): Value {
  const tape = a instanceof Value ? a.tape : tapeOf([b]);
  tape.settle(
    a instanceof Value ? a.index : -1,
    b instanceof Value ? b.index : -1,
  );
  const i = indexOn(tape, a);
  const j = indexOn(tape, b);
  return handle(tape, tape.binary(op, i, j));
}

/**
 * The sum of a list as one node (not a chain of additions).
 *
 * @param values Values and numbers, at least one.
 * @returns The sum.
 * @throws {TypeError} If `values` is not an array.
 * @throws {RangeError} If the list is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sum, Value } from "@tapegrad/tapegrad";
 * const xs = [new Value(1), new Value(2), 3];
 * const s = sum(xs);
 * s.backward();
 * assert.equal(s.data, 6);
 * assert.equal((xs[0] as Value).grad, 1);
 * ```
 */
export function sum(values: readonly (Value | number)[]): Value {
  if (!Array.isArray(values)) {
    throw new TypeError(
      `sum() needs an array of Values or numbers, got ${describe(values)}`,
    );
  }
  if (values.length === 0) {
    throw new RangeError(
      `sum() needs a non-empty array of Values or numbers, got ${
        describe(values)
      }`,
    );
  }
  const tape = tapeOf(values);
  tape.settle(firstIndex(values));
  // Consecutive live Values (a map's results, say) need no index list.
  const start = rangeStart(tape, values);
  if (start >= 0) return handle(tape, tape.sumRange(start, values.length));
  const indices = values.map((x) => indexOn(tape, x));
  return handle(tape, tape.sum(indices));
}

/**
 * `bias + Σ a[i]·b[i]` as one node, summed in that order (micrograd's
 * neuron: `sum((wi*xi for …), b)`).
 *
 * @param a Values and numbers (for example weights).
 * @param b Values and numbers, as many as `a` (for example inputs).
 * @param bias An optional starting value.
 * @returns The dot product.
 * @throws {RangeError} If the lengths differ or are 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dot, Value } from "@tapegrad/tapegrad";
 * const w = [new Value(2), new Value(-1)];
 * const y = dot(w, [3, 4], 0.5);
 * y.backward();
 * assert.equal(y.data, 2.5);
 * assert.deepEqual(w.map((x) => x.grad), [3, 4]);
 * ```
 */
export function dot(
  a: readonly (Value | number)[],
  b: readonly (Value | number)[],
  bias?: Value | number,
): Value {
  if (!Array.isArray(a) || !Array.isArray(b)) {
    throw new TypeError("dot() needs two arrays of Values or numbers");
  }
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(
      `dot() needs two non-empty arrays of the same length, got ${a.length} and ${b.length}`,
    );
  }
  const tape = bias instanceof Value ? bias.tape : tapeOf(a, b);
  tape.settle(firstIndex(a), firstIndex(b));
  // Contiguous live Values (a layer's weights, its inputs) need no index lists.
  const wStart = rangeStart(tape, a), xStart = rangeStart(tape, b);
  if (wStart >= 0 && xStart >= 0) {
    const biasIndex = bias === undefined ? -1 : indexOn(tape, bias);
    return handle(tape, tape.dotRange(wStart, xStart, a.length, biasIndex));
  }
  const weights = a.map((x) => indexOn(tape, x));
  const inputs = b.map((x) => indexOn(tape, x));
  const biasIndex = bias === undefined ? -1 : indexOn(tape, bias);
  return handle(tape, tape.dot(weights, inputs, biasIndex));
}

function checkNumber(x: unknown, what: string): asserts x is number {
  if (typeof x !== "number" || !Number.isFinite(x)) {
    throw new TypeError(
      `${what} must be a finite number, got ${describe(x)}`,
    );
  }
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  ).replace(/"/g, "&quot;");
}

/** Quotes a value for an error message, naming objects by their class. */
function describe(x: unknown): string {
  return describeValue(x, { className: true });
}
