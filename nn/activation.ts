/**
 * Activations: the four non-linearities a neuron may end with, and the engine
 * op each one records.
 *
 * @module
 */

import { Op, unaryForward } from "../engine/mod.ts";
import { show } from "./_show.ts";

/**
 * A neuron's non-linearity: `"relu"`, `"tanh"`, `"sigmoid"`, or `"linear"`
 * (no non-linearity, no extra node on the tape).
 */
export type Activation = "relu" | "tanh" | "sigmoid" | "linear";

/**
 * Every activation name, in a fixed order (for help texts and validation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ACTIVATIONS } from "@tapegrad/tapegrad";
 * assert.deepEqual(ACTIVATIONS, ["relu", "tanh", "sigmoid", "linear"]);
 * ```
 */
export const ACTIVATIONS: readonly Activation[] = Object.freeze([
  "relu",
  "tanh",
  "sigmoid",
  "linear",
]);

/**
 * Whether `value` is one of the {@linkcode ACTIVATIONS}.
 *
 * @param value Anything.
 * @returns `true` for `"relu"`, `"tanh"`, `"sigmoid"` and `"linear"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isActivation } from "@tapegrad/tapegrad/nn";
 * assert.equal(isActivation("tanh"), true);
 * assert.equal(isActivation("gelu"), false);
 * ```
 */
export function isActivation(value: unknown): value is Activation {
  return typeof value === "string" &&
    (ACTIVATIONS as readonly string[]).includes(value);
}

/**
 * Checks a user-supplied activation name (an option, a CLI flag, a model
 * file field) and returns it typed.
 *
 * @param value The name to check.
 * @param name What the value is, for the error message.
 * @returns `value`, as an {@linkcode Activation}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseActivation } from "@tapegrad/tapegrad/nn";
 * assert.equal(parseActivation("relu"), "relu");
 * assert.throws(() => parseActivation("gelu"), {
 *   name: "TypeError",
 *   message:
 *     'Activation must be one of "relu", "tanh", "sigmoid", "linear", got "gelu"',
 * });
 * ```
 *
 * @throws {TypeError} If `value` is not an activation name.
 */
export function parseActivation(
  value: unknown,
  name: string = "Activation",
): Activation {
  if (isActivation(value)) return value;
  const accepted = ACTIVATIONS.map((a) => `"${a}"`).join(", ");
  throw new TypeError(`${name} must be one of ${accepted}, got ${show(value)}`);
}

/**
 * The engine op an activation records: `Op.Relu`, `Op.Tanh`, `Op.Sigmoid`,
 * or -1 for `"linear"`, which records nothing.
 *
 * @param activation An activation name.
 * @returns An op code, or -1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op } from "@tapegrad/tapegrad/engine";
 * import { activationOp } from "@tapegrad/tapegrad/nn";
 * assert.equal(activationOp("tanh"), Op.Tanh);
 * assert.equal(activationOp("linear"), -1);
 * ```
 *
 * @throws {TypeError} If `activation` is not an activation name.
 */
export function activationOp(activation: Activation): number {
  switch (parseActivation(activation)) {
    case "relu":
      return Op.Relu;
    case "tanh":
      return Op.Tanh;
    case "sigmoid":
      return Op.Sigmoid;
    case "linear":
      return -1;
  }
}

/**
 * Applies an activation to a plain number, with exactly the arithmetic the
 * tape uses (so evaluation without a graph matches it bit for bit).
 *
 * @param activation An activation name.
 * @param x The pre-activation value.
 * @returns The activation of `x`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activate } from "@tapegrad/tapegrad";
 * assert.equal(activate("relu", -2), 0);
 * assert.equal(activate("sigmoid", 0), 0.5);
 * assert.equal(activate("linear", -2), -2);
 * ```
 *
 * @throws {TypeError} If `activation` is not an activation name.
 */
export function activate(activation: Activation, x: number): number {
  const op = activationOp(activation);
  return op < 0 ? x : unaryForward(op, x);
}

/**
 * The neuron kind micrograd prints for an activation: `"ReLU"`, `"Tanh"`,
 * `"Sigmoid"` or `"Linear"` (as in `ReLUNeuron(2)`).
 *
 * @param activation An activation name.
 * @returns The display name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activationName } from "@tapegrad/tapegrad/nn";
 * assert.equal(activationName("relu"), "ReLU");
 * assert.equal(activationName("linear"), "Linear");
 * ```
 *
 * @throws {TypeError} If `activation` is not an activation name.
 */
export function activationName(activation: Activation): string {
  switch (parseActivation(activation)) {
    case "relu":
      return "ReLU";
    case "tanh":
      return "Tanh";
    case "sigmoid":
      return "Sigmoid";
    case "linear":
      return "Linear";
  }
}
