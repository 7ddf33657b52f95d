// Trajectory checks of the rivals other than jax-js (jax-js runs in
// jaxjs_test.ts, in a process of its own: the two together crashed at exit,
// after passing, about once in ten runs).

import assert from "node:assert/strict";
import { convnetjsRunner } from "./convnetjs_mlp.ts";
import { tapegradRunner } from "./tapegrad_runner.ts";
import { testTrajectory } from "./trajectory_check.ts";
import { simdPeakGflops } from "../engine/mod.ts";

testTrajectory("tapegrad wasm", tapegradRunner("wasm"), 1e-12);
testTrajectory(
  "tapegrad wasm float32",
  tapegradRunner("wasm", "float32"),
  1e-3,
);
testTrajectory("convnetjs", convnetjsRunner, 1e-12);

Deno.test("simdPeakGflops() measures a positive f64x2 and f32x4 throughput", () => {
  const f64 = simdPeakGflops("float64", true, 1e6);
  const f32 = simdPeakGflops("float32", false, 1e6);
  assert.ok(f64 > 0 && Number.isFinite(f64), `f64 ${f64}`);
  assert.ok(f32 > 0 && Number.isFinite(f32), `f32 ${f32}`);
});
