/**
 * The tapegrad engine: a typed-array tape of scalar ops, the `Value` façade
 * on top of it, graph views and gradient checking.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tape, Value } from "./mod.ts";
 * const tape = new Tape();
 * const x = new Value(3, { tape });
 * const y = x.mul(x).add(x.tanh());
 * y.backward();
 * assert.ok(Math.abs(x.grad - (6 + 1 - Math.tanh(3) ** 2)) < 1e-12);
 * ```
 *
 * @module
 */

export * from "./ops.ts";
export * from "./tape.ts";
export * from "./value.ts";
export * from "./graph.ts";
export * from "./grad_check.ts";
export * from "./compile.ts";
export * from "./compiled_step.ts";
export * from "./describe.ts";
export * from "./wasm/step.ts";
export * from "./wasm/peak.ts";
