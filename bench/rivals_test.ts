import assert from "node:assert/strict";
import { convnetjsRunner } from "./convnetjs_mlp.ts";
import { handwrittenRunner } from "./handwritten_mlp.ts";
import { jaxjsRunner } from "./jaxjs_mlp.ts";
import { tapegradRunner } from "./tapegrad_runner.ts";
import { simdPeakGflops } from "../engine/mod.ts";
import {
  demoLearningRate,
  makeWorkload,
  type RunnerFactory,
  W,
  W2,
} from "./workload.ts";

const STEPS = 5;

async function trajectory(factory: RunnerFactory, spec = W) {
  const w = makeWorkload(spec);
  const runner = await factory(w.sizes, w.params, w.x, w.y);
  const losses: number[] = [];
  for (let k = 0; k < STEPS; k++) {
    losses.push(runner.step(demoLearningRate(k)));
  }
  return { losses, params: runner.parameters() };
}

const RIVALS: [string, RunnerFactory, number][] = [
  ["tapegrad wasm", tapegradRunner("wasm"), 1e-12],
  ["tapegrad wasm float32", tapegradRunner("wasm", "float32"), 1e-3],
  ["convnetjs", convnetjsRunner, 1e-12],
  ["jax-js float64", jaxjsRunner("float64"), 1e-12],
  ["jax-js float32", jaxjsRunner("float32"), 1e-3],
];

for (const [name, factory, tolerance] of RIVALS) {
  for (const [label, spec] of [["W", W], ["W2", W2]] as const) {
    Deno.test(`${name} follows the hand-written ${label} trajectory (relative ${tolerance})`, async () => {
      const reference = await trajectory(handwrittenRunner, spec);
      const rival = await trajectory(factory, spec);
      rival.losses.forEach((loss, k) => {
        const want = reference.losses[k];
        assert.ok(
          Math.abs(loss - want) <= tolerance * Math.abs(want),
          `loss ${k}: ${loss} vs ${want}`,
        );
      });
      rival.params.forEach((p, k) => {
        const want = reference.params[k];
        assert.ok(
          Math.abs(p - want) <= tolerance * Math.max(1, Math.abs(want)),
          `parameter ${k}: ${p} vs ${want}`,
        );
      });
    });
  }
}

Deno.test("simdPeakGflops() measures a positive f64x2 and f32x4 throughput", () => {
  const f64 = simdPeakGflops("float64", true, 1e6);
  const f32 = simdPeakGflops("float32", false, 1e6);
  assert.ok(f64 > 0 && Number.isFinite(f64), `f64 ${f64}`);
  assert.ok(f32 > 0 && Number.isFinite(f32), `f32 ${f32}`);
});
