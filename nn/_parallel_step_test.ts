// The threads' shared step, run by hand on one thread: chunks taken from
// other threads' ranges (stealing) leave the sums bit-identical.

import assert from "node:assert/strict";
import { ChunkRunner, Control, type InitMessage } from "./_parallel_step.ts";
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
  const control = new Int32Array(new SharedArrayBuffer(4 * Control.Size));
  control[Control.Batch] = batch;
  control[Control.Chunks] = chunks;
  const params = f64(count, model.parameters().map((p) => p.data));
  const grad = f64(count);
  const shared = {
    type: "init" as const,
    model: model.toJSON(),
    loss: "cross-entropy" as const,
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
    ranges: new SharedArrayBuffer(8 * workers),
    starts: new SharedArrayBuffer(4 * chunks),
    grad: grad.buffer as SharedArrayBuffer,
    stats: new SharedArrayBuffer(16 * chunks),
    indices: indices.buffer as SharedArrayBuffer,
  };
  const all: ChunkRunner[] = [];
  for (let index = 0; index < workers; index++) {
    all.push(new ChunkRunner({ ...shared, index } as InitMessage));
  }
  all[0].plan(chunks);
  return { all, grad, stats: new Float64Array(shared.stats) };
}

/** Runs the runners' chunks in `order` (later ones find theirs taken), then every reduction. */
function step(workers: number, chunks: number, order: number[]) {
  const { all, grad, stats } = runners(workers, 45, chunks);
  for (const w of order) all[w].runChunks();
  for (const runner of all) runner.reduce();
  return { grad: Array.from(grad), stats: Array.from(stats) };
}

Deno.test("ChunkRunner: a thread that takes the others' chunks gives the sums one thread gives", () => {
  for (const chunks of [1, 2, 5, 8, 11, 16]) {
    const one = step(1, chunks, [0]);
    // The gradient is not all zeros, and the loss shares add up to a loss.
    assert.ok(one.grad.some((g) => Math.abs(g) > 1e-6));
    for (
      const [workers, order] of [
        [2, [0, 1]], // Each its own block.
        [2, [1, 0]], // Thread 1 takes thread 0's chunks, in halves.
        [3, [2, 0, 1]],
        [3, [1, 2, 0]],
        [4, [3, 1, 0, 2]],
      ] as const
    ) {
      const many = step(workers, chunks, [...order]);
      assert.deepEqual(many, one, `${chunks} chunks, order ${order}`);
    }
  }
});

Deno.test("ChunkRunner: the last thread to run finds no chunks left", () => {
  const { all } = runners(2, 45, 16);
  const control = all[0].control;
  all[1].runChunks();
  const progress = Atomics.load(control, Control.Progress);
  assert.equal(progress, 16); // One step of progress per chunk, all by thread 1.
  all[0].runChunks();
  assert.equal(Atomics.load(control, Control.Progress), 16);
});

Deno.test("ChunkRunner: every change of the finished count is notified, not only the last (a thread asleep on it wakes)", async () => {
  const { all } = runners(2, 45, 16);
  const control = all[0].control;
  // A thread asleep on the count, as a waiting thread is after its spin.
  const waiter = new Worker(
    URL.createObjectURL(
      new Blob([
        `onmessage = (event) => {
          const control = event.data;
          postMessage("asleep");
          postMessage(Atomics.wait(control, ${Control.Finished}, 0, 3000));
        };`,
      ], { type: "application/javascript" }),
    ),
    { type: "module" },
  );
  const replies: string[] = [];
  const woke = new Promise<string>((resolve) => {
    waiter.onmessage = (event) => {
      replies.push(event.data);
      if (replies.length === 2) resolve(event.data);
    };
  });
  waiter.postMessage(control);
  while (replies.length === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50)); // Into Atomics.wait.
  // Thread 0 runs its own range (8 chunks counted in), then fails on the
  // first chunk it takes from thread 1: the step is not finished.
  all[0].onChunk = () => {
    if (Atomics.load(control, Control.Finished) > 0) throw new Error("stop");
  };
  assert.throws(() => all[0].runChunks(), Error, "stop");
  assert.equal(Atomics.load(control, Control.Finished), 8);
  assert.equal(await woke, "ok");
  waiter.terminate();
});
