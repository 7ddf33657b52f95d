/**
 * The machine's SIMD multiply-add peak in WebAssembly: a tight loop of eight
 * independent `f64x2` (or `f32x4`) multiply-add chains, in GFLOP/s on one
 * core. The bench reports tapegrad's paths as a fraction of it.
 *
 * @module
 */

import {
  Body,
  encodeModule,
  relaxedSimdAvailable,
  ValType,
} from "./encoder.ts";

const CHAINS = 8;

/**
 * Measures the multiply-add throughput of a tight wasm loop.
 *
 * @param precision `"float64"` (`f64x2`) or `"float32"` (`f32x4`).
 * @param relaxed Use relaxed-SIMD fused multiply-add (when available).
 * @param iterations Loop passes per timed call.
 * @returns GFLOP/s (a multiply-add counts 2 per lane), best of 5 calls.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simdPeakGflops } from "./peak.ts";
 * assert.ok(simdPeakGflops("float64", true, 1e5) > 0);
 * ```
 */
export function simdPeakGflops(
  precision: "float64" | "float32",
  relaxed: boolean,
  iterations = 2e7,
): number {
  const f32 = precision === "float32";
  const fused = relaxed && relaxedSimdAvailable();
  const body = new Body();
  const N = 0, A = 1, B = 2, C = 3; // i32 n; v128 a, b, acc…
  const splat = (x: number) =>
    f32 ? body.f32Const(x).f32x4Splat() : body.f64Const(x).f64x2Splat();
  splat(0.9999999);
  body.localSet(A);
  splat(1e-7);
  body.localSet(B);
  for (let k = 0; k < CHAINS; k++) {
    splat(k);
    body.localSet(C + k);
  }
  body.loop();
  for (let k = 0; k < CHAINS; k++) {
    body.localGet(C + k).localGet(A);
    if (fused) {
      body.localGet(B);
      if (f32) body.f32x4RelaxedMadd();
      else body.f64x2RelaxedMadd();
    } else {
      if (f32) body.f32x4Mul().localGet(B).f32x4Add();
      else body.f64x2Mul().localGet(B).f64x2Add();
    }
    body.localSet(C + k);
  }
  body.localGet(N).i32Const(1).i32Sub().localTee(N).brIf(0).end();
  body.localGet(C);
  for (let k = 1; k < CHAINS; k++) {
    body.localGet(C + k);
    if (f32) body.f32x4Add();
    else body.f64x2Add();
  }
  if (f32) body.f32x4ExtractLane(0).f64PromoteF32();
  else body.f64x2ExtractLane(0);
  const bytes = encodeModule({
    functions: [{
      type: { params: [ValType.I32], results: [ValType.F64] },
      locals: [ValType.V128, ValType.V128, ...Array(CHAINS).fill(ValType.V128)],
      body,
      export: "peak",
    }],
  });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const peak = instance.exports.peak as (n: number) => number;
  const lanes = f32 ? 4 : 2;
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    peak(iterations);
    best = Math.min(best, performance.now() - t);
  }
  return (iterations * CHAINS * lanes * 2) / (best * 1e6);
}
