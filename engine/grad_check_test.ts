// Tests of gradCheck: it passes on correct gradients, catches wrong ones with
// the right index and size of error, and validates its arguments.

import assert from "node:assert/strict";
import { gradCheck } from "./grad_check.ts";
import { Tape } from "./tape.ts";
import { defaultTape, dot, sum, Value } from "./value.ts";
import { assertThrows } from "./_testing.ts";

Deno.test("gradCheck() passes on smooth functions of every op", () => {
  const functions: [string, (v: Value[]) => Value, number[]][] = [
    ["polynomial", ([x, y]) => x.mul(y).add(x.pow(3)).sub(y.div(2)), [
      0.5,
      -1.5,
    ]],
    ["exp/log", ([x, y]) => x.exp().add(y.mul(y).add(1).log()), [0.3, 2]],
    ["squashing", ([x, y]) => x.tanh().mul(y.sigmoid()).add(x.softplus()), [
      -0.7,
      1.2,
    ]],
    ["sqrt/abs/relu", ([x, y]) => x.abs().sqrt().add(y.relu().mul(x)), [
      -2,
      0.8,
    ]],
    ["pow with a Value exponent", ([x, y]) => x.pow(y), [1.3, 2.5]],
    ["max/min", ([x, y]) => x.max(y).mul(x.min(y.neg())), [0.4, 1.1]],
    ["sum", (v) => sum([...v, v[0].mul(v[1])]), [1, 2, 3]],
    ["dot", (v) => dot(v.slice(0, 2), v.slice(2, 4), v[4]).tanh(), [
      0.1,
      -0.2,
      0.7,
      1.4,
      -0.3,
    ]],
  ];
  for (const [name, fn, inputs] of functions) {
    const result = gradCheck(fn, inputs);
    assert.equal(result.ok, true, name);
    assert.ok(
      result.maxRelativeError < 1e-6,
      `${name}: ${result.maxRelativeError}`,
    );
    assert.equal(result.analytic.length, inputs.length);
    assert.equal(result.numeric.length, inputs.length);
  }
});

Deno.test("gradCheck() returns the backprop and finite-difference gradients", () => {
  // f(x, y) = x²y: ∂x = 2xy = -6, ∂y = x² = 9 at (3, -1).
  const result = gradCheck(([x, y]) => x.mul(x).mul(y), [3, -1]);
  assert.deepEqual(result.analytic, [-6, 9]);
  assert.ok(Math.abs(result.numeric[0] - -6) < 1e-6);
  assert.ok(Math.abs(result.numeric[1] - 9) < 1e-6);
  const expected = Math.max(
    ...[0, 1].map((k) =>
      Math.abs(result.analytic[k] - result.numeric[k]) /
      Math.max(1, Math.abs(result.analytic[k]), Math.abs(result.numeric[k]))
    ),
  );
  assert.equal(result.maxRelativeError, expected);
  assert.equal(result.ok, true);
});

Deno.test("gradCheck() reports the worst input of a wrong gradient", () => {
  // Using x.data as a number hides x from backprop: the analytic gradient
  // of x·x.data is x, the true one 2x.
  const result = gradCheck(
    ([a, b, x]) => a.mul(b).add(x.mul(x.data)),
    [0.5, -1, 3],
  );
  assert.equal(result.ok, false);
  assert.equal(result.worstIndex, 2);
  assert.equal(result.analytic[2], 3);
  assert.ok(Math.abs(result.numeric[2] - 6) < 1e-6);
  assert.ok(Math.abs(result.maxRelativeError - 0.5) < 1e-6);
  // The other inputs are fine.
  assert.deepEqual(result.analytic.slice(0, 2), [-1, 0.5]);
});

Deno.test("gradCheck() catches a kink: relu at 0 and a tie in max", () => {
  // The engine uses relu'(0) = 0; the central difference sees slope 1/2.
  const relu = gradCheck(([x, y]) => x.mul(y).add(y.relu()), [1, 0]);
  assert.equal(relu.ok, false);
  assert.equal(relu.worstIndex, 1);
  assert.deepEqual(relu.analytic, [0, 1]);
  assert.ok(Math.abs(relu.numeric[1] - 1.5) < 1e-6);
  assert.ok(Math.abs(relu.maxRelativeError - 0.5 / 1.5) < 1e-6);

  const tie = gradCheck(([a, b]) => a.max(b), [1, 1]);
  assert.equal(tie.ok, false);
  assert.deepEqual(tie.analytic, [1, 0]);
  assert.ok(Math.abs(tie.numeric[0] - 0.5) < 1e-6);
  assert.ok(Math.abs(tie.numeric[1] - 0.5) < 1e-6);
  assert.ok(Math.abs(tie.maxRelativeError - 0.5) < 1e-6);
});

Deno.test("gradCheck() fails on a NaN gradient even when later inputs are fine", () => {
  // sqrt(|x - 1|) at x = 1: backprop multiplies abs'(0) = 0 by sqrt'(0) = ∞.
  const result = gradCheck(
    ([x, y]) => x.sub(1).abs().sqrt().add(y.mul(y)),
    [1, 2],
  );
  assert.ok(Number.isNaN(result.analytic[0]));
  assert.equal(result.analytic[1], 4);
  assert.equal(result.ok, false);
  assert.equal(result.worstIndex, 0);
  assert.ok(Number.isNaN(result.maxRelativeError));
});

Deno.test("gradCheck() uses the eps and tolerance options", () => {
  // x³ at 1: the central difference is 3 + eps², so a large eps shows.
  const coarse = gradCheck(([x]) => x.pow(3), [1], { eps: 1e-2 });
  assert.ok(Math.abs(coarse.numeric[0] - 3.0001) < 1e-9);
  assert.ok(Math.abs(coarse.maxRelativeError - 0.0001 / 3.0001) < 1e-9);
  assert.equal(coarse.ok, false);
  assert.equal(
    gradCheck(([x]) => x.pow(3), [1], { eps: 1e-2, tolerance: 1e-4 }).ok,
    true,
  );
  assert.equal(gradCheck(([x]) => x.pow(3), [1]).ok, true);
  // A wrong gradient passes only with a tolerance above its error.
  const wrong = ([x]: Value[]) => x.mul(x.data);
  assert.equal(gradCheck(wrong, [3], { tolerance: 0.6 }).ok, true);
  assert.equal(gradCheck(wrong, [3], { tolerance: 0.4 }).ok, false);
});

Deno.test("gradCheck() records on a private tape", () => {
  const shared = defaultTape();
  const size = shared.size;
  let seen: Tape | undefined;
  gradCheck(([x]) => {
    seen = x.tape;
    return x.tanh();
  }, [0.5]);
  assert.ok(seen instanceof Tape);
  assert.notEqual(seen, shared);
  assert.equal(shared.size, size);
});

Deno.test("gradCheck() rejects bad arguments", () => {
  const good = ([x]: Value[]) => x.mul(x);
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => gradCheck("f", [1]),
    TypeError,
    "gradCheck() needs a function of Values as first argument",
  );
  for (const inputs of [[], undefined, 3, new Float64Array([1])]) {
    assertThrows(
      () => gradCheck(good, inputs as number[]),
      RangeError,
      "gradCheck() needs a non-empty array of input numbers",
    );
  }
  for (const [x, shown] of [[NaN, "NaN"], [Infinity, "Infinity"], ["1", "1"]]) {
    assertThrows(
      () => gradCheck(good, [0, x as number]),
      TypeError,
      `gradCheck() inputs must be finite numbers, got ${shown}`,
    );
  }
  for (const eps of [0, -1e-6, NaN, Infinity]) {
    assertThrows(
      () => gradCheck(good, [1], { eps }),
      RangeError,
      `gradCheck() eps must be a positive number, got ${eps}`,
    );
  }
  for (const tolerance of [-1, NaN, "0.1"]) {
    assertThrows(
      () => gradCheck(good, [1], { tolerance: tolerance as number }),
      RangeError,
      `gradCheck() tolerance must be a non-negative number, got ${tolerance}`,
    );
  }
});

Deno.test("gradCheck() needs the function to return a Value built from its inputs", () => {
  const message =
    "gradCheck() function must return a Value built from its inputs";
  assertThrows(
    () => gradCheck(() => 3 as unknown as Value, [1]),
    TypeError,
    message,
  );
  const other = new Tape();
  assertThrows(
    () => gradCheck(() => new Value(1, { tape: other }), [1]),
    TypeError,
    message,
  );
  // Mixing the private tape with another one is caught by the engine.
  assertThrows(
    () => gradCheck(([x]) => x.add(new Value(1, { tape: other })), [1]),
    Error,
    "Cannot combine Values from different tapes; create them on one tape",
  );
});
