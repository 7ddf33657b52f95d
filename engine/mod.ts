/**
 * The tapegrad engine, for advanced use: a typed-array tape of scalar ops,
 * the `Value` façade on top of it, graph views and gradient checking, plus
 * the internals the main entry point leaves out: the op table (`Op`,
 * `OP_TABLE`, the forward and derivative rules), the decoders of the n-ary
 * argument pool, and the compiler (`compileRange`, `CompiledStep`). Most
 * programs need only `@tapegrad/tapegrad`; import this entry point to record
 * ops on a `Tape` directly or to compile a training step yourself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tape, Value } from "@tapegrad/tapegrad";
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
