// micrograd's demo loop written the natural way (the README's first training
// example) runs in flat memory and follows today's numbers bit for bit.

import assert from "node:assert/strict";
import {
  defaultTape,
  makeMoons,
  MLP,
  setDefaultTape,
  Tape,
  Trainer,
  Value,
} from "../mod.ts";
import {
  NATURAL_LOOP_LINES,
  naturalRunner,
  naturalStep,
} from "./micrograd_loop.ts";
import { tapegradRunner } from "./tapegrad_runner.ts";
import { ALPHA, makeWorkload, W } from "./workload.ts";

const LR = 0.05;

Deno.test("the README's first training example is the benchmarked natural loop", async () => {
  const readme = await Deno.readTextFile(
    new URL("../README.md", import.meta.url),
  );
  const start = readme.indexOf("```ts", readme.indexOf("## Training"));
  assert.ok(start >= 0, "README has a Training section with a ts block");
  const block = readme.slice(start, readme.indexOf("```\n", start + 5));
  let at = 0;
  for (const line of NATURAL_LOOP_LINES) {
    const found = block.indexOf(line, at);
    assert.ok(found >= 0, `README's loop lacks, in order: ${line}`);
    at = found + line.length;
  }
  assert.equal(ALPHA, 1e-4);
});

Deno.test("the natural loop runs 10,000 steps in flat memory, bit for bit as mark/rewind, L2 as a dot and the Trainer", async () => {
  const previous = setDefaultTape(new Tape());
  try {
    const w = makeWorkload(W);
    const natural = await naturalRunner()(w.sizes, w.params, w.x, w.y);
    const manual = await naturalRunner("manual")(
      w.sizes,
      w.params,
      w.x,
      w.y,
    );
    const dotted = await naturalRunner("dot")(w.sizes, w.params, w.x, w.y);
    const trainer = await tapegradRunner("record")(
      w.sizes,
      w.params,
      w.x,
      w.y,
    );
    const tape = defaultTape();
    let size = 0, capacity = 0, memory = 0;
    const used = () => {
      const m = Deno.memoryUsage();
      return m.heapUsed + m.external;
    };
    for (let step = 0; step < 10_000; step++) {
      const loss = natural.step(LR);
      assert.equal(manual.step(LR), loss, `step ${step}: manual rewind`);
      assert.equal(dotted.step(LR), loss, `step ${step}: L2 as a dot`);
      assert.equal(trainer.step(LR), loss, `step ${step}: Trainer`);
      if (step === 1) {
        size = tape.size;
        capacity = tape.capacity;
      }
      if (step >= 1) assert.equal(tape.size, size, `step ${step}: tape size`);
      if (step === 1_000) memory = used();
    }
    assert.equal(tape.capacity, capacity);
    assert.deepEqual(natural.parameters(), trainer.parameters());
    // Without the release the tape would hold some 79 million nodes (GBs).
    const growth = used() - memory;
    assert.ok(growth < 32e6, `memory grew by ${growth} bytes`);
  } finally {
    setDefaultTape(previous);
  }
});

Deno.test("two models trained one after the other on the default tape", () => {
  const previous = setDefaultTape(new Tape());
  try {
    const data = makeMoons(20, { noise: 0.1, seed: 3 });
    const y = data.y.map((c) => (c === 1 ? 1 : -1));
    const train = (model: MLP) => {
      const losses: number[] = [];
      for (let k = 0; k < 30; k++) {
        losses.push(naturalStep(model, data.x, y, 0.1));
      }
      return losses;
    };
    const a = new MLP(2, [8, 1], { seed: 1 });
    const lossesA = train(a);
    const b = new MLP(2, [4, 4, 1], { seed: 2 });
    const lossesB = train(b);
    // a is intact and can go on training; each model's run equals a run
    // on a tape of its own.
    assert.equal(a.parameterCount, 33);
    const aLater = train(a);
    setDefaultTape(new Tape());
    const a2 = new MLP(2, [8, 1], { seed: 1 });
    assert.deepEqual(train(a2), lossesA);
    assert.deepEqual(train(a2), aLater);
    setDefaultTape(new Tape());
    assert.deepEqual(train(new MLP(2, [4, 4, 1], { seed: 2 })), lossesB);
    assert.ok(lossesA[29] < lossesA[0] && lossesB[29] < lossesB[0]);
  } finally {
    setDefaultTape(previous);
  }
});

Deno.test("the README's loop reaches 100% accuracy on its moons", () => {
  const previous = setDefaultTape(new Tape());
  try {
    const data = makeMoons(100, { noise: 0.1, seed: 1 });
    const X = data.x;
    const y = data.y.map((c) => (c === 1 ? 1 : -1));
    const model = new MLP(2, [16, 16, 1], { seed: 1337 });
    for (let k = 0; k < 100; k++) naturalStep(model, X, y, 1 - 0.9 * k / 100);
    const correct = X.filter((x, i) => model.predict(x)[0] > 0 === y[i] > 0);
    assert.equal(correct.length, 100);
  } finally {
    setDefaultTape(previous);
  }
});

for (const mode of ["record", "replay", "compiled"] as const) {
  Deno.test(`a Value step's release never drops a Trainer's graph (${mode})`, () => {
    const data = makeMoons(20, { noise: 0.1, seed: 5 });
    const run = (interfere: boolean) => {
      const tape = new Tape();
      const model = new MLP(2, [4, 1], { seed: 7, tape });
      const trainer = new Trainer(model, data, { mode, steps: 5 });
      const losses = [trainer.step()];
      for (let k = 0; k < 4; k++) {
        if (interfere) {
          const v = new Value(2, { tape });
          v.mul(3).backward();
          new Value(1, { tape }); // applies the release
        }
        losses.push(trainer.step());
      }
      return losses;
    };
    const losses = run(false);
    assert.ok(losses[4] < losses[0]);
    assert.deepEqual(run(true), losses);
  });
}
