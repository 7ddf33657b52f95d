import assert from "node:assert/strict";
import { Tape, wasmSimdAvailable } from "../engine/mod.ts";
import { FIT_MODES, makeMoons, MLP, Trainer } from "./mod.ts";

Deno.test("Trainer: parameters changed after construction count from the first step, in every mode", () => {
  const data = makeMoons(20, { noise: 0.1, seed: 2 });
  const losses = new Map<string, number[]>();
  for (const mode of FIT_MODES) {
    if (mode === "wasm" && !wasmSimdAvailable()) continue;
    const tape = new Tape();
    const model = new MLP(2, [4, 1], { seed: 1, tape });
    const trainer = new Trainer(model, data, {
      mode,
      loss: "hinge",
      lr: 0.1,
    });
    // Set after the Trainer recorded its graph.
    model.parameters().forEach((p, k) => (p.data = ((k % 5) - 2) / 4));
    const run = [trainer.step(), trainer.step()];
    trainer.close();
    losses.set(mode, run);
  }
  // The reference: a model built with those parameters from the start.
  const tape = new Tape();
  const count = new MLP(2, [4, 1], { tape }).parameterCount;
  const fresh = new MLP(2, [4, 1], {
    tape,
    parameters: Array.from({ length: count }, (_, k) => ((k % 5) - 2) / 4),
  });
  const reference = new Trainer(fresh, data, {
    mode: "record",
    loss: "hinge",
    lr: 0.1,
  });
  const expected = [reference.step(), reference.step()];
  for (const [mode, run] of losses) {
    if (mode === "wasm") {
      // SIMD sums in another order: equal to 1e-12.
      run.forEach((l, k) => assert.ok(Math.abs(l - expected[k]) < 1e-12, mode));
    } else assert.deepEqual(run, expected, mode);
  }
});
