import assert from "node:assert/strict";
import { accuracy } from "./metrics.ts";

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
