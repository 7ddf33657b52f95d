// Tests of the Value façade: micrograd's hand-worked examples, accessors,
// labels, default tape, and every error path with its class and message.

import assert from "node:assert/strict";
import { Tape } from "./tape.ts";
import {
  add,
  defaultTape,
  div,
  dot,
  indexOn,
  mul,
  pow,
  setDefaultTape,
  sub,
  sum,
  Value,
} from "./value.ts";
import { assertThrows } from "./_testing.ts";

function assertNear(actual: number, expected: number, tol: number): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `expected ${expected} ± ${tol}, got ${actual}`,
  );
}

const MIXED =
  "Cannot combine Values from different tapes; create them on one tape";

Deno.test("Value.backward() accumulates through shared nodes", () => {
  const tape = new Tape();
  const a = new Value(3, { tape });
  const b = a.add(a);
  const c = b.add(b);
  c.backward();
  assert.equal(c.data, 12);
  assert.equal(b.grad, 2);
  assert.equal(a.grad, 4);

  // micrograd's lecture bug: b = a + a must give a.grad 2, not 1.
  const t2 = new Tape();
  const x = new Value(3, { tape: t2 });
  const y = x.add(x);
  y.backward();
  assert.equal(x.grad, 2);

  // A node used by several ops: f = (a·b)·(a + b) at a = 2, b = 3.
  const t3 = new Tape();
  const p = new Value(2, { tape: t3 }), q = new Value(3, { tape: t3 });
  const f = p.mul(q).mul(p.add(q));
  f.backward();
  assert.equal(f.data, 30);
  assert.equal(p.grad, 3 * 5 + 6); // b(a + b) + ab
  assert.equal(q.grad, 2 * 5 + 6);
});

Deno.test("Value: d = a*b + c gives d = 4 and gradients -3, 2, 1", () => {
  const tape = new Tape();
  const a = new Value(2, { tape, label: "a" });
  const b = new Value(-3, { tape, label: "b" });
  const c = new Value(10, { tape, label: "c" });
  const e = a.mul(b);
  const d = e.add(c);
  d.backward();
  assert.equal(d.data, 4);
  assert.equal(e.data, -6);
  assert.deepEqual([a.grad, b.grad, c.grad, e.grad, d.grad], [-3, 2, 1, 1, 1]);
});

Deno.test("Value: the tanh neuron from the micrograd lecture", async (t) => {
  const build = (tape: Tape) => {
    const x1 = new Value(2, { tape, label: "x1" });
    const x2 = new Value(0, { tape, label: "x2" });
    const w1 = new Value(-3, { tape, label: "w1" });
    const w2 = new Value(1, { tape, label: "w2" });
    const b = new Value(6.8813735870195432, { tape, label: "b" });
    const n = x1.mul(w1).add(x2.mul(w2)).add(b);
    return { x1, x2, w1, w2, b, n };
  };
  const check = (
    o: Value,
    v: { x1: Value; x2: Value; w1: Value; w2: Value; b: Value },
  ) => {
    o.backward();
    assertNear(o.data, 0.7071, 1e-4);
    assertNear(o.data, Math.SQRT1_2, 1e-12);
    assertNear(v.x1.grad, -1.5, 1e-12);
    assertNear(v.w1.grad, 1.0, 1e-12);
    assertNear(v.x2.grad, 0.5, 1e-12);
    assert.equal(v.w2.grad, 0);
    assertNear(v.b.grad, 0.5, 1e-12);
  };
  await t.step("with tanh()", () => {
    const v = build(new Tape());
    check(v.n.tanh(), v);
  });
  await t.step("with tanh written as (e^2n - 1) / (e^2n + 1)", () => {
    const v = build(new Tape());
    const e = v.n.mul(2).exp();
    check(e.sub(1).div(e.add(1)), v);
  });
  await t.step("with dot()", () => {
    const tape = new Tape();
    const w = [new Value(-3, { tape }), new Value(1, { tape })];
    const x = [new Value(2, { tape }), new Value(0, { tape })];
    const b = new Value(6.8813735870195432, { tape });
    const o = dot(w, x, b).tanh();
    check(o, { x1: x[0], x2: x[1], w1: w[0], w2: w[1], b });
  });
});

Deno.test("Value: micrograd's test_sanity_check", () => {
  const tape = new Tape();
  const x = new Value(-4, { tape });
  const z = mul(2, x).add(2).add(x);
  const q = z.relu().add(z.mul(x));
  const h = z.mul(z).relu();
  const y = h.add(q).add(q.mul(x));
  y.backward();
  assert.equal(y.data, -20);
  assert.equal(x.grad, 46);
});

Deno.test("Value: micrograd's test_more_ops", () => {
  const tape = new Tape();
  const a = new Value(-4, { tape });
  const b = new Value(2, { tape });
  let c = a.add(b);
  let d = a.mul(b).add(b.pow(3));
  c = c.add(c.add(1));
  c = c.add(add(1, c).add(a.neg()));
  d = d.add(d.mul(2).add(b.add(a).relu()));
  d = d.add(mul(3, d).add(b.sub(a).relu()));
  const e = c.sub(d);
  const f = e.pow(2);
  let g = f.div(2.0);
  g = g.add(div(10.0, f));
  g.backward();
  // micrograd's published values (checked there against PyTorch).
  assertNear(g.data, 24.7041, 1e-4);
  assertNear(a.grad, 138.8338, 1e-4);
  assertNear(b.grad, 645.5773, 1e-4);
});

Deno.test("Value.data is settable on leaves only", () => {
  const tape = new Tape();
  const x = new Value(1, { tape });
  const input = new Value(2, { tape, requiresGrad: false });
  const y = x.mul(input);
  x.data = 5;
  input.data = -1;
  assert.equal(x.data, 5);
  assert.equal(input.data, -1);
  assert.equal(y.data, 2); // not recomputed until replay
  tape.replay();
  assert.equal(y.data, -5);
  assertThrows(
    () => (y.data = 3),
    TypeError,
    'Cannot set data of a "*" node; only leaves are settable',
  );
  const constant = y.children[1].add(1).children[1];
  assert.equal(constant.op, "const");
  assertThrows(
    () => (constant.data = 3),
    TypeError,
    'Cannot set data of a "const" node; only leaves are settable',
  );
  assertThrows(
    () => (y.tanh().data = 0),
    TypeError,
    'Cannot set data of a "tanh" node; only leaves are settable',
  );
  assertThrows(
    () => (x.data = NaN),
    TypeError,
    "Value data must be a finite number, got NaN",
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => (x.data = "3"),
    TypeError,
    'Value data must be a finite number, got "3"',
  );
  assert.equal(x.data, 5);
});

Deno.test("Value.grad is settable", () => {
  const tape = new Tape();
  const w = new Value(0.4, { tape });
  const loss = w.mul(2).sub(4).pow(2);
  loss.backward();
  assert.equal(w.grad, 2 * (0.8 - 4) * 2);
  w.grad = 0;
  assert.equal(w.grad, 0);
  loss.grad = 7;
  assert.equal(loss.grad, 7);
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => (w.grad = "1"),
    TypeError,
    'Value grad must be a number, got "1"',
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => (w.grad = null),
    TypeError,
    "Value grad must be a number, got null",
  );
});

Deno.test("Value.op names the op that produced each value", () => {
  const tape = new Tape();
  const x = new Value(0.5, { tape }), y = new Value(2, { tape });
  const cases: [Value, string][] = [
    [x, "leaf"],
    [x.add(1).children[1], "const"],
    [x.add(y), "+"],
    [x.sub(y), "-"],
    [x.mul(y), "*"],
    [x.div(y), "/"],
    [x.pow(y), "^"],
    [x.max(y), "max"],
    [x.min(y), "min"],
    [x.neg(), "neg"],
    [x.exp(), "exp"],
    [x.log(), "log"],
    [x.tanh(), "tanh"],
    [x.relu(), "relu"],
    [x.sigmoid(), "sigmoid"],
    [x.sqrt(), "sqrt"],
    [x.abs(), "abs"],
    [x.softplus(), "softplus"],
    [sum([x, y]), "sum"],
    [dot([x], [y]), "dot"],
    [dot([x, y], [y, x]), "dot"],
  ];
  for (const [value, op] of cases) assert.equal(value.op, op);
});

Deno.test("Value.children lists the input Values in order", () => {
  const tape = new Tape();
  const a = new Value(1, { tape }), b = new Value(2, { tape });
  assert.deepEqual(a.children, []);
  const c = a.mul(b);
  assert.deepEqual(c.children.map((v) => v.data), [1, 2]);
  assert.ok(c.children.every((v) => v.tape === tape));
  assert.deepEqual(c.children.map((v) => v.index), [a.index, b.index]);
  const s = sum([c, a, 5]);
  assert.deepEqual(s.children.map((v) => v.op), ["*", "leaf", "const"]);
  const d = dot([a, b], [c, s], a);
  assert.deepEqual(
    d.children.map((v) => v.index),
    [a, a, b, c, s].map((v) => v.index),
  );
  // A child handle works like the original.
  const [first] = c.children;
  first.data = 10;
  assert.equal(a.data, 10);
});

Deno.test("Value labels: set, read, cleared, checked", () => {
  const tape = new Tape();
  const a = new Value(1, { tape, label: "a" });
  assert.equal(a.label, "a");
  const b = a.tanh();
  assert.equal(b.label, undefined);
  b.label = "b";
  assert.equal(b.label, "b");
  assert.equal(tape.labels.get(b.index), "b");
  b.label = "";
  assert.equal(b.label, undefined);
  a.label = undefined;
  assert.equal(a.label, undefined);
  assert.equal(tape.labels.size, 0);
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => (a.label = 5),
    TypeError,
    "Value label must be a string, got 5",
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => new Value(1, { tape, label: {} }),
    TypeError,
    "Value label must be a string, got an object (Object)",
  );
});

Deno.test("Value.toString() reads like micrograd", () => {
  const tape = new Tape();
  const a = new Value(2, { tape }), b = new Value(-3, { tape });
  const d = a.mul(b).add(10);
  assert.equal(d.toString(), "Value(data=4, grad=0)");
  d.backward();
  assert.equal(String(d), "Value(data=4, grad=1)");
  assert.equal(`${a}`, "Value(data=2, grad=-3)");
  assert.equal(a.div(4).toString(), "Value(data=0.5, grad=0)");
});

Deno.test("Value.requiresGrad follows the leaves a node depends on", () => {
  const tape = new Tape();
  const w = new Value(1, { tape });
  const x = new Value(2, { tape, requiresGrad: false });
  assert.equal(w.requiresGrad, true);
  assert.equal(x.requiresGrad, false);
  assert.equal(x.mul(3).requiresGrad, false);
  assert.equal(x.mul(w).requiresGrad, true);
  assert.equal(sum([x, 1]).requiresGrad, false);
  assert.equal(dot([x], [w]).requiresGrad, true);
  assert.equal(x.add(1).children[1].requiresGrad, false);
});

Deno.test("Value.at() makes a handle to an existing node", () => {
  const tape = new Tape();
  const i = tape.leaf(5);
  const v = Value.at(tape, i);
  assert.ok(v instanceof Value);
  assert.equal(v.tape, tape);
  assert.equal(v.index, i);
  assert.equal(v.generation, tape.generation);
  assert.equal(v.data, 5);
  const y = v.mul(v);
  y.backward();
  assert.equal(v.grad, 10);
  for (const index of [-1, 1 + tape.size, tape.size, 0.5, NaN]) {
    assertThrows(
      () => Value.at(tape, index),
      RangeError,
      `Node index must be an integer below the tape size ${tape.size}, got ${index}`,
    );
  }
});

Deno.test("defaultTape() and setDefaultTape() choose where new Values go", () => {
  const mine = new Tape();
  const old = setDefaultTape(mine);
  try {
    assert.equal(defaultTape(), mine);
    const v = new Value(1);
    assert.equal(v.tape, mine);
    // Free functions on numbers alone record on the default tape too.
    const s = add(1, 2);
    assert.equal(s.tape, mine);
    assert.equal(s.data, 3);
    assert.equal(sum([1, 2, 3]).tape, mine);
    assert.equal(dot([1], [2]).tape, mine);
    // An explicit tape wins.
    const other = new Tape();
    assert.equal(new Value(1, { tape: other }).tape, other);
    assert.equal(add(2, new Value(1, { tape: other })).tape, other);
    assertThrows(
      // @ts-expect-error: checking the run-time guard
      () => setDefaultTape({}),
      TypeError,
      "Default tape must be a Tape, got an object (Object)",
    );
    assertThrows(
      // @ts-expect-error: checking the run-time guard
      () => setDefaultTape(undefined),
      TypeError,
      "Default tape must be a Tape, got undefined",
    );
    assert.equal(defaultTape(), mine);
  } finally {
    assert.equal(setDefaultTape(old), mine);
  }
  assert.equal(defaultTape(), old);
});

Deno.test("Mixing Values from two tapes throws an Error", () => {
  const t1 = new Tape(), t2 = new Tape();
  const a = new Value(1, { tape: t1 }), b = new Value(2, { tape: t2 });
  assertThrows(() => a.add(b), Error, MIXED);
  assertThrows(() => b.mul(a), Error, MIXED);
  assertThrows(() => a.pow(b), Error, MIXED);
  assertThrows(() => add(a, b), Error, MIXED);
  assertThrows(() => sub(3, a).add(b), Error, MIXED);
  assertThrows(() => sum([a, 1, b]), Error, MIXED);
  assertThrows(() => dot([a], [b]), Error, MIXED);
  assertThrows(() => dot([a], [a], b), Error, MIXED);
  assertThrows(() => indexOn(t2, a), Error, MIXED);
});

Deno.test("new Value() rejects non-numbers and non-finite numbers, quoting them", () => {
  const cases: [unknown, string][] = [
    ["3", '"3"'],
    [NaN, "NaN"],
    [Infinity, "Infinity"],
    [-Infinity, "-Infinity"],
    [undefined, "undefined"],
    [null, "null"],
    [true, "true"],
    [3n, "3n"],
    [[1], "an array of length 1"],
    [{}, "an object (Object)"],
    [new Tape(), "an object (Tape)"],
    [() => 1, "function"],
  ];
  for (const [data, shown] of cases) {
    assertThrows(
      () => new Value(data as number),
      TypeError,
      `Value data must be a finite number, got ${shown}`,
    );
  }
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => new Value(1, { tape: "tape" }),
    TypeError,
    'Value tape must be a Tape, got "tape"',
  );
});

Deno.test("Ops reject non-number and non-finite operands", () => {
  const tape = new Tape();
  const a = new Value(1, { tape });
  const size = tape.size;
  const bad: [() => unknown, string][] = [
    [() => a.add(NaN), "NaN"],
    [() => a.mul(Infinity), "Infinity"],
    [() => a.div(-Infinity), "-Infinity"],
    // @ts-expect-error: checking the run-time guard
    [() => a.pow("2"), '"2"'],
    // @ts-expect-error: checking the run-time guard
    [() => a.max(null), "null"],
    // @ts-expect-error: checking the run-time guard
    [() => add("3", a), '"3"'],
    [() => mul(a, NaN), "NaN"],
    [() => pow(NaN, a), "NaN"],
    [() => sum([a, NaN]), "NaN"],
    [() => dot([a], [Infinity]), "Infinity"],
    [() => dot([a], [1], NaN), "NaN"],
  ];
  for (const [fn, shown] of bad) {
    assertThrows(
      fn,
      TypeError,
      `Operand must be a finite number, got ${shown}`,
    );
  }
  // No op node was recorded (a constant from a valid entry may have been).
  for (let i = size; i < tape.size; i++) {
    assert.equal(Value.at(tape, i).op, "const");
  }
});

Deno.test("sum() and dot() check their arguments", () => {
  const tape = new Tape();
  const a = new Value(1, { tape }), b = new Value(2, { tape });
  assertThrows(
    () => sum([]),
    RangeError,
    "sum() needs a non-empty array of Values or numbers, got an array of length 0",
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => sum(a),
    TypeError,
    "sum() needs an array of Values or numbers, got an object (Value)",
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => sum(3),
    TypeError,
    "sum() needs an array of Values or numbers, got 3",
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => dot(a, [b]),
    TypeError,
    "dot() needs two arrays of Values or numbers",
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => dot([a], "b"),
    TypeError,
    "dot() needs two arrays of Values or numbers",
  );
  assertThrows(
    () => dot([a, b], [a]),
    RangeError,
    "dot() needs two non-empty arrays of the same length, got 2 and 1",
  );
  assertThrows(
    () => dot([], []),
    RangeError,
    "dot() needs two non-empty arrays of the same length, got 0 and 0",
  );
});

Deno.test("indexOn() maps Values to their node and numbers to new constants", () => {
  const tape = new Tape();
  const a = new Value(4, { tape });
  assert.equal(indexOn(tape, a), a.index);
  const k = indexOn(tape, 2.5);
  assert.equal(k, a.index + 1);
  assert.equal(tape.data[k], 2.5);
  assert.equal(Value.at(tape, k).op, "const");
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => indexOn(tape, "1"),
    TypeError,
    'Operand must be a finite number, got "1"',
  );
  const mark = tape.mark();
  const gone = new Value(1, { tape });
  tape.rewind(mark);
  assertThrows(
    () => indexOn(tape, gone),
    Error,
    /^Stale Value: node 2 was dropped/,
  );
});

Deno.test("Value gradients agree with a plain-number finite difference", () => {
  // f(a, b) = sigmoid(a·b) + softplus(a - b)·sqrt(b² + 1), by hand.
  const f = (a: number, b: number) =>
    1 / (1 + Math.exp(-a * b)) +
    Math.log(1 + Math.exp(a - b)) * Math.sqrt(b * b + 1);
  const h = 1e-6;
  for (const [x, y] of [[0.3, -1.1], [1.7, 0.4], [-2, -0.5]]) {
    const tape = new Tape();
    const a = new Value(x, { tape }), b = new Value(y, { tape });
    const out = a.mul(b).sigmoid().add(
      a.sub(b).softplus().mul(b.mul(b).add(1).sqrt()),
    );
    out.backward();
    assertNear(out.data, f(x, y), 1e-14);
    assertNear(a.grad, (f(x + h, y) - f(x - h, y)) / (2 * h), 1e-7);
    assertNear(b.grad, (f(x, y + h) - f(x, y - h)) / (2 * h), 1e-7);
  }
});

Deno.test("Value.at() rejects a non-Tape with a TypeError", () => {
  for (
    const [tape, what] of [
      [{}, "an object that is not a Tape"],
      [null, "null"],
      [3, "number"],
    ] as const
  ) {
    assert.throws(
      () => Value.at(tape as unknown as Tape, 1),
      (error: unknown) =>
        error instanceof TypeError &&
        error.message === `Value.at() needs a Tape, got ${what}`,
    );
  }
  const tape = new Tape();
  tape.leaf(1);
  assert.throws(() => Value.at(tape, 1), RangeError);
});

Deno.test("sum() of consecutive Values equals sum() of the same Values gathered", () => {
  const tape = new Tape();
  const ps = [0.5, -1.25, 2, 0.125].map((x) => new Value(x, { tape }));
  const run = (squares: Value[]) => {
    for (const p of ps) p.grad = 0;
    const s = sum(squares);
    s.backward({ retainGraph: true });
    return [s.data, ...ps.map((p) => p.grad)];
  };
  const consecutive = ps.map((p) => p.mul(p));
  assert.equal(consecutive[3].index, consecutive[0].index + 3);
  const s = sum(consecutive);
  assert.deepEqual(
    s.children.map((c) => c.index),
    consecutive.map((c) => c.index),
  );
  const expected = run(consecutive);
  // The same squares, not consecutive: a constant between each.
  const gathered = ps.map((p) => {
    new Value(0, { tape });
    return p.mul(p);
  });
  assert.notEqual(gathered[1].index, gathered[0].index + 1);
  assert.deepEqual(run(gathered), expected);
  assert.deepEqual(expected, [
    0.25 + 1.5625 + 4 + 0.015625,
    1,
    -2.5,
    4,
    0.25,
  ]);
  // A stale Value among consecutive ones is still reported.
  const mark = tape.mark();
  const a = new Value(1, { tape }), b = new Value(2, { tape });
  tape.rewind(mark);
  new Value(1, { tape });
  new Value(2, { tape });
  assertThrows(() => sum([a, b]), Error, /^Stale Value: node \d+ was dropped/);
});
