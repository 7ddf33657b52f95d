import assert from "node:assert/strict";
import { parseModel, TrainingError } from "../mod.ts";
import { readMeta } from "../app/model_meta.ts";
import { forceWasmSimd } from "../engine/mod.ts";
import {
  checkConfig,
  ConfigError,
  DATASETS,
  DEFAULT_CONFIG,
  planWorkers,
  type TrainConfig,
  TrainingSession,
} from "./session.ts";

const config = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_CONFIG,
  layers: [...DEFAULT_CONFIG.layers],
  ...over,
});

Deno.test("TrainingSession learns the default moons to 95% train accuracy", () => {
  const session = new TrainingSession(config());
  while (session.step < 300 && session.trainAccuracy() < 0.95) session.run(10);
  assert.ok(
    session.trainAccuracy() >= 0.95,
    `accuracy ${session.trainAccuracy()} after ${session.step} steps`,
  );
  assert.ok(session.testAccuracy() >= 0.9);
});

Deno.test("TrainingSession keeps the trainer across slices: 3 slices of 10 equal one run of 30", () => {
  for (const optimizer of ["sgd", "adam", "adamw"] as const) {
    const sliced = new TrainingSession(config({ optimizer, samples: 40 }));
    const losses = [
      ...sliced.run(10).losses,
      ...sliced.run(10).losses,
      ...sliced.run(10).losses,
    ];
    const whole = new TrainingSession(config({ optimizer, samples: 40 }));
    assert.deepEqual(losses, whole.run(30).losses, optimizer);
    assert.equal(sliced.step, 30);
  }
});

Deno.test("TrainingSession.run() stops when its time budget is spent", () => {
  const session = new TrainingSession(config({ samples: 40 }));
  const slice = session.run(1e9, 20);
  assert.ok(slice.steps >= 1 && slice.steps < 1e9);
  assert.equal(slice.losses.length, slice.steps);
  assert.equal(session.step, slice.steps);
});

Deno.test("TrainingSession builds every dataset, with one output per class where the loss needs it", () => {
  for (const dataset of DATASETS) {
    const multi = dataset === "spirals" || dataset === "blobs";
    const session = new TrainingSession(config({
      dataset,
      samples: 30,
      classes: 3,
      loss: multi ? "cross-entropy" : "hinge",
    }));
    assert.equal(session.train.classes, multi ? 3 : 2, dataset);
    assert.equal(session.model.nouts.at(-1), multi ? 3 : 1, dataset);
    assert.equal(session.train.x.length, 30);
    assert.notDeepEqual(
      session.test.x,
      session.train.x,
      "the test set is drawn apart",
    );
    session.run(3);
    const grid = session.grid(8);
    assert.equal(grid.classes.length, 64);
    assert.ok(
      grid.classes.every((k: number) => k >= 0 && k < session.train.classes),
    );
    assert.ok(grid.confidence.every((c: number) => c >= 0 && c <= 1));
  }
});

Deno.test("TrainingSession.modelFile() is a model file that the CLI's predict reads", () => {
  const session = new TrainingSession(config({ samples: 40 }));
  session.run(25);
  const text = session.modelFile();
  assert.ok(text.endsWith("}\n"));
  const model = parseModel(text);
  const meta = readMeta(model, "model.json");
  assert.equal(meta.loss, "hinge");
  assert.equal(meta.classes, 2);
  assert.equal(meta.dataset, "moons");
  assert.match(meta.createdBy, /^tapegrad \S+ playground$/);
  const json = JSON.parse(text);
  assert.equal(json.meta.steps, 25);
  assert.equal(json.meta.accuracy, session.trainAccuracy());
  for (const point of [[0, 0], [0.5, -0.25], [2, 1]]) {
    assert.deepEqual(model.predict(point), session.model.predict(point));
  }
});

Deno.test("TrainingSession reports the steps before the loss explodes, then stops", () => {
  const session = new TrainingSession(config({ optimizer: "sgd", lr: 1e300 }));
  const slice = session.run(50);
  assert.ok(slice.error instanceof TrainingError);
  assert.equal(slice.steps, slice.error.step - 1);
  assert.equal(slice.losses.length, slice.steps);
  assert.equal(session.step, slice.steps);
  assert.ok(session.failed);
  assert.throws(() => session.run(1), /start a new one/);
});

Deno.test("checkConfig() names the field and says what is wrong", () => {
  const cases: [Partial<TrainConfig>, string, string][] = [
    [
      { samples: 2 },
      "samples",
      "Samples must be a whole number from 4 to 5000, got 2",
    ],
    [
      { samples: 10.5 },
      "samples",
      "Samples must be a whole number from 4 to 5000, got 10.5",
    ],
    [{ noise: -1 }, "noise", "Noise must be a number from 0 to 5, got -1"],
    [
      { dataset: "spirals", classes: 1, loss: "cross-entropy" },
      "classes",
      "Classes must be a whole number from 2 to 8, got 1",
    ],
    [
      { layers: [16, 0] },
      "layers",
      "Layer width must be a whole number from 1 to 128, got 0",
    ],
    [
      { layers: [1, 1, 1, 1, 1, 1, 1] },
      "layers",
      "Hidden layers must be from 0 to 6 layers",
    ],
    [{ lr: 0 }, "lr", "Learning rate must be a number above 0, got 0"],
    [{ lr: NaN }, "lr", "Learning rate must be a number above 0, got NaN"],
    [{ l2: -1 }, "l2", "L2 must be a number of at least 0, got -1"],
    [
      { batchSize: -1 },
      "batchSize",
      "Batch size must be a whole number from 0 to 5000, got -1",
    ],
    [
      { dataset: "spirals", loss: "hinge" },
      "loss",
      "The hinge loss is for 2 classes and spirals has 3; choose cross-entropy or mse",
    ],
    [
      { activation: "gelu" as never },
      "activation",
      'Unknown activation "gelu"',
    ],
    [{ optimizer: "lion" as never }, "optimizer", 'Unknown optimizer "lion"'],
  ];
  for (const [over, field, message] of cases) {
    assert.throws(
      () => checkConfig(config(over)),
      (e) =>
        e instanceof ConfigError && e.field === field && e.message === message,
      `${JSON.stringify(over)} → ${message}`,
    );
  }
  assert.doesNotThrow(() => checkConfig(config({ layers: [] })));
  assert.doesNotThrow(() =>
    checkConfig(config({ dataset: "blobs", loss: "mse", classes: 4 }))
  );
});

Deno.test("TrainingSession.tune() keeps the weights and the step count, and applies the new rate", () => {
  const config = { ...DEFAULT_CONFIG, samples: 40, optimizer: "sgd" as const };
  const session = new TrainingSession(config);
  session.run(5);
  const weights = session.model.toJSON().parameters;
  session.tune({ lr: 1e-300, l2: 0, batchSize: 0 });
  assert.equal(session.step, 5);
  assert.deepEqual(session.model.toJSON().parameters, weights);
  // SGD with a rate of 1e-300 moves no weight by even one ulp.
  session.run(3);
  assert.equal(session.step, 8);
  assert.deepEqual(session.model.toJSON().parameters, weights);
  session.tune({ lr: 0.1, l2: 0, batchSize: 8 });
  session.run(1);
  assert.notDeepEqual(session.model.toJSON().parameters, weights);
  assert.throws(
    () => session.tune({ lr: -1, l2: 0, batchSize: 0 }),
    (e) => e instanceof ConfigError && e.field === "lr",
  );
  assert.equal(session.config.lr, 0.1);
});

Deno.test("TrainingSession.network() holds each neuron's values over the plot and the weights", () => {
  const session = new TrainingSession({
    ...DEFAULT_CONFIG,
    samples: 20,
    layers: [3],
    features: ["x", "y", "xy"],
  });
  const net = session.network(4);
  assert.deepEqual(net.sizes, [3, 3, 1]);
  assert.equal(net.values.length, (3 + 3 + 1) * 16);
  assert.deepEqual(net.labels, ["x", "y", "x·y"]);
  assert.deepEqual(net.weights, session.model.toJSON().parameters);
  // Cell (row 1, column 2): the point's features, then predictLayers() there.
  const b = session.bounds;
  const x = b.xMin + (2.5 / 4) * (b.xMax - b.xMin);
  const y = b.yMax - (1.5 / 4) * (b.yMax - b.yMin);
  const layers = session.model.predictLayers([x, y]).flat();
  layers.forEach((v, n) =>
    assert.equal(net.values[n * 16 + 1 * 4 + 2], Math.fround(v))
  );
  assert.equal(layers[2], x * y);
  // The model file says which features it computes.
  const model = parseModel(session.modelFile());
  assert.deepEqual(model.features, ["x", "y", "xy"]);
  assert.equal(model.predict([x, y])[0], session.model.predict([x, y])[0]);
});

Deno.test("TrainingSession fits a 1-D regression and reports R²", () => {
  const session = new TrainingSession({
    ...DEFAULT_CONFIG,
    dataset: "sine",
    loss: "mse",
    activation: "tanh",
    samples: 60,
  });
  assert.equal(session.model.nin, 1);
  assert.equal(session.oneD, true);
  session.run(300);
  const r2 = session.trainAccuracy();
  assert.ok(r2 > 0.8, `R² ${r2}`);
  const curve = session.surface(5);
  const b = session.bounds;
  assert.equal(curve[4], session.model.predict([b.xMax])[0]);
  assert.throws(
    () => checkConfig({ ...DEFAULT_CONFIG, dataset: "sine", loss: "hinge" }),
    (e) =>
      e instanceof ConfigError &&
      e.message ===
        "sine is a regression problem: it trains with mse, not hinge",
  );
  const meta = readMeta(parseModel(session.modelFile()), "sine.json");
  assert.equal(meta.classes, 0);
});

Deno.test("checkConfig() names the backend, precision and threads it cannot use", () => {
  const cases: [Partial<TrainConfig>, string, string][] = [
    [
      { mode: "fast" as never },
      "mode",
      'Unknown backend "fast"; expected auto, record, replay, compiled, wasm',
    ],
    [
      { precision: "float16" as never },
      "precision",
      'Unknown precision "float16"; expected float64 or float32',
    ],
    [
      { mode: "compiled", precision: "float32" },
      "precision",
      "Precision float32 runs on the wasm backend: choose backend wasm or auto, not compiled",
    ],
    [
      { workers: 0 },
      "workers",
      "Threads must be a whole number from 1 to 16, got 0",
    ],
    [
      { workers: 1.5 },
      "workers",
      "Threads must be a whole number from 1 to 16, got 1.5",
    ],
  ];
  for (const [over, field, message] of cases) {
    assert.throws(
      () => checkConfig(config(over)),
      (error: unknown) =>
        error instanceof ConfigError && error.field === field &&
        error.message === message,
      JSON.stringify(over),
    );
  }
});

Deno.test("planWorkers() trains on workers only where they can run, and says why not", () => {
  const isolated = { sharedMemory: true }, not = { sharedMemory: false };
  assert.deepEqual(planWorkers(config({ workers: 1 }), not), { workers: 1 });
  assert.deepEqual(planWorkers(config({ workers: 4 }), isolated), {
    workers: 4,
  });
  assert.deepEqual(planWorkers(config({ workers: 2 }), not), {
    workers: 1,
    note:
      "One thread, not 2: this page is not cross-origin isolated, so workers cannot share memory",
  });
  assert.deepEqual(
    planWorkers(config({ workers: 2, dataset: "sine", loss: "mse" }), isolated),
    {
      workers: 1,
      note: "One thread, not 2: workers train classification data only",
    },
  );
  assert.deepEqual(
    // Workers compute the model's features from the points, as one thread.
    planWorkers(config({ workers: 2, features: ["x", "y", "xy"] }), isolated),
    { workers: 2 },
  );
});

Deno.test("TrainingSession runs the backend asked for and says what runs", () => {
  // SGD: Adam turns a gradient of 1e-17 (another summation order) where
  // another path has exactly 0 into a full step, so paths drift apart.
  const sgd = { samples: 40, optimizer: "sgd", lr: 0.1 } as const;
  const wasm = new TrainingSession(
    config({ ...sgd, mode: "wasm", precision: "float32" }),
  );
  assert.deepEqual(wasm.backend, {
    mode: "wasm",
    precision: "float32",
    workers: 1,
  });
  const record = new TrainingSession(config({ ...sgd, mode: "record" }));
  assert.deepEqual(record.backend, {
    mode: "record",
    precision: "float64",
    workers: 1,
  });
  // Same steps, same losses: the backends agree (wasm to its 1e-13 contract).
  const a = wasm.run(5).losses, b = record.run(5).losses;
  a.forEach((loss, k) => assert.ok(Math.abs(loss - b[k]) <= 1e-5 * b[k]));
  const f64 = new TrainingSession(config({ ...sgd, mode: "wasm" }));
  f64.run(5).losses.forEach((loss, k) =>
    assert.ok(Math.abs(loss - b[k]) <= 1e-12 * b[k], `${loss} vs ${b[k]}`)
  );
  // Mini-batches run on wasm too.
  const mini = new TrainingSession(
    config({ ...sgd, mode: "wasm", batchSize: 8 }),
  );
  assert.deepEqual(mini.backend, {
    mode: "wasm",
    precision: "float64",
    workers: 1,
  });
  assert.equal(mini.run(3).steps, 3);
});

Deno.test("TrainingSession falls back from wasm without WebAssembly SIMD, and says so", () => {
  forceWasmSimd(false);
  try {
    const session = new TrainingSession(
      config({ samples: 40, mode: "wasm", precision: "float32" }),
    );
    assert.equal(session.backend.mode, "compiled");
    assert.equal(
      session.backend.note,
      "this browser has no WebAssembly SIMD, so compiled runs instead of wasm; float32 applies to wasm steps only; compiled runs in float64",
    );
    assert.equal(session.run(3).steps, 3);
  } finally {
    forceWasmSimd(undefined);
  }
});

Deno.test("TrainingSession.tune() switches the backend of the running model", () => {
  const session = new TrainingSession(config({ samples: 40, mode: "record" }));
  session.run(3);
  session.tune({ mode: "wasm" });
  assert.equal(session.backend.mode, "wasm");
  session.run(2);
  assert.equal(session.step, 5);
  assert.throws(
    () => session.tune({ mode: "replay", precision: "float32" }),
    ConfigError,
  );
  assert.equal(session.backend.mode, "wasm", "unchanged after a bad value");
});

Deno.test("TrainingSession on 2 workers follows the one-thread losses (1e-12) and closes them", async () => {
  // SGD, as above: Adam magnifies differences in the last bit.
  const sgd = { samples: 60, optimizer: "sgd", lr: 0.1 } as const;
  const one = new TrainingSession(config(sgd));
  const want = one.run(10).losses;
  const two = new TrainingSession(config({ ...sgd, workers: 2 }), {
    sharedMemory: true,
  });
  assert.equal(two.wantsWorkers, true);
  await two.startWorkers();
  try {
    assert.deepEqual(two.backend, {
      mode: "parallel",
      precision: "float64",
      workers: 2,
    });
    const got = [
      ...(await two.runAsync(4)).losses,
      ...(await two.runAsync(6)).losses,
    ];
    assert.equal(two.step, 10);
    got.forEach((loss, k) =>
      assert.ok(
        Math.abs(loss - want[k]) <= 1e-12 * want[k],
        `step ${k + 1}: ${loss} vs ${want[k]}`,
      )
    );
    assert.throws(() => two.run(1), /trains on workers; use runAsync\(\)/);
    // Back to one thread without a reset: the step count goes on.
    two.tune({ workers: 1 });
    assert.equal(two.parallel, false);
    assert.equal(two.backend.workers, 1);
    assert.notEqual(two.backend.mode, "parallel");
    two.run(2);
    assert.equal(two.step, 12);
  } finally {
    two.close();
  }
});
