import assert from "node:assert/strict";
import { Tape } from "../engine/mod.ts";
import {
  accuracy,
  decideClass,
  predictClasses,
  scoreOutputs,
} from "./metrics.ts";
import { MLP } from "./mlp.ts";

Deno.test("accuracy() is the fraction of equal labels", () => {
  assert.equal(accuracy([1, 0, 1, 1], [1, 0, 0, 1]), 0.75);
  assert.equal(accuracy([2, 2], [2, 2]), 1);
  assert.equal(accuracy([0], [1]), 0);
});

Deno.test("accuracy() rejects mismatched, empty or non-array input", () => {
  assert.throws(() => accuracy([0, 1], [0]), {
    name: "RangeError",
    message:
      "Predicted and actual labels must have the same length, got 2 and 1",
  });
  assert.throws(() => accuracy([], []), {
    name: "RangeError",
    message: "Accuracy needs at least one label, got empty arrays",
  });
  assert.throws(() => accuracy([0], 0 as unknown as number[]), {
    name: "TypeError",
    message: "Actual labels must be an array, got 0",
  });
  assert.throws(() => accuracy(undefined as unknown as number[], [0]), {
    name: "TypeError",
    message: "Predicted labels must be an array, got undefined",
  });
});

Deno.test("decideClass() is the sign of one output, else the first largest output", () => {
  assert.equal(decideClass([0]), 0);
  assert.equal(decideClass([1e-300]), 1);
  assert.equal(decideClass([1, 3, 3]), 1);
  assert.equal(decideClass(new Float64Array([5, -1, 2, 7]), 1, 2), 1);
});

Deno.test("scoreOutputs() gives closed-form scores and confidences per loss", () => {
  assert.deepEqual(scoreOutputs([2], "hinge"), {
    cls: 1,
    score: 2,
    confidence: 1,
  });
  const bce = scoreOutputs([Math.log(3)], "bce");
  assert.equal(bce.cls, 1);
  assert.ok(Math.abs(bce.score - 0.75) < 1e-15);
  assert.ok(Math.abs(bce.confidence - 0.5) < 1e-15);
  const ce = scoreOutputs([0, 0, Math.log(2)], "cross-entropy");
  assert.equal(ce.cls, 2);
  assert.ok(Math.abs(ce.score - 0.5) < 1e-15);
  // (p - 1/3) / (1 - 1/3) with p = 1/2.
  assert.ok(Math.abs(ce.confidence - 0.25) < 1e-15);
  assert.deepEqual(scoreOutputs([0.2, 0.9, -1], "mse"), {
    cls: 1,
    score: 0.9,
    confidence: 0.9,
  });
});

Deno.test("predictClasses() decides as scoreOutputs() does, for every loss", () => {
  const model = new MLP(2, [4, 3], { seed: 9, tape: new Tape() });
  const one = new MLP(2, [4, 1], { seed: 9, tape: new Tape() });
  const x = [[0.5, -1], [2, 0.1], [-1, -1], [0, 3]];
  for (const loss of ["cross-entropy", "mse"] as const) {
    assert.deepEqual(
      predictClasses(model, x, loss, 3),
      x.map((row) => scoreOutputs(model.predict(row), loss).cls),
    );
  }
  for (const loss of ["hinge", "bce", "mse"] as const) {
    assert.deepEqual(
      predictClasses(one, x, loss, 2),
      x.map((row) => scoreOutputs(one.predict(row), loss).cls),
    );
  }
});
