import assert from "node:assert/strict";
import { Tape, Value, wasmSimdAvailable } from "../engine/mod.ts";
import {
  evaluate,
  fit,
  type FitMode,
  makeMoons,
  makeSpirals,
  MLP,
  parseModel,
  predictClasses,
  serializeModel,
  SGD,
  sumSquaredError,
  Trainer,
  TrainingError,
} from "./mod.ts";

Deno.test("fit() reproduces micrograd's demo: moons, 2-16-16-1, hinge + L2, SGD with linear decay", () => {
  const data = makeMoons(100, { noise: 0.1, seed: 1 });
  const model = new MLP(2, [16, 16, 1], { seed: 1337, tape: new Tape() });
  assert.equal(model.parameters().length, 337);
  const lrs: number[] = [];
  const result = fit(model, data, {
    steps: 100,
    onStep: (info) => void lrs.push(info.lr),
  });
  assert.equal(result.steps, 100);
  assert.ok(result.accuracy >= 0.97, `accuracy ${result.accuracy}`);
  assert.ok(result.losses[99] < result.losses[0] / 10);
  // micrograd: learning_rate = 1.0 - 0.9*k/100
  assert.equal(lrs[0], 1.0);
  assert.equal(lrs[50], 1.0 - 0.9 * 50 / 100);
  assert.equal(lrs[99], 1.0 - 0.9 * 99 / 100);
});

Deno.test("The Go port's example: 3-4-4-1 tanh MLP, sum of squared errors, SGD, loss below 0.01", () => {
  const tape = new Tape();
  const model = new MLP(3, [4, 4, 1], {
    activation: "tanh",
    outputActivation: "tanh",
    seed: 42,
    tape,
  });
  assert.equal(model.parameters().length, 41);
  const xs = [[2, 3, -1], [3, -1, 0.5], [0.5, 1, 1], [1, 1, -1]];
  const ys = [1, -1, -1, 1];
  const optimizer = new SGD(model.parameters(), { lr: 0.05 });
  const mark = tape.mark();
  let loss = Infinity, step = 0;
  for (; step < 500 && loss >= 0.01; step++) {
    const predictions = xs.map((x) => model.forward(x)[0]);
    const total = sumSquaredError(predictions, ys);
    optimizer.zeroGrad();
    total.backward();
    optimizer.step();
    loss = total.data;
    tape.rewind(mark);
  }
  assert.ok(loss < 0.01, `loss ${loss} after ${step} steps`);
  const outputs = xs.map((x) => model.predict(x)[0]);
  outputs.forEach((y, i) => assert.equal(Math.sign(y), ys[i]));
});

Deno.test("The seed example double(x): w=0.4, x=2, y=4, lr 0.1 converges to 2", () => {
  const tape = new Tape();
  const w = new Value(0.4, { tape, label: "w" });
  const mark = tape.mark();
  const losses: number[] = [], weights: number[] = [];
  for (let step = 0; step < 6; step++) {
    const loss = w.mul(2).sub(4).pow(2);
    w.grad = 0;
    loss.backward();
    losses.push(loss.data);
    w.data -= 0.1 * w.grad;
    weights.push(w.data);
    tape.rewind(mark);
  }
  // loss_k = (2w - 4)^2 and w' = w - 0.1 * 4(2w - 4) = 0.2w + 1.6
  const expectedLosses = [
    10.24,
    0.4096,
    0.016384,
    0.00065536,
    0.0000262144,
    0.000001048576,
  ];
  const expectedWeights = [1.68, 1.936, 1.9872, 1.99744, 1.999488, 1.9998976];
  losses.forEach((l, k) =>
    assert.ok(Math.abs(l - expectedLosses[k]) < 1e-12, `loss ${k}: ${l}`)
  );
  weights.forEach((x, k) =>
    assert.ok(Math.abs(x - expectedWeights[k]) < 1e-12, `w ${k}: ${x}`)
  );
});

Deno.test("fit() learns a 3-class spiral with cross-entropy and AdamW", () => {
  const data = makeSpirals(150, { classes: 3, noise: 0.1, seed: 3 });
  const model = new MLP(2, [32, 32, 3], { seed: 5, tape: new Tape() });
  const result = fit(model, data, {
    loss: "cross-entropy",
    optimizer: "adamw",
    lr: 0.02,
    schedule: "cosine",
    steps: 300,
    l2: 0,
  });
  assert.ok(result.accuracy >= 0.9, `accuracy ${result.accuracy}`);
});

for (const loss of ["hinge", "mse", "bce", "cross-entropy"] as const) {
  Deno.test(`fit() record, replay and compiled paths are bit-identical (${loss})`, () => {
    const classes = loss === "cross-entropy" ? 3 : 2;
    const data = classes === 3
      ? makeSpirals(30, { classes: 3, noise: 0.1, seed: 9 })
      : makeMoons(30, { noise: 0.1, seed: 9 });
    const outputs = loss === "cross-entropy" ? 3 : 1;
    const runs = (["record", "replay", "compiled"] as FitMode[]).map((mode) => {
      const model = new MLP(2, [8, 8, outputs], { seed: 11, tape: new Tape() });
      const result = fit(model, data, {
        loss,
        optimizer: "adam",
        lr: 0.05,
        steps: 25,
        mode,
      });
      return {
        mode: result.mode,
        losses: result.losses,
        parameters: model.parameters().map((p) => p.data),
      };
    });
    assert.deepEqual(runs.map((r) => r.mode), ["record", "replay", "compiled"]);
    assert.deepEqual(runs[1].losses, runs[0].losses);
    assert.deepEqual(runs[2].losses, runs[0].losses);
    assert.deepEqual(runs[1].parameters, runs[0].parameters);
    assert.deepEqual(runs[2].parameters, runs[0].parameters);
  });
}

Deno.test("Trainer: replay and compiled steps keep the tape and the heap flat over 30,000 steps", () => {
  const data = makeMoons(20, { noise: 0.1, seed: 2 });
  for (const mode of ["replay", "compiled"] as const) {
    const tape = new Tape();
    const model = new MLP(2, [8, 1], { seed: 3, tape });
    const trainer = new Trainer(model, data, {
      mode,
      steps: 31_000,
      lr: 0.05,
      schedule: "constant",
    });
    assert.equal(trainer.mode, mode);
    for (let i = 0; i < 200; i++) trainer.step();
    const size = tape.size, capacity = tape.capacity;
    // The least growth over three stretches of 10,000 steps: a scavenge
    // that falls outside one stretch lets its young garbage count, but
    // memory kept every step grows in all three.
    let grown = Infinity;
    for (let stretch = 0; stretch < 3; stretch++) {
      const before = Deno.memoryUsage().heapUsed;
      for (let i = 0; i < 10_000; i++) trainer.step();
      grown = Math.min(grown, Deno.memoryUsage().heapUsed - before);
    }
    assert.equal(tape.size, size);
    assert.equal(tape.capacity, capacity);
    // Per-node garbage would be >= 10,000 objects a stretch (~0.5 MB at
    // least); allow for GC timing noise well below that.
    assert.ok(grown < 4_000_000, `${mode}: heap grew by ${grown} bytes`);
    trainer.close();
    assert.equal(tape.size, model.parameters().length);
  }
});

Deno.test("Trainer: re-recorded steps rewind the tape every step", () => {
  const tape = new Tape();
  const model = new MLP(2, [4, 1], { seed: 3, tape });
  const trainer = new Trainer(model, makeMoons(16, { seed: 1 }), {
    mode: "record",
    batchSize: 4,
  });
  assert.equal(trainer.mode, "record");
  const size = tape.size;
  for (let i = 0; i < 50; i++) {
    trainer.step();
    assert.equal(tape.size, size);
  }
});

Deno.test("fit() with mini-batches trains and reports validation accuracy", () => {
  const data = makeMoons(200, { noise: 0.1, seed: 4 });
  const val = makeMoons(100, { noise: 0.1, seed: 5 });
  const model = new MLP(2, [16, 16, 1], { seed: 6, tape: new Tape() });
  const seen: number[] = [];
  const result = fit(model, data, {
    optimizer: "adam",
    lr: 0.02,
    schedule: "constant",
    batchSize: 32,
    steps: 300,
    val,
    evalEvery: 100,
    onStep: (info) => {
      if (info.valAccuracy !== undefined) seen.push(info.step);
    },
  });
  // Issue 12: mini-batches run compiled by default; issue 13: on wasm
  // where SIMD runs and the step does enough work (32 × 304 weights).
  assert.equal(result.mode, wasmSimdAvailable() ? "wasm" : "compiled");
  assert.deepEqual(seen, [100, 200, 300]);
  assert.ok(result.valAccuracy! >= 0.9, `val accuracy ${result.valAccuracy}`);
});

Deno.test("fit() stops when onStep returns false", () => {
  const model = new MLP(2, [4, 1], { seed: 1, tape: new Tape() });
  const result = fit(model, makeMoons(20, { seed: 1 }), {
    steps: 50,
    onStep: (info) => info.step < 7,
  });
  assert.equal(result.steps, 7);
  assert.equal(result.losses.length, 7);
});

Deno.test("fit() throws TrainingError naming the step and the op when the loss goes non-finite", () => {
  const tape = new Tape();
  const model = new MLP(2, [8, 1], { seed: 1, tape });
  const size = tape.size;
  let e: TrainingError | undefined;
  try {
    fit(model, makeMoons(20, { seed: 1 }), {
      lr: 1e200,
      steps: 10,
      schedule: "constant",
    });
  } catch (error) {
    assert.ok(error instanceof TrainingError);
    e = error;
  }
  assert.ok(e !== undefined, "fit() should have thrown");
  assert.ok(e.step >= 2 && e.step <= 10, `step ${e.step}`);
  assert.match(
    e.message,
    /^Loss became (NaN|Infinity|-Infinity) at step \d+: /,
  );
  assert.ok(e.report !== undefined);
  assert.match(e.message, / at node \d+ /);
  assert.equal(tape.size, size, "the step's graph is dropped");
});

Deno.test("evaluate() and predictClasses() leave gradients and the tape untouched", () => {
  const tape = new Tape();
  const model = new MLP(2, [4, 1], { seed: 2, tape });
  model.parameters().forEach((p, i) => (p.grad = i));
  const size = tape.size;
  const data = makeMoons(30, { seed: 3 });
  const acc = evaluate(model, data);
  const classes = predictClasses(model, data.x);
  assert.equal(tape.size, size);
  model.parameters().forEach((p, i) => assert.equal(p.grad, i));
  const correct = classes.filter((c, i) => c === data.y[i]).length;
  assert.equal(acc, correct / data.y.length);
});

Deno.test("A trained, saved and loaded model predicts identically", () => {
  const model = new MLP(2, [8, 8, 1], { seed: 8, tape: new Tape() });
  const data = makeMoons(50, { noise: 0.1, seed: 8 });
  fit(model, data, { steps: 30 });
  const loaded = parseModel(serializeModel(model));
  for (const x of data.x) assert.deepEqual(loaded.predict(x), model.predict(x));
});

Deno.test("fit() rejects options that do not fit the model or the data", () => {
  const model = new MLP(2, [4, 1], { seed: 1, tape: new Tape() });
  const data = makeMoons(10, { seed: 1 });
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { loss: "l1" },
      /^Unknown loss "l1"; expected one of hinge, mse, bce, cross-entropy$/,
    ],
    [
      { optimizer: "rmsprop" },
      /^Unknown optimizer "rmsprop"; expected one of sgd, adam, adamw$/,
    ],
    [{ steps: 0 }, /^Steps must be an integer >= 1, got 0$/],
    [{ batchSize: 1.5 }, /^Batch size must be an integer >= 1, got 1.5$/],
    [{ l2: -1 }, /^L2 strength must be a finite number >= 0, got -1$/],
    [
      { mode: "fast" },
      /^Unknown mode "fast"; expected auto, record, replay, compiled or wasm$/,
    ],
    [
      { loss: "cross-entropy" },
      /^Loss "cross-entropy" on 2 classes needs 2 model outputs, the model has 1$/,
    ],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => fit(model, data, options), {
      name: "RangeError",
      message,
    });
  }
  const spiral = makeSpirals(9, { classes: 3, seed: 1 });
  assert.throws(() => fit(model, spiral), {
    name: "RangeError",
    message:
      /^Loss "hinge" is for 2 classes, the data has 3; use "cross-entropy"$/,
  });
  assert.throws(() => fit(new MLP(3, [1], { tape: new Tape() }), data), {
    name: "RangeError",
    message: /^Training data sample 0 has 2 features, the model takes 3$/,
  });
});

Deno.test("Trainer fuses plain SGD on one sample into the compiled backward pass, bit-identical to the other paths", () => {
  const data = { x: [[0.3, -0.7, 1.1]], y: [2], classes: 3 };
  const runs = (["record", "replay", "compiled"] as const).map((mode) => {
    const tape = new Tape();
    const model = new MLP(3, [8, 3], { seed: 21, tape });
    const trainer = new Trainer(model, data, {
      loss: "cross-entropy",
      optimizer: "sgd",
      lr: 0.05,
      schedule: "linear",
      l2: 0,
      steps: 20,
      mode,
    });
    const losses: number[] = [];
    while (trainer.stepCount < 20) losses.push(trainer.step());
    const grads = model.parameters().map((p) => p.grad);
    trainer.close();
    return { losses, parameters: model.parameters().map((p) => p.data), grads };
  });
  assert.deepEqual(runs[1].losses, runs[0].losses);
  assert.deepEqual(runs[2].losses, runs[0].losses);
  assert.deepEqual(runs[2].parameters, runs[0].parameters);
  assert.deepEqual(runs[1].parameters, runs[0].parameters);
  // The fused update applies gradients without storing them.
  assert.ok(runs[0].grads.some((g) => g !== 0));
  assert.ok(runs[2].grads.every((g) => g === 0));
});

Deno.test("fit() and Trainer reject labels that are not class indices, for every loss", () => {
  const x = [[0, 1], [1, 0], [1, 1]];
  for (const loss of ["hinge", "bce", "mse", "cross-entropy"] as const) {
    const model = () => new MLP(2, [loss === "cross-entropy" ? 2 : 1]);
    for (const bad of [5, -1, 0.5, NaN]) {
      assert.throws(
        () => fit(model(), { x, y: [0, bad, 1], classes: 2 }, { loss }),
        (error: unknown) =>
          error instanceof RangeError &&
          error.message ===
            `Training data label 1 is ${bad}; labels are class indices, integers from 0 to 1`,
      );
    }
  }
  assert.throws(
    () => fit(new MLP(2, [1]), { x, y: [0, 0, 0], classes: 1 }),
    (error: unknown) =>
      error instanceof RangeError &&
      error.message ===
        "Training data must have at least 2 classes (an integer), got 1",
  );
  assert.throws(
    () =>
      new Trainer(new MLP(2, [1]), { x, y: [0, 1, 1], classes: 2 }, {
        val: { x, y: [0, 2, 1], classes: 2 },
      }),
    /^RangeError: Validation data label 1 is 2; labels are class indices, integers from 0 to 1$/,
  );
});

Deno.test("Trainer detects another Trainer rewinding the shared tape under it", () => {
  for (const mode of ["replay", "compiled", "record"] as const) {
    const tape = new Tape();
    const data = makeMoons(20, { seed: 1 });
    const ma = new MLP(2, [4, 1], { seed: 1, tape });
    const a = new Trainer(ma, data, { mode: "replay", steps: 5 });
    const mb = new MLP(2, [4, 1], { seed: 2, tape });
    const b = new Trainer(mb, data, { mode, steps: 5 });
    b.step();
    a.close(); // Rewinds to a's mark: below b's model and graph.
    assert.throws(() => mb.parameters(), /Stale MLP/);
    assert.throws(
      () => b.step(),
      (error: unknown) =>
        error instanceof Error &&
        /^Trainer's graph was dropped from its tape \(by another Trainer on the same tape, or a tape\.rewind\(\) below this Trainer's mark \d+\); create a new Trainer/
          .test(error.message),
      mode,
    );
    // Closed: later calls say so, and close() does not rewind again.
    assert.throws(() => b.step(), /Trainer is closed/);
    const size = tape.size;
    b.close();
    assert.equal(tape.size, size);
  }
  // The other way round is fine: b's close() keeps a's nodes.
  const tape = new Tape();
  const data = makeMoons(20, { seed: 1 });
  const ma = new MLP(2, [4, 1], { seed: 1, tape });
  const a = new Trainer(ma, data, { mode: "replay", steps: 5 });
  const b = new Trainer(new MLP(2, [4, 1], { seed: 2, tape }), data, {
    mode: "replay",
  });
  const first = a.step();
  b.close();
  assert.ok(a.step() < first);
  a.close();
});
