/**
 * Op codes and the math of every op: each op's forward formula sits on the
 * same line as its backward rule, so the two can be read (and checked) together.
 *
 * @module
 */

/**
 * Small integer op codes, grouped by arity. The tape stores them in a
 * `Uint8Array`; the hot loops switch on them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, opName } from "./ops.ts";
 * assert.equal(opName(Op.Mul), "*");
 * ```
 */
export const Op = {
  // Leaves: no inputs.
  /** A leaf: a parameter or an input; its data is set from outside. */
  Leaf: 0,
  /** A constant: a plain number used in an op; never needs a gradient. */
  Const: 1,
  // Unary: one input in `arg0`.
  /** `-x` */
  Neg: 2,
  /** `e^x` */
  Exp: 3,
  /** Natural logarithm. */
  Log: 4,
  /** Hyperbolic tangent. */
  Tanh: 5,
  /** `max(0, x)`, gradient 0 at 0 as in micrograd. */
  Relu: 6,
  /** `1 / (1 + e^-x)` */
  Sigmoid: 7,
  /** Square root. */
  Sqrt: 8,
  /** Absolute value, gradient 0 at 0. */
  Abs: 9,
  /** `log(1 + e^x)`, computed without overflow. */
  Softplus: 10,
  // Binary: inputs in `arg0` and `arg1`.
  /** `a + b` */
  Add: 11,
  /** `a - b` */
  Sub: 12,
  /** `a * b` */
  Mul: 13,
  /** `a / b` */
  Div: 14,
  /** `a ^ b` */
  Pow: 15,
  /** `max(a, b)`, the gradient goes to `a` on ties. */
  Max: 16,
  /** `min(a, b)`, the gradient goes to `a` on ties. */
  Min: 17,
  // N-ary: `arg0` is an offset into the argument pool, `arg1` a count.
  /** Sum of a list of nodes. */
  Sum: 18,
  /** `bias + Σ wᵢxᵢ` over two gathered index lists (bias optional). */
  Dot: 19,
  /** `bias + Σ wᵢxᵢ` over two contiguous index ranges (bias optional). */
  DotRange: 20,
} as const;

/** One of the values of {@linkcode Op}. */
export type OpCode = typeof Op[keyof typeof Op];

/** How many op codes exist; op codes are `0 … OP_COUNT - 1`. */
export const OP_COUNT = 21;

const OP_NAMES: readonly string[] = [
  "leaf",
  "const",
  "neg",
  "exp",
  "log",
  "tanh",
  "relu",
  "sigmoid",
  "sqrt",
  "abs",
  "softplus",
  "+",
  "-",
  "*",
  "/",
  "^",
  "max",
  "min",
  "sum",
  "dot",
  "dot",
];

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
 * import { Op, opName } from "./ops.ts";
 * assert.equal(opName(Op.Tanh), "tanh");
 * ```
 */
export function opName(op: number): string {
  return OP_NAMES[op] ?? `op#${op}`;
}

/**
 * Whether an op code is unary (one input in `arg0`).
 *
 * @param op An op code.
 * @returns `true` for `Neg` … `Softplus`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isUnary, Op } from "./ops.ts";
 * assert.equal(isUnary(Op.Exp), true);
 * assert.equal(isUnary(Op.Add), false);
 * ```
 */
export function isUnary(op: number): boolean {
  return op >= Op.Neg && op <= Op.Softplus;
}

/**
 * Whether an op code is binary (inputs in `arg0` and `arg1`).
 *
 * @param op An op code.
 * @returns `true` for `Add` … `Min`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBinary, Op } from "./ops.ts";
 * assert.equal(isBinary(Op.Pow), true);
 * ```
 */
export function isBinary(op: number): boolean {
  return op >= Op.Add && op <= Op.Min;
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
 * import { Op, unaryForward } from "./ops.ts";
 * assert.equal(unaryForward(Op.Relu, -2), 0);
 * ```
 */
export function unaryForward(op: number, x: number): number {
  return unary(op, x, 0, true);
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
 * import { Op, unaryDerivative } from "./ops.ts";
 * assert.equal(unaryDerivative(Op.Tanh, 0, 0), 1);
 * ```
 */
export function unaryDerivative(op: number, x: number, y: number): number {
  return unary(op, x, y, false);
}

// One line per op: forward value | derivative dy/dx (given x and y = f(x)).
// relu is micrograd's `0 if x < 0 else x`, so a NaN input stays NaN.
// deno-fmt-ignore
function unary(op: number, x: number, y: number, forward: boolean): number {
  switch (op) {
    case Op.Neg: return forward ? -x : -1;
    case Op.Exp: return forward ? Math.exp(x) : y;
    case Op.Log: return forward ? Math.log(x) : 1 / x;
    case Op.Tanh: return forward ? Math.tanh(x) : 1 - y * y;
    case Op.Relu: return forward ? (x < 0 ? 0 : x) : (x > 0 ? 1 : 0);
    case Op.Sigmoid: return forward ? sigmoid(x) : y * (1 - y);
    case Op.Sqrt: return forward ? Math.sqrt(x) : 0.5 / y;
    case Op.Abs: return forward ? Math.abs(x) : (x > 0 ? 1 : x < 0 ? -1 : 0);
    case Op.Softplus: return forward ? softplus(x) : sigmoid(x);
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
 * import { binaryForward, Op } from "./ops.ts";
 * assert.equal(binaryForward(Op.Pow, -2, 3), -8);
 * ```
 */
export function binaryForward(op: number, a: number, b: number): number {
  return binary(op, a, b, 0, FORWARD);
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
 * import { binaryDerivativeA, Op } from "./ops.ts";
 * assert.equal(binaryDerivativeA(Op.Mul, 2, -3, -6), -3);
 * ```
 */
export function binaryDerivativeA(
  op: number,
  a: number,
  b: number,
  y: number,
): number {
  return binary(op, a, b, y, WRT_A);
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
 * import { binaryDerivativeB, Op } from "./ops.ts";
 * assert.equal(binaryDerivativeB(Op.Mul, 2, -3, -6), 2);
 * ```
 */
export function binaryDerivativeB(
  op: number,
  a: number,
  b: number,
  y: number,
): number {
  return binary(op, a, b, y, WRT_B);
}

const FORWARD = 0;
const WRT_A = 1;
const WRT_B = 2;

// One line per op: forward value | ∂y/∂a | ∂y/∂b.
// pow: ∂/∂b = a^b·ln(a); at a = 0 its limit from the right (0) is used.
// max/min forward with Math.max/min so that a NaN on either side stays NaN.
// deno-fmt-ignore
function binary(op: number, a: number, b: number, y: number, part: number): number {
  switch (op) {
    case Op.Add: return part === FORWARD ? a + b : 1;
    case Op.Sub: return part === FORWARD ? a - b : part === WRT_A ? 1 : -1;
    case Op.Mul: return part === FORWARD ? a * b : part === WRT_A ? b : a;
    case Op.Div: return part === FORWARD ? a / b : part === WRT_A ? 1 / b : -a / (b * b);
    case Op.Pow: return part === FORWARD ? Math.pow(a, b) : part === WRT_A ? powGradBase(a, b) : (a === 0 ? 0 : y * Math.log(a));
    case Op.Max: return part === FORWARD ? Math.max(a, b) : (a >= b) === (part === WRT_A) ? 1 : 0;
    case Op.Min: return part === FORWARD ? Math.min(a, b) : (a <= b) === (part === WRT_A) ? 1 : 0;
    default: return NaN;
  }
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
