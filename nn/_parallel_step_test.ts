// The threads' shared step, run by hand on one thread: wherever the threads
// of a pair meet in their chunks, the sums are bit-identical to one thread's.

import assert from "node:assert/strict";
import {
  ChunkRunner,
  Control,
  controlSize,
  type InitMessage,
  openStep,
} from "./_parallel_step.ts";
import { makeBlobs } from "./datasets.ts";
import { MLP } from "./mlp.ts";
import { Tape } from "../engine/mod.ts";

/** `workers` runners over shared buffers, a batch of `batch` cut into `chunks`. */
function runners(workers: number, batch: number, chunks: number) {
  const data = makeBlobs(batch, { classes: 3, seed: 6 });
  const model = new MLP(2, [5, 4, 3], { seed: 2, tape: new Tape() });
  const count = model.parameterCount;
  const f64 = (n: number, values?: ArrayLike<number>) => {
    const array = new Float64Array(new SharedArrayBuffer(8 * n));
    if (values) array.set(values);
    return array;
  };
  const x = f64(batch * 2, data.x.flat());
  const y = new Int32Array(new SharedArrayBuffer(4 * batch));
  y.set(data.y);
  const indices = new Int32Array(new SharedArrayBuffer(4 * batch));
  // A shuffled batch: chunk c holds samples from anywhere.
  for (let i = 0; i < batch; i++) indices[i] = (i * 7) % batch;
  const control = new Int32Array(
    new SharedArrayBuffer(4 * controlSize(workers)),
  );
  control[Control.Batch] = batch;
  control[Control.Chunks] = chunks;
  const params = f64(count, model.parameters().map((p) => p.data));
  const grad = f64(count);
  const stats = f64(2 * chunks);
  const message: Omit<InitMessage, "index"> = {
    type: "init",
    model: model.toJSON(),
    loss: "cross-entropy",
    classes: 3,
    alpha: 1e-3,
    workers,
    chunkCapacity: Math.ceil(batch / chunks),
    spin: false,
    postWake: false,
    control: control.buffer as SharedArrayBuffer,
    x: x.buffer as SharedArrayBuffer,
    y: y.buffer as SharedArrayBuffer,
    params: params.buffer as SharedArrayBuffer,
    partials: new SharedArrayBuffer(8 * chunks * count),
    grad: grad.buffer as SharedArrayBuffer,
    stats: stats.buffer as SharedArrayBuffer,
    indices: indices.buffer as SharedArrayBuffer,
  };
  const all: ChunkRunner[] = [];
  for (let index = 0; index < workers; index++) {
    all.push(new ChunkRunner({ ...message, index }));
  }
  return { all, control, grad, stats };
}

/**
 * One step: the runners run chunks in `schedule` (thread, number of
 * chunks), then each runs what is left, then every reduction.
 */
function step(
  workers: number,
  chunks: number,
  schedule: [number, number][],
): { grad: number[]; stats: number[] } {
  const { all, control, grad, stats } = runners(workers, 45, chunks);
  openStep(control, 1);
  for (const [w, n] of schedule) all[w].runChunks(n);
  for (const runner of all) runner.runChunks();
  for (const runner of all) runner.reduce();
  return { grad: Array.from(grad), stats: Array.from(stats) };
}

Deno.test("ChunkRunner: wherever a pair's threads meet, the sums are one thread's", () => {
  for (const chunks of [1, 2, 3, 5, 8, 11, 12, 16]) {
    const one = step(1, chunks, []);
    // A gradient that is not all zeros, and a loss share per chunk.
    assert.ok(one.grad.some((g) => Math.abs(g) > 1e-6));
    assert.ok(one.stats.filter((_, i) => i % 2 === 0).every((v) => v > 0));
    for (let k = 0; k <= chunks; k++) {
      // Thread 0 runs k chunks from the front, thread 1 the rest from the
      // back; and the other way round.
      assert.deepEqual(step(2, chunks, [[0, k]]), one, `${chunks}: 0 ran ${k}`);
      assert.deepEqual(step(2, chunks, [[1, k]]), one, `${chunks}: 1 ran ${k}`);
    }
  }
});

Deno.test("ChunkRunner: threads taking turns chunk by chunk, 2 to 5 of them, sum as one thread", () => {
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (const chunks of [4, 7, 13, 16]) {
    const one = step(1, chunks, []);
    for (const workers of [2, 3, 4, 5]) {
      for (let trial = 0; trial < 6; trial++) {
        const schedule: [number, number][] = [];
        for (let k = 0; k < 2 * chunks; k++) schedule.push([next(workers), 1]);
        assert.deepEqual(
          step(workers, chunks, schedule),
          one,
          `${chunks} chunks, ${workers} threads, ${JSON.stringify(schedule)}`,
        );
      }
    }
  }
});

Deno.test("ChunkRunner: the calling thread running every pair's chunks alone sums as one thread", () => {
  for (const chunks of [3, 8, 13, 16]) {
    const one = step(1, chunks, []);
    for (const workers of [2, 3, 4, 5]) {
      const { all, control, grad, stats } = runners(workers, 45, chunks);
      openStep(control, 1);
      all[0].runChunks();
      all[0].runOthers();
      all[0].reduce(true);
      assert.deepEqual(
        { grad: Array.from(grad), stats: Array.from(stats) },
        one,
        `${chunks} chunks, ${workers} threads`,
      );
    }
  }
});

Deno.test("ChunkRunner: a thread whose partner runs first finds its chunks taken", () => {
  const { all, control } = runners(2, 45, 16);
  openStep(control, 1);
  all[1].runChunks();
  // One step of progress per chunk: all 16 run by thread 1.
  assert.equal(Atomics.load(control, Control.Progress), 16);
  all[0].runChunks();
  assert.equal(Atomics.load(control, Control.Progress), 16);
  // Thread 0's chunks end where they began: at chunk 0.
  assert.equal(control[Control.Size + 1], 0);
});
