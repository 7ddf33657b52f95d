// Data-parallel training under Node.js (worker_threads) and Bun, from the installed
// package: 2 and 3 threads (this one and worker_threads workers) give one
// thread's numbers bit for bit, a worker that cannot start gives a clear
// error, and closing ends the workers (the process exits on its own).
import assert from "node:assert/strict";
import { fitParallel, makeBlobs, MLP, ParallelTrainer } from "@tapegrad/tapegrad";

const data = makeBlobs(60, { classes: 3, seed: 3 });
const runs = [];
for (const workers of [1, 2, 3]) {
  const model = new MLP(2, [8, 8, 3], { seed: 5 });
  const result = await fitParallel(model, data, {
    loss: "cross-entropy",
    optimizer: "adam",
    batchSize: 16,
    epochs: 2,
    seed: 9,
    workers,
  });
  assert.equal(result.workers, workers);
  runs.push({
    params: model.parameters().map((p) => p.data),
    losses: result.losses,
  });
}
assert.deepEqual(runs[1], runs[0]);
assert.deepEqual(runs[2], runs[0]);
assert.equal(runs[0].losses.length, 8);

await assert.rejects(
  () =>
    ParallelTrainer.create(new MLP(2, [4, 3], { seed: 1 }), data, {
      loss: "cross-entropy",
      workers: 3,
      workerUrl: new URL("./no_such_worker.js", import.meta.url),
    }),
  /^Error: Worker [12] of 2 crashed: /,
);
console.log(`parallel ok: ${runs[0].losses.at(-1)}`);
