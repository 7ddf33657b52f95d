import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import { gradCheck, Op, Tape, Value } from "../engine/mod.ts";
import {
  binaryCrossEntropy,
  crossEntropy,
  hinge,
  l2,
  mse,
  sumSquaredError,
} from "./loss.ts";
import { MLP } from "./mlp.ts";
import { throwsExactly } from "./_testing.ts";

function close(actual: number, expected: number, tolerance = 1e-12): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${actual} is not close to ${expected}`,
  );
}

function values(xs: number[], tape: Tape): Value[] {
  return xs.map((x) => new Value(x, { tape }));
}

// ------------------------------------------------------------ squared errors

Deno.test("mse() is the mean squared error, with gradients 2(p - t)/n", () => {
  const tape = new Tape();
  const p = values([1, 4, -2], tape);
  const t = new Value(-2, { tape });
  const loss = mse(p, [0, 2, t]);
  loss.backward();
  assert.equal(loss.data, (1 + 4 + 0) / 3);
  assert.deepEqual(p.map((v) => v.grad), [2 / 3, 4 / 3, 0]);
  assert.equal(t.grad, 0);
  const t2 = new Value(1, { tape });
  const loss2 = mse([p[0]], [t2]);
  loss2.backward();
  assert.equal(loss2.data, 0);
  const loss3 = mse([p[1]], [t2]);
  loss3.backward();
  assert.equal(t2.grad, -6); // targets that are Values get gradients too
});

Deno.test("sumSquaredError() is the Go port's sum of squares", () => {
  const tape = new Tape();
  const p = values([0.5, -1, 3], tape);
  const loss = sumSquaredError(p, [1, 1, 1]);
  loss.backward();
  assert.equal(loss.data, 0.25 + 4 + 4);
  assert.deepEqual(p.map((v) => v.grad), [-1, -4, 4]);
});

Deno.test("mse() and sumSquaredError() sum the squares in one dot node", () => {
  const tape = new Tape();
  const p = values([1, 2, 3, 4], tape);
  const before = tape.size;
  sumSquaredError(p, [0, 0, 0, 0]);
  const ops = Array.from(tape.op.subarray(before, tape.size));
  assert.equal(ops.filter((op) => op === Op.DotRange).length, 1);
  assert.equal(ops.filter((op) => op === Op.Sub).length, 4);
  assert.equal(ops.filter((op) => op === Op.Mul).length, 0);
});

Deno.test("mse() and sumSquaredError() gradients match finite differences", () => {
  const point = [0.3, -1.2, 2.5, 0.7, -0.4, 1.1];
  for (const loss of [mse, sumSquaredError]) {
    const result = gradCheck(
      ([a, b, c, x, y, z]) => loss([a, b, c], [x, y, z]),
      point,
    );
    assert.ok(result.ok, `${loss.name}: ${result.maxRelativeError}`);
    const numbers = gradCheck(([a, b]) => loss([a, b], [1, -1]), [0.2, 0.9]);
    assert.ok(numbers.ok);
  }
});

Deno.test("mse() and sumSquaredError() reject bad arguments", () => {
  const tape = new Tape();
  const p = values([1, 2], tape);
  throwsExactly(
    () => mse(p, [1]),
    RangeError,
    "mse() needs as many targets as predictions, got 2 predictions and 1 targets",
  );
  throwsExactly(
    () => mse([], []),
    RangeError,
    "mse() predictions must be a non-empty array of Values, got an empty array",
  );
  throwsExactly(
    () => sumSquaredError(3 as unknown as Value[], [3]),
    TypeError,
    "sumSquaredError() predictions must be a non-empty array of Values, got 3",
  );
  throwsExactly(
    () => mse([p[0], 2 as unknown as Value], [1, 2]),
    TypeError,
    "mse() predictions[1] must be a Value, got 2",
  );
  throwsExactly(
    () => mse(p, [1, "2" as unknown as number]),
    TypeError,
    'mse() targets[1] must be a Value or a finite number, got "2"',
  );
  throwsExactly(
    () => mse(p, [1, NaN]),
    TypeError,
    "mse() targets[1] must be a Value or a finite number, got NaN",
  );
  throwsExactly(
    () => sumSquaredError(p, null as unknown as number[]),
    TypeError,
    "sumSquaredError() targets must be an array of Values or numbers, got null",
  );
  const size = tape.size;
  throwsExactly(
    () => mse([p[0], new Value(1, { tape: new Tape() })], [1, 2]),
    Error,
    "Cannot combine Values from different tapes; create them on one tape",
  );
  throwsExactly(
    () => mse(p, [1, new Value(1, { tape: new Tape() })]),
    Error,
    "Cannot combine Values from different tapes; create them on one tape",
  );
  assert.equal(tape.size, size); // checked before recording
  const mark = tape.mark();
  const stale = new Value(1, { tape });
  tape.rewind(mark);
  throwsExactly(
    () => mse([stale], [1]),
    Error,
    `Stale Value: node ${stale.index} was dropped by tape.rewind(); create values after the mark again`,
  );
});

// --------------------------------------------------------------------- hinge

Deno.test("hinge() is micrograd's mean max-margin loss", () => {
  const tape = new Tape();
  const s = values([2, 0.5, -0.25, -3], tape);
  const y = [1, 1, -1, 1];
  const loss = hinge(s, y);
  loss.backward();
  // relu(1 - y·s): 0, 0.5, 0.75, 4
  assert.equal(loss.data, (0 + 0.5 + 0.75 + 4) * (1 / 4));
  assert.deepEqual(s.map((v) => v.grad), [0, -0.25, 0.25, -0.25]);
});

Deno.test("hinge() gradients match finite differences away from the kink", () => {
  const result = gradCheck(
    ([a, b, c]) => hinge([a, b, c], [1, -1, -1]),
    [0.3, 0.2, -2],
  );
  assert.ok(result.ok);
  assert.deepEqual(result.analytic.map((g) => g * 3), [-1, 1, 0]);
});

Deno.test("hinge() rejects bad labels and lengths", () => {
  const s = values([1, 2], new Tape());
  throwsExactly(
    () => hinge(s, [1, 0]),
    RangeError,
    "hinge() labels[1] must be -1 or 1, got 0",
  );
  throwsExactly(
    () => hinge(s, [1, "1" as unknown as number]),
    TypeError,
    'hinge() labels[1] must be -1 or 1, got "1"',
  );
  throwsExactly(
    () => hinge(s, [1]),
    RangeError,
    "hinge() needs one label per sample, got 2 scores and 1 labels",
  );
  throwsExactly(
    () => hinge(s, undefined as unknown as number[]),
    TypeError,
    "hinge() labels must be an array of numbers, got undefined",
  );
  throwsExactly(
    () => hinge([], []),
    RangeError,
    "hinge() scores must be a non-empty array of Values, got an empty array",
  );
});

// ------------------------------------------------------- binary cross-entropy

Deno.test("binaryCrossEntropy() matches -y·log σ(z) - (1-y)·log(1-σ(z))", () => {
  const tape = new Tape();
  const zs = [-2, -0.5, 0, 0.7, 3];
  const ys = [0, 1, 1, 0, 1];
  const z = values(zs, tape);
  const loss = binaryCrossEntropy(z, ys);
  loss.backward();
  const sigma = (x: number): number => 1 / (1 + Math.exp(-x));
  const expected = zs.reduce(
    (acc, x, i) =>
      acc - ys[i] * Math.log(sigma(x)) - (1 - ys[i]) * Math.log(1 - sigma(x)),
    0,
  ) / zs.length;
  close(loss.data, expected);
  z.forEach((v, i) => close(v.grad, (sigma(zs[i]) - ys[i]) / zs.length));
});

Deno.test("binaryCrossEntropy() stays finite for logits of ±1000", () => {
  const tape = new Tape();
  tape.checkFinite = true; // any NaN or ±Infinity throws
  const z = values([1000, -1000, 1000, -1000], tape);
  const loss = binaryCrossEntropy(z, [0, 1, 1, 0]);
  loss.backward();
  assert.equal(loss.data, (1000 + 1000 + 0 + 0) / 4);
  assert.deepEqual(z.map((v) => v.grad), [0.25, -0.25, 0, 0]);
});

Deno.test("binaryCrossEntropy() gradients match finite differences", () => {
  const result = gradCheck(
    ([a, b, c]) => binaryCrossEntropy([a, b, c], [1, 0, 1]),
    [0.3, -1.5, 4],
  );
  assert.ok(result.ok, String(result.maxRelativeError));
});

Deno.test("binaryCrossEntropy() rejects bad labels and logits", () => {
  const z = values([1, 2], new Tape());
  throwsExactly(
    () => binaryCrossEntropy(z, [1, -1]),
    RangeError,
    "binaryCrossEntropy() labels[1] must be 0 or 1, got -1",
  );
  throwsExactly(
    () => binaryCrossEntropy(z, [0.5, 1]),
    RangeError,
    "binaryCrossEntropy() labels[0] must be 0 or 1, got 0.5",
  );
  throwsExactly(
    () => binaryCrossEntropy(z, [true as unknown as number, 1]),
    TypeError,
    "binaryCrossEntropy() labels[0] must be 0 or 1, got true",
  );
  throwsExactly(
    () => binaryCrossEntropy(z, [0, 1, 1]),
    RangeError,
    "binaryCrossEntropy() needs one label per sample, got 2 logits and 3 labels",
  );
  throwsExactly(
    () => binaryCrossEntropy([0.5 as unknown as Value], [1]),
    TypeError,
    "binaryCrossEntropy() logits[0] must be a Value, got 0.5",
  );
});

// ------------------------------------------------------------- cross-entropy

Deno.test("crossEntropy() matches -log softmax(z)[label], averaged", () => {
  const tape = new Tape();
  const rows = [[1, 2, 0.5], [-1, 0, 3], [0.25, 0.25, 0.25]];
  const labels = [1, 0, 2];
  const logits = rows.map((r) => values(r, tape));
  const loss = crossEntropy(logits, labels);
  loss.backward();
  let expected = 0;
  rows.forEach((r, i) => {
    const denom = r.reduce((acc, z) => acc + Math.exp(z), 0);
    expected -= Math.log(Math.exp(r[labels[i]]) / denom);
    r.forEach((z, j) => {
      const softmax = Math.exp(z) / denom;
      close(logits[i][j].grad, (softmax - (j === labels[i] ? 1 : 0)) / 3);
    });
  });
  close(loss.data, expected / 3);
});

Deno.test("crossEntropy() stays finite for logits of ±1000", () => {
  const tape = new Tape();
  tape.checkFinite = true;
  const logits = [
    values([1000, -1000, 0], tape),
    values([1000, -1000, 0], tape),
    values([-1000, -1000, -1000], tape),
  ];
  const loss = crossEntropy(logits, [0, 1, 2]);
  loss.backward();
  close(loss.data, (0 + 2000 + Math.log(3)) / 3);
  assert.deepEqual(logits[0].map((v) => v.grad), [0, 0, 0]);
  assert.deepEqual(logits[1].map((v) => v.grad), [1 / 3, -1 / 3, 0]);
  logits[2].forEach((v, j) => close(v.grad, (1 / 3 - (j === 2 ? 1 : 0)) / 3));
});

Deno.test("crossEntropy() is finite and its gradient rows sum to 0 (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), {
        minLength: 2,
        maxLength: 6,
      }),
      fc.nat(),
      (row, pick) => {
        const tape = new Tape();
        const z = values(row, tape);
        const label = pick % row.length;
        const loss = crossEntropy([z], [label]);
        loss.backward();
        assert.ok(Number.isFinite(loss.data) && loss.data >= 0);
        const max = Math.max(...row);
        const lse = max +
          Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
        close(loss.data, lse - row[label], 1e-9);
        const grads = z.map((v) => v.grad);
        assert.ok(grads.every(Number.isFinite));
        close(grads.reduce((a, g) => a + g, 0) + 1, 1, 1e-12);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("crossEntropy() gradients match finite differences", () => {
  const result = gradCheck(
    ([a, b, c, d, e, f]) => crossEntropy([[a, b, c], [d, e, f]], [2, 0]),
    [0.5, -1, 2, 0.1, 0.2, -0.3],
  );
  assert.ok(result.ok, String(result.maxRelativeError));
});

Deno.test("crossEntropy() rejects bad logits and labels", () => {
  const tape = new Tape();
  const row = values([1, 2, 3], tape);
  throwsExactly(
    () => crossEntropy([row], [3]),
    RangeError,
    "crossEntropy() labels[0] must be a class index from 0 to 2, got 3",
  );
  throwsExactly(
    () => crossEntropy([row], [1.5]),
    RangeError,
    "crossEntropy() labels[0] must be a class index from 0 to 2, got 1.5",
  );
  throwsExactly(
    () => crossEntropy([row], ["0" as unknown as number]),
    TypeError,
    'crossEntropy() labels[0] must be a class index from 0 to 2, got "0"',
  );
  throwsExactly(
    () => crossEntropy([row, row], [0]),
    RangeError,
    "crossEntropy() needs one label per sample, got 2 rows of logits and 1 labels",
  );
  throwsExactly(
    () => crossEntropy([row, row.slice(1)], [0, 0]),
    RangeError,
    "crossEntropy() logits rows must all have 3 Values like logits[0], got 2 in logits[1]",
  );
  throwsExactly(
    () => crossEntropy([], []),
    RangeError,
    "crossEntropy() logits must be a non-empty array of rows of Values, got an empty array",
  );
  throwsExactly(
    () => crossEntropy(row as unknown as Value[][], [0]),
    TypeError,
    "crossEntropy() logits[0] must be a non-empty array of Values, got an object",
  );
  throwsExactly(
    () => crossEntropy([[]], [0]),
    RangeError,
    "crossEntropy() logits[0] must be a non-empty array of Values, got an empty array",
  );
  throwsExactly(
    () => crossEntropy("z" as unknown as Value[][], [0]),
    TypeError,
    'crossEntropy() logits must be a non-empty array of rows of Values, got "z"',
  );
  throwsExactly(
    () => crossEntropy([row, values([1, 2, 3], new Tape())], [0, 0]),
    Error,
    "Cannot combine Values from different tapes; create them on one tape",
  );
});

// ------------------------------------------------------------------------ l2

Deno.test("l2() is alpha · Σ p², with gradients 2·alpha·p", () => {
  const tape = new Tape();
  const ps = values([1, -2, 0.5], tape);
  const reg = l2(ps, 1e-4);
  reg.backward();
  assert.equal(reg.data, (1 + 4 + 0.25) * 1e-4);
  ps.forEach((p) => close(p.grad, 2e-4 * p.data, 1e-15));
  const result = gradCheck(([a, b]) => l2([a, b], 0.3), [1.5, -0.5]);
  assert.ok(result.ok);
});

Deno.test("l2() over a model's parameters is one dot node", () => {
  const tape = new Tape();
  const model = new MLP(2, [16, 16, 1], { tape });
  const before = tape.size;
  const reg = l2(model.parameters(), 1e-4);
  assert.equal(tape.op[before], Op.DotRange);
  const sumSquares = model.parameters().reduce((a, p) => a + p.data ** 2, 0);
  close(reg.data, 1e-4 * sumSquares);
  reg.backward();
  model.parameters().forEach((p) => close(p.grad, 2e-4 * p.data, 1e-15));
});

Deno.test("l2() rejects bad arguments", () => {
  const ps = values([1], new Tape());
  throwsExactly(
    () => l2(ps, -1),
    RangeError,
    "l2() alpha must be a finite number >= 0, got -1",
  );
  throwsExactly(
    () => l2(ps, Infinity),
    RangeError,
    "l2() alpha must be a finite number >= 0, got Infinity",
  );
  throwsExactly(
    () => l2(ps, "0.1" as unknown as number),
    TypeError,
    'l2() alpha must be a finite number >= 0, got "0.1"',
  );
  throwsExactly(
    () => l2([], 0.1),
    RangeError,
    "l2() parameters must be a non-empty array of Values, got an empty array",
  );
  throwsExactly(
    () => l2([1 as unknown as Value], 0.1),
    TypeError,
    "l2() parameters[0] must be a Value, got 1",
  );
});
