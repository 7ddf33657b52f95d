// Tests of every op: forward values and gradients against closed forms, an
// independent finite-difference reference and the engine's gradCheck, edges included.

import assert from "node:assert/strict";
import {
  Arity,
  binaryDerivativeA,
  binaryDerivativeB,
  binaryForward,
  dotArgs,
  dotRangeArgs,
  isBinary,
  isUnary,
  naryBackward,
  naryForward,
  naryInputs,
  naryPoolSize,
  Need,
  needKind,
  Op,
  OP_COUNT,
  OP_TABLE,
  opArity,
  opName,
  unaryDerivative,
  unaryForward,
} from "./ops.ts";
import { Tape } from "./tape.ts";
import { add, div, dot, mul, pow, sub, sum, Value } from "./value.ts";
import { gradCheck } from "./grad_check.ts";

/** |actual - expected| ≤ tol·max(1, |expected|). */
function assertClose(
  actual: number,
  expected: number,
  tol = 1e-12,
  what = "value",
): void {
  const scale = Math.max(1, Math.abs(expected));
  assert.ok(
    Math.abs(actual - expected) <= tol * scale,
    `${what}: expected ${expected}, got ${actual} (tolerance ${tol})`,
  );
}

/** Central finite difference of a plain-number function, independent of the engine. */
function numericDerivative(f: (x: number) => number, x: number): number {
  const h = 1e-6 * Math.max(1, Math.abs(x));
  return (f(x + h) - f(x - h)) / (2 * h);
}

function leaf(tape: Tape, x: number): Value {
  return new Value(x, { tape });
}

interface UnaryCase {
  name: string;
  op: number;
  apply: (v: Value) => Value;
  f: (x: number) => number;
  df: (x: number) => number;
  points: number[];
}

// Reference formulas written out independently of ops.ts.
const UNARY: UnaryCase[] = [
  {
    name: "neg",
    op: Op.Neg,
    apply: (v) => v.neg(),
    f: (x) => -x,
    df: () => -1,
    points: [-2.5, 0, 1.5],
  },
  {
    name: "exp",
    op: Op.Exp,
    apply: (v) => v.exp(),
    f: Math.exp,
    df: Math.exp,
    points: [-3, 0, 0.7, 2],
  },
  {
    name: "log",
    op: Op.Log,
    apply: (v) => v.log(),
    f: Math.log,
    df: (x) => 1 / x,
    points: [0.1, 1, 2.5, 10],
  },
  {
    name: "tanh",
    op: Op.Tanh,
    apply: (v) => v.tanh(),
    f: (x) => (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1),
    df: (x) => 1 / Math.cosh(x) ** 2,
    points: [-2, -0.3, 0, 0.8],
  },
  {
    name: "relu",
    op: Op.Relu,
    apply: (v) => v.relu(),
    f: (x) => (x > 0 ? x : 0),
    df: (x) => (x > 0 ? 1 : 0),
    points: [-1.5, 0.5, 3],
  },
  {
    name: "sigmoid",
    op: Op.Sigmoid,
    apply: (v) => v.sigmoid(),
    f: (x) => 1 / (1 + Math.exp(-x)),
    df: (x) => Math.exp(-x) / (1 + Math.exp(-x)) ** 2,
    points: [-4, 0, 0.5, 3],
  },
  {
    name: "sqrt",
    op: Op.Sqrt,
    apply: (v) => v.sqrt(),
    f: Math.sqrt,
    df: (x) => 1 / (2 * Math.sqrt(x)),
    points: [0.04, 1, 2, 9],
  },
  {
    name: "abs",
    op: Op.Abs,
    apply: (v) => v.abs(),
    f: Math.abs,
    df: Math.sign,
    points: [-2, -0.5, 0.5, 3],
  },
  {
    name: "softplus",
    op: Op.Softplus,
    apply: (v) => v.softplus(),
    f: (x) => Math.log(1 + Math.exp(x)),
    df: (x) => 1 / (1 + Math.exp(-x)),
    points: [-5, -0.5, 0, 2, 7],
  },
];

interface BinaryCase {
  name: string;
  op: number;
  apply: (a: Value, b: Value | number) => Value;
  free?: (a: Value | number, b: Value | number) => Value;
  f: (a: number, b: number) => number;
  da: (a: number, b: number) => number;
  db: (a: number, b: number) => number;
  points: [number, number][];
}

const BINARY: BinaryCase[] = [
  {
    name: "+",
    op: Op.Add,
    apply: (a, b) => a.add(b),
    free: add,
    f: (a, b) => a + b,
    da: () => 1,
    db: () => 1,
    points: [[2, -3], [0.5, 0.25]],
  },
  {
    name: "-",
    op: Op.Sub,
    apply: (a, b) => a.sub(b),
    free: sub,
    f: (a, b) => a - b,
    da: () => 1,
    db: () => -1,
    points: [[2, -3], [0.5, 0.25]],
  },
  {
    name: "*",
    op: Op.Mul,
    apply: (a, b) => a.mul(b),
    free: mul,
    f: (a, b) => a * b,
    da: (_, b) => b,
    db: (a) => a,
    points: [[2, -3], [-1.5, 4]],
  },
  {
    name: "/",
    op: Op.Div,
    apply: (a, b) => a.div(b),
    free: div,
    f: (a, b) => a / b,
    da: (_, b) => 1 / b,
    db: (a, b) => -a / (b * b),
    points: [[3, 4], [-1, 0.5], [2, -3]],
  },
  {
    name: "^",
    op: Op.Pow,
    apply: (a, b) => a.pow(b),
    free: pow,
    f: Math.pow,
    da: (a, b) => b * Math.pow(a, b - 1),
    db: (a, b) => Math.pow(a, b) * Math.log(a),
    points: [[2, 3], [1.5, -0.5], [0.7, 2.2]],
  },
  {
    name: "max",
    op: Op.Max,
    apply: (a, b) => a.max(b),
    f: Math.max,
    da: (a, b) => (a > b ? 1 : 0),
    db: (a, b) => (a > b ? 0 : 1),
    points: [[1, 2], [3, -1]],
  },
  {
    name: "min",
    op: Op.Min,
    apply: (a, b) => a.min(b),
    f: Math.min,
    da: (a, b) => (a < b ? 1 : 0),
    db: (a, b) => (a < b ? 0 : 1),
    points: [[1, 2], [3, -1]],
  },
];

Deno.test("opName() names every op code and flags unknown ones", () => {
  const expected: Record<string, string> = {
    Leaf: "leaf",
    Const: "const",
    Neg: "neg",
    Exp: "exp",
    Log: "log",
    Tanh: "tanh",
    Relu: "relu",
    Sigmoid: "sigmoid",
    Sqrt: "sqrt",
    Abs: "abs",
    Softplus: "softplus",
    Add: "+",
    Sub: "-",
    Mul: "*",
    Div: "/",
    Pow: "^",
    Max: "max",
    Min: "min",
    Sum: "sum",
    Dot: "dot",
    DotRange: "dot",
    DotRangeRelu: "relu(dot)",
  };
  assert.deepEqual(Object.keys(Op), Object.keys(expected));
  for (const [key, name] of Object.entries(expected)) {
    assert.equal(opName(Op[key as keyof typeof Op]), name, key);
  }
  assert.equal(opName(OP_COUNT), `op#${OP_COUNT}`);
  assert.equal(opName(255), "op#255");
});

Deno.test("Op codes are 0 … OP_COUNT - 1, each used once", () => {
  const codes = Object.values(Op).slice().sort((a, b) => a - b);
  assert.equal(OP_COUNT, 22);
  assert.deepEqual(codes, Array.from({ length: OP_COUNT }, (_, k) => k));
});

Deno.test("isUnary() and isBinary() split the op codes by arity", () => {
  const unary = [], binary = [], other = [];
  for (let op = 0; op < OP_COUNT; op++) {
    assert.ok(!(isUnary(op) && isBinary(op)), `op ${op} has one arity`);
    if (isUnary(op)) unary.push(opName(op));
    else if (isBinary(op)) binary.push(opName(op));
    else other.push(opName(op));
  }
  assert.deepEqual(unary, [
    "neg",
    "exp",
    "log",
    "tanh",
    "relu",
    "sigmoid",
    "sqrt",
    "abs",
    "softplus",
  ]);
  assert.deepEqual(binary, ["+", "-", "*", "/", "^", "max", "min"]);
  assert.deepEqual(other, [
    "leaf",
    "const",
    "sum",
    "dot",
    "dot",
    "relu(dot)",
  ]);
});

Deno.test("unaryForward() and unaryDerivative() match the reference formulas", () => {
  for (const c of UNARY) {
    for (const x of c.points) {
      const y = unaryForward(c.op, x);
      assertClose(y, c.f(x), 1e-14, `${c.name}(${x})`);
      const dy = unaryDerivative(c.op, x, y);
      assertClose(dy, c.df(x), 1e-13, `${c.name}'(${x})`);
      assertClose(dy, numericDerivative(c.f, x), 1e-7, `${c.name}' FD`);
    }
  }
});

Deno.test("binaryForward() and its derivatives match the reference formulas", () => {
  for (const c of BINARY) {
    for (const [a, b] of c.points) {
      const y = binaryForward(c.op, a, b);
      assertClose(y, c.f(a, b), 1e-14, `${a} ${c.name} ${b}`);
      const da = binaryDerivativeA(c.op, a, b, y);
      const db = binaryDerivativeB(c.op, a, b, y);
      assertClose(da, c.da(a, b), 1e-13, `∂(${a} ${c.name} ${b})/∂a`);
      assertClose(db, c.db(a, b), 1e-13, `∂(${a} ${c.name} ${b})/∂b`);
      const fa = numericDerivative((t) => c.f(t, b), a);
      const fb = numericDerivative((t) => c.f(a, t), b);
      assertClose(da, fa, 1e-7, `${c.name} ∂a FD`);
      assertClose(db, fb, 1e-7, `${c.name} ∂b FD`);
    }
  }
});

Deno.test("op functions return NaN for op codes of the wrong arity", () => {
  assert.ok(Number.isNaN(unaryForward(Op.Add, 1)));
  assert.ok(Number.isNaN(unaryDerivative(Op.Sum, 1, 1)));
  assert.ok(Number.isNaN(binaryForward(Op.Tanh, 1, 2)));
  assert.ok(Number.isNaN(binaryDerivativeA(Op.Leaf, 1, 2, 3)));
  assert.ok(Number.isNaN(binaryDerivativeB(Op.Dot, 1, 2, 3)));
});

Deno.test("Value unary ops: values and gradients by closed form and finite differences", async (t) => {
  for (const c of UNARY) {
    await t.step(c.name, () => {
      for (const x of c.points) {
        const tape = new Tape();
        const v = leaf(tape, x);
        const y = c.apply(v);
        assert.equal(y.op, c.name);
        assert.deepEqual(y.children.map((k) => k.index), [v.index]);
        y.backward();
        assertClose(y.data, c.f(x), 1e-14, `${c.name}(${x})`);
        assertClose(v.grad, c.df(x), 1e-13, `d${c.name}(${x})`);
        assertClose(v.grad, numericDerivative(c.f, x), 1e-7, "FD");
        const check = gradCheck(([u]) => c.apply(u), [x]);
        assert.ok(
          check.ok,
          `${c.name} gradCheck at ${x}: ${check.maxRelativeError}`,
        );
      }
    });
  }
});

Deno.test("Value unary ops: hand-worked values", () => {
  const cases: [(v: Value) => Value, number, number, number][] = [
    // op, x, f(x), f'(x)
    [(v) => v.neg(), 3, -3, -1],
    [(v) => v.exp(), 0, 1, 1],
    [(v) => v.log(), 2, Math.LN2, 0.5],
    [(v) => v.log(), 1, 0, 1],
    [(v) => v.tanh(), 0, 0, 1],
    [(v) => v.relu(), 2, 2, 1],
    [(v) => v.relu(), -2, 0, 0],
    [(v) => v.sigmoid(), 0, 0.5, 0.25],
    [(v) => v.sqrt(), 4, 2, 0.25],
    [(v) => v.abs(), -3, 3, -1],
    [(v) => v.softplus(), 0, Math.LN2, 0.5],
  ];
  for (const [apply, x, value, slope] of cases) {
    const tape = new Tape();
    const v = leaf(tape, x);
    const y = apply(v);
    y.backward();
    assert.equal(y.data, value, `${y.op}(${x})`);
    assert.equal(v.grad, slope, `${y.op}'(${x})`);
  }
});

Deno.test("Value binary ops: values and gradients for both operands", async (t) => {
  for (const c of BINARY) {
    await t.step(c.name, () => {
      for (const [a, b] of c.points) {
        const tape = new Tape();
        const va = leaf(tape, a), vb = leaf(tape, b);
        const y = c.apply(va, vb);
        assert.equal(y.op, c.name);
        assert.deepEqual(y.children.map((k) => k.index), [va.index, vb.index]);
        y.backward();
        assertClose(y.data, c.f(a, b), 1e-14, `${a} ${c.name} ${b}`);
        assertClose(va.grad, c.da(a, b), 1e-13, "∂a");
        assertClose(vb.grad, c.db(a, b), 1e-13, "∂b");
        assertClose(va.grad, numericDerivative((s) => c.f(s, b), a), 1e-7);
        assertClose(vb.grad, numericDerivative((s) => c.f(a, s), b), 1e-7);
        const check = gradCheck(([u, w]) => c.apply(u, w), [a, b]);
        assert.ok(check.ok, `${c.name} gradCheck: ${check.maxRelativeError}`);
      }
    });
  }
});

Deno.test("Value binary ops with a number operand record a constant", async (t) => {
  for (const c of BINARY) {
    await t.step(c.name, () => {
      const [a, b] = c.points[0];
      const tape = new Tape();
      const va = leaf(tape, a);
      const y = c.apply(va, b);
      const [, constant] = y.children;
      assert.equal(constant.op, "const");
      assert.equal(constant.data, b);
      assert.equal(constant.requiresGrad, false);
      y.backward();
      assertClose(y.data, c.f(a, b), 1e-14);
      assertClose(va.grad, c.da(a, b), 1e-13);
      assert.equal(constant.grad, 0);
    });
  }
});

Deno.test("free functions add/sub/mul/div/pow accept a number on either side", async (t) => {
  for (const c of BINARY) {
    if (c.free === undefined) continue;
    const free = c.free;
    await t.step(c.name, () => {
      const [a, b] = c.points[0];
      const tape = new Tape();
      const vb = leaf(tape, b);
      const left = free(a, vb); // number first: records on vb's tape
      assert.equal(left.tape, tape);
      assert.equal(left.op, c.name);
      left.backward();
      assertClose(left.data, c.f(a, b), 1e-14);
      assertClose(vb.grad, c.db(a, b), 1e-13);

      const va = leaf(tape, a), vb2 = leaf(tape, b);
      const both = free(va, vb2);
      both.backward();
      assertClose(va.grad, c.da(a, b), 1e-13);
      assertClose(vb2.grad, c.db(a, b), 1e-13);
      const check = gradCheck(([u, w]) => free(u, w), [a, b]);
      assert.ok(check.ok);
    });
  }
});

Deno.test("sum() adds a list as one node and sends the gradient to each entry", () => {
  const tape = new Tape();
  const x = leaf(tape, 1.5), y = leaf(tape, -4);
  const s = sum([x, y, 3, x]);
  assert.equal(s.op, "sum");
  assert.equal(s.children.length, 4);
  s.backward();
  assert.equal(s.data, 2);
  assert.equal(x.grad, 2);
  assert.equal(y.grad, 1);
  const check = gradCheck(
    ([a, b, c]) => sum([a.mul(b), b.tanh(), c, a]),
    [0.3, -1.2, 2],
  );
  assert.ok(check.ok);
  assertClose(check.analytic[0], -1.2 + 1, 1e-15);
  assertClose(check.analytic[1], 0.3 + 1 - Math.tanh(-1.2) ** 2, 1e-15);
  assert.equal(check.analytic[2], 1);
});

Deno.test("dot() over contiguous Values records one DotRange node", () => {
  const tape = new Tape();
  const w = [leaf(tape, 2), leaf(tape, -1), leaf(tape, 0.5)];
  const x = [leaf(tape, 3), leaf(tape, 4), leaf(tape, -2)];
  const b = leaf(tape, 0.25);
  const y = dot(w, x, b);
  assert.equal(tape.op[y.index], Op.DotRange);
  assert.equal(y.op, "dot");
  assert.deepEqual(
    y.children.map((v) => v.index),
    [b, ...w, ...x].map((v) => v.index),
  );
  y.backward();
  assert.equal(y.data, 0.25 + 6 - 4 - 1);
  assert.deepEqual(w.map((v) => v.grad), [3, 4, -2]);
  assert.deepEqual(x.map((v) => v.grad), [2, -1, 0.5]);
  assert.equal(b.grad, 1);
  const check = gradCheck(
    (v) => dot(v.slice(0, 3), v.slice(3, 6), v[6]).tanh(),
    [0.2, -0.4, 0.1, 0.5, 1.5, -1, 0.3],
  );
  assert.ok(check.ok);
});

Deno.test("dot() over scattered Values records one gathered Dot node", () => {
  const tape = new Tape();
  const w0 = leaf(tape, 2), x0 = leaf(tape, 3);
  const w1 = leaf(tape, -1), x1 = leaf(tape, 4);
  const y = dot([w0, w1], [x0, x1]);
  assert.equal(tape.op[y.index], Op.Dot);
  assert.equal(y.op, "dot");
  assert.deepEqual(y.children.map((v) => v.index), [0, 2, 1, 3]);
  y.backward();
  assert.equal(y.data, 2);
  assert.deepEqual([w0.grad, w1.grad, x0.grad, x1.grad], [3, 4, 2, -1]);
  const check = gradCheck(
    (v) => dot([v[0], v[2], v[4]], [v[1], v[3], v[5]], v[6]).sigmoid(),
    [0.2, -0.4, 0.1, 0.5, 1.5, -1, 0.3],
  );
  assert.ok(check.ok);
});

Deno.test("dot() with numbers, a number bias and repeated Values", () => {
  const tape = new Tape();
  const w = [leaf(tape, 2), leaf(tape, -1)];
  const y = dot(w, [3, 4], 0.5);
  y.backward();
  assert.equal(y.data, 2.5);
  assert.deepEqual(w.map((v) => v.grad), [3, 4]);

  // x·x over the same range: each entry gets 2x.
  const t2 = new Tape();
  const x = [leaf(t2, 3), leaf(t2, -2)];
  const sq = dot(x, x);
  assert.equal(t2.op[sq.index], Op.DotRange);
  sq.backward();
  assert.equal(sq.data, 13);
  assert.deepEqual(x.map((v) => v.grad), [6, -4]);

  // The same Value in several gathered slots accumulates.
  const t3 = new Tape();
  const a = leaf(t3, 1.5), c = leaf(t3, -2);
  const g = dot([a, c, a], [c, a, a]);
  assert.equal(t3.op[g.index], Op.Dot);
  g.backward();
  assert.equal(g.data, 1.5 * -2 * 2 + 1.5 * 1.5);
  assert.equal(a.grad, -2 + -2 + 2 * 1.5);
  assert.equal(c.grad, 1.5 + 1.5);
});

Deno.test("dot() gives gradients only to entries that need them", () => {
  // DotRange with weights needing gradients and inputs that do not, then
  // inputs that partly do (the "some" mode), with a constant bias.
  const tape = new Tape();
  const w = [leaf(tape, 2), leaf(tape, -1), leaf(tape, 0.5)];
  const x = [3, 4, -2].map((v) => new Value(v, { tape, requiresGrad: false }));
  const y = dot(w, x, 1);
  assert.equal(tape.op[y.index], Op.DotRange);
  y.backward();
  assert.deepEqual(w.map((v) => v.grad), [3, 4, -2]);
  assert.deepEqual(x.map((v) => v.grad), [0, 0, 0]);
  assert.equal(y.children[0].op, "const");
  assert.equal(y.children[0].grad, 0);

  const t2 = new Tape();
  const mixed = [
    new Value(2, { tape: t2 }),
    new Value(-1, { tape: t2, requiresGrad: false }),
    new Value(0.5, { tape: t2 }),
  ];
  const inputs = [leaf(t2, 3), new Value(4, { tape: t2, requiresGrad: false })];
  const bias = new Value(7, { tape: t2, requiresGrad: false });
  const z = dot(mixed.slice(0, 2), inputs, bias);
  assert.equal(t2.op[z.index], Op.DotRange);
  z.backward();
  assert.equal(z.data, 7 + 6 - 4);
  assert.deepEqual(mixed.map((v) => v.grad), [3, 0, 0]);
  assert.deepEqual(inputs.map((v) => v.grad), [2, 0]);
  assert.equal(bias.grad, 0);

  // Gathered Dot with a no-grad bias and a no-grad input.
  const t3 = new Tape();
  const a = leaf(t3, 2), k = new Value(5, { tape: t3, requiresGrad: false });
  const bb = new Value(1, { tape: t3, requiresGrad: false }), c = leaf(t3, 3);
  const g = dot([a, c], [k, a], bb);
  assert.equal(t3.op[g.index], Op.Dot);
  g.backward();
  assert.equal(g.data, 1 + 10 + 6);
  assert.equal(a.grad, 5 + 3);
  assert.equal(c.grad, 2);
  assert.equal(k.grad, 0);
  assert.equal(bb.grad, 0);
});

Deno.test("Dot, DotRange and a chain of mul/add give bit-identical values and gradients", () => {
  const ws = [0.1, -0.7, 0.33, 1.9], xs = [0.2, 0.5, -1.3, 0.77], b = -0.3;
  const build = (form: "range" | "gathered" | "chain") => {
    const tape = new Tape();
    let w: Value[], x: Value[];
    if (form === "gathered") {
      w = [], x = [];
      for (let k = 0; k < ws.length; k++) {
        w.push(leaf(tape, ws[k]));
        x.push(leaf(tape, xs[k]));
      }
    } else {
      w = ws.map((v) => leaf(tape, v));
      x = xs.map((v) => leaf(tape, v));
    }
    const bias = leaf(tape, b);
    let y: Value;
    if (form === "chain") {
      y = bias;
      for (let k = 0; k < ws.length; k++) y = y.add(w[k].mul(x[k]));
    } else {
      y = dot(w, x, bias);
      assert.equal(
        tape.op[y.index],
        form === "range" ? Op.DotRange : Op.Dot,
      );
    }
    const out = y.tanh();
    out.backward();
    return [out.data, ...w.map((v) => v.grad), ...x.map((v) => v.grad)];
  };
  const chain = build("chain");
  assert.deepEqual(build("range"), chain);
  assert.deepEqual(build("gathered"), chain);
});

Deno.test("relu at 0: value 0 and gradient 0, as micrograd", () => {
  const tape = new Tape();
  const x = leaf(tape, 0);
  const y = x.relu();
  y.backward();
  assert.equal(y.data, 0);
  assert.equal(x.grad, 0);
});

Deno.test("tanh saturates: tanh(±20) is ±1 with a finite gradient near 0", () => {
  for (const x of [20, -20]) {
    const tape = new Tape();
    const v = leaf(tape, x);
    const y = v.tanh();
    y.backward();
    assert.equal(y.data, Math.sign(x));
    assert.ok(Number.isFinite(v.grad));
    assert.ok(v.grad >= 0 && v.grad < 1e-15, `grad ${v.grad}`);
  }
});

Deno.test("pow with a negative base and an integer exponent", () => {
  const tape = new Tape();
  const a = leaf(tape, -2);
  const y = a.pow(3);
  y.backward();
  assert.equal(y.data, -8);
  assert.equal(a.grad, 12);

  const t2 = new Tape();
  const b = leaf(t2, -3);
  const sq = pow(b, 2);
  sq.backward();
  assert.equal(sq.data, 9);
  assert.equal(b.grad, -6);
  assert.ok(gradCheck(([u]) => u.pow(3), [-2]).ok);
});

Deno.test("pow with a Value exponent: the exponent gets a^b·ln(a)", () => {
  const tape = new Tape();
  const a = leaf(tape, 2), b = leaf(tape, 3);
  const y = a.pow(b);
  y.backward();
  assert.equal(y.data, 8);
  assert.equal(a.grad, 12);
  assertClose(b.grad, 8 * Math.LN2, 1e-15);

  // A number base: pow(2, x) = 2^x, d/dx = 2^x ln 2.
  const t2 = new Tape();
  const x = leaf(t2, 0.5);
  const z = pow(2, x);
  z.backward();
  assertClose(z.data, Math.SQRT2, 1e-15);
  assertClose(x.grad, Math.SQRT2 * Math.LN2, 1e-15);
  assert.ok(gradCheck(([u, v]) => u.pow(v), [1.7, -0.6]).ok);
});

Deno.test("pow with base 0 and a Value exponent: exponent gradient 0", () => {
  const tape = new Tape();
  const a = leaf(tape, 0), b = leaf(tape, 2);
  const y = a.pow(b);
  y.backward();
  assert.equal(y.data, 0);
  assert.equal(a.grad, 0);
  assert.equal(b.grad, 0);
});

Deno.test("pow with a negative base and a Value exponent: exponent gradient NaN", () => {
  // d/db (-2)^b = (-2)^b·ln(-2) has no real value.
  const tape = new Tape();
  const a = leaf(tape, -2), b = leaf(tape, 3);
  const y = a.pow(b);
  y.backward();
  assert.equal(y.data, -8);
  assert.equal(a.grad, 12);
  assert.ok(Number.isNaN(b.grad));
});

Deno.test("x^0 is 1 with gradient 0, also at x = 0", () => {
  for (const x of [0, 3, -2.5]) {
    const tape = new Tape();
    const v = leaf(tape, x);
    const y = v.pow(0);
    y.backward();
    assert.equal(y.data, 1);
    assert.equal(v.grad, 0);
  }
});

Deno.test("pow with exponent 1 at base 0 has gradient 1", () => {
  const tape = new Tape();
  const v = leaf(tape, 0);
  const y = v.pow(1);
  y.backward();
  assert.equal(y.data, 0);
  assert.equal(v.grad, 1);
});

Deno.test("abs at 0: value 0 and gradient 0", () => {
  const tape = new Tape();
  const x = leaf(tape, 0);
  const y = x.abs();
  y.backward();
  assert.equal(y.data, 0);
  assert.equal(x.grad, 0);
});

Deno.test("sqrt: value and gradient, infinite slope at 0", () => {
  const tape = new Tape();
  const x = leaf(tape, 2);
  const y = x.sqrt();
  y.backward();
  assert.equal(y.data, Math.SQRT2);
  assertClose(x.grad, 1 / (2 * Math.SQRT2), 1e-15);

  const t2 = new Tape();
  const z = leaf(t2, 0);
  const r = z.sqrt();
  r.backward();
  assert.equal(r.data, 0);
  assert.equal(z.grad, Infinity);
});

Deno.test("sigmoid at large |x| stays finite", () => {
  for (const [x, value] of [[800, 1], [-800, 0], [40, 1]]) {
    const tape = new Tape();
    const v = leaf(tape, x);
    const y = v.sigmoid();
    y.backward();
    assert.equal(y.data, value);
    assert.ok(Number.isFinite(v.grad), `grad at ${x}`);
    assert.ok(v.grad >= 0 && v.grad < 1e-15);
  }
  const tape = new Tape();
  const v = leaf(tape, -40);
  const y = v.sigmoid();
  y.backward();
  assert.ok(y.data > 0 && y.data < 1e-17);
  assertClose(v.grad, Math.exp(-40), 1e-9);
});

Deno.test("softplus(±1000) is finite with gradient 1 and 0", () => {
  const tape = new Tape();
  const big = leaf(tape, 1000), small = leaf(tape, -1000);
  const y = big.softplus(), z = small.softplus();
  assert.equal(y.data, 1000);
  assert.equal(z.data, 0);
  y.backward();
  assert.equal(big.grad, 1);
  z.backward();
  assert.equal(small.grad, 0);
  // Exp overflows where softplus does not.
  assert.equal(leaf(tape, 1000).exp().data, Infinity);
});

Deno.test("division by 0 follows IEEE: ±Infinity and NaN", () => {
  const tape = new Tape();
  const one = leaf(tape, 1), minus = leaf(tape, -1), zero = leaf(tape, 0);
  assert.equal(one.div(0).data, Infinity);
  assert.equal(minus.div(0).data, -Infinity);
  assert.equal(one.div(-0).data, -Infinity);
  assert.ok(Number.isNaN(zero.div(zero).data));
  const y = one.div(zero);
  y.backward();
  assert.equal(one.grad, Infinity);
  assert.equal(zero.grad, -Infinity);
});

Deno.test("log(0) is -Infinity and 0^-1 is Infinity", () => {
  const tape = new Tape();
  const zero = leaf(tape, 0);
  const y = zero.log();
  assert.equal(y.data, -Infinity);
  y.backward();
  assert.equal(zero.grad, Infinity);
  assert.equal(leaf(tape, 0).pow(-1).data, Infinity);
  assert.ok(Number.isNaN(leaf(tape, -1).log().data));
});

Deno.test("max and min send the gradient to the first operand on a tie", () => {
  const tape = new Tape();
  const a = leaf(tape, 2), b = leaf(tape, 2);
  const m = a.max(b);
  m.backward();
  assert.equal(m.data, 2);
  assert.deepEqual([a.grad, b.grad], [1, 0]);
  const t2 = new Tape();
  const c = leaf(t2, -1), d = leaf(t2, -1);
  const n = c.min(d);
  n.backward();
  assert.equal(n.data, -1);
  assert.deepEqual([c.grad, d.grad], [1, 0]);
});

Deno.test("relu, max and min keep NaN instead of hiding it", () => {
  const tape = new Tape();
  const zero = leaf(tape, 0), one = leaf(tape, 1);
  const nan = zero.div(zero);
  assert.ok(Number.isNaN(nan.relu().data));
  assert.ok(Number.isNaN(nan.max(one).data));
  assert.ok(Number.isNaN(one.max(nan).data));
  assert.ok(Number.isNaN(nan.min(one).data));
  assert.ok(Number.isNaN(one.min(nan).data));
  assert.ok(Number.isNaN(nan.abs().data));
  assert.ok(Number.isNaN(nan.sigmoid().data));
  assert.ok(Number.isNaN(nan.softplus().data));
});

Deno.test("opArity() reads the op table; unknown codes have no inputs", () => {
  const names = ["Leaf", "Unary", "Binary", "Nary"];
  const byArity = OP_TABLE.map((row) =>
    `${row[0]}:${names[opArity(Op[row[0]])]}`
  );
  assert.deepEqual(byArity, [
    "Leaf:Leaf",
    "Const:Leaf",
    ...[
      "Neg",
      "Exp",
      "Log",
      "Tanh",
      "Relu",
      "Sigmoid",
      "Sqrt",
      "Abs",
      "Softplus",
    ]
      .map((k) => `${k}:Unary`),
    ...["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"].map((k) =>
      `${k}:Binary`
    ),
    "Sum:Nary",
    "Dot:Nary",
    "DotRange:Nary",
    "DotRangeRelu:Nary",
  ]);
  assert.equal(opArity(OP_COUNT), Arity.Leaf);
  assert.equal(opArity(255), Arity.Leaf);
  assert.equal(opArity(-1), Arity.Leaf);
  assert.equal(isUnary(1.5), false);
});

Deno.test("The pool decoders read what the tape recorded for sum, dot and dotRange", () => {
  const tape = new Tape();
  const w = [tape.leaf(0.5), tape.leaf(-2), tape.leaf(3, false)];
  const x = [tape.leaf(1.5, false), tape.leaf(4), tape.leaf(-1)];
  const b = tape.leaf(0.25);
  const s = tape.sum([x[2], w[0], x[2]]);
  const gathered = tape.dot([w[2], w[0]], [x[1], x[0]], b);
  const range = tape.dotRange(w[0], x[0], 3, b);
  assert.deepEqual(naryInputs(Op.Sum, tape.pool, tape.arg0[s], 3), [
    x[2],
    w[0],
    x[2],
  ]);
  assert.deepEqual(dotArgs(tape.pool, tape.arg0[gathered], 2), {
    bias: b,
    weights: [w[2], w[0]],
    inputs: [x[1], x[0]],
  });
  // Weights 0, 1 need a gradient and 2 does not; inputs 1, 2 do and 0 not.
  assert.deepEqual(dotRangeArgs(tape.pool, tape.arg0[range]), {
    weightStart: w[0],
    inputStart: x[0],
    bias: b,
    weightNeed: Need.Some,
    inputNeed: Need.Some,
  });
  assert.deepEqual(tape.inputsOf(range), [b, ...w, ...x]);
  assert.equal(naryPoolSize(Op.Sum, 3), 3);
  assert.equal(needKind(0, 3), Need.None);
  // The n-ary rules give the recorded values and the closed-form gradients.
  const { data, pool } = tape;
  assert.equal(naryForward(Op.Sum, data, pool, tape.arg0[s], 3), -1 + 0.5 - 1);
  assert.equal(
    naryForward(Op.Dot, data, pool, tape.arg0[gathered], 2),
    0.25 + 3 * 4 + 0.5 * 1.5,
  );
  assert.equal(
    naryForward(Op.DotRange, data, pool, tape.arg0[range], 3),
    0.25 + 0.5 * 1.5 + -2 * 4 + 3 * -1,
  );
  const grad = new Float64Array(tape.size);
  naryBackward(
    Op.DotRange,
    2,
    data,
    grad,
    tape.needsGrad,
    pool,
    tape.arg0[range],
    3,
    data[range],
  );
  // Bias 2; weights 2·x except the constant one; inputs 2·w except x0.
  assert.deepEqual(Array.from(grad.subarray(0, 7)), [3, 8, 0, 0, -4, 6, 2]);
});
