// Property tests on random expression DAGs with shared nodes: backprop against
// central finite differences of an independent plain-number evaluator, replay
// against fresh builds, and algebraic identities of the tape.

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import { Op } from "./ops.ts";
import { Tape } from "./tape.ts";
import { add, div, dot, mul, pow, sub, sum, Value } from "./value.ts";

// A program is a list of steps; each step reads earlier nodes (leaves first,
// then step results) by index, so nodes are shared. Every step keeps its
// values in a safe domain: log of softplus, sqrt of x² + 1, division by
// 1 + x², a base in (0.5, 1.5) for a Value exponent.
const STEPS = [
  "neg",
  "expTanh",
  "logSoftplus",
  "tanh",
  "relu",
  "sigmoid",
  "sqrtSquarePlusOne",
  "abs",
  "softplus",
  "add",
  "sub",
  "mul",
  "divOnePlusSquare",
  "powInteger",
  "powValue",
  "max",
  "min",
  "sum",
  "dot",
  "dotLeaves",
  "numberFirst",
] as const;
type StepKind = typeof STEPS[number];

interface Step {
  kind: StepKind;
  /** Operand picks, reduced modulo the number of earlier nodes. */
  picks: number[];
  /** A constant in [-2, 2]. */
  c: number;
}

interface Program {
  leaves: number[];
  steps: Step[];
}

/** Operations on either Values or plain numbers, so one interpreter serves both. */
interface Algebra<T> {
  leaf(k: number, x: number): T;
  unary(name: string, a: T): T;
  binary(name: string, a: T, b: T | number): T;
  numberFirst(name: string, c: number, a: T): T;
  sum(xs: T[]): T;
  dot(w: T[], x: T[], bias: T): T;
}

function run<T>(program: Program, algebra: Algebra<T>): T[] {
  const nodes: T[] = program.leaves.map((x, k) => algebra.leaf(k, x));
  const n = program.leaves.length;
  for (const step of program.steps) {
    const pick = (j: number): T => nodes[step.picks[j] % nodes.length];
    const [a, b] = [pick(0), pick(1)];
    let out: T;
    switch (step.kind) {
      case "neg":
      case "tanh":
      case "relu":
      case "sigmoid":
      case "abs":
      case "softplus":
        out = algebra.unary(step.kind, a);
        break;
      case "expTanh":
        out = algebra.unary("exp", algebra.unary("tanh", a));
        break;
      case "logSoftplus":
        out = algebra.unary("log", algebra.unary("softplus", a));
        break;
      case "sqrtSquarePlusOne":
        out = algebra.unary(
          "sqrt",
          algebra.binary("add", algebra.binary("mul", a, a), 1),
        );
        break;
      case "add":
      case "sub":
      case "mul":
      case "max":
      case "min":
        out = algebra.binary(step.kind, a, b);
        break;
      case "divOnePlusSquare":
        out = algebra.binary(
          "div",
          a,
          algebra.binary("add", algebra.binary("mul", b, b), 1),
        );
        break;
      case "powInteger":
        out = algebra.binary("pow", a, Math.round(step.c + 2) % 4); // 0 … 3
        break;
      case "powValue": {
        const base = algebra.binary("add", algebra.unary("sigmoid", a), 0.5);
        out = algebra.binary("pow", base, algebra.unary("tanh", b));
        break;
      }
      case "sum":
        out = algebra.sum(step.picks.map((_, j) => pick(j)));
        break;
      case "dot": {
        const half = Math.max(1, step.picks.length >> 1);
        const w = step.picks.slice(0, half).map((_, j) => pick(j));
        const x = step.picks.slice(0, half).map((_, j) => pick(j + half));
        out = algebra.dot(w, x, b);
        break;
      }
      case "dotLeaves": {
        // Contiguous leaves: recorded as one DotRange node.
        const len = 1 + (step.picks[0] % n);
        const w0 = step.picks[1] % (n - len + 1);
        const x0 = step.picks[2] % (n - len + 1);
        const w = nodes.slice(w0, w0 + len), x = nodes.slice(x0, x0 + len);
        out = algebra.dot(w, x, pick(3));
        break;
      }
      case "numberFirst": {
        const names = ["add", "sub", "mul", "div"];
        const name = names[step.picks[1] % 4];
        const c = name === "div" ? 1 + step.c * step.c : step.c;
        out = name === "div"
          ? algebra.numberFirst(
            "div",
            c,
            algebra.binary("add", algebra.binary("mul", a, a), 1),
          )
          : algebra.numberFirst(name, c, a);
        break;
      }
    }
    nodes.push(out);
  }
  return nodes;
}

/**
 * The program on Values, on new leaves or on `existing` ones; the root is the
 * sum of every node, so that all of them matter.
 */
function buildValues(
  program: Program,
  tape: Tape,
  existing?: Value[],
): [Value[], Value] {
  const leaves: Value[] = [];
  const call = (a: Value, name: string, ...args: (Value | number)[]) =>
    (a as unknown as Record<string, (...args: (Value | number)[]) => Value>)[
      name
    ](...args);
  const free: Record<string, (a: number, b: Value) => Value> = {
    add,
    sub,
    mul,
    div,
    pow,
  };
  const nodes = run(program, {
    leaf(k, x) {
      const v = existing?.[k] ?? new Value(x, { tape });
      leaves.push(v);
      return v;
    },
    unary: (name, a) => call(a, name),
    binary: (name, a, b) => call(a, name, b),
    numberFirst: (name, c, a) => free[name](c, a),
    sum: (xs) => sum(xs),
    dot: (w, x, bias) => dot(w, x, bias),
  });
  for (const v of nodes) assert.equal(v.tape, tape);
  return [leaves, sum(nodes)];
}

/** The same program on plain numbers, written independently of ops.ts. */
function evaluate(
  program: Program,
  leaves: readonly number[],
  onKink: (distance: number) => void = () => {},
): number {
  const algebra: Algebra<number> = {
    leaf: (k) => leaves[k],
    unary(name, a) {
      switch (name) {
        case "neg":
          return -a;
        case "exp":
          return Math.exp(a);
        case "log":
          return Math.log(a);
        case "tanh":
          return Math.tanh(a);
        case "relu":
          onKink(Math.abs(a));
          return a > 0 ? a : 0;
        case "sigmoid":
          return 1 / (1 + Math.exp(-a));
        case "sqrt":
          return Math.sqrt(a);
        case "abs":
          onKink(Math.abs(a));
          return Math.abs(a);
        case "softplus":
          return a > 30 ? a + Math.exp(-a) : Math.log1p(Math.exp(a));
      }
      throw new Error(name);
    },
    binary(name, a, b) {
      const y = b as number;
      switch (name) {
        case "add":
          return a + y;
        case "sub":
          return a - y;
        case "mul":
          return a * y;
        case "div":
          return a / y;
        case "pow":
          return Math.pow(a, y);
        case "max":
          onKink(Math.abs(a - y));
          return Math.max(a, y);
        case "min":
          onKink(Math.abs(a - y));
          return Math.min(a, y);
      }
      throw new Error(name);
    },
    numberFirst(name, c, a) {
      return algebra.binary(name, c, a);
    },
    sum: (xs) => xs.reduce((s, x) => s + x, 0),
    dot: (w, x, bias) => w.reduce((s, wk, k) => s + wk * x[k], bias),
  };
  return run(program, algebra).reduce((s, x) => s + x, 0);
}

const stepArbitrary: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom(...STEPS),
  picks: fc.array(fc.nat({ max: 1000 }), { minLength: 4, maxLength: 8 }),
  c: fc.double({ min: -2, max: 2, noNaN: true }),
});

const leafValue = fc.double({ min: -3, max: 3, noNaN: true });

const programArbitrary: fc.Arbitrary<Program> = fc.record({
  leaves: fc.array(leafValue, { minLength: 2, maxLength: 6 }),
  steps: fc.array(stepArbitrary, { minLength: 1, maxLength: 14 }),
});

/** How far the program's kinks are from their inputs, and how big its values get. */
function survey(program: Program, leaves: readonly number[]) {
  let nearestKink = Infinity;
  const value = evaluate(program, leaves, (d) => {
    nearestKink = Math.min(nearestKink, d);
  });
  return { value, nearestKink };
}

Deno.test("property: backprop matches central finite differences on random DAGs", () => {
  fc.assert(
    fc.property(programArbitrary, (program) => {
      const { value, nearestKink } = survey(program, program.leaves);
      // Keep away from kinks, where the two sides differ by definition, and
      // from values so large that finite differences lose their digits.
      fc.pre(nearestKink > 1e-3 && Math.abs(value) < 1e6);
      const tape = new Tape();
      const [leaves, root] = buildValues(program, tape);
      const rel = Math.max(1, Math.abs(value));
      assert.ok(
        Math.abs(root.data - value) <= 1e-12 * rel,
        `value ${root.data} vs ${value}`,
      );
      root.backward();
      for (let k = 0; k < leaves.length; k++) {
        const x = program.leaves[k];
        const h = 1e-6 * Math.max(1, Math.abs(x));
        const plus = program.leaves.slice(), minus = program.leaves.slice();
        plus[k] = x + h;
        minus[k] = x - h;
        const numeric = (evaluate(program, plus) - evaluate(program, minus)) /
          (2 * h);
        const analytic = leaves[k].grad;
        const scale = Math.max(1, Math.abs(analytic), Math.abs(numeric));
        assert.ok(
          Math.abs(analytic - numeric) <= 1e-4 * scale,
          `leaf ${k}: backprop ${analytic}, finite difference ${numeric}`,
        );
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: replay after changing leaves equals a fresh build, bit for bit", () => {
  fc.assert(
    fc.property(
      programArbitrary,
      fc.array(leafValue, { minLength: 6, maxLength: 6 }),
      (program, next) => {
        const updated = program.leaves.map((_, k) => next[k]);
        const tape = new Tape();
        const [leaves, root] = buildValues(program, tape);
        leaves.forEach((v, k) => (v.data = updated[k]));
        tape.replay();
        const fresh = new Tape();
        const [, freshRoot] = buildValues(
          { ...program, leaves: updated },
          fresh,
        );
        assert.equal(tape.size, fresh.size);
        for (let i = 0; i < tape.size; i++) {
          assert.equal(tape.data[i], fresh.data[i], `node ${i}`);
        }
        root.backward();
        freshRoot.backward();
        for (let i = 0; i < tape.size; i++) {
          assert.equal(tape.grad[i], fresh.grad[i], `grad ${i}`);
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("property: a program recorded after a mark replays from the mark", () => {
  fc.assert(
    fc.property(programArbitrary, leafValue, (program, shift) => {
      const tape = new Tape();
      const params = program.leaves.map((x) => new Value(x, { tape }));
      const mark = tape.mark();
      const [, root] = buildValues(program, tape, params);
      params[0].data = shift;
      tape.replay(mark);
      const fresh = new Tape();
      const [, freshRoot] = buildValues({
        ...program,
        leaves: [shift, ...program.leaves.slice(1)],
      }, fresh);
      assert.equal(root.data, freshRoot.data);
      // Rewinding drops the program; building it again gives the same root.
      tape.rewind(mark);
      assert.throws(() => root.data, /Stale Value/);
      const [, again] = buildValues(program, tape, params);
      assert.equal(again.data, freshRoot.data);
    }),
    { numRuns: 100 },
  );
});

Deno.test("property: dot() equals a chain of mul and add, bit for bit, in both forms", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(leafValue, leafValue), { minLength: 1, maxLength: 8 }),
      leafValue,
      fc.boolean(),
      (pairs, b, gathered) => {
        const tape = new Tape();
        let w: Value[], x: Value[];
        if (gathered) {
          w = [], x = [];
          for (const [wk, xk] of pairs) {
            w.push(new Value(wk, { tape }));
            x.push(new Value(xk, { tape }));
          }
        } else {
          w = pairs.map(([wk]) => new Value(wk, { tape }));
          x = pairs.map(([, xk]) => new Value(xk, { tape }));
        }
        const bias = new Value(b, { tape });
        const y = dot(w, x, bias);
        const expected = gathered && pairs.length > 1 ? Op.Dot : Op.DotRange;
        assert.equal(tape.op[y.index], expected);
        let chain = bias;
        for (let k = 0; k < pairs.length; k++) {
          chain = chain.add(w[k].mul(x[k]));
        }
        assert.equal(y.data, chain.data);
        y.backward();
        const viaDot = [...w, ...x, bias].map((v) => v.grad);
        tape.zeroGrad();
        chain.backward();
        assert.deepEqual([...w, ...x, bias].map((v) => v.grad), viaDot);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("property: a second backward doubles leaf gradients and keeps interior ones", () => {
  fc.assert(
    fc.property(programArbitrary, (program) => {
      fc.pre(Math.abs(survey(program, program.leaves).value) < 1e6);
      const tape = new Tape();
      const [leaves, root] = buildValues(program, tape);
      root.backward();
      const interior: number[] = [];
      for (let i = 0; i < tape.size; i++) {
        if (tape.op[i] > Op.Const) interior.push(tape.grad[i]);
      }
      const first = leaves.map((v) => v.grad);
      root.backward();
      // A leaf used n times sums n terms onto its old gradient, so 2x holds
      // up to rounding.
      leaves.forEach((v, k) => {
        const expected = 2 * first[k];
        assert.ok(
          Math.abs(v.grad - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
          `leaf ${k}: ${v.grad} vs 2 × ${first[k]}`,
        );
      });
      let j = 0;
      for (let i = 0; i < tape.size; i++) {
        if (tape.op[i] > Op.Const) assert.equal(tape.grad[i], interior[j++]);
        else if (tape.op[i] === Op.Const) assert.equal(tape.grad[i], 0);
      }
      // After zeroGrad() the same gradients come back bit for bit.
      tape.zeroGrad();
      root.backward();
      leaves.forEach((v, k) => assert.equal(v.grad, first[k]));
    }),
    { numRuns: 100 },
  );
});
