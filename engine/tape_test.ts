// Tests of the Tape: recording, backward, rewind and stale handles, replay,
// growth, constant memory, and the non-finite checks.

import assert from "node:assert/strict";
import { Op } from "./ops.ts";
import { NonFiniteError, Tape } from "./tape.ts";
import { dot, sum, Value } from "./value.ts";
import { assertThrows } from "./_testing.ts";

const STALE = /^Stale Value: node \d+ was dropped by tape\.rewind\(\)/;

/** A graph using every kind of op; returns the leaves and the root. */
function buildAll(tape: Tape, xs: readonly number[]): [Value[], Value] {
  const v = xs.map((x) => new Value(x, { tape }));
  const [a, b, c, d, e, f] = v;
  const u = [
    a.neg(),
    b.exp(),
    c.abs().add(1).log(),
    d.tanh(),
    a.relu(),
    b.sigmoid(),
    c.mul(c).add(1).sqrt(),
    d.abs(),
    e.softplus(),
    a.sub(b),
    c.div(d.mul(d).add(1)),
    e.sigmoid().add(0.5).pow(f.tanh()),
    a.max(c),
    b.min(d),
  ];
  const s = sum([...u, 2]);
  const range = dot([a, b, c], [d, e, f], s); // contiguous: DotRange
  const gathered = dot([f, u[0], u[3]], [a, u[5], 0.5]); // Dot
  return [v, range.mul(gathered).tanh()];
}

Deno.test("new Tape() rejects a capacity that is not a positive integer", () => {
  for (const capacity of [0, -1, 1.5, NaN, Infinity]) {
    assertThrows(
      () => new Tape(capacity),
      RangeError,
      `Tape capacity must be a positive integer, got ${capacity}`,
    );
  }
  assert.equal(new Tape().capacity, 1024);
  assert.equal(new Tape(3).capacity, 3);
});

Deno.test("Tape records leaves, constants and ops in creation order", () => {
  const tape = new Tape();
  const a = tape.leaf(2);
  const k = tape.constant(3);
  const x = tape.leaf(5, false);
  const m = tape.binary(Op.Mul, a, k);
  const n = tape.unary(Op.Neg, x);
  assert.deepEqual([a, k, x, m, n], [0, 1, 2, 3, 4]);
  assert.equal(tape.size, 5);
  assert.equal(tape.mark(), 5);
  assert.deepEqual(Array.from(tape.op.subarray(0, 5)), [
    Op.Leaf,
    Op.Const,
    Op.Leaf,
    Op.Mul,
    Op.Neg,
  ]);
  assert.deepEqual(Array.from(tape.data.subarray(0, 5)), [2, 3, 5, 6, -5]);
  assert.deepEqual(Array.from(tape.needsGrad.subarray(0, 5)), [1, 0, 0, 1, 0]);
  assert.deepEqual([tape.arg0[m], tape.arg1[m]], [a, k]);
  assert.deepEqual([tape.arg0[n], tape.arg1[n]], [x, -1]);
  assert.deepEqual(tape.inputsOf(a), []);
  assert.deepEqual(tape.inputsOf(m), [a, k]);
  assert.deepEqual(tape.inputsOf(n), [x]);
});

Deno.test("Tape.backward() computes d = a*b + c in one reverse loop", () => {
  const tape = new Tape();
  const a = tape.leaf(2), b = tape.leaf(-3), c = tape.leaf(10);
  const e = tape.binary(Op.Mul, a, b);
  const d = tape.binary(Op.Add, e, c);
  tape.backward(d);
  assert.equal(tape.data[d], 4);
  assert.deepEqual(
    [a, b, c, e, d].map((i) => tape.grad[i]),
    [-3, 2, 1, 1, 1],
  );
});

Deno.test("Tape.sum() and Tape.dot() keep their arguments in the pool", () => {
  const tape = new Tape();
  const a = tape.leaf(1), b = tape.leaf(2), c = tape.leaf(3);
  const d = tape.leaf(4), e = tape.leaf(5), f = tape.leaf(6);

  const s = tape.sum([c, a, c]);
  assert.equal(tape.op[s], Op.Sum);
  assert.equal(tape.arg1[s], 3);
  assert.deepEqual(
    Array.from(tape.pool.subarray(tape.arg0[s], tape.arg0[s] + 3)),
    [c, a, c],
  );
  assert.equal(tape.data[s], 7);
  assert.deepEqual(tape.inputsOf(s), [c, a, c]);

  const range = tape.dot([a, b, c], [d, e, f], s);
  assert.equal(tape.op[range], Op.DotRange);
  assert.equal(tape.arg1[range], 3);
  const p = tape.arg0[range];
  assert.deepEqual(Array.from(tape.pool.subarray(p, p + 3)), [a, d, s]);
  assert.equal(tape.data[range], 7 + 4 + 10 + 18);
  assert.deepEqual(tape.inputsOf(range), [s, a, b, c, d, e, f]);

  const gathered = tape.dot([a, c], [f, b]);
  assert.equal(tape.op[gathered], Op.Dot);
  const q = tape.arg0[gathered];
  assert.deepEqual(Array.from(tape.pool.subarray(q, q + 5)), [-1, a, c, f, b]);
  assert.equal(tape.data[gathered], 6 + 6);
  assert.deepEqual(tape.inputsOf(gathered), [a, c, f, b]);

  const withBias = tape.dot([c, a], [b, b], d);
  assert.deepEqual(tape.inputsOf(withBias), [d, c, a, b, b]);
  assert.equal(tape.data[withBias], 4 + 6 + 2);

  const direct = tape.dotRange(a, d, 2);
  assert.equal(tape.data[direct], 4 + 10);
  assert.deepEqual(tape.inputsOf(direct), [a, b, d, e]);
  assert.equal(tape.poolSize, 3 + 4 + 5 + 5 + 4);
});

Deno.test("Tape.backward() twice: leaf gradients accumulate, interior ones do not", () => {
  const tape = new Tape();
  const x = new Value(1.5, { tape }), w = new Value(-2, { tape });
  const h = x.mul(w);
  const y = h.tanh();
  y.backward();
  const first = [x.grad, w.grad, h.grad, y.grad];
  assert.equal(h.grad, 1 - Math.tanh(-3) ** 2);
  y.backward();
  assert.equal(x.grad, 2 * first[0]);
  assert.equal(w.grad, 2 * first[1]);
  assert.equal(h.grad, first[2]);
  assert.equal(y.grad, 1);
});

Deno.test("Tape.backward() from a leaf adds 1 to its gradient", () => {
  const tape = new Tape();
  const x = new Value(4, { tape });
  x.backward();
  assert.equal(x.grad, 1);
  x.backward();
  assert.equal(x.grad, 2);
  const input = new Value(4, { tape, requiresGrad: false });
  input.backward();
  assert.equal(input.grad, 0);
});

Deno.test("Tape.zeroGrad() resets every gradient or a range", () => {
  const tape = new Tape();
  const xs = [1, 2, 3].map((v) => new Value(v, { tape }));
  const y = sum(xs);
  y.backward();
  assert.deepEqual(xs.map((v) => v.grad), [1, 1, 1]);
  tape.zeroGrad(1, 2);
  assert.deepEqual(xs.map((v) => v.grad), [1, 0, 1]);
  tape.zeroGrad();
  assert.deepEqual(Array.from(tape.grad.subarray(0, tape.size)), [0, 0, 0, 0]);
  y.backward();
  assert.deepEqual(xs.map((v) => v.grad), [1, 1, 1]);
});

Deno.test("requiresGrad: false leaves get no gradient and backward skips their subgraph", () => {
  const tape = new Tape();
  const x = tape.leaf(3, false);
  const w = tape.leaf(2);
  const scaled = tape.unary(Op.Exp, tape.binary(Op.Mul, x, x));
  const y = tape.binary(Op.Mul, scaled, w);
  assert.equal(tape.needsGrad[scaled], 0);
  assert.equal(tape.needsGrad[y], 1);
  tape.backward(y);
  assert.equal(tape.grad[w], Math.exp(9));
  assert.equal(tape.grad[x], 0);
  assert.equal(tape.grad[scaled], 0);

  // A root that depends on no gradient-needing node: nothing flows.
  const only = tape.binary(Op.Add, x, tape.constant(1));
  assert.equal(tape.needsGrad[only], 0);
  tape.backward(only);
  assert.equal(tape.grad[x], 0);
  assert.equal(tape.grad[w], Math.exp(9));
});

Deno.test("Constants get no gradient through any op", () => {
  const tape = new Tape();
  const w = new Value(0.5, { tape });
  const parts = [
    w.add(2),
    w.mul(3).tanh(),
    sum([w, 4, w]),
    dot([w], [5], 6), // gathered (constants after w)
    dot([w, w], [7, 8], 9),
  ];
  const x = [1, 2].map((v) => new Value(v, { tape }));
  parts.push(dot(x, [10, 11], 12)); // DotRange with a constant bias
  const root = sum(parts);
  root.backward();
  for (let i = 0; i < tape.size; i++) {
    if (tape.op[i] === Op.Const) assert.equal(tape.grad[i], 0, `const #${i}`);
  }
  assert.ok(w.grad !== 0);
  assert.deepEqual(x.map((v) => v.grad), [10, 11]);
});

Deno.test("Tape.rewind() drops nodes; their handles throw a stale-handle Error", () => {
  const tape = new Tape();
  const w = new Value(2, { tape, label: "w" });
  const before = w.mul(3);
  const mark = tape.mark();
  const x = new Value(5, { tape });
  const y = x.mul(w);
  const s = sum([x, y]);
  tape.rewind(mark);
  assert.equal(tape.size, mark);
  for (const stale of [x, y, s]) {
    assertThrows(() => stale.data, Error, STALE);
    assertThrows(() => stale.grad, Error, STALE);
    assertThrows(() => (stale.grad = 1), Error, STALE);
    assertThrows(() => stale.op, Error, STALE);
    assertThrows(() => stale.children, Error, STALE);
    assertThrows(() => stale.label, Error, STALE);
    assertThrows(() => stale.requiresGrad, Error, STALE);
    assertThrows(() => stale.backward(), Error, STALE);
    assertThrows(() => stale.tanh(), Error, STALE);
    assertThrows(() => stale.add(1), Error, STALE);
    assertThrows(() => w.add(stale), Error, STALE);
    assertThrows(() => sum([w, stale]), Error, STALE);
    assertThrows(() => dot([w], [stale]), Error, STALE);
  }
  assertThrows(
    () => x.data,
    Error,
    `Stale Value: node ${x.index} was dropped by tape.rewind(); create values after the mark again`,
  );
  // Handles from before the mark still work.
  assert.equal(w.data, 2);
  assert.equal(w.label, "w");
  assert.equal(before.data, 6);
  const z = before.add(w);
  z.backward();
  assert.equal(w.grad, 4);
  assert.equal(z.data, 8);
});

Deno.test("Stale handles throw even after new nodes reuse their slots", () => {
  const tape = new Tape();
  const keep = new Value(1, { tape });
  const mark = tape.mark();
  const old = new Value(5, { tape });
  const oldOp = old.exp();
  tape.rewind(mark);
  const fresh = new Value(7, { tape });
  const freshOp = fresh.neg();
  assert.equal(fresh.index, old.index);
  assert.equal(freshOp.index, oldOp.index);
  assertThrows(() => old.data, Error, STALE);
  assertThrows(() => oldOp.data, Error, STALE);
  assertThrows(() => fresh.add(old), Error, STALE);
  assert.equal(fresh.data, 7);
  assert.equal(freshOp.data, -7);
  assert.equal(keep.data, 1);

  // A second rewind to the same mark makes the second generation stale too.
  tape.rewind(mark);
  const third = new Value(9, { tape });
  assert.equal(third.index, old.index);
  assertThrows(() => fresh.data, Error, STALE);
  assertThrows(() => old.data, Error, STALE);
  assert.equal(third.data, 9);
  // Value.at() makes a handle of the current generation.
  assert.equal(Value.at(tape, old.index).data, 9);
});

Deno.test("Tape.rewind() rejects a mark outside 0 … size", () => {
  const tape = new Tape();
  tape.leaf(1);
  tape.leaf(2);
  for (const mark of [-1, 3, 1.5, NaN]) {
    assertThrows(
      () => tape.rewind(mark),
      RangeError,
      `Mark must be an integer from 0 to the tape size 2, got ${mark}`,
    );
  }
  assert.equal(tape.size, 2);
  tape.rewind(2);
  assert.equal(tape.size, 2);
  tape.rewind(0);
  assert.equal(tape.size, 0);
});

Deno.test("Tape.rewind() frees the pool entries and labels of dropped nodes", () => {
  const tape = new Tape();
  const xs = [1, 2, 3].map((v) => new Value(v, { tape, label: `x${v}` }));
  const kept = sum(xs);
  kept.label = "kept";
  const mark = tape.mark();
  const poolMark = tape.poolSize;
  assert.equal(poolMark, 3);
  const s = dot(xs, xs, kept);
  s.label = "s";
  sum([s, xs[0]]).label = "t";
  const y = dot([xs[2], xs[0]], [s, kept]);
  y.label = "y";
  assert.equal(tape.poolSize, 3 + 4 + 2 + 5);
  assert.equal(tape.labels.size, 7);
  tape.rewind(mark);
  assert.equal(tape.poolSize, poolMark);
  assert.deepEqual([...tape.labels.values()], ["x1", "x2", "x3", "kept"]);
  // Leaves only before the mark: the pool empties.
  tape.rewind(3);
  assert.equal(tape.poolSize, 0);
  assert.equal(tape.labels.size, 3);
});

Deno.test("Tape.isLive() checks both index and generation", () => {
  const tape = new Tape();
  const i = tape.leaf(1);
  const g = tape.generation;
  assert.equal(tape.isLive(i, g), true);
  assert.equal(tape.isLive(i + 1, g), false);
  tape.rewind(0);
  assert.equal(tape.generation, g + 1);
  assert.equal(tape.isLive(i, g), false);
  const j = tape.leaf(2);
  assert.equal(j, i);
  assert.equal(tape.isLive(j, g), false);
  assert.equal(tape.isLive(j, g + 1), true);
});

Deno.test("Tape.replay() after changing leaves equals a fresh build, bit for bit", () => {
  const start = [0.3, -1.2, 0.8, 2.1, -0.4, 0.9];
  const next = [-0.7, 0.25, -1.9, 0.6, 1.3, -0.15];
  const tape = new Tape();
  const [leaves, root] = buildAll(tape, start);
  leaves.forEach((v, k) => (v.data = next[k]));
  tape.replay();
  const fresh = new Tape();
  const [, freshRoot] = buildAll(fresh, next);
  assert.equal(fresh.size, tape.size);
  assert.notEqual(root.data, 0);
  for (let i = 0; i < tape.size; i++) {
    assert.equal(tape.data[i], fresh.data[i], `node ${i}`);
  }
  assert.equal(root.data, freshRoot.data);
  // Gradients after replay equal those of the fresh build as well.
  root.backward();
  freshRoot.backward();
  for (let i = 0; i < tape.size; i++) {
    assert.equal(tape.grad[i], fresh.grad[i], `grad ${i}`);
  }
});

Deno.test("Tape.replay(from) recomputes only the nodes from the mark on", () => {
  const tape = new Tape();
  const x = new Value(2, { tape });
  const before = x.mul(3);
  const mark = tape.mark();
  const after = before.add(x);
  assert.equal(after.data, 8);
  x.data = 10;
  tape.replay(mark);
  assert.equal(before.data, 6); // before the mark: untouched
  assert.equal(after.data, 16); // 6 + 10
  tape.replay();
  assert.equal(before.data, 30);
  assert.equal(after.data, 40);
  // Constants keep their value.
  assert.equal(before.children[1].data, 3);
});

Deno.test("Tape memory stays flat over 10,000 mark/record/backward/rewind cycles", () => {
  const tape = new Tape(256);
  const params = Array.from(
    { length: 12 },
    (_, k) => new Value(0.1 * k - 0.5, { tape, label: `p${k}` }),
  );
  const mark = tape.mark();
  const poolMark = tape.poolSize;
  const labelCount = tape.labels.size;
  const cycle = (): number => {
    assert.equal(tape.mark(), mark);
    const xs = [0.5, -1, 2].map((x) =>
      new Value(x, { tape, requiresGrad: false })
    );
    const h1 = dot(params.slice(0, 3), xs, params[3]).tanh();
    const h2 = dot([params[4], params[6], params[5]], xs, params[7]).relu();
    const out = sum([h1.mul(params[8]), h2.mul(params[9]), params[10]]);
    out.label = "out";
    const loss = out.sub(1).pow(2);
    loss.backward();
    const value = loss.data;
    tape.rewind(mark);
    return value;
  };
  const first = cycle();
  const capacity = tape.capacity, poolLength = tape.pool.length;
  const heap: number[] = [];
  for (let k = 1; k < 10_000; k++) {
    assert.equal(cycle(), first);
    if (k % 100 === 0) heap.push(Deno.memoryUsage().heapUsed);
  }
  assert.equal(tape.capacity, capacity);
  assert.equal(tape.pool.length, poolLength);
  assert.equal(tape.size, mark);
  assert.equal(tape.poolSize, poolMark);
  assert.equal(tape.labels.size, labelCount);
  // Garbage comes and goes; compare the low points of the second and last
  // quarters (after warm-up) so that GC timing does not matter: a flat loop
  // moves by ~0.1 MB, a leak of 9 Value handles per cycle by ~4 MB.
  const quarter = Math.floor(heap.length / 4);
  const early = Math.min(...heap.slice(quarter, 2 * quarter));
  const late = Math.min(...heap.slice(heap.length - quarter));
  assert.ok(
    late - early < 2 * 1024 * 1024,
    `heap grew by ${((late - early) / 1048576).toFixed(1)} MB`,
  );
});

Deno.test("Tape.backward() handles a chain of 1,000,000 ops without recursion", () => {
  const tape = new Tape();
  const x = new Value(0.5, { tape });
  const one = new Value(1, { tape, requiresGrad: false });
  let y = x;
  for (let k = 0; k < 1_000_000; k++) y = y.add(one);
  assert.equal(tape.size, 1_000_002);
  assert.ok(tape.capacity >= tape.size);
  y.backward();
  assert.equal(y.data, 1_000_000.5);
  assert.equal(x.grad, 1);
  assert.equal(one.grad, 0);

  // d/dx of x·k^n is k^n; on the raw tape to keep the test fast.
  const raw = new Tape();
  const r = raw.leaf(1);
  const k = raw.constant(1.000001);
  let z = r;
  for (let n = 0; n < 1_000_000; n++) z = raw.binary(Op.Mul, z, k);
  raw.backward(z);
  const exact = Math.pow(1.000001, 1_000_000);
  assert.ok(Math.abs(raw.grad[r] - exact) / exact < 1e-9, `${raw.grad[r]}`);
  assert.ok(Math.abs(raw.data[z] - exact) / exact < 1e-9);
});

Deno.test("Tape grows by doubling and keeps every node", () => {
  const record = (tape: Tape): number => {
    const leaves = [];
    for (let k = 0; k < 40; k++) {
      leaves.push(tape.leaf(k * 0.25 - 3, k % 3 > 0));
    }
    let y = tape.constant(1);
    for (let k = 0; k < 40; k++) {
      y = tape.binary(Op.Add, tape.unary(Op.Tanh, leaves[k]), y);
      if (k % 10 === 9) y = tape.sum([y, leaves[k], leaves[k - 1]]);
    }
    return tape.binary(
      Op.Mul,
      y,
      tape.dot(leaves.slice(0, 20), leaves.slice(20)),
    );
  };
  const small = new Tape(1);
  const root = record(small);
  const big = new Tape(4096);
  const bigRoot = record(big);
  assert.equal(root, bigRoot);
  assert.equal(small.size, big.size);
  assert.equal(small.size, 127);
  assert.equal(small.capacity, 128); // 1 → 2 → 4 → … → 128
  assert.equal(small.pool.length, 16); // 1 → … → 16 ≥ 4 sums·3 + 4
  const n = small.size;
  const same = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) =>
    assert.deepEqual(
      Array.from(a).slice(0, n),
      Array.from(b).slice(0, n),
      what,
    );
  same(small.data, big.data, "data");
  same(small.op, big.op, "op");
  same(small.arg0, big.arg0, "arg0");
  same(small.arg1, big.arg1, "arg1");
  same(small.needsGrad, big.needsGrad, "needsGrad");
  same(small.born, big.born, "born");
  assert.deepEqual(
    Array.from(small.pool.subarray(0, small.poolSize)),
    Array.from(big.pool.subarray(0, big.poolSize)),
  );
  small.backward(root);
  big.backward(bigRoot);
  same(small.grad, big.grad, "grad");
  // All the arrays grew together.
  for (
    const array of [
      small.grad,
      small.op,
      small.arg0,
      small.arg1,
      small.needsGrad,
      small.born,
    ]
  ) assert.equal(array.length, 128);
});

Deno.test("Tape growth keeps handles of every generation live", () => {
  const tape = new Tape(2);
  const first = new Value(1, { tape });
  const mark = tape.mark();
  new Value(0, { tape });
  tape.rewind(mark); // generation 1 from here on
  const second = new Value(2, { tape });
  let y = first.add(second);
  for (let k = 0; k < 100; k++) y = y.mul(1);
  assert.equal(tape.capacity, 256);
  assert.equal(first.data, 1);
  assert.equal(second.data, 2);
  y.backward();
  assert.equal(second.grad, 1);
  assert.equal(tape.born[first.index], 0);
  assert.equal(tape.born[second.index], 1);
});

Deno.test("checkFinite: log(0) throws a NonFiniteError naming op, node and inputs", () => {
  const tape = new Tape();
  tape.checkFinite = true;
  tape.leaf(1);
  const zero = tape.leaf(0);
  const size = tape.size;
  assert.throws(
    () => tape.unary(Op.Log, zero),
    (error: unknown) => {
      assert.ok(error instanceof NonFiniteError);
      assert.ok(error instanceof RangeError);
      assert.equal(error.name, "NonFiniteError");
      assert.equal(
        error.message,
        "Non-finite value: log produced -Infinity at node 2 from inputs [0 (node 1)]",
      );
      assert.deepEqual(error.report, {
        index: 2,
        op: "log",
        data: -Infinity,
        inputs: [{ index: 1, op: "leaf", data: 0 }],
        message: error.message,
      });
      return true;
    },
  );
  assert.equal(tape.size, size);
  // Through the Value façade too, with the operand values in the message.
  const a = new Value(1, { tape }), b = new Value(0, { tape });
  assertThrows(
    () => a.div(b),
    NonFiniteError,
    `Non-finite value: / produced Infinity at node ${tape.size} from inputs [1 (node ${a.index}), 0 (node ${b.index})]`,
  );
  assertThrows(() => b.log(), NonFiniteError, /log produced -Infinity/);
  // Finite ops still record.
  assert.equal(a.add(b).data, 1);
});

Deno.test("checkFinite: replay throws a NonFiniteError too, naming the label", () => {
  const tape = new Tape();
  const x = new Value(1, { tape });
  const y = x.log();
  y.label = "y";
  y.mul(2);
  tape.checkFinite = true;
  x.data = 0;
  assertThrows(
    () => tape.replay(),
    NonFiniteError,
    'Non-finite value: log produced -Infinity at node 1 "y" from inputs [0 (node 0)]',
  );
  // With the check off, replay records the non-finite values.
  tape.checkFinite = false;
  tape.replay();
  assert.equal(y.data, -Infinity);
  assert.equal(Value.at(tape, 3).data, -Infinity);
});

Deno.test("checkFinite: a rejected n-ary op gives back its pool entries", () => {
  const tape = new Tape();
  tape.checkFinite = true;
  const big = tape.leaf(1e200), inf = tape.constant(Infinity);
  tape.sum([big, big]);
  const size = tape.size, poolSize = tape.poolSize;
  assertThrows(
    () => tape.sum([big, inf]),
    NonFiniteError,
    /sum produced Infinity/,
  );
  assertThrows(() => tape.dot([big, inf], [inf, big]), NonFiniteError, /dot/);
  assertThrows(() => tape.dotRange(big, big, 1), NonFiniteError, /dot/);
  assert.equal(tape.size, size);
  assert.equal(tape.poolSize, poolSize);
  assert.equal(tape.data[tape.sum([big, big])], 2e200);
});

Deno.test("checkFinite: the message lists at most 8 inputs", () => {
  const tape = new Tape();
  tape.checkFinite = true;
  const inputs = Array.from({ length: 11 }, (_, k) => tape.leaf(k));
  inputs.push(tape.constant(NaN));
  assertThrows(
    () => tape.sum(inputs),
    NonFiniteError,
    "Non-finite value: sum produced NaN at node 12 from inputs [0 (node 0), 1 (node 1), 2 (node 2), 3 (node 3), 4 (node 4), 5 (node 5), 6 (node 6), 7 (node 7), … 4 more]",
  );
});

Deno.test("checkFinite is off by default: non-finite values are recorded", () => {
  const tape = new Tape();
  assert.equal(tape.checkFinite, false);
  const y = tape.unary(Op.Log, tape.leaf(0));
  assert.equal(tape.data[y], -Infinity);
});

Deno.test("NonFiniteError carries its report", () => {
  const report = {
    index: 3,
    op: "exp",
    data: Infinity,
    inputs: [{ index: 2, op: "leaf", data: 1000 }],
    message: "Non-finite value: exp produced Infinity",
  };
  const error = new NonFiniteError(report);
  assert.equal(error.message, report.message);
  assert.equal(error.name, "NonFiniteError");
  assert.equal(error.report, report);
  assert.ok(error instanceof RangeError);
});

Deno.test("findNonFinite() reports the first op that produced NaN or Infinity", () => {
  const tape = new Tape();
  const x = new Value(0, { tape });
  const logged = x.log();
  const root = logged.mul(2).add(1);
  const report = tape.findNonFinite(root.index);
  assert.ok(report !== undefined);
  assert.equal(report.op, "log");
  assert.equal(report.index, logged.index);
  assert.equal(report.data, -Infinity);
  assert.deepEqual(report.inputs, [{ index: x.index, op: "leaf", data: 0 }]);
  assert.equal(
    report.message,
    "Non-finite value: log produced -Infinity at node 1 from inputs [0 (node 0)]",
  );
  // The default root is the last node.
  assert.equal(tape.findNonFinite()?.op, "log");
});

Deno.test("findNonFinite() finds a non-finite ancestor of a finite root", () => {
  const tape = new Tape();
  const x = new Value(0, { tape });
  const root = x.log().exp().add(1); // exp(-Infinity) = 0: the root is finite
  assert.equal(root.data, 1);
  assert.equal(tape.findNonFinite(root.index)?.op, "log");
});

Deno.test("findNonFinite() returns undefined when every value is finite", () => {
  const tape = new Tape();
  assert.equal(tape.findNonFinite(), undefined);
  const x = new Value(2, { tape });
  const y = dot([x, x], [x, 3]).log().tanh();
  assert.equal(tape.findNonFinite(y.index), undefined);
  assert.equal(tape.findNonFinite(), undefined);
});

Deno.test("findNonFinite() searches only the root's ancestors", () => {
  const tape = new Tape();
  const x = new Value(0, { tape });
  const unrelated = x.log(); // non-finite, but does not feed the root
  const root = x.add(1).mul(3);
  assert.equal(unrelated.data, -Infinity);
  assert.equal(tape.findNonFinite(root.index), undefined);
  assert.equal(tape.findNonFinite(unrelated.index)?.index, unrelated.index);
  // A later non-finite node that does feed the root is the one reported.
  const bad = root.div(0);
  const top = sum([bad, root]);
  const report = tape.findNonFinite(top.index);
  assert.equal(report?.index, bad.index);
  assert.equal(report?.op, "/");
});

Deno.test("findNonFinite() names a leaf that holds a non-finite value", () => {
  const tape = new Tape();
  const x = new Value(1, { tape, label: "x" });
  const y = x.mul(2);
  tape.data[x.index] = NaN; // only possible by writing to the arrays directly
  const report = tape.findNonFinite(y.index);
  assert.equal(report?.op, "leaf");
  assert.equal(report?.message, 'Non-finite value: leaf node 0 "x" holds NaN');
  assert.deepEqual(report?.inputs, []);
});

Deno.test("Tape.denseRange() and unaryRange() record the same nodes as dotRange() and unary() one by one", () => {
  for (const checkFinite of [false, true]) {
    const build = (bulk: boolean, fused = false) => {
      const tape = new Tape(4); // small, so the bulk calls must grow it
      tape.checkFinite = checkFinite;
      for (let k = 0; k < 3 * 4; k++) tape.leaf(Math.sin(k + 1));
      const x = tape.size;
      for (let k = 0; k < 3; k++) tape.leaf(k - 1, false);
      let first: number;
      if (fused) first = tape.denseRange(0, 4, x, 3, 3, 3, Op.Tanh);
      else if (bulk) {
        first = tape.denseRange(0, 4, x, 3, 3, 3);
        tape.unaryRange(Op.Tanh, first, 3);
      } else {
        first = tape.size;
        for (let j = 0; j < 3; j++) tape.dotRange(4 * j, x, 3, 4 * j + 3);
        for (let j = 0; j < 3; j++) tape.unary(Op.Tanh, first + j);
      }
      const root = tape.sum([first + 3, first + 4, first + 5]);
      tape.backward(root);
      return tape;
    };
    const a = build(false);
    for (const b of [build(true), build(true, true)]) {
      assert.equal(b.size, a.size);
      for (let i = 0; i < a.size; i++) {
        assert.equal(b.op[i], a.op[i], `op ${i}`);
        assert.deepEqual(b.inputsOf(i), a.inputsOf(i), `inputs ${i}`);
        assert.equal(b.data[i], a.data[i], `data ${i}`);
        assert.equal(b.grad[i], a.grad[i], `grad ${i}`);
        assert.equal(b.needsGrad[i], a.needsGrad[i], `needsGrad ${i}`);
      }
    }
  }
});

Deno.test("Tape.denseRange() with an activation: growth, needsGrad and bad op codes", () => {
  const tape = new Tape(8); // the call must grow the arrays
  for (let k = 0; k < 6; k++) tape.leaf(k % 2 === 0 ? 0.5 : -1);
  const x = tape.leaf(2, false);
  tape.leaf(3, false);
  const first = tape.denseRange(0, 3, x, 2, 2, 2, Op.Relu);
  assert.equal(tape.size, first + 4);
  // 0.5 + 0.5·2 - 1·3 = -1.5 for both neurons (same weights): relu gives 0.
  assert.deepEqual(Array.from(tape.data.subarray(first, first + 4)), [
    -1.5,
    -1.5,
    0,
    0,
  ]);
  assert.deepEqual(tape.inputsOf(first + 3), [first + 1]);
  assert.deepEqual(Array.from(tape.needsGrad.subarray(first, first + 4)), [
    1,
    1,
    1,
    1,
  ]);
  // A range after the fused call counts its nodes' needs right.
  const s = tape.sumRange(first, 4);
  assert.equal(tape.needsGrad[s], 1);
  const inputsOnly = tape.sumRange(x, 2);
  assert.equal(tape.needsGrad[inputsOnly], 0);
  const size = tape.size;
  assert.throws(
    () => tape.denseRange(0, 3, x, 2, 2, 2, Op.Add),
    (error: unknown) =>
      error instanceof RangeError &&
      error.message === `Op ${Op.Add} is not a unary op code`,
  );
  assert.equal(tape.size, size);
});

Deno.test("Tape.unaryRange() gives every unary op the values of unary() one by one", () => {
  const inputs = [-2, -0.5, -0, 0, 0.25, 3, NaN, -Infinity, Infinity];
  const unaryOps = Object.values(Op).filter((op) => {
    const probe = new Tape();
    try {
      probe.unary(op, probe.leaf(1));
      return true;
    } catch {
      return false;
    }
  });
  assert.ok(unaryOps.includes(Op.Relu) && unaryOps.includes(Op.Tanh));
  for (const op of unaryOps) {
    const tape = new Tape();
    for (const x of inputs) tape.leaf(x);
    const first = tape.unaryRange(op, 0, inputs.length);
    for (let k = 0; k < inputs.length; k++) {
      const one = tape.unary(op, k);
      assert.ok(
        Object.is(tape.data[first + k], tape.data[one]),
        `op ${op} on ${inputs[k]}: ${tape.data[first + k]} vs ${
          tape.data[one]
        }`,
      );
    }
  }
});

Deno.test("Tape.sumRange() records the node sum() records on the same list", () => {
  const build = (range: boolean) => {
    const tape = new Tape(4);
    tape.leaf(0.1);
    tape.leaf(7, false);
    tape.leaf(-0.3);
    tape.leaf(0.2);
    const s = range ? tape.sumRange(0, 4) : tape.sum([0, 1, 2, 3]);
    tape.backward(tape.binary(Op.Mul, s, s));
    return tape;
  };
  const a = build(false), b = build(true);
  assert.equal(b.size, a.size);
  for (let i = 0; i < a.size; i++) {
    assert.equal(b.op[i], a.op[i], `op ${i}`);
    assert.deepEqual(b.inputsOf(i), a.inputsOf(i), `inputs ${i}`);
    assert.equal(b.data[i], a.data[i], `data ${i}`);
    assert.equal(b.grad[i], a.grad[i], `grad ${i}`);
    assert.equal(b.needsGrad[i], a.needsGrad[i], `needsGrad ${i}`);
  }
  assert.equal(b.data[4], 0.1 + 7 + -0.3 + 0.2);
  // Inputs that need no gradient: the sum needs none either.
  const tape = new Tape();
  tape.leaf(1, false);
  tape.leaf(2, false);
  assert.equal(tape.needsGrad[tape.sumRange(0, 2)], 0);
});

Deno.test("Tape.backward() resets interior gradients written with setGrad() or Value.grad", () => {
  const tape = new Tape();
  const x = tape.leaf(3);
  const y = tape.binary(Op.Mul, x, x); // 9
  const z = tape.unary(Op.Neg, y); // -9
  tape.setGrad(y, 100); // before any backward
  tape.backward(z);
  assert.equal(tape.grad[y], -1);
  assert.equal(tape.grad[x], -6);
  Value.at(tape, y).grad = 50; // after one
  tape.grad[x] = 0;
  tape.backward(z);
  assert.equal(tape.grad[y], -1);
  assert.equal(tape.grad[x], -6);
  // New nodes after a rewind start at 0 and need no reset.
  tape.rewind(y);
  const w = tape.binary(Op.Add, x, x);
  assert.equal(tape.grad[w], 0);
  tape.grad[x] = 0;
  tape.backward(w);
  assert.equal(tape.grad[x], 2);
});

Deno.test("Tape index methods validate their arguments once per call", () => {
  const tape = new Tape();
  const a = tape.leaf(2), b = tape.leaf(3);
  const size = tape.size;
  const rejects = (fn: () => unknown, message: string) =>
    assert.throws(fn, (error: unknown) => {
      assert.ok(error instanceof RangeError, String(error));
      assert.equal(error.message, message);
      return true;
    });
  for (const root of [-1, NaN, size + 10, 0.5]) {
    rejects(
      () => tape.backward(root),
      `Root must be a node index from 0 to 1, got ${root}`,
    );
  }
  rejects(
    () => tape.binary(Op.Add, a, 999),
    "Second input must be a node index from 0 to 1, got 999",
  );
  rejects(
    () => tape.binary(Op.Exp, a, b),
    `Op ${Op.Exp} is not a binary op code`,
  );
  rejects(() => tape.unary(Op.Add, a), `Op ${Op.Add} is not a unary op code`);
  rejects(
    () => tape.unary(Op.Exp, -1),
    "Input must be a node index from 0 to 1, got -1",
  );
  rejects(
    () => tape.sum([a, 7]),
    "Input must be a node index from 0 to 1, got 7",
  );
  rejects(
    () => tape.dot([a], [b, a]),
    "dot() needs as many inputs as weights, got 1 weights and 2 inputs",
  );
  rejects(
    () => tape.sumRange(1, 2),
    "Inputs must be 2 nodes from index 1, within the tape size 2",
  );
  rejects(
    () => tape.sumRange(0, 0),
    "sumRange() needs at least one input, got 0",
  );
  rejects(
    () => tape.dotRange(0, 1, 2),
    "Inputs must be 2 nodes from index 1, within the tape size 2",
  );
  rejects(
    () => tape.replay(0, 5),
    "Node span must satisfy 0 <= from <= to <= 2 (the tape size), got from 0, to 5",
  );
  rejects(
    () => tape.setGrad(2, 1),
    "Node must be a node index from 0 to 1, got 2",
  );
  // Nothing was recorded by the failed calls.
  assert.equal(tape.size, size);
  const c = tape.binary(Op.Mul, a, b);
  tape.backward(c);
  assert.equal(tape.grad[a], 3);
  assert.equal(tape.grad[b], 2);
});

Deno.test("Tape generations do not wrap: a handle from 2^32 rewinds ago stays stale", () => {
  const tape = new Tape();
  tape.leaf(1);
  const mark = tape.mark();
  tape.generation = 5;
  const old = new Value(5, { tape });
  // Skip ahead to just before 2^32 rewinds later; one more rewind lands on
  // 5 + 2^32, which a Uint32 counter would have wrapped back to 5.
  tape.generation = 5 + 2 ** 32 - 1;
  tape.rewind(mark);
  assert.equal(tape.generation, 5 + 2 ** 32);
  const fresh = new Value(6, { tape });
  assert.equal(fresh.index, old.index);
  assert.throws(
    () => old.data,
    /Stale Value: node 1 was .*dropped by tape.rewind/,
  );
  assert.equal(fresh.data, 6);
});

Deno.test("Tape.backward() over leaves made before any op, after rewinds and a rejected op", () => {
  const tape = new Tape(4);
  const w = tape.leaf(3);
  const mark = tape.mark();
  // A graph that a rewind drops: later passes must not skip what follows.
  tape.unary(Op.Exp, w);
  tape.rewind(mark);
  const x = tape.leaf(2), c = tape.constant(5);
  assert.equal(tape.grad[w], 0);
  tape.backward(x); // a leaf root
  assert.equal(tape.grad[x], 1);
  const y = tape.binary(Op.Mul, tape.binary(Op.Mul, w, x), c); // 5·w·x
  tape.backward(y);
  assert.deepEqual([tape.grad[w], tape.grad[x]], [10, 16]);
  // A second pass resets the interior nodes and adds to the leaves.
  tape.backward(y);
  assert.deepEqual([tape.grad[w], tape.grad[x]], [20, 31]);
  // An op rejected by checkFinite leaves no node behind; the next are fine.
  tape.checkFinite = true;
  assert.throws(() => tape.unary(Op.Log, tape.constant(0)), NonFiniteError);
  tape.checkFinite = false;
  const z = tape.binary(Op.Add, y, w);
  tape.zeroGrad();
  tape.backward(z);
  assert.deepEqual([tape.grad[w], tape.grad[x]], [11, 15]);
});
