import assert from "node:assert/strict";
import {
  makeRegression,
  r2Score,
  REGRESSION_NAMES,
  regressionInputs,
  regressionTarget,
} from "./regression.ts";
import { MLP } from "./mlp.ts";
import { fit } from "./fit.ts";
import { evaluate } from "./metrics.ts";
import { ParallelTrainer } from "./parallel.ts";

Deno.test("makeRegression() samples each function, seeded, with noise of the given std", () => {
  for (const name of REGRESSION_NAMES) {
    const clean = makeRegression(name, 200, { noise: 0, seed: 2 });
    assert.equal(clean.x[0].length, regressionInputs(name));
    clean.x.forEach((p, i) =>
      assert.equal(clean.y[i], regressionTarget(name, p))
    );
    assert.deepEqual(
      makeRegression(name, 20, { seed: 5 }),
      makeRegression(name, 20, { seed: 5 }),
    );
    const noisy = makeRegression(name, 4000, { noise: 0.3, seed: 2 });
    const residuals = noisy.x.map((p, i) =>
      noisy.y[i] - regressionTarget(name, p)
    );
    const mean = residuals.reduce((a, b) => a + b, 0) / residuals.length;
    const std = Math.sqrt(
      residuals.reduce((a, r) => a + (r - mean) ** 2, 0) / residuals.length,
    );
    assert.ok(Math.abs(std - 0.3) < 0.02, `${name}: noise std ${std}`);
  }
  assert.equal(regressionTarget("step", [-0.1]), 0);
  assert.equal(regressionTarget("plane", [1, 3]), 2);
});

Deno.test("makeRegression() and r2Score() reject bad arguments", () => {
  assert.throws(() => makeRegression("cosine" as "sine", 10), {
    name: "RangeError",
    message:
      'Unknown regression problem "cosine"; expected one of sine, abs, step, plane, gaussian',
  });
  assert.throws(() => makeRegression("sine", 0), {
    name: "RangeError",
    message: "Sample count must be a positive integer, got 0",
  });
  assert.throws(() => makeRegression("sine", 5, { noise: -1 }), {
    name: "RangeError",
    message: "Noise must be a finite number of at least 0, got -1",
  });
  assert.throws(() => r2Score([1], [1, 2]), {
    name: "RangeError",
    message:
      "R² needs as many predictions as targets (at least one), got 1 and 2",
  });
  // R² = 1 - SSE/SST: SSE 0.5 (0.5² + 0.5²), SST 2 around the mean 2.
  assert.equal(r2Score([1.5, 2, 2.5], [1, 2, 3]), 1 - 0.5 / 2);
});

Deno.test("fit() fits the noisy sine with mse to a low error, and evaluate() gives R²", () => {
  const data = makeRegression("sine", 100, { seed: 1 });
  const model = new MLP(1, [16, 16, 1], { activation: "tanh", seed: 3 });
  const result = fit(model, data, {
    loss: "mse",
    optimizer: "adam",
    lr: 0.02,
    steps: 400,
  });
  // Noise 0.1 leaves an MSE of about 0.01 for a perfect fit.
  assert.ok(result.loss < 0.03, `loss ${result.loss}`);
  const predicted = data.x.map((p) => model.predict(p)[0]);
  const mse = predicted.reduce((a, p, i) => a + (p - data.y[i]) ** 2, 0) /
    data.y.length;
  assert.ok(Math.abs(mse - result.loss) < 0.01);
  assert.equal(result.accuracy, r2Score(predicted, data.y));
  // Each step's accuracy is the R² of its forward pass, before the update.
  assert.ok(Math.abs(result.accuracies.at(-1)! - result.accuracy) < 0.01);
  assert.equal(evaluate(model, data, "mse"), result.accuracy);
  assert.ok(result.accuracy > 0.9);
});

Deno.test("fit() rejects regression data with a classification loss, or non-finite targets", () => {
  const data = makeRegression("abs", 10);
  assert.throws(() => fit(new MLP(1, [1]), data, { loss: "hinge", steps: 1 }), {
    name: "RangeError",
    message:
      'Regression data (classes 0) trains with the "mse" loss, got "hinge"',
  });
  assert.throws(
    () =>
      fit(new MLP(1, [1]), { ...data, y: [NaN, ...data.y.slice(1)] }, {
        loss: "mse",
        steps: 1,
      }),
    {
      name: "RangeError",
      message:
        "Training data target 0 is NaN; regression targets must be finite numbers",
    },
  );
});

Deno.test("ParallelTrainer refuses regression data", async () => {
  await assert.rejects(
    () => ParallelTrainer.create(new MLP(1, [1]), makeRegression("sine", 8)),
    {
      name: "RangeError",
      message:
        "Parallel training is for classification data; train regression data (classes 0) with fit()",
    },
  );
});
