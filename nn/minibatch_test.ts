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
import { Tape, Value } from "../engine/mod.ts";
import { l2 } from "./loss.ts";
import { lossKind } from "./_loss_kind.ts";
import { MiniBatchStep } from "./minibatch.ts";
import { sampleBatches } from "./_testing.ts";

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

/**
 * Records one batch from scratch on a tape of its own (the reference a
 * compiled step must match): loss plus L2, then `tape.backward(root)`.
 */
function recordReference(
  sizes: number[],
  parameters: number[],
  loss: LossName,
  classes: number,
  alpha: number,
  x: number[][],
  y: number[],
) {
  const model = new MLP(sizes[0], sizes.slice(1), {
    parameters,
    tape: new Tape(),
  });
  const tape = model.parameters()[0].tape;
  const kind = lossKind(loss, classes);
  const rows: Value[][] = [];
  for (const row of x) {
    const start = tape.size;
    for (const v of row) tape.leaf(v, false);
    const out = model.record(tape, start);
    rows.push(
      Array.from({ length: kind.outputs }, (_, k) => Value.at(tape, out + k)),
    );
  }
  let root = kind.loss(rows, y);
  if (alpha > 0) root = root.add(l2(model.parameters(), alpha));
  tape.backward(root.index);
  return {
    loss: root.data,
    grads: model.parameters().map((p) => p.grad),
  };
}

/** A MiniBatchStep on a model wide enough for every compiled shape. */
function stepFor(loss: LossName, classes: number, alpha: number) {
  const kind = lossKind(loss, classes);
  // 6 inputs (a first layer of long dots, inputs without gradient), 10 and
  // 7 hidden (dots in groups of four and a remainder).
  const sizes = [6, 10, 7, kind.outputs];
  const model = new MLP(6, sizes.slice(1), { seed: 3, tape: new Tape() });
  const parameters = model.parameters();
  const step = new MiniBatchStep(
    model,
    16,
    kind.outputs,
    (out, y) => kind.loss(out, y),
    alpha > 0 ? () => l2(parameters, alpha) : undefined,
    classes,
  );
  return { sizes, model, parameters, step };
}

/** Runs `counts` batches both ways, moving the parameters between them. */
function compareBatches(
  loss: LossName,
  classes: number,
  alpha: number,
  counts: number[],
): boolean[] {
  const { sizes, parameters, step } = stepFor(loss, classes, alpha);
  const tape = parameters[0].tape;
  const { x, y, batches } = sampleBatches(40, classes, counts);
  const compiled: boolean[] = [];
  for (const [b, indices] of batches.entries()) {
    const count = indices.length;
    const want = recordReference(
      sizes,
      parameters.map((p) => p.data),
      loss,
      classes,
      alpha,
      indices.map((i) => x[i]),
      indices.map((i) => y[i]),
    );
    for (const p of parameters) p.grad = 0;
    const graph = step.forward(x, y, indices);
    step.backward();
    compiled.push(step.lossCompiled);
    const where = `${loss}, l2 ${alpha}, batch ${b} of ${count}`;
    assert.ok(Object.is(tape.data[graph.root], want.loss), `loss, ${where}`);
    parameters.forEach((p, k) =>
      assert.ok(Object.is(p.grad, want.grads[k]), `grad ${k}, ${where}`)
    );
    // A step of descent, so that the next batch sees other values.
    for (const p of parameters) p.data -= 0.1 * p.grad;
  }
  return compiled;
}

for (
  const [loss, classes] of [
    ["hinge", 2],
    ["cross-entropy", 4],
    ["bce", 2],
  ] as const
) {
  for (const alpha of [0, 1e-3]) {
    Deno.test(`MiniBatchStep runs the ${loss} loss compiled per sample, bit for bit like recording each batch (l2 ${alpha}, a partial batch between full ones)`, () => {
      const compiled = compareBatches(loss, classes, alpha, [16, 6, 16, 16, 6]);
      assert.deepEqual(compiled, [true, true, true, true, true]);
    });
  }
}

Deno.test("MiniBatchStep keeps the losses of four batch sizes and records the others every batch, bit for bit", () => {
  const counts = [16, 5, 1, 9, 2, 16, 3, 5, 2, 1];
  const compiled = compareBatches("cross-entropy", 3, 1e-3, counts);
  // Sizes 16, 5, 1 and 9 are kept (1 on the interpreter: one sample has no
  // per-sample blocks to tell apart); 2 and 3 are recorded every batch.
  assert.deepEqual(compiled, [
    true,
    true,
    false,
    true,
    false,
    true,
    false,
    true,
    false,
    false,
  ]);
});

Deno.test("MiniBatchStep replays a loss that is not one block per sample (mse) with the interpreter, bit for bit", () => {
  const compiled = compareBatches("mse", 3, 1e-3, [16, 6, 16, 6]);
  assert.deepEqual(compiled, [false, false, false, false]);
});
