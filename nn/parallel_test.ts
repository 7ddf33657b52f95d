// Data-parallel training: bit-identical for 1, 2 and 3 workers, close to one thread, and clean failures.

import assert from "node:assert/strict";
import {
  defaultWorkers,
  fit,
  fitNormalization,
  type FitOptions,
  fitParallel,
  makeBlobs,
  makeMoons,
  MLP,
  ParallelTrainer,
  type WorkerLike,
} from "./mod.ts";
import { Tape } from "../engine/mod.ts";

const FAULTY = new URL(
  "../testdata/parallel_faulty_worker.ts",
  import.meta.url,
);

const snapshot = (model: MLP) => model.parameters().map((p) => p.data);

/** Asserts that each of `got` is within 1e-12 of `want`'s entry. */
function assertClose(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, what);
  for (let k = 0; k < want.length; k++) {
    assert.ok(
      Math.abs(got[k] - want[k]) <= 1e-12,
      `${what} ${k}: ${got[k]} vs ${want[k]}`,
    );
  }
}

/**
 * Trains fresh models from `make` with fit() and with fitParallel() on
 * each number of `workers`: the parallel runs are bit-identical to each
 * other, and within 1e-12 of fit()'s losses and parameters.
 */
async function againstFit(
  make: () => MLP,
  data: Parameters<typeof fit>[1],
  options: FitOptions,
  workers: number[],
  chunks: number,
) {
  const single = make();
  const reference = fit(single, data, options);
  const runs = [];
  for (const count of workers) {
    const model = make();
    const result = await fitParallel(model, data, {
      ...options,
      workers: count,
      chunks,
    });
    assert.equal(result.workers, count);
    runs.push({ result, params: snapshot(model) });
  }
  for (const run of runs.slice(1)) {
    assert.deepEqual(run.params, runs[0].params);
    assert.deepEqual(run.result.losses, runs[0].result.losses);
  }
  assertClose(runs[0].result.losses, reference.losses, "loss");
  assertClose(runs[0].params, snapshot(single), "parameter");
  return { reference, result: runs[0].result };
}

Deno.test("fitParallel() is bit-identical for 1, 2 and 3 workers and within 1e-12 of fit()", async () => {
  // 70 samples in batches of 16 (the last of 6), cut into 4 chunks each.
  const data = makeBlobs(70, { classes: 3, seed: 3 });
  const make = () => new MLP(2, [8, 8, 3], { seed: 5, tape: new Tape() });
  const options: FitOptions = {
    loss: "cross-entropy",
    optimizer: "adam",
    batchSize: 16,
    epochs: 2,
    seed: 9,
  };
  const { result } = await againstFit(make, data, options, [1, 2, 3], 4);
  assert.equal(result.steps, 10);
});

Deno.test("fitParallel() standardises raw data with the model's normalisation, as fit() does", async () => {
  // Far from the origin and on very different scales: unnormalised
  // training would give other losses entirely.
  const blobs = makeBlobs(48, { classes: 3, seed: 4 });
  const data = {
    ...blobs,
    x: blobs.x.map(([a, b]) => [500 + 100 * a, -3 + 0.01 * b]),
  };
  const normalization = fitNormalization(data.x);
  const make = () => {
    const model = new MLP(2, [8, 3], { seed: 6, tape: new Tape() });
    model.meta = { normalization };
    return model;
  };
  const options: FitOptions = {
    loss: "cross-entropy",
    optimizer: "adam",
    batchSize: 12,
    epochs: 2,
    seed: 2,
  };
  const { reference, result } = await againstFit(
    make,
    data,
    options,
    [1, 2],
    3,
  );
  assert.equal(result.accuracy, reference.accuracy);
  assert.equal(result.losses.length, 8);
});

Deno.test("fitParallel() computes the model's stored features from raw points, as fit() does", async () => {
  const data = makeMoons(48, { noise: 0.1, seed: 8 });
  const make = () => {
    const model = new MLP(4, [8, 1], { seed: 6, tape: new Tape() });
    model.meta = { features: ["x", "y", "x2", "xy"] };
    return model;
  };
  const options: FitOptions = { loss: "hinge", batchSize: 16, epochs: 2 };
  await againstFit(make, data, options, [1, 2], 4);
});

Deno.test("ParallelTrainer: a full batch with L2 and hinge matches Trainer's losses", async () => {
  const data = makeMoons(50, { noise: 0.1, seed: 1 });
  const make = () => new MLP(2, [16, 16, 1], { seed: 2, tape: new Tape() });
  const a = make(), b = make();
  const reference = fit(a, data, { steps: 5 });
  const trainer = await ParallelTrainer.create(b, data, {
    steps: 5,
    workers: 2,
  });
  try {
    for (let s = 0; s < 5; s++) {
      const loss = await trainer.step();
      assert.ok(Math.abs(loss - reference.losses[s]) <= 1e-12);
      assert.equal(trainer.lastAccuracy, reference.accuracies[s]);
    }
  } finally {
    trainer.close();
  }
  assert.equal(trainer.chunks, 16);
  const pa = snapshot(a), pb = snapshot(b);
  for (let k = 0; k < pa.length; k++) {
    assert.ok(Math.abs(pa[k] - pb[k]) <= 1e-12);
  }
});

for (const fail of ["reply", "throw"] as const) {
  Deno.test(`ParallelTrainer: a worker failing mid-step (${fail}) rejects step() and leaves the parameters`, async () => {
    const data = makeMoons(40, { noise: 0.1, seed: 1 });
    const model = new MLP(2, [8, 1], { seed: 2, tape: new Tape() });
    const trainer = await ParallelTrainer.create(model, data, {
      steps: 50,
      workers: 3,
      workerUrl: FAULTY,
      createWorker: (url) =>
        new Worker(url, {
          type: "module",
          name: fail,
        }) as unknown as WorkerLike,
    });
    await trainer.step();
    // The steps the workers join fail: the first one from step 2 on (the
    // calling thread may run a step alone, none of them in it).
    let before = snapshot(model), failure: unknown, done = 1;
    for (let s = 0; s < 40 && failure === undefined; s++) {
      before = snapshot(model);
      await trainer.step().then(() => done++, (error) => failure = error);
    }
    assert.ok(failure instanceof Error);
    assert.match(
      failure.message,
      fail === "reply"
        ? /^chunk failed: boom$/
        : /^Worker [12] of 2 crashed: .*boom in step \d+/,
    );
    // The failed step changed nothing, and counted for nothing.
    assert.deepEqual(snapshot(model), before);
    assert.equal(trainer.stepCount, done);
    // The trainer closed its workers; later steps keep failing clearly.
    await assert.rejects(() => trainer.step(), Error, "boom");
    trainer.close();
  });
}

Deno.test("ParallelTrainer.create() rejects a worker that cannot start, bad options, and steps after close", async () => {
  const data = makeMoons(20, { seed: 1 });
  const model = new MLP(2, [4, 1], { seed: 2, tape: new Tape() });
  await assert.rejects(
    () =>
      ParallelTrainer.create(model, data, {
        workers: 2,
        workerUrl: new URL("../testdata/no_such_worker.ts", import.meta.url),
      }),
    (error: Error) => {
      assert.match(error.message, /^Worker 1 of 1 crashed: /);
      return true;
    },
  );
  await assert.rejects(
    () => ParallelTrainer.create(model, data, { workers: 0 }),
    RangeError,
    "Workers must be an integer from 1 to 256, got 0",
  );
  await assert.rejects(
    () => ParallelTrainer.create(model, data, { workers: 1, chunks: 0 }),
    RangeError,
    "Chunks must be an integer >= 1, got 0",
  );
  const trainer = await ParallelTrainer.create(model, data, { workers: 1 });
  trainer.close();
  await assert.rejects(
    () => trainer.step(),
    Error,
    "Trainer is closed; create a new one",
  );
});

Deno.test("defaultWorkers() uses one worker for small steps and every core for big ones", () => {
  assert.equal(defaultWorkers(100, 337), 1);
  assert.equal(defaultWorkers(32, 4810), 1);
  const cores = navigator.hardwareConcurrency;
  assert.equal(defaultWorkers(100, 66_561), Math.min(cores, 16));
});

Deno.test("fitParallel() is bit-identical with more workers than chunks, and for 1, 3 and 16 workers over 16 chunks", async () => {
  const data = makeBlobs(60, { classes: 3, seed: 8 });
  const make = () => new MLP(2, [6, 3], { seed: 4, tape: new Tape() });
  const options: FitOptions = { loss: "cross-entropy", steps: 4, l2: 1e-3 };
  const cases: [number, number[]][] = [[3, [1, 4]], [16, [1, 3, 16]]];
  for (const [chunks, counts] of cases) {
    const runs = [];
    for (const workers of counts) {
      const model = make();
      const result = await fitParallel(model, data, {
        ...options,
        workers,
        chunks,
      });
      runs.push({ params: snapshot(model), losses: result.losses });
    }
    for (const run of runs) assert.deepEqual(run, runs[0]);
    const reference = fit(make(), data, options);
    for (let s = 0; s < 4; s++) {
      assert.ok(Math.abs(runs[0].losses[s] - reference.losses[s]) <= 1e-12);
    }
  }
});

Deno.test("fitParallel() without workers trains on this thread, as fit() does, where workers do not pay", async () => {
  const data = makeMoons(100, { noise: 0.1, seed: 1 });
  const make = () => new MLP(2, [16, 16, 1], { seed: 3, tape: new Tape() });
  assert.equal(defaultWorkers(100, make().parameterCount), 1);
  const a = make(), b = make();
  const reference = fit(a, data, { steps: 5 });
  const result = await fitParallel(b, data, { steps: 5 });
  assert.equal(result.workers, 0);
  assert.deepEqual(result.losses, reference.losses);
  assert.deepEqual(snapshot(b), snapshot(a));
  // A wider model whose full batch one thread runs on WebAssembly SIMD:
  // compiled workers pay only from 6 cores.
  const cores = navigator.hardwareConcurrency;
  const expected = cores >= 6 ? Math.min(cores, 16) : 1;
  assert.equal(defaultWorkers(100, 4417, "wasm"), expected);
  const wide = () => new MLP(2, [64, 64, 1], { seed: 3, tape: new Tape() });
  const c = wide(), d = wide();
  const wideReference = fit(c, data, { steps: 3 });
  const wideResult = await fitParallel(d, data, { steps: 3 });
  assert.equal(wideResult.workers, cores >= 6 ? expected : 0);
  if (cores < 6) assert.deepEqual(wideResult.losses, wideReference.losses);
});

Deno.test("ParallelTrainer.create() rejects float32 and modes other than auto and compiled in one line", async () => {
  const data = makeMoons(20, { seed: 1 });
  const model = new MLP(2, [4, 1], { seed: 2, tape: new Tape() });
  await assert.rejects(
    () => fitParallel(model, data, { workers: 2, precision: "float32" }),
    RangeError,
    'Workers run float64 compiled steps: precision "float64" and mode "auto" or "compiled", got precision "float32" and mode "auto"',
  );
  await assert.rejects(
    () => ParallelTrainer.create(model, data, { workers: 1, mode: "wasm" }),
    RangeError,
    'Workers run float64 compiled steps: precision "float64" and mode "auto" or "compiled", got precision "float64" and mode "wasm"',
  );
  const trainer = await ParallelTrainer.create(model, data, {
    workers: 1,
    mode: "compiled",
  });
  assert.ok(Number.isFinite(await trainer.step()));
  trainer.close();
});

Deno.test("ParallelTrainer.close() ends every worker, and rejects a step it interrupts", async () => {
  const data = makeMoons(40, { noise: 0.1, seed: 1 });
  const model = new MLP(2, [8, 1], { seed: 2, tape: new Tape() });
  let ended = 0;
  const trainer = await ParallelTrainer.create(model, data, {
    workers: 4,
    // Slow in a step: the step is still waiting for it when close() comes.
    workerUrl: FAULTY,
    createWorker: (url) => {
      const worker = new Worker(url, { type: "module", name: "slow" });
      const terminate = worker.terminate.bind(worker);
      worker.terminate = () => {
        ended++;
        terminate();
      };
      return worker as unknown as WorkerLike;
    },
  });
  await trainer.step();
  // The first step from step 2 on that the slow worker joins is still
  // waiting for it 50 ms on (the calling thread runs alone the steps no
  // worker joined, at once).
  let running: Promise<number> | undefined, before = snapshot(model);
  for (let s = 0; s < 40 && running === undefined; s++) {
    before = snapshot(model);
    const step = trainer.step();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settled = await Promise.race([
      step.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 50);
      }),
    ]);
    clearTimeout(timer);
    if (!settled) running = step;
  }
  assert.ok(running !== undefined);
  const count = trainer.stepCount;
  await assert.rejects(
    () => trainer.step(),
    Error,
    "A step is running; await it before the next",
  );
  trainer.close();
  await assert.rejects(
    () => running,
    Error,
    "Trainer was closed during a step",
  );
  assert.equal(ended, 3);
  assert.deepEqual(snapshot(model), before);
  assert.equal(trainer.stepCount, count);
  trainer.close();
  assert.equal(ended, 3);
});

Deno.test("ParallelTrainer: the steps no worker has begun in time are run by the calling thread alone, with the same results", async () => {
  const data = makeBlobs(60, { classes: 3, seed: 3 });
  const make = () => new MLP(2, [12, 3], { seed: 4, tape: new Tape() });
  const options = {
    loss: "cross-entropy" as const,
    optimizer: "adam" as const,
    batchSize: 20,
    seed: 5,
    steps: 30,
    chunks: 7,
  };
  const one = make(), late = make();
  const a = await ParallelTrainer.create(one, data, {
    ...options,
    workers: 1,
  });
  // Each worker sleeps 3 ms before it joins a step, far longer than this
  // thread takes to run the step alone; every ninth step waits for them.
  const b = await ParallelTrainer.create(late, data, {
    ...options,
    workers: 4,
    workerUrl: FAULTY,
    createWorker: (url) =>
      new Worker(url, {
        type: "module",
        name: "late",
      }) as unknown as WorkerLike,
  });
  try {
    for (let s = 0; s < 30; s++) {
      assert.equal(await b.step(), await a.step());
      assert.equal(b.lastAccuracy, a.lastAccuracy);
    }
  } finally {
    a.close();
    b.close();
  }
  assert.deepEqual(snapshot(late), snapshot(one));
});

Deno.test("ParallelTrainer on 1 thread starts no worker and gives what 2 threads give", async () => {
  const data = makeMoons(30, { noise: 0.1, seed: 4 });
  const make = () => new MLP(2, [6, 1], { seed: 5, tape: new Tape() });
  let started = 0;
  const createWorker = (url: URL) => {
    started++;
    return new Worker(url, { type: "module" }) as unknown as WorkerLike;
  };
  const one = make(), two = make();
  const a = await ParallelTrainer.create(one, data, {
    workers: 1,
    createWorker,
  });
  assert.equal(started, 0);
  const b = await ParallelTrainer.create(two, data, {
    workers: 2,
    createWorker,
  });
  assert.equal(started, 1);
  try {
    for (let s = 0; s < 4; s++) assert.equal(await a.step(), await b.step());
  } finally {
    a.close();
    b.close();
  }
  assert.deepEqual(snapshot(one), snapshot(two));
});
