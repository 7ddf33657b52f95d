/**
 * tapegrad: a fast scalar autograd engine on a typed-array tape, with
 * micrograd's `Value`, `Neuron`, `Layer` and `MLP`, losses, optimizers and
 * datasets. Zero dependencies; runs in Deno, Node, Bun and browsers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "./mod.ts";
 * // The seed example: learn w so that w * x doubles x.
 * const w = new Value(0.4);
 * for (let step = 0; step < 6; step++) {
 *   const loss = w.mul(2).sub(4).pow(2);
 *   w.grad = 0;
 *   loss.backward();
 *   w.data -= 0.1 * w.grad;
 * }
 * assert.ok(Math.abs(w.data - 2) < 0.01);
 * ```
 *
 * @module
 */

export * from "./engine/mod.ts";
export * from "./nn/mod.ts";
export * from "./viz/mod.ts";
