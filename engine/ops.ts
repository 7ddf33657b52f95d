/**
 * The op table (every op's code, name, arity and argument layout) and the
 * math of every op: per arity, the forward formulas and beside them the
 * derivatives, one line per op in op order; the n-ary ops' rules sit with
 * the one decoder of their argument pool.
 *
 * @module
 */

/**
 * How an op's arguments are stored on the tape: none (leaves), one input in
 * `arg0` (unary), inputs in `arg0` and `arg1` (binary), or an offset into
 * the argument pool in `arg0` and a count in `arg1` (n-ary).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Arity, Op, opArity } from "@tapegrad/tapegrad/engine";
 * assert.equal(opArity(Op.Tanh), Arity.Unary);
 * ```
 */
export const Arity = { Leaf: 0, Unary: 1, Binary: 2, Nary: 3 } as const;

/** One of the values of {@linkcode Arity}. */
export type ArityKind = typeof Arity[keyof typeof Arity];

/**
 * The op table: one row per op, in op-code order (a row's position is its
 * code), with the op's key in {@linkcode Op}, its display name, its arity
 * and, for n-ary ops, its argument layout in the pool. Everything else about
 * ops is derived from it or asks it; the math is in the rule functions below
 * (per arity, the forward formulas, then the derivatives).
 *
 * **Adding an op.** Append a row at the end of this table, so that existing
 * codes stay put (tests and examples print them). Add its
 * forward formula and its derivative, one line each, in `unaryValue` and
 * `unarySlope` (or `binaryValue` and `binarySlope`) below. An n-ary op also
 * needs its pool layout and its cases in {@linkcode naryPoolSize},
 * {@linkcode naryInputs}, {@linkcode naryForward} and
 * {@linkcode naryBackward}, and a code generator in `compile.ts`. Then add
 * a `Value` method that records it (`x.atan()` calls
 * `tape.unary(Op.Atan, …)`), and a row in
 * `ops_test.ts`'s `UNARY` or `BINARY` cases, which checks the value and the
 * gradient against a closed form and finite differences. The tape, the
 * compiler and the graph views need no change: they ask {@linkcode opArity}
 * and {@linkcode opName}. `op_table_test.ts` proves this by appending an op
 * to a copy of the engine and running it recorded, replayed and compiled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Arity, Op, OP_TABLE } from "@tapegrad/tapegrad/engine";
 * assert.deepEqual(OP_TABLE[Op.Tanh], ["Tanh", "tanh", Arity.Unary]);
 * ```
 */
// deno-fmt-ignore
export const OP_TABLE = [
  // key         name        arity          argument layout
  ["Leaf",      "leaf",     Arity.Leaf],   // a parameter or an input; its data is set from outside
  ["Const",     "const",    Arity.Leaf],   // a plain number used in an op; never needs a gradient
  ["Neg",       "neg",      Arity.Unary],  // -x
  ["Exp",       "exp",      Arity.Unary],  // e^x
  ["Log",       "log",      Arity.Unary],  // natural logarithm
  ["Tanh",      "tanh",     Arity.Unary],  // hyperbolic tangent
  ["Relu",      "relu",     Arity.Unary],  // max(0, x), gradient 0 at 0 as in micrograd
  ["Sigmoid",   "sigmoid",  Arity.Unary],  // 1 / (1 + e^-x)
  ["Sqrt",      "sqrt",     Arity.Unary],  // square root
  ["Abs",       "abs",      Arity.Unary],  // absolute value, gradient 0 at 0
  ["Softplus",  "softplus", Arity.Unary],  // log(1 + e^x), computed without overflow
  ["Add",       "+",        Arity.Binary], // a + b
  ["Sub",       "-",        Arity.Binary], // a - b
  ["Mul",       "*",        Arity.Binary], // a * b
  ["Div",       "/",        Arity.Binary], // a / b
  ["Pow",       "^",        Arity.Binary], // a ^ b
  ["Max",       "max",      Arity.Binary], // max(a, b), the gradient goes to a on ties
  ["Min",       "min",      Arity.Binary], // min(a, b), the gradient goes to a on ties
  ["Sum",       "sum",      Arity.Nary],   // pool[p + k], k < n: the summed nodes
  ["Dot",       "dot",      Arity.Nary],   // bias + Σ wₖxₖ, gathered: see dotArgs()
  ["DotRange",  "dot",      Arity.Nary],   // bias + Σ wₖxₖ over two ranges: see dotRangeArgs()
  ["DotRangeRelu", "relu(dot)", Arity.Nary], // max(0, DotRange): a ReLU neuron as one node
] as const;

/** One row of {@linkcode OP_TABLE}: key in {@linkcode Op}, name, arity. */
export type OpRow = typeof OP_TABLE[number];

/**
 * The type of {@linkcode Op}: each op's key mapped to its code, the
 * position of its row in the op table.
 */
export type OpCodes = {
  readonly [K in keyof typeof OP_TABLE & `${number}` as typeof OP_TABLE[K][0]]:
    K extends `${infer N extends number}` ? N : never;
};

/**
 * Small integer op codes, derived from {@linkcode OP_TABLE} (which says how
 * to add an op). The tape stores them in a `Uint8Array`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, opName } from "@tapegrad/tapegrad/engine";
 * assert.equal(opName(Op.Mul), "*");
 * ```
 */
export const Op: OpCodes = Object.freeze(
  Object.fromEntries(OP_TABLE.map((row: OpRow, code) => [row[0], code])),
) as OpCodes;

/** One of the values of {@linkcode Op}. */
export type OpCode = typeof Op[keyof typeof Op];

/** How many op codes exist; op codes are `0 … OP_COUNT - 1`. */
export const OP_COUNT: number = OP_TABLE.length;

const OP_NAMES: readonly string[] = OP_TABLE.map((row: OpRow) => row[1]);

// Arity by op code, for every byte value. Codes past the table are leaves
// (no inputs), never misread as n-ary.
const ARITY = new Uint8Array(256);
for (let code = 0; code < OP_TABLE.length; code++) {
  ARITY[code] = OP_TABLE[code][2];
}

/**
 * The readable name of an op code, as shown in graphs: `"+"`, `"*"`,
 * `"tanh"`, `"dot"`…
 *
 * @param op An op code from {@linkcode Op}.
 * @returns The op's display name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, opName } from "@tapegrad/tapegrad/engine";
 * assert.equal(opName(Op.Tanh), "tanh");
 * ```
 */
export function opName(op: number): string {
  return OP_NAMES[op] ?? `op#${op}`;
}

/**
 * How an op's arguments are stored (see {@linkcode Arity}), from the op
 * table. Unknown codes report {@linkcode Arity.Leaf}: no inputs.
 *
 * @param op An op code.
 * @returns The op's arity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Arity, Op, opArity } from "@tapegrad/tapegrad/engine";
 * assert.equal(opArity(Op.Pow), Arity.Binary);
 * assert.equal(opArity(Op.Sum), Arity.Nary);
 * ```
 */
export function opArity(op: number): ArityKind {
  return (ARITY[op] ?? Arity.Leaf) as ArityKind;
}

/**
 * Whether an op code is unary (one input in `arg0`).
 *
 * @param op An op code.
 * @returns `true` for the ops whose table row says {@linkcode Arity.Unary}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isUnary, Op } from "@tapegrad/tapegrad/engine";
 * assert.equal(isUnary(Op.Exp), true);
 * assert.equal(isUnary(Op.Add), false);
 * ```
 */
export function isUnary(op: number): boolean {
  return ARITY[op] === Arity.Unary;
}

/**
 * Whether an op code is binary (inputs in `arg0` and `arg1`).
 *
 * @param op An op code.
 * @returns `true` for the ops whose table row says {@linkcode Arity.Binary}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBinary, Op } from "@tapegrad/tapegrad/engine";
 * assert.equal(isBinary(Op.Pow), true);
 * ```
 */
export function isBinary(op: number): boolean {
  return ARITY[op] === Arity.Binary;
}

/**
 * The forward value of a unary op, `y = f(x)`.
 *
 * @param op A unary op code.
 * @param x The input.
 * @returns `f(x)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, unaryForward } from "@tapegrad/tapegrad/engine";
 * assert.equal(unaryForward(Op.Relu, -2), 0);
 * ```
 */
export function unaryForward(op: number, x: number): number {
  return unaryValue(op, x);
}

/**
 * Applies a unary op to `count` consecutive values: `data[to + j] =
 * f(data[from + j])`, the same numbers as {@linkcode unaryForward} one by
 * one (a layer's activations, recorded in one call).
 *
 * @param op A unary op code.
 * @param data The values, read and written in place.
 * @param from Index of the first input.
 * @param to Index of the first output.
 * @param count Number of values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, unaryForwardRange } from "@tapegrad/tapegrad/engine";
 * const data = new Float64Array([-1, 2, 0, 0]);
 * unaryForwardRange(Op.Relu, data, 0, 2, 2);
 * assert.deepEqual(Array.from(data), [-1, 2, 0, 2]);
 * ```
 */
export function unaryForwardRange(
  op: number,
  data: Float64Array,
  from: number,
  to: number,
  count: number,
): void {
  // ReLU, the usual hidden activation, in a loop of its own (the rule of
  // unaryValue below): a switch per node cost about 5 ns.
  if (op === Op.Relu) {
    for (let j = 0; j < count; j++) {
      const x = data[from + j];
      data[to + j] = x < 0 ? 0 : x;
    }
  } else {
    for (let j = 0; j < count; j++) {
      data[to + j] = unaryValue(op, data[from + j]);
    }
  }
}

/**
 * The local derivative `dy/dx` of a unary op, from its input and output.
 *
 * @param op A unary op code.
 * @param x The input.
 * @param y The output `f(x)`.
 * @returns `f'(x)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, unaryDerivative } from "@tapegrad/tapegrad/engine";
 * assert.equal(unaryDerivative(Op.Tanh, 0, 0), 1);
 * ```
 */
export function unaryDerivative(op: number, x: number, y: number): number {
  return unarySlope(op, x, y);
}

// The unary rules: two tables in op order, one line per op, the forward
// value y = f(x) and then the derivative dy/dx (given x and y). Two small
// switches rather than one with both: V8 inlines a callee whole, and only
// small ones fit its budget in Tape.replay and Tape.backward beside the
// n-ary rules (measured: one combined switch cost replay about 10%).
// relu is micrograd's `0 if x < 0 else x`, so a NaN input stays NaN.
// deno-fmt-ignore
function unaryValue(op: number, x: number): number {
  switch (op) {
    case Op.Neg: return -x;
    case Op.Exp: return Math.exp(x);
    case Op.Log: return Math.log(x);
    case Op.Tanh: return Math.tanh(x);
    case Op.Relu: return x < 0 ? 0 : x;
    case Op.Sigmoid: return sigmoid(x);
    case Op.Sqrt: return Math.sqrt(x);
    case Op.Abs: return Math.abs(x);
    case Op.Softplus: return softplus(x);
    default: return NaN;
  }
}

// deno-fmt-ignore
function unarySlope(op: number, x: number, y: number): number {
  switch (op) {
    case Op.Neg: return -1;
    case Op.Exp: return y;
    case Op.Log: return 1 / x;
    case Op.Tanh: return 1 - y * y;
    case Op.Relu: return x > 0 ? 1 : 0;
    case Op.Sigmoid: return y * (1 - y);
    case Op.Sqrt: return 0.5 / y;
    case Op.Abs: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case Op.Softplus: return sigmoid(x);
    default: return NaN;
  }
}

/**
 * The forward value of a binary op, `y = f(a, b)`.
 *
 * @param op A binary op code.
 * @param a The first input.
 * @param b The second input.
 * @returns `f(a, b)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binaryForward, Op } from "@tapegrad/tapegrad/engine";
 * assert.equal(binaryForward(Op.Pow, -2, 3), -8);
 * ```
 */
export function binaryForward(op: number, a: number, b: number): number {
  return binaryValue(op, a, b);
}

/**
 * The local derivative `dy/da` of a binary op.
 *
 * @param op A binary op code.
 * @param a The first input.
 * @param b The second input.
 * @param y The output `f(a, b)`.
 * @returns `∂f/∂a`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binaryDerivativeA, Op } from "@tapegrad/tapegrad/engine";
 * assert.equal(binaryDerivativeA(Op.Mul, 2, -3, -6), -3);
 * ```
 */
export function binaryDerivativeA(
  op: number,
  a: number,
  b: number,
  y: number,
): number {
  return binarySlope(op, a, b, y, true);
}

/**
 * The local derivative `dy/db` of a binary op.
 *
 * @param op A binary op code.
 * @param a The first input.
 * @param b The second input.
 * @param y The output `f(a, b)`.
 * @returns `∂f/∂b`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binaryDerivativeB, Op } from "@tapegrad/tapegrad/engine";
 * assert.equal(binaryDerivativeB(Op.Mul, 2, -3, -6), 2);
 * ```
 */
export function binaryDerivativeB(
  op: number,
  a: number,
  b: number,
  y: number,
): number {
  return binarySlope(op, a, b, y, false);
}

// The binary rules, as the unary ones: the forward value y = f(a, b), then
// ∂y/∂a | ∂y/∂b.
// max/min forward with Math.max/min so that a NaN on either side stays NaN.
// deno-fmt-ignore
function binaryValue(op: number, a: number, b: number): number {
  switch (op) {
    case Op.Add: return a + b;
    case Op.Sub: return a - b;
    case Op.Mul: return a * b;
    case Op.Div: return a / b;
    case Op.Pow: return Math.pow(a, b);
    case Op.Max: return Math.max(a, b);
    case Op.Min: return Math.min(a, b);
    default: return NaN;
  }
}

// pow: ∂/∂b = a^b·ln(a); at a = 0 its limit from the right (0) is used.
// deno-fmt-ignore
function binarySlope(op: number, a: number, b: number, y: number, wrtA: boolean): number {
  switch (op) {
    case Op.Add: return 1;
    case Op.Sub: return wrtA ? 1 : -1;
    case Op.Mul: return wrtA ? b : a;
    case Op.Div: return wrtA ? 1 / b : -a / (b * b);
    case Op.Pow: return wrtA ? powGradBase(a, b) : (a === 0 ? 0 : y * Math.log(a));
    case Op.Max: return (a >= b) === wrtA ? 1 : 0;
    case Op.Min: return (a <= b) === wrtA ? 1 : 0;
    default: return NaN;
  }
}

// The same rules as JavaScript source, for the compiler (compile.ts), for
// the ops whose rules are one expression: V8 does not inline the switches
// above into generated code once a program has a few calls, and a call per
// node cost about 15% of a small MLP's forward pass and 7% of a mini-batch
// step. They are the formulas above, operand for operand; compile_test
// checks each against the interpreter on signed zeros, infinities and NaN.
// Each is parenthesised, to be an operand as it is. Ops without one are
// called from generated code.

/** A unary op's rules as JavaScript source (see {@linkcode UNARY_SOURCE}). */
export interface UnarySource {
  /** The value, from the source of the input `x`. */
  value(x: string): string;
  /** The derivative, from the sources of the input `x` and the output `y`. */
  slope(x: string, y: string): string;
}

/**
 * The rules of the unary ops that are one expression, as JavaScript source
 * for generated code: the formulas of {@linkcode unaryForward} and
 * {@linkcode unaryDerivative}, operand for operand.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, UNARY_SOURCE, unaryForward } from "@tapegrad/tapegrad/engine";
 * const relu = new Function("x", `return ${UNARY_SOURCE[Op.Relu].value("x")};`);
 * assert.equal(relu(-2), unaryForward(Op.Relu, -2));
 * ```
 */
export const UNARY_SOURCE: { readonly [op: number]: UnarySource } = {
  [Op.Neg]: { value: (x) => `(-${x})`, slope: () => "-1" },
  [Op.Exp]: { value: (x) => `Math.exp(${x})`, slope: (_, y) => y },
  [Op.Log]: { value: (x) => `Math.log(${x})`, slope: (x) => `(1 / ${x})` },
  [Op.Tanh]: {
    value: (x) => `Math.tanh(${x})`,
    slope: (_, y) => `(1 - ${y} * ${y})`,
  },
  [Op.Relu]: {
    value: (x) => `(${x} < 0 ? 0 : ${x})`,
    // A number from the comparison, not a branch: mispredicted branches on
    // dead and live units cost a tenth of a layer's backward pass.
    slope: (x) => `+(${x} > 0)`,
  },
  [Op.Sqrt]: {
    value: (x) => `Math.sqrt(${x})`,
    slope: (_, y) => `(0.5 / ${y})`,
  },
  [Op.Abs]: {
    value: (x) => `Math.abs(${x})`,
    slope: (x) => `(${x} > 0 ? 1 : ${x} < 0 ? -1 : 0)`,
  },
};

/** A binary op's rules as JavaScript source (see {@linkcode BINARY_SOURCE}). */
export interface BinarySource {
  /** The value, from the sources of the inputs `a` and `b`. */
  value(a: string, b: string): string;
  /** ∂/∂a, an expression of `x` (input a), `y` (input b). */
  slopeA: string;
  /** ∂/∂b, an expression of `x` (input a), `y` (input b). */
  slopeB: string;
}

/**
 * The rules of the binary ops that are one expression, as JavaScript source
 * for generated code: the formulas of {@linkcode binaryForward},
 * {@linkcode binaryDerivativeA} and {@linkcode binaryDerivativeB}, operand
 * for operand.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BINARY_SOURCE, binaryDerivativeB, Op } from "@tapegrad/tapegrad/engine";
 * const slope = new Function("x", "y", `return ${BINARY_SOURCE[Op.Div].slopeB};`);
 * assert.equal(slope(3, 4), binaryDerivativeB(Op.Div, 3, 4, 0.75));
 * ```
 */
export const BINARY_SOURCE: { readonly [op: number]: BinarySource } = {
  [Op.Add]: { value: (a, b) => `(${a} + ${b})`, slopeA: "1", slopeB: "1" },
  [Op.Sub]: { value: (a, b) => `(${a} - ${b})`, slopeA: "1", slopeB: "-1" },
  [Op.Mul]: { value: (a, b) => `(${a} * ${b})`, slopeA: "y", slopeB: "x" },
  [Op.Div]: {
    value: (a, b) => `(${a} / ${b})`,
    slopeA: "(1 / y)",
    slopeB: "(-x / (y * y))",
  },
  [Op.Max]: {
    value: (a, b) => `Math.max(${a}, ${b})`,
    slopeA: "(x >= y ? 1 : 0)",
    slopeB: "(x >= y ? 0 : 1)",
  },
  [Op.Min]: {
    value: (a, b) => `Math.min(${a}, ${b})`,
    slopeA: "(x <= y ? 1 : 0)",
    slopeB: "(x <= y ? 0 : 1)",
  },
};

// ------------------------------------------------------------------ n-ary ops
// An n-ary node keeps `arg0` = p, an offset into the tape's argument pool, and
// `arg1` = n, a count. What the pool holds from p on, per op:
//   Sum       pool[p + k], k < n                 the summed nodes
//   Dot       pool[p]                            bias, or -1 for none
//             pool[p + 1 + k], k < n             weights
//             pool[p + 1 + n + k], k < n         inputs
//   DotRange  pool[p + DR_WEIGHTS]               first weight (n contiguous)
//   (and DotRangeRelu, the same record)
//             pool[p + DR_INPUTS]                first input (n contiguous)
//             pool[p + DR_BIAS]                  bias, or -1 for none
//             pool[p + DR_NEED]                  weight need | input need << 2
// This section is the only code that reads or writes these records.
const DR_WEIGHTS = 0;
const DR_INPUTS = 1;
const DR_BIAS = 2;
const DR_NEED = 3;
const DR_SIZE = 4;
const SUM = Op.Sum;
const DOT_RANGE = Op.DotRange;
const DOT_RANGE_RELU = Op.DotRangeRelu;
const NEED_NONE = 0;
const NEED_ALL = 1;
const NEED_SOME = 2;

/**
 * Whether none, all or some of a `DotRange` node's weights (or inputs) need
 * a gradient, as stored in its pool record: backward skips the `need` test
 * per term unless it is `Some`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dotRangeArgs, Need, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(2), x = tape.leaf(3, false);
 * const y = tape.dotRange(w, x, 1);
 * const args = dotRangeArgs(tape.pool, tape.arg0[y]);
 * assert.equal(args.weightNeed, Need.All);
 * assert.equal(args.inputNeed, Need.None);
 * ```
 */
export const Need = {
  None: NEED_NONE,
  All: NEED_ALL,
  Some: NEED_SOME,
} as const;

/** One of the values of {@linkcode Need}. */
export type NeedKind = typeof Need[keyof typeof Need];

/**
 * Whether none, all or some of `n` nodes need a gradient, from how many do.
 *
 * @param count How many of the nodes need a gradient.
 * @param n How many nodes there are.
 * @returns The {@linkcode Need} kind to store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Need, needKind } from "@tapegrad/tapegrad/engine";
 * assert.equal(needKind(3, 3), Need.All);
 * assert.equal(needKind(1, 3), Need.Some);
 * ```
 */
export function needKind(count: number, n: number): NeedKind {
  return count === 0 ? NEED_NONE : count === n ? NEED_ALL : NEED_SOME;
}

/**
 * How many pool entries an n-ary node of `n` terms takes.
 *
 * @param op An n-ary op code.
 * @param n The node's count (`arg1`).
 * @returns The size of its pool record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { naryPoolSize, Op } from "@tapegrad/tapegrad/engine";
 * assert.equal(naryPoolSize(Op.Dot, 3), 7); // bias, 3 weights, 3 inputs
 * assert.equal(naryPoolSize(Op.DotRange, 3), 4);
 * ```
 */
export function naryPoolSize(op: number, n: number): number {
  return op === Op.Sum ? n : op === Op.Dot ? 1 + 2 * n : DR_SIZE;
}

/**
 * Writes a `DotRange` node's pool record at `p`.
 *
 * @param pool The argument pool.
 * @param p The record's offset.
 * @param weightStart Index of the first weight.
 * @param inputStart Index of the first input.
 * @param bias Bias index, or -1 for none.
 * @param weightNeed Whether none, all or some weights need a gradient.
 * @param inputNeed Whether none, all or some inputs need a gradient.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   dotRangeArgs,
 *   Need,
 *   writeDotRange,
 * } from "@tapegrad/tapegrad/engine";
 * const pool = new Int32Array(4);
 * writeDotRange(pool, 0, 5, 9, -1, Need.All, Need.None);
 * assert.deepEqual(dotRangeArgs(pool, 0), {
 *   weightStart: 5, inputStart: 9, bias: -1, weightNeed: 1, inputNeed: 0,
 * });
 * ```
 */
export function writeDotRange(
  pool: Int32Array,
  p: number,
  weightStart: number,
  inputStart: number,
  bias: number,
  weightNeed: NeedKind,
  inputNeed: NeedKind,
): void {
  pool[p + DR_WEIGHTS] = weightStart;
  pool[p + DR_INPUTS] = inputStart;
  pool[p + DR_BIAS] = bias;
  pool[p + DR_NEED] = weightNeed | (inputNeed << 2);
}

/** A `DotRange` node's arguments, decoded by {@linkcode dotRangeArgs}. */
export interface DotRangeArgs {
  /** Index of the first weight; the node's `arg1` weights follow it. */
  weightStart: number;
  /** Index of the first input; as many inputs as weights. */
  inputStart: number;
  /** Bias index, or -1 for none. */
  bias: number;
  /** Whether none, all or some weights need a gradient. */
  weightNeed: NeedKind;
  /** Whether none, all or some inputs need a gradient. */
  inputNeed: NeedKind;
}

/**
 * Decodes a `DotRange` node's pool record (allocates: not for hot loops).
 *
 * @param pool The argument pool.
 * @param p The node's `arg0`.
 * @returns Its weights, inputs, bias and need modes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dotRangeArgs, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(2), x = tape.leaf(3), b = tape.leaf(1);
 * const y = tape.dotRange(w, x, 1, b);
 * assert.equal(dotRangeArgs(tape.pool, tape.arg0[y]).bias, b);
 * ```
 */
export function dotRangeArgs(pool: Int32Array, p: number): DotRangeArgs {
  const modes = pool[p + DR_NEED];
  return {
    weightStart: pool[p + DR_WEIGHTS],
    inputStart: pool[p + DR_INPUTS],
    bias: pool[p + DR_BIAS],
    weightNeed: (modes & 3) as NeedKind,
    inputNeed: (modes >> 2) as NeedKind,
  };
}

/** A gathered `Dot` node's arguments, decoded by {@linkcode dotArgs}. */
export interface DotArgs {
  /** Bias index, or -1 for none. */
  bias: number;
  /** Weight indices. */
  weights: number[];
  /** Input indices, as many as weights. */
  inputs: number[];
}

/**
 * Decodes a gathered `Dot` node's pool record (allocates: not for hot loops).
 *
 * @param pool The argument pool.
 * @param p The node's `arg0`.
 * @param n The node's `arg1`: the number of terms.
 * @returns Its bias, weights and inputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dotArgs, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const a = tape.leaf(2), b = tape.leaf(3);
 * const y = tape.dot([b, a], [a, b]);
 * assert.deepEqual(dotArgs(tape.pool, tape.arg0[y], 2), {
 *   bias: -1, weights: [b, a], inputs: [a, b],
 * });
 * ```
 */
export function dotArgs(pool: Int32Array, p: number, n: number): DotArgs {
  return {
    bias: pool[p],
    weights: Array.from(pool.subarray(p + 1, p + 1 + n)),
    inputs: Array.from(pool.subarray(p + 1 + n, p + 1 + 2 * n)),
  };
}

/**
 * The input indices of an n-ary node, in order: for dots the bias first
 * when there is one, then the weights, then the inputs. Allocates.
 *
 * @param op An n-ary op code.
 * @param pool The argument pool.
 * @param p The node's `arg0`.
 * @param n The node's `arg1`.
 * @returns The input indices.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { naryInputs, Op, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(2), x = tape.leaf(3);
 * const y = tape.dotRange(w, x, 1);
 * assert.deepEqual(naryInputs(Op.DotRange, tape.pool, tape.arg0[y], 1), [w, x]);
 * ```
 */
export function naryInputs(
  op: number,
  pool: Int32Array,
  p: number,
  n: number,
): number[] {
  if (op === Op.Sum) return Array.from(pool.subarray(p, p + n));
  const inputs: number[] = [];
  if (op === Op.Dot) {
    const { bias, weights, inputs: xs } = dotArgs(pool, p, n);
    if (bias >= 0) inputs.push(bias);
    return inputs.concat(weights, xs);
  }
  const { weightStart, inputStart, bias } = dotRangeArgs(pool, p);
  if (bias >= 0) inputs.push(bias);
  for (let k = 0; k < n; k++) inputs.push(weightStart + k);
  for (let k = 0; k < n; k++) inputs.push(inputStart + k);
  return inputs;
}

/**
 * The forward value of an n-ary node: a sum, or `bias + Σ wₖ·xₖ` summed in
 * that order (micrograd's order).
 *
 * @param op An n-ary op code.
 * @param data The tape's node values.
 * @param pool The argument pool.
 * @param p The node's `arg0`.
 * @param n The node's `arg1`.
 * @returns The node's value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { naryForward, Op, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(2), x = tape.leaf(3);
 * const y = tape.dotRange(w, x, 1);
 * tape.data[x] = 5;
 * assert.equal(naryForward(Op.DotRange, tape.data, tape.pool, tape.arg0[y], 1), 10);
 * ```
 */
export function naryForward(
  op: number,
  data: Float64Array,
  pool: Int32Array,
  p: number,
  n: number,
): number {
  // DotRange (a neuron) in line, the rest in a call: small enough that V8
  // still inlines this and the unary and binary rules into Tape.replay.
  if (op !== DOT_RANGE && op !== DOT_RANGE_RELU) {
    return gatheredForward(op, data, pool, p, n);
  }
  const w = pool[p + DR_WEIGHTS], x = pool[p + DR_INPUTS];
  const bias = pool[p + DR_BIAS];
  let value = bias >= 0 ? data[bias] : 0;
  for (let k = 0; k < n; k++) value += data[w + k] * data[x + k];
  // DotRangeRelu: the unary Relu rule's value.
  return op === DOT_RANGE || !(value < 0) ? value : 0;
}

// Sum and gathered Dot: forward value, then backward rule.

function gatheredForward(
  op: number,
  data: Float64Array,
  pool: Int32Array,
  p: number,
  n: number,
): number {
  if (op === SUM) {
    let value = 0;
    for (let k = 0; k < n; k++) value += data[pool[p + k]];
    return value;
  }
  const bias = pool[p];
  let value = bias >= 0 ? data[bias] : 0;
  for (let k = 1; k <= n; k++) {
    value += data[pool[p + k]] * data[pool[p + n + k]];
  }
  return value;
}

function gatheredBackward(
  op: number,
  g: number,
  data: Float64Array,
  grad: Float64Array,
  need: Uint8Array,
  pool: Int32Array,
  p: number,
  n: number,
): void {
  if (op === SUM) {
    for (let k = 0; k < n; k++) {
      const j = pool[p + k];
      if (need[j]) grad[j] += g;
    }
    return;
  }
  const bias = pool[p];
  if (bias >= 0 && need[bias]) grad[bias] += g;
  for (let k = 1; k <= n; k++) {
    const w = pool[p + k], x = pool[p + n + k];
    if (need[w]) grad[w] += g * data[x];
    if (need[x]) grad[x] += g * data[w];
  }
}

// DotRange's backward rule (its forward is in naryForward, and a dense
// layer's in denseForward). DotRangeRelu's is the same after the Relu
// rule's slope, `out > 0 ? 1 : 0`: its gradient passes where its value
// (`out`) is positive, else nothing does (see naryBackward).
function dotRangeBackward(
  g: number,
  data: Float64Array,
  grad: Float64Array,
  need: Uint8Array,
  pool: Int32Array,
  p: number,
  n: number,
) {
  dotRangeWeightsBackward(g, data, grad, need, pool, p, n);
  const w = pool[p + DR_WEIGHTS], x = pool[p + DR_INPUTS];
  const xNeed = pool[p + DR_NEED] >> 2;
  if (xNeed === NEED_ALL) {
    for (let k = 0; k < n; k++) grad[x + k] += g * data[w + k];
  } else if (xNeed === NEED_SOME) {
    for (let k = 0; k < n; k++) {
      if (need[x + k]) grad[x + k] += g * data[w + k];
    }
  }
}

// The bias and weight part of dotRangeBackward.
function dotRangeWeightsBackward(
  g: number,
  data: Float64Array,
  grad: Float64Array,
  need: Uint8Array,
  pool: Int32Array,
  p: number,
  n: number,
) {
  const w = pool[p + DR_WEIGHTS], x = pool[p + DR_INPUTS];
  const bias = pool[p + DR_BIAS], wNeed = pool[p + DR_NEED] & 3;
  if (bias >= 0 && need[bias]) grad[bias] += g;
  if (wNeed === NEED_ALL) {
    for (let k = 0; k < n; k++) grad[w + k] += g * data[x + k];
  } else if (wNeed === NEED_SOME) {
    for (let k = 0; k < n; k++) {
      if (need[w + k]) grad[w + k] += g * data[x + k];
    }
  }
}

/**
 * The values of `count` neurons of a dense layer, as
 * {@linkcode Tape.denseRange} records them: `data[out + j] = data[b_j] +
 * Σ_k data[w_j + k]·data[x + k]` with `w_j = weightStart + j·stride` and
 * `b_j = w_j + biasOffset` (no bias when `biasOffset` is negative). Each sum
 * runs in `k` order from the bias (from 0 without one), as one `DotRange`
 * node at a time would, so the results are the same bit for bit; four
 * neurons share each pass over the inputs, so four independent sums keep
 * the adder busy where one would wait on each addition.
 *
 * @param data The tape's node values (updated at `out`).
 * @param weightStart Index of neuron 0's first weight.
 * @param stride Distance between neurons' first weights.
 * @param x Index of the first input.
 * @param n Inputs per neuron.
 * @param count Number of neurons.
 * @param biasOffset Bias index relative to each neuron's first weight, or -1.
 * @param out Where neuron 0's value goes; the others follow it.
 * @param relu Where the ReLUs of the values go (`count` of them, as
 * {@linkcode unaryForwardRange} with `Op.Relu` would write them), or -1.
 * It may be `out`: the neurons' values are then their ReLUs, as a run of
 * `DotRangeRelu` nodes holds them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseForward } from "@tapegrad/tapegrad/engine";
 * // Two neurons [w0, w1, bias]: [1, 2, 0.5] and [3, 4, -1]; inputs [10, 20].
 * const data = new Float64Array([1, 2, 0.5, 3, 4, -1, 10, 20, 0, 0]);
 * denseForward(data, 0, 3, 6, 2, 2, 2, 8);
 * assert.deepEqual([data[8], data[9]], [50.5, 109]);
 * data[0] = -10; // neuron 0: 0.5 - 100 + 40
 * const out = new Float64Array(12);
 * out.set(data);
 * denseForward(out, 0, 3, 6, 2, 2, 2, 8, 10);
 * assert.deepEqual([...out.subarray(8)], [-59.5, 109, 0, 109]);
 * ```
 */
export function denseForward(
  data: Float64Array,
  weightStart: number,
  stride: number,
  x: number,
  n: number,
  count: number,
  biasOffset: number,
  out: number,
  relu = -1,
): void {
  let j = 0;
  for (; j + 4 <= count; j += 4) {
    const w0 = weightStart + j * stride, w1 = w0 + stride;
    const w2 = w1 + stride, w3 = w2 + stride;
    let t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    if (biasOffset >= 0) {
      t0 = data[w0 + biasOffset], t1 = data[w1 + biasOffset];
      t2 = data[w2 + biasOffset], t3 = data[w3 + biasOffset];
    }
    for (let k = 0; k < n; k++) {
      const xk = data[x + k];
      t0 += data[w0 + k] * xk;
      t1 += data[w1 + k] * xk;
      t2 += data[w2 + k] * xk;
      t3 += data[w3 + k] * xk;
    }
    data[out + j] = t0, data[out + j + 1] = t1;
    data[out + j + 2] = t2, data[out + j + 3] = t3;
    if (relu >= 0) {
      // unaryValue's relu, while the sums are in registers.
      data[relu + j] = t0 < 0 ? 0 : t0, data[relu + j + 1] = t1 < 0 ? 0 : t1;
      data[relu + j + 2] = t2 < 0 ? 0 : t2,
        data[relu + j + 3] = t3 < 0 ? 0 : t3;
    }
  }
  for (; j < count; j++) {
    const w = weightStart + j * stride;
    let total = biasOffset >= 0 ? data[w + biasOffset] : 0;
    for (let k = 0; k < n; k++) total += data[w + k] * data[x + k];
    data[out + j] = total;
    if (relu >= 0) data[relu + j] = total < 0 ? 0 : total;
  }
}

/**
 * Backpropagates a dense layer's neurons at once: the run of alike
 * `DotRange` (or `DotRangeRelu`) nodes that ends at node `i` and starts at
 * `low` or above, what {@linkcode Tape.denseRange} records. Alike: the same
 * op and `n`, the same inputs (all needing a gradient, below the run), and
 * each neuron's weights and bias below those inputs. It returns the run's
 * first node, having backpropagated every node of the run; or -1 when
 * node `i` is not such a neuron (nothing changed). The result is the same,
 * bit for bit, as {@linkcode naryBackward} on node `i`, then `i - 1`, and
 * so on: the neurons that pass a gradient (need one, have a nonzero one,
 * and for `DotRangeRelu` a positive value) add their terms to each input's
 * gradient in that order, four at a time, so each input's gradient is
 * loaded and stored once per four neurons rather than once per neuron.
 *
 * @param i The run's last node, a `DotRange` or `DotRangeRelu`.
 * @param low The lowest node the run may start at.
 * @param ops The tape's op codes.
 * @param arg0 The tape's first arguments (pool offsets).
 * @param arg1 The tape's second arguments (term counts).
 * @param data The tape's node values.
 * @param grad The tape's node gradients (updated).
 * @param need The tape's `needsGrad` flags.
 * @param pool The argument pool.
 * @returns The run's first node, or -1 when there is no run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseBackward, Op, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(1);
 * for (let k = 1; k < 10; k++) tape.leaf(k + 1); // 5 neurons × 2 weights
 * const x = tape.leaf(10), x1 = tape.leaf(20);
 * const first = tape.denseRange(w, 2, x, 2, 5);
 * for (let j = 0; j < 5; j++) tape.grad[first + j] = j === 2 ? 0 : 1;
 * const start = denseBackward(first + 4, 0, tape.op, tape.arg0, tape.arg1,
 *   tape.data, tape.grad, tape.needsGrad, tape.pool);
 * assert.equal(start, first);
 * assert.equal(tape.grad[x], 1 + 3 + 7 + 9); // neuron 2 passes nothing
 * assert.equal(tape.grad[x1], 2 + 4 + 8 + 10);
 * assert.equal(tape.grad[w], 10);
 * assert.equal(tape.op[first], Op.DotRange);
 * ```
 */
export function denseBackward(
  i: number,
  low: number,
  ops: Uint8Array,
  arg0: Int32Array,
  arg1: Int32Array,
  data: Float64Array,
  grad: Float64Array,
  need: Uint8Array,
  pool: Int32Array,
): number {
  const n = arg1[i], op = ops[i], x = pool[arg0[i] + DR_INPUTS];
  if (op !== DOT_RANGE && op !== DOT_RANGE_RELU) return -1;
  // The run: down from i while the nodes are neurons over the same inputs,
  // and not below the inputs themselves.
  const bottom = Math.max(low, x + n);
  let start = i + 1;
  while (start > bottom) {
    const j = start - 1, p = arg0[j];
    const w = pool[p + DR_WEIGHTS], bias = pool[p + DR_BIAS];
    if (
      ops[j] !== op || arg1[j] !== n || pool[p + DR_INPUTS] !== x ||
      pool[p + DR_NEED] >> 2 !== NEED_ALL || w + n > x || bias >= x
    ) break;
    start = j;
  }
  if (start > i) return -1;
  // The neurons that pass a gradient, from the last: bias and weights now,
  // their (g, first weight) kept for the inputs.
  if (runGrads.length < i - start + 1) {
    runGrads = new Float64Array(2 * (i - start + 1));
    runWeights = new Int32Array(2 * (i - start + 1));
  }
  const gs = runGrads, ws = runWeights, relu = op === DOT_RANGE_RELU;
  let m = 0;
  for (let j = i; j >= start; j--) {
    const g = grad[j];
    if (need[j] === 0 || g === 0 || (relu && !(data[j] > 0))) continue;
    const p = arg0[j];
    dotRangeWeightsBackward(g, data, grad, need, pool, p, n);
    gs[m] = g;
    ws[m] = pool[p + DR_WEIGHTS];
    m++;
  }
  let t = 0;
  for (; t + 4 <= m; t += 4) {
    const g0 = gs[t], g1 = gs[t + 1], g2 = gs[t + 2], g3 = gs[t + 3];
    const w0 = ws[t], w1 = ws[t + 1], w2 = ws[t + 2], w3 = ws[t + 3];
    for (let k = 0; k < n; k++) {
      let a = grad[x + k];
      a += g0 * data[w0 + k];
      a += g1 * data[w1 + k];
      a += g2 * data[w2 + k];
      a += g3 * data[w3 + k];
      grad[x + k] = a;
    }
  }
  for (; t < m; t++) {
    const g = gs[t], w = ws[t];
    for (let k = 0; k < n; k++) grad[x + k] += g * data[w + k];
  }
  return start;
}

// denseBackward's (g, first weight) per neuron that passes a gradient;
// grown when a layer has more neurons.
let runGrads = new Float64Array(64);
let runWeights = new Int32Array(64);

/**
 * Backpropagates gradient `g` of an n-ary node into its inputs that need
 * one: `+= g` for each summand and the bias, `+= g·x` for a weight and
 * `+= g·w` for an input.
 *
 * @param op An n-ary op code.
 * @param g The node's gradient.
 * @param data The tape's node values.
 * @param grad The tape's node gradients (updated).
 * @param need The tape's `needsGrad` flags.
 * @param pool The argument pool.
 * @param p The node's `arg0`.
 * @param n The node's `arg1`.
 * @param out The node's value (a `DotRangeRelu` passes `g` only where it
 * is positive).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { naryBackward, Op, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(2), x = tape.leaf(3);
 * const y = tape.dotRange(w, x, 1);
 * naryBackward(Op.DotRange, 1, tape.data, tape.grad, tape.needsGrad, tape.pool, tape.arg0[y], 1, tape.data[y]);
 * assert.equal(tape.grad[w], 3);
 * assert.equal(tape.grad[x], 2);
 * ```
 */
export function naryBackward(
  op: number,
  g: number,
  data: Float64Array,
  grad: Float64Array,
  need: Uint8Array,
  pool: Int32Array,
  p: number,
  n: number,
  out: number,
): void {
  if (op === DOT_RANGE) dotRangeBackward(g, data, grad, need, pool, p, n);
  else if (op === DOT_RANGE_RELU) {
    if (out > 0) dotRangeBackward(g, data, grad, need, pool, p, n);
  } else gatheredBackward(op, g, data, grad, need, pool, p, n);
}

/**
 * The local derivative of an n-ary node for each entry of
 * {@linkcode naryInputs}, in the same order: 1 for a summand and for the
 * bias, the matching input's value for a weight, the matching weight's value
 * for an input. What {@linkcode naryBackward} multiplies `g` by, slot by slot
 * (for graph views; allocates).
 *
 * @param op An n-ary op code.
 * @param data The tape's node values.
 * @param pool The argument pool.
 * @param p The node's `arg0`.
 * @param n The node's `arg1`.
 * @param out The node's value (where a `DotRangeRelu`'s is not positive,
 * every local derivative is 0).
 * @returns One local derivative per input slot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { naryLocalGradients, Op, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(2), x = tape.leaf(3), b = tape.leaf(1);
 * const y = tape.dotRange(w, x, 1, b);
 * // Slots: bias, weight, input.
 * assert.deepEqual(naryLocalGradients(Op.DotRange, tape.data, tape.pool, tape.arg0[y], 1, tape.data[y]), [1, 3, 2]);
 * ```
 */
export function naryLocalGradients(
  op: number,
  data: Float64Array,
  pool: Int32Array,
  p: number,
  n: number,
  out: number,
): number[] {
  const inputs = naryInputs(op, pool, p, n);
  if (op === SUM) return inputs.map(() => 1);
  if (op === DOT_RANGE_RELU && !(out > 0)) return inputs.map(() => 0);
  // [bias?, w1…wn, x1…xn]: a weight's local derivative is its input's value
  // and the other way round.
  const bias = inputs.length - 2 * n;
  return inputs.map((_, k) =>
    k < bias ? 1 : k < bias + n ? data[inputs[k + n]] : data[inputs[k - n]]
  );
}

// b·a^(b-1), with the b = 0 case (x^0 = 1 has slope 0 everywhere) made exact.
function powGradBase(a: number, b: number): number {
  return b === 0 ? 0 : b * Math.pow(a, b - 1);
}

function sigmoid(x: number): number {
  // Two branches so that e^x never overflows.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

function softplus(x: number): number {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), finite for every finite x.
  return (x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x)));
}
