import assert from "node:assert/strict";
import type { FromWorker } from "./protocol.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "./session.ts";
import { GRID_SIZE, TrainingLoop, VIEW_SPACING } from "./training_loop.ts";

/** A loop with a hand-cranked scheduler and clock. */
function harness(over: Partial<TrainConfig> = {}) {
  const sent: FromWorker[] = [];
  const queue: (() => void)[] = [];
  let time = 0;
  const loop = new TrainingLoop(
    (m) => sent.push(m),
    (callback) => queue.push(callback),
    () => time,
  );
  loop.handle({
    type: "init",
    config: { ...DEFAULT_CONFIG, layers: [8], samples: 40, ...over },
  });
  return {
    loop,
    sent,
    /** Advances the clock and runs what was scheduled. */
    tick(ms: number) {
      time += ms;
      const due = queue.splice(0);
      for (const callback of due) callback();
    },
    last<T extends FromWorker["type"]>(
      type: T,
    ): Extract<FromWorker, { type: T }> {
      const found = sent.findLast((m) => m.type === type);
      assert.ok(found, `no ${type} message`);
      return found as Extract<FromWorker, { type: T }>;
    },
    steps(): number {
      const progress = sent.filter((m) => m.type === "progress");
      return progress.length === 0
        ? 0
        : (progress.at(-1) as { step: number }).step;
    },
  };
}

Deno.test("TrainingLoop sends the data, the model and a first grid on init", () => {
  const h = harness();
  const ready = h.last("ready");
  assert.equal(ready.data.trainLabels.length, 40);
  assert.equal(ready.data.train.length, 80);
  assert.equal(ready.data.classes, 2);
  assert.equal(ready.architecture, "2-8-1");
  assert.equal(ready.parameters, 33);
  assert.equal(ready.grid.size, GRID_SIZE);
  assert.equal(ready.grid.classes.length, GRID_SIZE * GRID_SIZE);
  const [xMin, xMax, yMin, yMax] = ready.data.bounds;
  assert.ok(
    Math.abs((xMax - xMin) - (yMax - yMin)) < 1e-9,
    "the plot is square",
  );
});

Deno.test("TrainingLoop plays until paused, reporting steps, losses and the rate", () => {
  const h = harness();
  h.loop.handle({ type: "play", speed: 0 });
  assert.equal(h.last("state").playing, true);
  for (let k = 0; k < 5; k++) h.tick(30);
  const taken = h.steps();
  assert.ok(taken > 0);
  const losses = h.sent.flatMap((m) => m.type === "progress" ? m.losses : []);
  assert.equal(losses.length, taken, "one loss per step, none lost");
  assert.ok(h.last("progress").rate > 0);
  h.loop.handle({ type: "pause" });
  assert.equal(h.last("state").playing, false);
  h.tick(30);
  h.tick(30);
  assert.equal(h.steps(), taken, "no steps while paused");
});

Deno.test("TrainingLoop caps the speed at the steps per second asked for", () => {
  const h = harness();
  h.loop.handle({ type: "play", speed: 100 });
  for (let k = 0; k < 50; k++) h.tick(10); // half a second
  assert.ok(
    Math.abs(h.steps() - 50) <= 1,
    `${h.steps()} steps in 0.5 s at 100 steps/s`,
  );
});

Deno.test("TrainingLoop steps exactly as asked and sends a fresh grid each time", () => {
  const h = harness();
  h.loop.handle({ type: "step", count: 1 });
  assert.equal(h.last("progress").step, 1);
  assert.ok(h.last("progress").grid);
  h.loop.handle({ type: "step", count: 10 });
  assert.equal(h.last("progress").step, 11);
  assert.equal(h.last("progress").losses.length, 10);
  assert.equal(h.loop.playing, false);
});

Deno.test("TrainingLoop exports the model file and predicts at a point", () => {
  const h = harness();
  h.loop.handle({ type: "step", count: 5 });
  h.loop.handle({ type: "export" });
  const model = h.last("model");
  assert.equal(model.filename, "tapegrad-moons-2-8-1.json");
  assert.equal(JSON.parse(model.text).meta.steps, 5);
  h.loop.handle({ type: "predict", id: 7, point: [0.5, -0.25] });
  const p = h.last("prediction");
  assert.equal(p.id, 7);
  assert.equal(p.outputs.length, 1);
  assert.equal(p.cls, p.outputs[0] > 0 ? 1 : 0);
});

Deno.test("TrainingLoop stops and explains when the loss explodes", () => {
  const h = harness({ optimizer: "sgd", lr: 1e300 });
  h.loop.handle({ type: "play", speed: 0 });
  for (let k = 0; k < 5; k++) h.tick(30);
  const error = h.last("error");
  assert.equal(error.kind, "diverged");
  assert.match(
    error.message,
    /^Training diverged at step \d+: the loss became (NaN|-?Infinity) \(\w+ produced \S+ at node \d+, from inputs as large as \S+\)\. Lower the learning rate and press Reset\.$/,
  );
  assert.equal(h.loop.playing, false);
  assert.equal(h.last("state").playing, false);
  // The steps before the failure were reported; the model cannot be exported.
  assert.equal(h.last("progress").step, error.step! - 1);
  h.loop.handle({ type: "export" });
  assert.equal(h.last("error").kind, "export");
  assert.ok(!h.sent.some((m) => m.type === "model"));
});

Deno.test("TrainingLoop reports a bad configuration with its field", () => {
  const h = harness();
  h.loop.handle({ type: "init", config: { ...DEFAULT_CONFIG, lr: -1 } });
  const error = h.last("error");
  assert.equal(error.kind, "config");
  assert.equal(error.field, "lr");
  assert.equal(error.message, "Learning rate must be a number above 0, got -1");
  // Nothing to train: play does nothing rather than fail.
  h.loop.handle({ type: "play", speed: 0 });
  assert.equal(h.loop.playing, false);
});

Deno.test("TrainingLoop spaces the views so they take at most 1 / (1 + VIEW_SPACING) of the time", () => {
  // A clock that moves 20 ms whenever it is read: sampling the views (read
  // before and after) then costs 20 ms, so the next sampling must wait
  // VIEW_SPACING * 20 ms, during which the loop trains.
  const sent: FromWorker[] = [];
  const queue: (() => void)[] = [];
  let time = 0;
  const cost = 20;
  const loop = new TrainingLoop(
    (m) => sent.push(m),
    (callback) => queue.push(callback),
    () => (time += cost) - cost,
  );
  loop.handle({
    type: "init",
    config: { ...DEFAULT_CONFIG, layers: [4], samples: 20 },
  });
  loop.handle({ type: "play", speed: 0 });
  const start = time;
  let ticks = 0;
  while (time - start < 4_000) {
    queue.splice(0).forEach((callback) => callback());
    ticks++;
  }
  loop.handle({ type: "pause" });
  const progress = sent.filter((m) => m.type === "progress");
  const views = progress.filter((m) => m.type === "progress" && m.grid);
  assert.equal(progress.length, ticks, "one report per slice");
  assert.ok(VIEW_SPACING >= 9, "the views take at most a tenth");
  assert.ok(views.length >= 5, `${views.length} view updates`);
  // Each sampling cost `cost`; together at most 1 / (1 + VIEW_SPACING) of the time.
  const share = (views.length * cost) / (time - start);
  assert.ok(
    share <= 1 / (1 + VIEW_SPACING) + cost / (time - start),
    `views took ${(100 * share).toFixed(1)}% of the time`,
  );
  assert.ok(views.length < ticks / 2, `${views.length} of ${ticks} slices`);
  // Every update carries the network view too.
  assert.ok(views.every((m) => m.type === "progress" && m.network));
});

Deno.test("TrainingLoop stops sampling the network view while it is off", () => {
  const h = harness();
  h.loop.handle({ type: "views", network: false });
  h.loop.handle({ type: "step", count: 2 });
  assert.ok(h.last("progress").grid, "the surface is still sampled");
  assert.equal(h.last("progress").network, undefined);
  h.loop.handle({ type: "views", network: true });
  h.loop.handle({ type: "step", count: 1 });
  assert.ok(h.last("progress").network);
});

Deno.test("TrainingLoop reports the backend on init, progress and tune", () => {
  const h = harness({ mode: "record" });
  assert.deepEqual(h.last("ready").backend, {
    mode: "record",
    precision: "float64",
    workers: 1,
  });
  h.loop.handle({
    type: "tune",
    settings: {
      lr: 0.01,
      l2: 1e-4,
      batchSize: 0,
      mode: "wasm",
      precision: "float32",
      workers: 1,
    },
  });
  assert.equal(h.last("backend").mode, "wasm");
  assert.equal(h.last("backend").precision, "float32");
  h.loop.handle({ type: "step", count: 1 });
  assert.equal(h.last("progress").backend.mode, "wasm");
});

Deno.test("TrainingLoop trains on workers, holding messages while they work", async () => {
  const sent: FromWorker[] = [];
  const loop = new TrainingLoop(
    (m) => sent.push(m),
    (callback, ms) => setTimeout(callback, ms),
  );
  const config = {
    ...DEFAULT_CONFIG,
    layers: [8],
    samples: 40,
    optimizer: "sgd" as const,
    lr: 0.1,
    workers: 2,
  };
  const settled = async (done: () => boolean) => {
    while (!done()) await new Promise((r) => setTimeout(r, 5));
  };
  loop.handle({ type: "init", config });
  // Starting the workers takes a while: these wait, in order.
  loop.handle({ type: "step", count: 3 });
  loop.handle({ type: "step", count: 2 });
  await settled(() => sent.some((m) => m.type === "progress" && m.step === 5));
  const ready = sent.find((m) => m.type === "ready")!;
  assert.ok(ready.type === "ready");
  assert.deepEqual(ready.backend, {
    mode: "parallel",
    precision: "float64",
    workers: 2,
  });
  const losses = sent.flatMap((m) => m.type === "progress" ? m.losses : []);
  assert.equal(losses.length, 5);
  // The same steps on one thread give the same losses.
  const one: FromWorker[] = [];
  const single = new TrainingLoop((m) => one.push(m), () => {});
  single.handle({ type: "init", config: { ...config, workers: 1 } });
  single.handle({ type: "step", count: 5 });
  const want = (one.at(-1) as { losses: number[] }).losses;
  losses.forEach((loss, k) =>
    assert.ok(
      Math.abs(loss - want[k]) <= 1e-12 * want[k],
      `${loss} vs ${want[k]}`,
    )
  );
  // A reset ends the workers (the test's sanitizers check nothing is left).
  loop.handle({ type: "init", config: { ...config, workers: 1 } });
  single.handle({ type: "init", config: { ...config, workers: 1 } });
});
