import assert from "node:assert/strict";
import {
  DEFAULT_SEED,
  initialWeight,
  INITS,
  isInit,
  parseInit,
  rngFrom,
} from "./init.ts";
import { Rng } from "./rng.ts";
import { throwsExactly } from "./_testing.ts";

Deno.test("initialWeight() draws uniform(-1, 1), Xavier and He from the rng", () => {
  const a = new Rng(3), b = new Rng(3);
  for (let i = 0; i < 5; i++) {
    assert.equal(initialWeight("uniform", a, 3, 7), b.uniform(-1, 1));
    const limit = Math.sqrt(6 / (3 + 7));
    assert.equal(initialWeight("xavier", a, 3, 7), b.uniform(-limit, limit));
    assert.equal(initialWeight("he", a, 3, 7), b.normal(0, Math.sqrt(2 / 3)));
  }
});

Deno.test("initialWeight() has the documented spread", () => {
  const rng = new Rng(12);
  const n = 20000;
  const draw = (init: "uniform" | "xavier" | "he"): number[] =>
    Array.from({ length: n }, () => initialWeight(init, rng, 8, 4));
  const uniform = draw("uniform");
  assert.ok(uniform.every((w) => w >= -1 && w < 1));
  const limit = Math.sqrt(6 / 12);
  const xavier = draw("xavier");
  assert.ok(xavier.every((w) => Math.abs(w) <= limit));
  assert.ok(Math.max(...xavier.map(Math.abs)) > 0.99 * limit);
  const he = draw("he");
  const mean = he.reduce((s, w) => s + w, 0) / n;
  const std = Math.sqrt(he.reduce((s, w) => s + (w - mean) ** 2, 0) / n);
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(std - Math.sqrt(2 / 8)) < 0.02, `std ${std}`);
});

Deno.test("rngFrom() returns the given rng, a seeded one, or seed 1337", () => {
  const rng = new Rng(1);
  assert.equal(rngFrom({ rng }), rng);
  assert.equal(rngFrom({ seed: 42 }).next(), new Rng(42).next());
  assert.equal(DEFAULT_SEED, 1337);
  assert.equal(rngFrom({}).seed, 1337);
  assert.equal(rngFrom({}).next(), new Rng(1337).next());
});

Deno.test("isInit() and parseInit() accept exactly the three schemes", () => {
  assert.deepEqual(INITS, ["uniform", "xavier", "he"]);
  for (const init of INITS) {
    assert.equal(isInit(init), true);
    assert.equal(parseInit(init), init);
  }
  assert.equal(isInit("glorot"), false);
  assert.equal(isInit(undefined), false);
});

Deno.test("init helpers reject bad arguments", () => {
  throwsExactly(
    () => parseInit("zeros", "--init"),
    TypeError,
    '--init must be one of "uniform", "xavier", "he", got "zeros"',
  );
  throwsExactly(
    () => initialWeight("he", {} as Rng, 1, 1),
    TypeError,
    "Initial weight rng must be an Rng, got an object",
  );
  throwsExactly(
    () => initialWeight("he", new Rng(1), 0, 1),
    RangeError,
    "Initial weight nin must be a positive integer, got 0",
  );
  throwsExactly(
    () => initialWeight("xavier", new Rng(1), 1, "2" as unknown as number),
    TypeError,
    'Initial weight nout must be a positive integer, got "2"',
  );
  throwsExactly(
    () => rngFrom({ rng: new Rng(1), seed: 1 }, "Layer"),
    TypeError,
    "Layer options take rng or seed, not both, got rng and seed 1",
  );
  throwsExactly(
    () => rngFrom({ rng: Math.random as unknown as Rng }),
    TypeError,
    "Model rng must be an Rng, got a function",
  );
  throwsExactly(
    () => rngFrom({ seed: 2 ** 60 }),
    RangeError,
    `Model seed must be a safe integer, got ${2 ** 60}`,
  );
  throwsExactly(
    () => rngFrom({ seed: null as unknown as number }),
    TypeError,
    "Model seed must be a safe integer, got null",
  );
});
