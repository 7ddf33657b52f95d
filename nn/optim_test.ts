import assert from "node:assert/strict";
import { CompiledStep, Op, Tape, Value } from "../engine/mod.ts";
import { Adam, AdamW, type Optimizer, SGD } from "./optim.ts";
import { assertClose, assertThrowsWith } from "./_testing.ts";

/** One training step: zero the gradients, backpropagate `loss()`, update. */
function trainStep(optimizer: Optimizer, loss: () => Value) {
  optimizer.zeroGrad();
  loss().backward();
  optimizer.step();
}

// --------------------------------------------------------- fused descent

Deno.test("SGD.descentRule fused into a compiled backward equals SGD.step(), bit for bit", () => {
  // One neuron tanh(b + w·x) against 0.25, recorded on two tapes: one steps
  // with SGD.step(), the other with the rule applied inside backward.
  const record = () => {
    const tape = new Tape();
    const params = [0.3, -0.7, 0.45, 0.1].map((x) => new Value(x, { tape }));
    const first = tape.size;
    const x = [1.5, -2, 0.5].map((v) => tape.leaf(v, false))[0];
    const y = tape.unary(Op.Tanh, tape.dotRange(0, x, 3, 3));
    const e = tape.binary(Op.Sub, y, tape.constant(0.25));
    const root = tape.binary(Op.Mul, e, e);
    const layout = {
      firstSample: first,
      sampleSize: tape.size - first,
      samples: 1,
      root,
    };
    return { tape, params, layout };
  };
  const a = record(), b = record();
  const stepA = new CompiledStep(a.tape, a.layout);
  const sgdA = new SGD(a.params, { lr: 0.1 });
  const sgdB = new SGD(b.params, { lr: 0.1 });
  const update = sgdB.descentRule;
  assert.ok(update !== undefined);
  const stepB = new CompiledStep(b.tape, b.layout, {
    descent: { start: 0, count: 4, update },
  });
  for (let k = 0; k < 6; k++) {
    const lr = 0.3 / (k + 1);
    sgdA.lr = lr;
    stepA.forward();
    sgdA.zeroGrad();
    stepA.backward();
    sgdA.step();
    stepB.forward();
    stepB.backwardAndDescend(lr);
    for (let i = 0; i < 4; i++) {
      assert.ok(
        Object.is(b.tape.data[i], a.tape.data[i]),
        `step ${k}, parameter ${i}`,
      );
    }
    assert.ok(a.tape.data[0] !== 0.3, "the parameters moved");
  }
  assert.equal(new SGD(b.params, { weightDecay: 0.1 }).descentRule, undefined);
});

// ------------------------------------------------------------ hand-computed

Deno.test("SGD.step() takes plain gradient steps", () => {
  const w = new Value(1, { tape: new Tape() });
  const opt = new SGD([w], { lr: 0.1 });
  // f(w) = w², g = 2w.
  trainStep(opt, () => w.mul(w));
  assertClose(w.data, 1 - 0.1 * 2); // 0.8
  trainStep(opt, () => w.mul(w));
  assertClose(w.data, 0.8 - 0.1 * 1.6); // 0.64
  assert.equal(opt.stepCount, 2);
});

Deno.test("SGD.step() with momentum keeps one buffer per parameter", () => {
  const tape = new Tape();
  const a = new Value(1, { tape }), b = new Value(-2, { tape });
  const opt = new SGD([a, b], { lr: 0.1, momentum: 0.9 });
  // f(a, b) = a² + 3b: g_a = 2a, g_b = 3.
  const loss = () => a.mul(a).add(b.mul(3));
  // Step 1: the buffer starts as the gradient: buf_a = 2, buf_b = 3.
  trainStep(opt, loss);
  assertClose(a.data, 1 - 0.1 * 2); // 0.8
  assertClose(b.data, -2 - 0.1 * 3); // -2.3
  // Step 2: g_a = 1.6, buf_a = 0.9·2 + 1.6 = 3.4; buf_b = 0.9·3 + 3 = 5.7.
  trainStep(opt, loss);
  assertClose(a.data, 0.8 - 0.1 * 3.4); // 0.46
  assertClose(b.data, -2.3 - 0.1 * 5.7); // -2.87
});

Deno.test("SGD.step() with Nesterov momentum looks ahead", () => {
  const w = new Value(1, { tape: new Tape() });
  const opt = new SGD([w], { lr: 0.1, momentum: 0.9, nesterov: true });
  // Step 1: g = 2, buf = 2, update g + 0.9·buf = 3.8.
  trainStep(opt, () => w.mul(w));
  assertClose(w.data, 1 - 0.1 * 3.8); // 0.62
  // Step 2: g = 1.24, buf = 0.9·2 + 1.24 = 3.04, update 1.24 + 0.9·3.04 = 3.976.
  trainStep(opt, () => w.mul(w));
  assertClose(w.data, 0.62 - 0.1 * 3.976); // 0.2224
});

Deno.test("SGD.step() adds weightDecay·p to the gradient", () => {
  const w = new Value(1, { tape: new Tape() });
  const opt = new SGD([w], { lr: 0.1, weightDecay: 0.5 });
  // Step 1: g = 2·1 + 0.5·1 = 2.5.
  trainStep(opt, () => w.mul(w));
  assertClose(w.data, 1 - 0.1 * 2.5); // 0.75
  // Step 2: g = 2·0.75 + 0.5·0.75 = 1.875.
  trainStep(opt, () => w.mul(w));
  assertClose(w.data, 0.75 - 0.1 * 1.875); // 0.5625
});

Deno.test("SGD.step() applies weight decay before momentum", () => {
  const w = new Value(1, { tape: new Tape() });
  const opt = new SGD([w], { lr: 0.1, momentum: 0.9, weightDecay: 0.5 });
  // Step 1: g = 2.5, buf = 2.5.
  trainStep(opt, () => w.mul(w));
  assertClose(w.data, 1 - 0.1 * 2.5); // 0.75
  // Step 2: g = 1.875, buf = 0.9·2.5 + 1.875 = 4.125.
  trainStep(opt, () => w.mul(w));
  assertClose(w.data, 0.75 - 0.1 * 4.125); // 0.3375
});

Deno.test("Adam.step() matches the bias-corrected update for two steps", () => {
  const tape = new Tape();
  const a = new Value(1, { tape }), b = new Value(-2, { tape });
  const opt = new Adam([a, b], { lr: 0.1 });
  const loss = () => a.mul(a).add(b.mul(3)); // g_a = 2a, g_b = 3
  // Step 1 (t = 1): m = 0.1·g, v = 0.001·g², so m̂ = g and v̂ = g².
  trainStep(opt, loss);
  const a1 = 1 - 0.1 * 2 / (Math.sqrt(4) + 1e-8);
  const b1 = -2 - 0.1 * 3 / (Math.sqrt(9) + 1e-8);
  assertClose(a.data, a1);
  assertClose(b.data, b1);
  // Step 2 (t = 2): g_a = 2·a1; for b, m̂ = 3 and v̂ = 9 again.
  trainStep(opt, loss);
  const g = 2 * a1;
  const m = 0.9 * (0.1 * 2) + 0.1 * g;
  const v = 0.999 * (0.001 * 4) + 0.001 * g * g;
  const a2 = a1 -
    0.1 * (m / (1 - 0.9 ** 2)) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
  const mb = 0.9 * 0.3 + 0.1 * 3, vb = 0.999 * 0.009 + 0.001 * 9;
  const b2 = b1 -
    0.1 * (mb / (1 - 0.9 ** 2)) / (Math.sqrt(vb / (1 - 0.999 ** 2)) + 1e-8);
  assertClose(a.data, a2);
  assertClose(b.data, b2);
  // The same numbers from an independent Python run of the formulas.
  assertClose(a.data, 0.8004122286917928, 1e-12);
  assertClose(b.data, -2.1999999993333326, 1e-12);
});

Deno.test("Adam.step() adds weightDecay·p to the gradient (L2)", () => {
  const tape = new Tape();
  const w = new Value(1, { tape }), unused = new Value(2, { tape });
  const opt = new Adam([w, unused], { lr: 0.1, weightDecay: 0.5 });
  const loss = () => w.mul(w);
  // Step 1: g_w = 2 + 0.5·1 = 2.5; g_unused = 0 + 0.5·2 = 1.
  trainStep(opt, loss);
  const w1 = 1 - 0.1 * 2.5 / (Math.sqrt(6.25) + 1e-8);
  const u1 = 2 - 0.1 * 1 / (Math.sqrt(1) + 1e-8);
  assertClose(w.data, w1);
  assertClose(unused.data, u1);
  // Step 2: g_w = 2·w1 + 0.5·w1; g_unused = 0.5·u1.
  trainStep(opt, loss);
  const g = 2.5 * w1, gu = 0.5 * u1;
  const m = 0.9 * 0.25 + 0.1 * g, v = 0.999 * 0.00625 + 0.001 * g * g;
  const mu = 0.9 * 0.1 + 0.1 * gu, vu = 0.999 * 0.001 + 0.001 * gu * gu;
  const step = (mk: number, vk: number) =>
    0.1 * (mk / (1 - 0.9 ** 2)) / (Math.sqrt(vk / (1 - 0.999 ** 2)) + 1e-8);
  assertClose(w.data, w1 - step(m, v));
  assertClose(unused.data, u1 - step(mu, vu));
  assertClose(w.data, 0.8004122284876838, 1e-12);
  assertClose(unused.data, 1.8001664876318761, 1e-12);
});

Deno.test("AdamW.step() decays every parameter, decoupled from the gradient", () => {
  const tape = new Tape();
  const w = new Value(1, { tape }), unused = new Value(2, { tape });
  const opt = new AdamW([w, unused], { lr: 0.1, weightDecay: 0.5 });
  const loss = () => w.mul(w);
  // Step 1: shrink by lr·wd = 0.05 first, then Adam with g = 2 (taken at 1).
  // The unused parameter (g = 0, so m = v = 0) only shrinks.
  trainStep(opt, loss);
  const w1 = (1 - 0.1 * 0.5 * 1) - 0.1 * 2 / (Math.sqrt(4) + 1e-8);
  assertClose(w.data, w1); // ≈ 0.85
  assertClose(unused.data, 2 - 0.1 * 0.5 * 2); // 1.9
  // Step 2: g = 2·w1, taken before the shrink.
  trainStep(opt, loss);
  const g = 2 * w1;
  const m = 0.9 * 0.2 + 0.1 * g, v = 0.999 * 0.004 + 0.001 * g * g;
  const w2 = (w1 - 0.1 * 0.5 * w1) -
    0.1 * (m / (1 - 0.9 ** 2)) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
  assertClose(w.data, w2);
  assertClose(unused.data, 1.9 - 0.1 * 0.5 * 1.9); // 1.805
  assertClose(w.data, 0.7082484433597453, 1e-12);
});

Deno.test("AdamW with weightDecay 0 follows Adam exactly", () => {
  const tape = new Tape();
  const a = new Value(0.3, { tape }), b = new Value(-1.2, { tape });
  const c = new Value(0.3, { tape }), d = new Value(-1.2, { tape });
  const adam = new Adam([a, b], { lr: 0.05 });
  const adamW = new AdamW([c, d], { lr: 0.05, weightDecay: 0 });
  for (let k = 0; k < 20; k++) {
    trainStep(adam, () => a.mul(b).add(a.tanh()).pow(2));
    trainStep(adamW, () => c.mul(d).add(c.tanh()).pow(2));
    assert.equal(c.data, a.data);
    assert.equal(d.data, b.data);
  }
});

// ---------------------------------------------------------------- behaviour

for (
  const [name, make, tolerance] of [
    ["SGD", (ps: Value[]) => new SGD(ps, { lr: 0.1 }), 1e-9],
    [
      "SGD with momentum",
      (ps: Value[]) => new SGD(ps, { lr: 0.1, momentum: 0.5 }),
      1e-9,
    ],
    [
      "SGD with Nesterov momentum",
      (ps: Value[]) => new SGD(ps, { lr: 0.1, momentum: 0.5, nesterov: true }),
      1e-9,
    ],
    ["Adam", (ps: Value[]) => new Adam(ps, { lr: 0.05 }), 1e-3],
    // The decoupled decay (0.01) pulls towards 0 until v forgets the large
    // early gradients, so AdamW lands close to, not on, the minimum.
    ["AdamW", (ps: Value[]) => new AdamW(ps, { lr: 0.05 }), 2e-2],
  ] as const
) {
  Deno.test(`${name} minimises a quadratic`, () => {
    const tape = new Tape();
    const a = new Value(0, { tape }), b = new Value(0, { tape });
    const opt = make([a, b]);
    const mark = tape.mark();
    // f(a, b) = (a - 3)² + 2(b + 1)², minimum 0 at (3, -1).
    const loss = () => a.sub(3).pow(2).add(b.add(1).pow(2).mul(2));
    const before = loss().data;
    tape.rewind(mark);
    for (let k = 0; k < 500; k++) {
      trainStep(opt, loss);
      tape.rewind(mark);
    }
    assert.ok(loss().data < before);
    assertClose(a.data, 3, tolerance);
    assertClose(b.data, -1, tolerance);
  });
}

Deno.test("Optimizer.step() writes to the tape's arrays after the tape grows", () => {
  const tape = new Tape(1);
  const w = new Value(1, { tape });
  const opt = new SGD([w], { lr: 0.1 });
  const capacity = tape.capacity;
  // A long chain forces the tape to replace its arrays.
  let loss = w.mul(w);
  for (let k = 0; k < 100; k++) loss = loss.add(0);
  assert.ok(tape.capacity > capacity);
  loss.backward();
  opt.step();
  assertClose(w.data, 0.8);
  assert.equal(tape.data[w.index], w.data);
});

Deno.test("Optimizer.zeroGrad() zeroes the parameters' gradients and no others", () => {
  const tape = new Tape();
  const w = new Value(3, { tape }), b = new Value(1, { tape });
  const x = new Value(2, { tape });
  const opt = new SGD([w, b]);
  w.mul(x).add(b).backward();
  assert.deepEqual([w.grad, b.grad, x.grad], [2, 1, 3]);
  opt.zeroGrad();
  assert.deepEqual([w.grad, b.grad, x.grad], [0, 0, 3]);
});

Deno.test("Optimizer.lr is settable and used by the next step", () => {
  const w = new Value(1, { tape: new Tape() });
  const opt = new SGD([w], { lr: 0.1 });
  opt.lr = 0.25;
  assert.equal(opt.lr, 0.25);
  w.mul(w).backward(); // g = 2
  opt.step();
  assertClose(w.data, 1 - 0.25 * 2);
  opt.lr = 0;
  opt.step();
  assertClose(w.data, 0.5);
});

Deno.test("Optimizer.stepCount counts steps and is read-only", () => {
  const opt = new Adam([new Value(1, { tape: new Tape() })]);
  assert.equal(opt.stepCount, 0);
  opt.step();
  opt.step();
  opt.step();
  assert.equal(opt.stepCount, 3);
  assert.throws(
    () => ((opt as unknown as { stepCount: number }).stepCount = 0),
    TypeError,
  );
  assert.equal(opt.stepCount, 3);
});

Deno.test("Optimizer.parameters is a frozen copy of the array given", () => {
  const tape = new Tape();
  const a = new Value(1, { tape }), b = new Value(2, { tape });
  const given = [a, b];
  const opt = new SGD(given);
  given.pop();
  assert.deepEqual(opt.parameters, [a, b]);
  assert.ok(Object.isFrozen(opt.parameters));
});

Deno.test("optimizers fill in PyTorch's defaults", () => {
  const tape = new Tape();
  const sgd = new SGD([new Value(1, { tape })]);
  assert.deepEqual(
    [sgd.lr, sgd.momentum, sgd.nesterov, sgd.weightDecay],
    [0.01, 0, false, 0],
  );
  const adam = new Adam([new Value(1, { tape })]);
  assert.deepEqual(
    [adam.lr, adam.betas, adam.eps, adam.weightDecay],
    [0.001, [0.9, 0.999], 1e-8, 0],
  );
  const adamW = new AdamW([new Value(1, { tape })]);
  assert.deepEqual(
    [adamW.lr, adamW.betas, adamW.eps, adamW.weightDecay],
    [0.001, [0.9, 0.999], 1e-8, 0.01],
  );
  // Options left undefined take their defaults too.
  assert.equal(new SGD([new Value(1, { tape })], { lr: undefined }).lr, 0.01);
});

Deno.test("Optimizer works on parameters kept across tape.rewind()", () => {
  const tape = new Tape();
  const w = new Value(1, { tape });
  const mark = tape.mark();
  const opt = new SGD([w], { lr: 0.1 });
  trainStep(opt, () => w.mul(w));
  tape.rewind(mark);
  trainStep(opt, () => w.mul(w));
  tape.rewind(mark);
  assertClose(w.data, 0.64);
});

// ------------------------------------------------------------------- errors

Deno.test("Optimizer constructors reject bad parameter lists", () => {
  const tape = new Tape();
  const w = new Value(1, { tape });
  assertThrowsWith(
    () => new SGD(5 as unknown as Value[]),
    TypeError,
    "SGD parameters must be a non-empty array of Values, got 5",
  );
  assertThrowsWith(
    () => new Adam(undefined as unknown as Value[]),
    TypeError,
    "Adam parameters must be a non-empty array of Values, got undefined",
  );
  assertThrowsWith(
    () => new AdamW([]),
    RangeError,
    "AdamW parameters must be a non-empty array of Values, got an empty array",
  );
  assertThrowsWith(
    () => new SGD([w, 3 as unknown as Value]),
    TypeError,
    "SGD parameters[1] must be a Value, got 3",
  );
  assertThrowsWith(
    () => new SGD([w, w]),
    RangeError,
    "SGD parameters must be distinct; parameters[1] repeats parameters[0]",
  );
  assertThrowsWith(
    () => new Adam([w, w.mul(2)]),
    RangeError,
    'Adam parameters[1] must be a leaf Value, got a "*" node',
  );
});

Deno.test("Optimizer constructors reject parameters from two tapes", () => {
  const a = new Value(1, { tape: new Tape() });
  const b = new Value(2, { tape: new Tape() });
  for (
    const [name, make] of [["SGD", SGD], ["Adam", Adam], [
      "AdamW",
      AdamW,
    ]] as const
  ) {
    assertThrowsWith(
      () => new make([a, b]),
      RangeError,
      `${name} parameters must all be on one tape; parameters[1] is on a different tape than parameters[0]`,
    );
  }
});

Deno.test("Optimizer rejects parameters dropped by tape.rewind()", () => {
  const tape = new Tape();
  const kept = new Value(1, { tape });
  const mark = tape.mark();
  const dropped = new Value(2, { tape });
  const opt = new SGD([kept, dropped]);
  tape.rewind(mark);
  const message =
    "SGD parameters[1] is stale: node 1 was dropped by tape.rewind(); create parameters before the mark you rewind to";
  assertThrowsWith(() => opt.step(), RangeError, message);
  assertThrowsWith(() => opt.zeroGrad(), RangeError, message);
  assert.equal(opt.stepCount, 0);
  // A new node in the dropped slot does not revive the old handle.
  new Value(3, { tape });
  assertThrowsWith(() => opt.step(), RangeError, message);
  assertThrowsWith(
    () => new SGD([kept, dropped]),
    RangeError,
    message,
  );
});

Deno.test("Optimizer constructors reject bad options objects", () => {
  const w = new Value(1, { tape: new Tape() });
  assertThrowsWith(
    () => new SGD([w], 0.1 as unknown as object),
    TypeError,
    "SGD options must be an object, got 0.1",
  );
  assertThrowsWith(
    () => new Adam([w], null as unknown as object),
    TypeError,
    "Adam options must be an object, got null",
  );
  assertThrowsWith(
    () => new SGD([w], { weight_decay: 0.1 } as unknown as object),
    TypeError,
    'Unknown SGD option "weight_decay"; accepted: lr, momentum, nesterov, weightDecay',
  );
  assertThrowsWith(
    () => new AdamW([w], { momentum: 0.9 } as unknown as object),
    TypeError,
    'Unknown AdamW option "momentum"; accepted: lr, betas, eps, weightDecay',
  );
});

Deno.test("Optimizer constructors reject bad numbers", () => {
  const w = new Value(1, { tape: new Tape() });
  const cases: [() => unknown, new () => Error, string][] = [
    [
      () => new SGD([w], { lr: -1 }),
      RangeError,
      "SGD lr must be a finite number >= 0, got -1",
    ],
    [
      () => new SGD([w], { lr: "0.1" as unknown as number }),
      TypeError,
      'SGD lr must be a finite number >= 0, got "0.1"',
    ],
    [
      () => new Adam([w], { lr: NaN }),
      RangeError,
      "Adam lr must be a finite number >= 0, got NaN",
    ],
    [
      () => new SGD([w], { momentum: -0.5 }),
      RangeError,
      "SGD momentum must be a finite number >= 0, got -0.5",
    ],
    [
      () => new SGD([w], { weightDecay: Infinity }),
      RangeError,
      "SGD weightDecay must be a finite number >= 0, got Infinity",
    ],
    [
      () =>
        new SGD([w], { momentum: 0.9, nesterov: "yes" as unknown as boolean }),
      TypeError,
      'SGD nesterov must be true or false, got "yes"',
    ],
    [
      () => new SGD([w], { nesterov: true }),
      RangeError,
      "SGD nesterov needs momentum > 0, got momentum 0",
    ],
    [
      () => new Adam([w], { eps: -1e-8 }),
      RangeError,
      "Adam eps must be a finite number >= 0, got -1e-8",
    ],
    [
      () => new AdamW([w], { weightDecay: -0.01 }),
      RangeError,
      "AdamW weightDecay must be a finite number >= 0, got -0.01",
    ],
    [
      () => new Adam([w], { betas: 0.9 as unknown as [number, number] }),
      TypeError,
      "Adam betas must be an array of two numbers in [0, 1), got 0.9",
    ],
    [
      () =>
        new Adam([w], {
          betas: [0.9, 0.99, 0.999] as unknown as [number, number],
        }),
      TypeError,
      "Adam betas must be an array of two numbers in [0, 1), got an array of length 3",
    ],
    [
      () =>
        new AdamW([w], {
          betas: ["0.9", 0.999] as unknown as [number, number],
        }),
      TypeError,
      'AdamW betas[0] must be a number in [0, 1), got "0.9"',
    ],
    [
      () => new Adam([w], { betas: [0.9, 1] }),
      RangeError,
      "Adam betas[1] must be a number in [0, 1), got 1",
    ],
    [
      () => new Adam([w], { betas: [-0.1, 0.999] }),
      RangeError,
      "Adam betas[0] must be a number in [0, 1), got -0.1",
    ],
  ];
  for (const [fn, type, message] of cases) assertThrowsWith(fn, type, message);
});

Deno.test("Optimizer.lr setter rejects bad values and keeps the old one", () => {
  const opt = new AdamW([new Value(1, { tape: new Tape() })], { lr: 0.1 });
  assertThrowsWith(
    () => (opt.lr = -0.1),
    RangeError,
    "AdamW lr must be a finite number >= 0, got -0.1",
  );
  assertThrowsWith(
    () => (opt.lr = undefined as unknown as number),
    TypeError,
    "AdamW lr must be a finite number >= 0, got undefined",
  );
  assert.equal(opt.lr, 0.1);
});
