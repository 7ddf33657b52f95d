import assert from "node:assert/strict";
import { forceWasmSimd, Tape } from "../engine/mod.ts";
import type { Activation } from "./activation.ts";
import type { Dataset } from "./data.ts";
import {
  fit,
  type FitMode,
  type FitOptions,
  type FitPrecision,
  makeMoons,
  makeRegression,
  makeSpirals,
  MLP,
  type ParameterSync,
  type StepInfo,
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
  assert.ok((2 * 16 + 16 * 16 + 16) * 20 >= WASM_AUTO_MACS);
  assert.equal(mode([16, 16, 1]), "wasm");
  // Mini-batches: the work per step counts, batch size times weights.
  const batched = (sizes: number[], batchSize: number) => {
    const trainer = new Trainer(
      new MLP(2, sizes, { seed: 1, tape: new Tape() }),
      data,
      { steps: 1, batchSize },
    );
    trainer.close();
    return trainer.mode;
  };
  assert.ok((2 * 16 + 16 * 16 + 16) * 4 < WASM_AUTO_MACS);
  assert.equal(batched([16, 16, 1], 4), "compiled");
  assert.ok((2 * 32 + 32 * 32 + 32) * 4 >= WASM_AUTO_MACS);
  assert.equal(batched([32, 32, 1], 4), "wasm");
  // A lone sample: compiled with SGD fused into backward is faster.
  const one = new Trainer(
    new MLP(2, [64, 64, 1], { seed: 1, tape: new Tape() }),
    { x: [[0.5, -1]], y: [1], classes: 2 },
    { steps: 1 },
  );
  one.close();
  assert.equal(one.mode, "compiled");
});

const close = (got: number, want: number, rel: number, abs: number) =>
  Math.abs(got - want) <= rel * Math.abs(want) + abs;

/** Trains `steps` steps and returns the losses and the final parameters. */
function train(
  sizes: number[],
  data: Dataset,
  options: FitOptions & { activation?: Activation; steps: number },
) {
  const model = new MLP(data.x[0].length, sizes, {
    seed: 7,
    activation: options.activation,
    tape: new Tape(),
  });
  const trainer = new Trainer(model, data, options);
  const losses = Array.from({ length: options.steps }, () => trainer.step());
  const sizesSeen = trainer.lastBatchSize;
  trainer.close();
  return {
    mode: trainer.mode,
    losses,
    lastBatch: sizesSeen,
    parameters: model.parameters().map((p) => p.data),
  };
}

Deno.test('Trainer mode "wasm" runs mini-batches (shuffled, last one partial) within 1e-12 of the interpreter', () => {
  const cases = [
    { sizes: [1, 1], loss: "hinge", activation: "relu", optimizer: "sgd" },
    { sizes: [2, 1], loss: "mse", activation: "tanh", optimizer: "adam" },
    { sizes: [3, 3, 1], loss: "bce", activation: "sigmoid", optimizer: "sgd" },
    {
      sizes: [5, 7, 3],
      loss: "cross-entropy",
      activation: "tanh",
      optimizer: "sgd",
    },
    { sizes: [9, 4, 3], loss: "mse", activation: "relu", optimizer: "adamw" },
    { sizes: [17, 11, 1], loss: "hinge", activation: "relu", optimizer: "sgd" },
  ] as const;
  for (const { sizes, loss, activation, optimizer } of cases) {
    const classes = sizes[sizes.length - 1] === 1 ? 2 : 3;
    const data = makeSpirals(30, { classes, seed: sizes[0] });
    data.x = data.x.map((x) => [x[0], x[1], x[0] * x[1]]);
    // 30 samples in batches of 7: four of 7 and a last one of 2, in a new
    // order every epoch.
    const options = {
      loss,
      activation,
      optimizer,
      batchSize: 7,
      steps: 15,
      seed: 3,
    } as const;
    const ref = train([...sizes], data, { ...options, mode: "record" });
    const wasm = train([...sizes], data, { ...options, mode: "wasm" });
    assert.equal(wasm.mode, "wasm");
    assert.equal(wasm.lastBatch, 2);
    const what = `${sizes} ${loss} ${activation} ${optimizer}`;
    wasm.losses.forEach((l, k) =>
      assert.ok(
        close(l, ref.losses[k], 1e-12, 1e-14),
        `${what} step ${k}: ${l} vs ${ref.losses[k]}`,
      )
    );
    wasm.parameters.forEach((p, k) =>
      assert.ok(
        close(p, ref.parameters[k], 1e-12, 1e-14),
        `${what} parameter ${k}: ${p} vs ${ref.parameters[k]}`,
      )
    );
    // float32: the same steps at float32 rounding.
    const f32 = train([...sizes], data, {
      ...options,
      mode: "wasm",
      precision: "float32",
    });
    assert.equal(f32.mode, "wasm");
    f32.losses.forEach((l, k) =>
      assert.ok(
        close(l, ref.losses[k], 1e-4, 1e-6),
        `${what} float32 step ${k}: ${l} vs ${ref.losses[k]}`,
      )
    );
  }
});

Deno.test('fit() mode "wasm" with mini-batches: float32 follows float64 within 1e-5 relative on the demo', () => {
  const data = makeMoons(100, { noise: 0.1, seed: 1 });
  const run = (mode: FitMode, precision?: FitPrecision) => {
    const model = new MLP(2, [16, 16, 1], { seed: 1337, tape: new Tape() });
    return fit(model, data, { epochs: 6, batchSize: 32, mode, precision });
  };
  const ref = run("record"), f64 = run("wasm"), f32 = run("wasm", "float32");
  assert.equal(f64.mode, "wasm");
  assert.equal(f32.mode, "wasm");
  assert.equal(f64.losses.length, 6 * 4);
  f64.losses.forEach((l, k) =>
    assert.ok(close(l, ref.losses[k], 1e-9, 0), `step ${k}: ${l}`)
  );
  f32.losses.forEach((l, k) =>
    assert.ok(close(l, f64.losses[k], 1e-5, 0), `step ${k}: ${l}`)
  );
  assert.equal(f64.accuracy, ref.accuracy);
  assert.equal(f32.accuracy, f64.accuracy);
});

Deno.test('Trainer mode "wasm" float32 matches float64 on odd widths 1, 2, 3, 5 (SIMD tails)', () => {
  const data = makeMoons(13, { seed: 4 });
  for (const width of [1, 2, 3, 5, 9]) {
    const options = { mode: "wasm", steps: 4, schedule: "constant" } as const;
    const f64 = train([width, width, 1], data, options);
    const f32 = train([width, width, 1], data, {
      ...options,
      precision: "float32",
    });
    f32.losses.forEach((l, k) =>
      assert.ok(close(l, f64.losses[k], 1e-5, 1e-7), `${width} step ${k}`)
    );
    f32.parameters.forEach((p, k) => {
      assert.equal(p, Math.fround(p), `${width}: float32 parameter ${k}`);
      assert.ok(close(p, f64.parameters[k], 1e-4, 1e-6), `${width} ${k}`);
    });
  }
});

Deno.test('Trainer "wasm" parameterSync "step": the model is current after every step and edits to it take effect', () => {
  const data = makeMoons(30, { seed: 2 });
  for (const precision of ["float64", "float32"] as const) {
    const wasmModel = new MLP(2, [8, 8, 1], { seed: 3, tape: new Tape() });
    const refModel = new MLP(2, [8, 8, 1], { seed: 3, tape: new Tape() });
    const wasm = new Trainer(wasmModel, data, { mode: "wasm", precision });
    const ref = new Trainer(refModel, data, { mode: "replay" });
    for (let k = 0; k < 6; k++) {
      if (k === 3) {
        // Edited between steps, on both models alike.
        for (const model of [wasmModel, refModel]) {
          model.parameters().forEach((p, i) => (p.data = 0.1 * Math.sin(i)));
        }
      }
      const got = wasm.step(), want = ref.step();
      const tolerance = precision === "float64" ? 1e-12 : 1e-5;
      assert.ok(close(got, want, tolerance, 0), `${precision} step ${k}`);
      const a = wasmModel.parameters(), b = refModel.parameters();
      a.forEach((p, i) => {
        assert.ok(close(p.data, b[i].data, tolerance * 10, 1e-7));
        if (precision === "float32") assert.equal(p.data, Math.fround(p.data));
      });
    }
    wasm.close();
    ref.close();
  }
});

Deno.test('Trainer "wasm" parameterSync "manual": stale until syncParameters(), edits need loadParameters(), close() writes back', () => {
  const data = makeMoons(30, { seed: 2 });
  const model = new MLP(2, [8, 1], { seed: 3, tape: new Tape() });
  const initial = model.parameters().map((p) => p.data);
  const trainer = new Trainer(model, data, {
    mode: "wasm",
    parameterSync: "manual",
  });
  const twin = new MLP(2, [8, 1], { seed: 3, tape: new Tape() });
  const reference = new Trainer(twin, data, { mode: "wasm" });
  trainer.step();
  reference.step();
  assert.deepEqual(model.parameters().map((p) => p.data), initial);
  trainer.syncParameters();
  assert.deepEqual(
    model.parameters().map((p) => p.data),
    twin.parameters().map((p) => p.data),
  );
  // An edit on the model is ignored until loaded.
  model.parameters()[0].data = 5;
  twin.parameters()[0].data = 5;
  trainer.loadParameters();
  assert.equal(trainer.step(), reference.step());
  trainer.step();
  reference.step();
  trainer.close();
  reference.close();
  assert.deepEqual(
    model.parameters().map((p) => p.data),
    twin.parameters().map((p) => p.data),
  );
  // After close there is nothing left to sync.
  trainer.syncParameters();
  trainer.loadParameters();
});

Deno.test("fit() on wasm writes the parameters back at the end and before its callbacks", () => {
  const data = makeMoons(40, { seed: 5 });
  const run = (mode: FitMode, onStep?: (info: StepInfo) => void) => {
    const model = new MLP(2, [16, 1], { seed: 9, tape: new Tape() });
    const seen: number[] = [];
    fit(model, data, {
      mode,
      steps: 5,
      onStep: onStep &&
        ((info) => {
          onStep(info);
          seen.push(model.parameters()[0].data);
        }),
    });
    return { seen, final: model.parameters().map((p) => p.data) };
  };
  const ref = run("replay", () => {});
  const quiet = run("wasm");
  const watched = run("wasm", () => {});
  quiet.final.forEach((p, k) =>
    assert.ok(close(p, ref.final[k], 1e-12, 1e-14))
  );
  watched.seen.forEach((p, k) =>
    assert.ok(close(p, ref.seen[k], 1e-12, 1e-14))
  );
  assert.equal(watched.seen.length, 5);
});

Deno.test('Trainer mode "wasm" keeps Adam\'s parameters on the tape (module reads them each step)', () => {
  const data = makeMoons(30, { seed: 2 });
  const model = new MLP(2, [8, 1], { seed: 3, tape: new Tape() });
  const trainer = new Trainer(model, data, {
    mode: "wasm",
    optimizer: "adam",
    parameterSync: "manual",
  });
  const before = model.parameters()[0].data;
  trainer.step();
  assert.notEqual(model.parameters()[0].data, before);
  trainer.close();
});

Deno.test('Trainer mode "wasm" mini-batches fall back to "compiled" without SIMD', () => {
  forceWasmSimd(false);
  try {
    const data = makeMoons(20, { seed: 1 });
    const model = new MLP(2, [4, 1], { seed: 1, tape: new Tape() });
    const trainer = new Trainer(model, data, {
      mode: "wasm",
      batchSize: 6,
      steps: 4,
    });
    assert.equal(trainer.mode, "compiled");
    const losses = [1, 2, 3, 4].map(() => trainer.step());
    trainer.close();
    const again = new MLP(2, [4, 1], { seed: 1, tape: new Tape() });
    const recorded = new Trainer(again, data, {
      mode: "record",
      batchSize: 6,
      steps: 4,
    });
    assert.deepEqual(losses, [1, 2, 3, 4].map(() => recorded.step()));
    recorded.close();
  } finally {
    forceWasmSimd(undefined);
  }
});

Deno.test('fit() mode "wasm" trains regression (mse, real targets) within 1e-12 of the interpreter, full and mini-batch', () => {
  const data = makeRegression("sine", 40, { seed: 2 });
  for (const batchSize of [undefined, 16]) {
    const run = (mode: FitMode) => {
      const model = new MLP(1, [8, 8, 1], {
        seed: 3,
        activation: "tanh",
        tape: new Tape(),
      });
      const result = fit(model, data, {
        loss: "mse",
        optimizer: "sgd",
        lr: 0.05,
        steps: 12,
        batchSize,
        mode,
      });
      return { result, parameters: model.parameters().map((p) => p.data) };
    };
    const ref = run("record"), wasm = run("wasm");
    assert.equal(wasm.result.mode, "wasm");
    wasm.result.losses.forEach((l, k) =>
      assert.ok(close(l, ref.result.losses[k], 1e-12, 1e-14), `step ${k}`)
    );
    wasm.parameters.forEach((p, k) =>
      assert.ok(close(p, ref.parameters[k], 1e-12, 1e-14), `parameter ${k}`)
    );
    assert.ok(close(wasm.result.accuracy, ref.result.accuracy, 1e-9, 1e-12));
  }
});

Deno.test('Trainer "wasm" with plain SGD leaves the tape\'s parameter gradients at 0 and takes edits made before the first step', () => {
  const data = makeMoons(20, { seed: 1 });
  const model = new MLP(2, [6, 1], { seed: 1, tape: new Tape() });
  model.parameters()[0].grad = 3;
  const trainer = new Trainer(model, data, { mode: "wasm" });
  const twin = new MLP(2, [6, 1], { seed: 1, tape: new Tape() });
  const reference = new Trainer(twin, data, { mode: "record" });
  model.parameters()[1].data = 0.75;
  twin.parameters()[1].data = 0.75;
  assert.ok(close(trainer.step(), reference.step(), 1e-12, 0));
  assert.ok(model.parameters().every((p) => p.grad === 0));
  trainer.close();
  reference.close();
});

Deno.test('Trainer mode "wasm" runs batches of 1 and of all but one sample like the interpreter', () => {
  const data = makeMoons(9, { seed: 6 });
  for (const batchSize of [1, 8]) {
    for (const precision of ["float64", "float32"] as const) {
      const options = { batchSize, steps: 12, seed: 2 } as const;
      const ref = train([5, 3, 1], data, { ...options, mode: "record" });
      const wasm = train([5, 3, 1], data, {
        ...options,
        mode: "wasm",
        precision,
      });
      assert.equal(wasm.mode, "wasm");
      const [rel, abs] = precision === "float64"
        ? [1e-12, 1e-14]
        : [1e-5, 1e-7];
      wasm.losses.forEach((l, k) =>
        assert.ok(
          close(l, ref.losses[k], rel, abs),
          `batch ${batchSize} ${precision} step ${k}: ${l} vs ${ref.losses[k]}`,
        )
      );
    }
  }
});

Deno.test("Trainer rejects an unknown parameterSync", () => {
  const data = makeMoons(10, { seed: 1 });
  const model = new MLP(2, [3, 1], { seed: 1, tape: new Tape() });
  assert.throws(
    () =>
      new Trainer(model, data, {
        parameterSync: "often" as ParameterSync,
      }),
    RangeError,
    'Unknown parameterSync "often"; expected step or manual',
  );
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
