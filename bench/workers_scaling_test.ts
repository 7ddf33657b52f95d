// The interleaved workers report's parts: the cores' ceiling is a ratio a
// machine can give, and the turns time every step of each trainer.

import assert from "node:assert/strict";
import { W } from "./workload.ts";
import {
  capacity,
  interleaved,
  mean,
  median,
  trainersOn,
} from "./workers_scaling.ts";

Deno.test("capacity() is what two busy threads get from the cores: between 0.5x and 2.2x", async () => {
  const ratio = await capacity();
  assert.ok(ratio > 0.5 && ratio < 2.2, `capacity ${ratio}`);
});

Deno.test("interleaved() times each trainer's steps in turns, after warm-up rounds", async () => {
  const trainers = await trainersOn(W, [1, 2]);
  try {
    const times = await interleaved(trainers, 5, 2);
    assert.deepEqual(times.map((t) => t.length), [10, 10]);
    for (const t of times) assert.ok(t.every((us) => us > 0 && us < 1e6));
    // 3 warm-up rounds and 2 timed, 5 steps a turn.
    assert.deepEqual(trainers.map((t) => t.stepCount), [25, 25]);
    // The same steps on 1 and 2 threads: the same parameters, bit for bit.
    assert.deepEqual(
      trainers[0].model.parameters().map((p) => p.data),
      trainers[1].model.parameters().map((p) => p.data),
    );
  } finally {
    for (const trainer of trainers) trainer.close();
  }
});

Deno.test("mean() and median() of step times", () => {
  assert.equal(mean([1, 2, 6]), 3);
  assert.equal(median([5, 1, 9, 3, 7]), 5);
});
