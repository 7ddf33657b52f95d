import assert from "node:assert/strict";
import { forceWasmSimd, Tape } from "../engine/mod.ts";
import {
  fit,
  type FitMode,
  type FitPrecision,
  makeMoons,
  makeSpirals,
  MLP,
  Trainer,
  TrainingError,
  WASM_AUTO_MACS,
} from "./mod.ts";

function demo(mode: FitMode, precision?: FitPrecision) {
  const data = makeMoons(100, { noise: 0.1, seed: 1 });
  const model = new MLP(2, [16, 16, 1], { seed: 1337, tape: new Tape() });
  const result = fit(model, data, { steps: 100, mode, precision });
  return { result, parameters: model.parameters().map((p) => p.data) };
}

Deno.test('fit() mode "wasm" trains micrograd\'s demo like the interpreter: losses within 1e-9, same accuracy', () => {
  const reference = demo("replay");
  const wasm = demo("wasm");
  assert.equal(wasm.result.mode, "wasm");
  assert.equal(wasm.result.accuracy, reference.result.accuracy);
  assert.ok(wasm.result.accuracy >= 0.97);
  wasm.result.losses.forEach((loss, k) => {
    const want = reference.result.losses[k];
    assert.ok(Math.abs(loss - want) <= 1e-9, `step ${k}: ${loss} vs ${want}`);
  });
});

Deno.test('fit() precision "float32" follows the float64 loss trajectory within 1e-5 relative on the demo', () => {
  const f64 = demo("wasm");
  const f32 = demo("wasm", "float32");
  assert.equal(f32.result.mode, "wasm");
  f32.result.losses.forEach((loss, k) => {
    const want = f64.result.losses[k];
    assert.ok(
      Math.abs(loss - want) <= 1e-5 * Math.abs(want),
      `step ${k}: ${loss} vs ${want}`,
    );
  });
  assert.equal(f32.result.accuracy, f64.result.accuracy);
});

Deno.test('Trainer mode "wasm" matches the interpreter on random MLPs, losses and activations', () => {
  const cases = [
    { sizes: [1, 1], loss: "hinge", activation: "relu" },
    { sizes: [2, 1], loss: "mse", activation: "tanh" },
    { sizes: [3, 3, 1], loss: "bce", activation: "sigmoid" },
    { sizes: [5, 7, 3], loss: "cross-entropy", activation: "tanh" },
    { sizes: [9, 4, 3], loss: "mse", activation: "relu" },
    { sizes: [17, 11, 1], loss: "hinge", activation: "sigmoid" },
  ] as const;
  for (const { sizes, loss, activation } of cases) {
    const classes = sizes[sizes.length - 1] === 1 ? 2 : 3;
    const data = makeSpirals(30, {
      classes,
      seed: sizes.length + sizes[0],
    });
    data.x = data.x.map((x) =>
      Array.from({ length: 2 }, (_, k) => x[k % 2] * (1 + k))
    );
    const nin = 2;
    const run = (mode: FitMode) => {
      const model = new MLP(nin, sizes, {
        seed: 7,
        activation,
        tape: new Tape(),
      });
      const trainer = new Trainer(model, data, { loss, mode, steps: 5 });
      const losses = Array.from({ length: 5 }, () => trainer.step());
      trainer.close();
      return {
        mode: trainer.mode,
        losses,
        parameters: model.parameters().map((p) => p.data),
      };
    };
    const ref = run("replay"), wasm = run("wasm");
    assert.equal(wasm.mode, "wasm");
    const what = `${sizes} ${loss} ${activation}`;
    wasm.losses.forEach((l, k) =>
      assert.ok(
        Math.abs(l - ref.losses[k]) <= 1e-12 * Math.abs(ref.losses[k]) + 1e-14,
        `${what} step ${k}: ${l} vs ${ref.losses[k]}`,
      )
    );
    wasm.parameters.forEach((p, k) =>
      assert.ok(
        Math.abs(p - ref.parameters[k]) <= 1e-12 * Math.abs(ref.parameters[k]) +
            1e-14,
        `${what} parameter ${k}: ${p} vs ${ref.parameters[k]}`,
      )
    );
  }
});

Deno.test('Trainer mode "wasm" falls back to "compiled" without SIMD', () => {
  forceWasmSimd(false);
  try {
    const data = makeMoons(20, { seed: 1 });
    const model = new MLP(2, [4, 1], { seed: 1, tape: new Tape() });
    const trainer = new Trainer(model, data, { mode: "wasm", steps: 3 });
    assert.equal(trainer.mode, "compiled");
    const first = trainer.step();
    assert.ok(Number.isFinite(first));
    trainer.close();
    const auto = new Trainer(
      new MLP(2, [64, 64, 1], { seed: 1, tape: new Tape() }),
      data,
      { steps: 1 },
    );
    assert.equal(auto.mode, "compiled");
    auto.close();
  } finally {
    forceWasmSimd(undefined);
  }
});

Deno.test('Trainer mode "auto" picks wasm for batches through wide enough layers, and for float32', () => {
  const data = makeMoons(20, { seed: 1 });
  const mode = (sizes: number[], precision?: FitPrecision) => {
    const trainer = new Trainer(
      new MLP(2, sizes, { seed: 1, tape: new Tape() }),
      data,
      { steps: 1, precision },
    );
    trainer.close();
    return trainer.mode;
  };
  assert.ok(2 * 4 + 4 * 4 + 4 < WASM_AUTO_MACS);
  assert.equal(mode([4, 4, 1]), "compiled");
  assert.equal(mode([4, 4, 1], "float32"), "wasm");
  assert.ok(2 * 16 + 16 * 16 + 16 >= WASM_AUTO_MACS);
  assert.equal(mode([16, 16, 1]), "wasm");
  // A lone sample: compiled with SGD fused into backward is faster.
  const one = new Trainer(
    new MLP(2, [64, 64, 1], { seed: 1, tape: new Tape() }),
    { x: [[0.5, -1]], y: [1], classes: 2 },
    { steps: 1 },
  );
  one.close();
  assert.equal(one.mode, "compiled");
});

Deno.test('Trainer mode "wasm" with mini-batches runs them compiled', () => {
  const data = makeMoons(20, { seed: 1 });
  const run = (mode: "wasm" | "compiled") => {
    const model = new MLP(2, [4, 1], { seed: 1, tape: new Tape() });
    const trainer = new Trainer(model, data, { mode, batchSize: 5, steps: 2 });
    const losses = [trainer.step(), trainer.step()];
    trainer.close();
    return { mode: trainer.mode, losses };
  };
  const wasm = run("wasm"), compiled = run("compiled");
  // The wasm backend serves full batches; mini-batches fall back to the
  // compiled per-sample code, and the mode says so.
  assert.equal(wasm.mode, "compiled");
  assert.deepEqual(wasm.losses, compiled.losses);
});

Deno.test("Trainer rejects an unknown precision and float32 outside wasm", () => {
  const data = makeMoons(10, { seed: 1 });
  const model = new MLP(2, [3, 1], { seed: 1, tape: new Tape() });
  assert.throws(
    () => new Trainer(model, data, { precision: "half" as FitPrecision }),
    RangeError,
    'Unknown precision "half"; expected float64 or float32',
  );
  assert.throws(
    () => new Trainer(model, data, { mode: "compiled", precision: "float32" }),
    RangeError,
    'Precision "float32" needs mode "wasm" or "auto", got "compiled"',
  );
  assert.throws(
    () => new Trainer(model, data, { mode: "gpu" as FitMode }),
    RangeError,
    'Unknown mode "gpu"; expected auto, record, replay, compiled or wasm',
  );
});

Deno.test('Trainer mode "wasm" reports a non-finite loss with the op that made it', () => {
  const data = makeMoons(20, { seed: 1 });
  const model = new MLP(2, [8, 1], { seed: 1, tape: new Tape() });
  assert.throws(
    () => fit(model, data, { mode: "wasm", lr: 1e300, steps: 5 }),
    TrainingError,
    "Loss became",
  );
});
