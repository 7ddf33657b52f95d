// Mini-batches on the compiled path give bit-identical numbers to recording every batch.

import assert from "node:assert/strict";
import {
  fit,
  type FitOptions,
  type LossName,
  makeBlobs,
  makeMoons,
  MLP,
  Trainer,
} from "./mod.ts";
import { Tape } from "../engine/mod.ts";
import { MiniBatchStep } from "./minibatch.ts";

function trainBoth(
  make: () => MLP,
  data: ReturnType<typeof makeMoons>,
  options: FitOptions,
) {
  const a = make(), b = make();
  const recorded = fit(a, data, { ...options, mode: "record" });
  const compiled = fit(b, data, { ...options, mode: "auto" });
  return { a, b, recorded, compiled };
}

const cases: [string, LossName, number, FitOptions][] = [
  ["hinge, SGD, l2", "hinge", 2, { optimizer: "sgd", lr: 0.5 }],
  ["cross-entropy, Adam, l2", "cross-entropy", 3, { optimizer: "adam" }],
  ["mse, AdamW, no l2", "mse", 3, { optimizer: "adamw", l2: 0 }],
];

for (const [name, loss, classes, extra] of cases) {
  Deno.test(`fit() mini-batch compiled equals recorded bit for bit (${name})`, () => {
    const data = classes === 2
      ? makeMoons(70, { noise: 0.1, seed: 3 })
      : makeBlobs(70, { classes, seed: 3 });
    const nout = loss === "hinge" ? 1 : classes;
    const make = () => new MLP(2, [8, 8, nout], { seed: 5, tape: new Tape() });
    // 70 samples in batches of 16: four of 16, then the last one of 6.
    const { a, b, recorded, compiled } = trainBoth(make, data, {
      loss,
      batchSize: 16,
      epochs: 3,
      seed: 9,
      ...extra,
    });
    assert.equal(recorded.mode, "record");
    assert.equal(compiled.mode, "compiled");
    assert.equal(compiled.steps, 15);
    assert.deepEqual(compiled.losses, recorded.losses);
    assert.deepEqual(compiled.accuracies, recorded.accuracies);
    const pa = a.parameters().map((p) => p.data);
    const pb = b.parameters().map((p) => p.data);
    assert.deepEqual(pb, pa);
  });
}

Deno.test("Trainer mini-batch compiled: the last partial batch's gradients equal recording it", () => {
  const data = makeBlobs(37, { classes: 4, seed: 1 });
  const make = () => new MLP(2, [6, 4], { seed: 2, tape: new Tape() });
  const a = make(), b = make();
  const options: FitOptions = {
    loss: "cross-entropy",
    optimizer: "sgd",
    lr: 0.1,
    batchSize: 12, // 12, 12, 12, 1
    steps: 4,
  };
  const ta = new Trainer(a, data, { ...options, mode: "record" });
  const tb = new Trainer(b, data, options);
  assert.equal(tb.mode, "compiled");
  for (let s = 0; s < 4; s++) {
    assert.equal(tb.step(), ta.step());
    assert.equal(tb.lastBatchSize, s === 3 ? 1 : 12);
    assert.deepEqual(
      b.parameters().map((p) => p.grad),
      a.parameters().map((p) => p.grad),
    );
  }
  ta.close();
  tb.close();
  assert.deepEqual(
    b.parameters().map((p) => p.data),
    a.parameters().map((p) => p.data),
  );
});

Deno.test("MiniBatchStep runs any batch up to its capacity at any sample order", () => {
  const model = new MLP(3, [5, 2], { seed: 4, tape: new Tape() });
  const tape = model.parameters()[0].tape;
  const x = [[1, 2, 3], [-1, 0.5, 2], [0, 0, 1], [2, -2, 0.25]];
  const y = [0, 1, 1, 0];
  const step = new MiniBatchStep(model, 3, 2, (out, labels) => {
    // Sum of the label's output, an easy closed form to check against.
    let total = out[0][labels[0]];
    for (let s = 1; s < out.length; s++) total = total.add(out[s][labels[s]]);
    return total;
  });
  const batch = step.forward(x, y, [3, 0]);
  const expected = model.predict(x[3])[0] + model.predict(x[0])[0];
  assert.equal(tape.data[batch.root], expected);
  assert.deepEqual(batch.labels, [0, 0]);
  for (const p of model.parameters()) p.grad = 0;
  step.backward();
  // The output bias of class 0 gets one gradient per sample.
  const biases = model.layers[1].neurons.map((n) => n.b);
  assert.equal(biases[0].grad, 2);
  assert.equal(biases[1].grad, 0);
  assert.equal(step.capacity, 3);
});
