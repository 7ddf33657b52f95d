// The wasm mini-batch step runs each batch size's loss compiled per sample, with the numbers of recording the loss every batch.

import assert from "node:assert/strict";
import { Tape } from "../engine/mod.ts";
import type { LossName } from "./loss.ts";
import { lossKind } from "./_loss_kind.ts";
import { MLP } from "./mlp.ts";
import { WasmBatchStep } from "./wasm_batch.ts";
import { sampleBatches } from "./_testing.ts";

/** A wasm step on its own tape: with classes, the loss kept per batch size. */
function stepFor(
  loss: LossName,
  classes: number,
  alpha: number,
  keep: boolean,
) {
  const kind = lossKind(loss, classes);
  const model = new MLP(6, [10, 7, kind.outputs], {
    seed: 3,
    tape: new Tape(),
  });
  const step = new WasmBatchStep(
    model,
    16,
    kind.outputs,
    (out, y) => kind.loss(out, y),
    { precision: "float64", alpha, resident: false },
    keep ? classes : 0,
  );
  return { parameters: model.parameters(), step };
}

for (
  const [loss, classes] of [
    ["cross-entropy", 4],
    ["hinge", 2],
    ["bce", 2],
    ["mse", 3],
  ] as const
) {
  Deno.test(`WasmBatchStep runs the ${loss} loss kept per batch size (compiled where it can be), bit for bit like recording it every batch`, () => {
    const alpha = 1e-3;
    const kept = stepFor(loss, classes, alpha, true);
    const recorded = stepFor(loss, classes, alpha, false);
    // Batches of 16, a partial one, and 16 again: each a new sample order.
    const counts = [16, 16, 5, 16, 5];
    const { x, y, batches } = sampleBatches(40, classes, counts);
    const compiled: boolean[] = [];
    for (const [b, indices] of batches.entries()) {
      const bx = indices.map((i) => x[i]), by = indices.map((i) => y[i]);
      const results = [kept, recorded].map(({ parameters, step }) => {
        for (const p of parameters) p.grad = 0;
        step.forward(bx, by);
        step.backward();
        return { loss: step.loss, grads: parameters.map((p) => p.grad) };
      });
      compiled.push(kept.step.lossCompiled);
      assert.ok(results[0].loss > 0);
      assert.deepEqual(results[0], results[1], `${loss}, batch ${b}`);
      assert.equal(recorded.step.lossCompiled, false);
      // A step of descent, so that the next batch sees other values.
      for (const { parameters } of [kept, recorded]) {
        for (const p of parameters) p.data -= 0.1 * p.grad;
      }
    }
    // The loss is one block per sample but for mse (the interpreter replays it).
    assert.deepEqual(compiled, Array(5).fill(loss !== "mse"));
  });
}

Deno.test("WasmBatchStep with L2 in the module (resident) keeps its loss per batch size too", () => {
  const kind = lossKind("cross-entropy", 3);
  const make = (classes: number) => {
    const model = new MLP(4, [8, 3], { seed: 5, tape: new Tape() });
    return new WasmBatchStep(
      model,
      8,
      kind.outputs,
      (out, y) => kind.loss(out, y),
      { precision: "float64", alpha: 1e-2, resident: true },
      classes,
    );
  };
  const kept = make(3), recorded = make(0);
  const x = Array.from({ length: 8 }, (_, s) => [s / 8, 1 - s / 8, s % 3, 0.5]);
  for (let b = 0; b < 3; b++) {
    const y = x.map((_, s) => (s + b) % 3);
    for (const step of [kept, recorded]) {
      step.forward(x.map((row) => [...row]), y);
      step.backward();
      step.descend(0.2);
    }
    assert.equal(kept.lossCompiled, true);
    assert.ok(Object.is(kept.loss, recorded.loss), `batch ${b}`);
  }
});
