// fit() by epochs: step counts, the per-epoch report, and option errors.

import assert from "node:assert/strict";
import { type EpochInfo, fit, makeBlobs, MLP, type StepInfo } from "./mod.ts";

Deno.test("fit() with epochs runs ceil(n / batch) steps per epoch and reports each", () => {
  const data = makeBlobs(50, { classes: 3, seed: 4 });
  const model = new MLP(2, [8, 3], { seed: 2 });
  const epochs: EpochInfo[] = [];
  const steps: StepInfo[] = [];
  const result = fit(model, data, {
    loss: "cross-entropy",
    optimizer: "adam",
    epochs: 3,
    batchSize: 16, // 16, 16, 16, 2
    onEpoch: (info) => void epochs.push(info),
    onStep: (info) => void steps.push(info),
  });
  assert.equal(result.steps, 12);
  assert.deepEqual(epochs.map((e) => [e.epoch, e.epochs, e.step]), [
    [1, 3, 4],
    [2, 3, 8],
    [3, 3, 12],
  ]);
  assert.deepEqual(
    steps.map((s) => s.epoch),
    [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3],
  );
  // The epoch's loss is the mean of its steps' losses; its accuracy weights
  // each batch by its size (16, 16, 16 and the last, smaller batch of 2).
  const first = steps.slice(0, 4);
  assert.equal(epochs[0].loss, first.reduce((a, s) => a + s.loss, 0) / 4);
  const correct = first.reduce(
    (a, s, k) => a + s.accuracy * (k === 3 ? 2 : 16),
    0,
  );
  assert.ok(Math.abs(epochs[0].accuracy - correct / 50) < 1e-15);
  assert.equal(epochs[0].valAccuracy, undefined);
});

Deno.test("fit() evaluates val every epoch and stops when onEpoch returns false", () => {
  const data = makeBlobs(40, { classes: 2, seed: 1 });
  const val = makeBlobs(20, { classes: 2, seed: 9 });
  const model = new MLP(2, [4, 1], { seed: 3 });
  const seen: EpochInfo[] = [];
  const result = fit(model, data, {
    epochs: 5,
    batchSize: 10,
    val,
    onEpoch: (info) => {
      seen.push(info);
      return info.epoch < 2;
    },
  });
  assert.equal(seen.length, 2);
  assert.equal(result.steps, 8);
  assert.ok(seen.every((e) => typeof e.valAccuracy === "number"));
  assert.equal(seen[1].valAccuracy, result.valAccuracy);
});

Deno.test("fit() rejects steps with epochs, and bad epochs", () => {
  const data = makeBlobs(10, { classes: 2, seed: 1 });
  const model = new MLP(2, [1], { seed: 3 });
  assert.throws(
    () => fit(model, data, { steps: 3, epochs: 2 }),
    RangeError,
    "Give steps or epochs, not both; got steps 3 and epochs 2",
  );
  assert.throws(
    () => fit(model, data, { epochs: 0 }),
    RangeError,
    "Epochs must be an integer >= 1, got 0",
  );
  assert.throws(
    () => fit(model, data, { epochs: 1.5 }),
    RangeError,
    "Epochs must be an integer >= 1, got 1.5",
  );
});
