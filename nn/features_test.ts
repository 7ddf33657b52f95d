import assert from "node:assert/strict";
import {
  checkFeatures,
  expandFeatures,
  FEATURE_NAMES,
  featureValue,
  parseFeatures,
} from "./features.ts";
import { MLP } from "./mlp.ts";
import { fit } from "./fit.ts";
import { makeDataset } from "./datasets.ts";
import { parseModel, serializeModel } from "./model_io.ts";
import { fitNormalization } from "./normalization.ts";

Deno.test("featureValue() computes every feature's closed form", () => {
  const x = 0.7, y = -1.3;
  const expected = [x, y, x * x, y * y, x * y, Math.sin(x), Math.sin(y)];
  assert.deepEqual(FEATURE_NAMES.map((f) => featureValue(f, x, y)), expected);
  assert.deepEqual(expandFeatures([x, y], ["siny", "x"]), [Math.sin(y), x]);
});

Deno.test("checkFeatures() and parseFeatures() reject bad lists", () => {
  assert.throws(() => checkFeatures("x", 1, "F"), {
    name: "TypeError",
    message:
      'F must be an array of feature names (x, y, x2, y2, xy, sinx, siny), got "x"',
  });
  assert.throws(() => checkFeatures(["x", "y"], 3, "F"), {
    name: "RangeError",
    message: "F must list 3 features (one per model input), got 2",
  });
  assert.throws(() => parseFeatures("x,,y"), {
    name: "RangeError",
    message:
      'Features: unknown feature ""; expected some of x, y, x2, y2, xy, sinx, siny',
  });
});

Deno.test("MLP.predict() computes stored features, then the normalisation", () => {
  // Weights 1, 2, 3 on x², x·y, sin y, bias 0.5, linear output.
  const model = new MLP(3, [1], { parameters: [1, 2, 3, 0.5] });
  const norm = { mean: [1, 0, 0], std: [2, 1, 1] };
  model.meta = { features: ["x2", "xy", "siny"], normalization: norm };
  const x = 1.5, y = -0.4;
  const expected = 0.5 + (x * x - 1) / 2 + 2 * x * y + 3 * Math.sin(y);
  assert.ok(Math.abs(model.predict([x, y])[0] - expected) < 1e-12);
  assert.throws(() => model.predict([1, 2, 3]), {
    name: "RangeError",
    message:
      "MLP predict() input must be an array of 2 numbers (a point; the model computes its features), got an array of length 3",
  });
  // The file keeps the features, and the loaded model computes them.
  const copy = parseModel(serializeModel(model));
  assert.deepEqual(copy.features, ["x2", "xy", "siny"]);
  assert.equal(copy.predict([x, y])[0], model.predict([x, y])[0]);
});

Deno.test("MLP meta.features must match the inputs", () => {
  const model = new MLP(2, [1]);
  assert.throws(() => (model.meta = { features: ["x", "q"] }), {
    name: "RangeError",
    message:
      'MLP meta.features: unknown feature "q"; expected some of x, y, x2, y2, xy, sinx, siny',
  });
  assert.throws(() => (model.meta = { features: ["x"] }), {
    name: "RangeError",
    message:
      "MLP meta.features must list 2 features (one per model input), got 1",
  });
});

Deno.test("fit() trains a features model on raw points: circles with x², y² alone", () => {
  // Circles are separable by a linear function of x² + y²: a linear model
  // on those two features reaches full accuracy, one on x, y cannot.
  const data = makeDataset("circles", 120, { noise: 0, seed: 3 });
  const model = new MLP(2, [1], { activation: "linear", seed: 1 });
  const features = ["x2", "y2"] as const;
  model.meta = {
    features: [...features],
    normalization: fitNormalization(
      data.x.map((p) => expandFeatures(p, features)),
    ),
  };
  const result = fit(model, data, {
    loss: "hinge",
    optimizer: "adam",
    lr: 0.05,
    steps: 300,
  });
  assert.equal(result.accuracy, 1);
  const plain = new MLP(2, [1], { activation: "linear", seed: 1 });
  const base = fit(plain, data, {
    loss: "hinge",
    optimizer: "adam",
    lr: 0.05,
    steps: 300,
  });
  assert.ok(base.accuracy < 0.8, `linear on x, y: ${base.accuracy}`);
});

Deno.test("MLP.predictLayers() starts from the computed features and ends at predict()", () => {
  const model = new MLP(2, [3, 1], { seed: 4, activation: "tanh" });
  model.meta = { features: ["xy", "sinx"] };
  const layers = model.predictLayers([0.5, -2]);
  assert.deepEqual(layers[0], [-1, Math.sin(0.5)]);
  assert.equal(layers[1].length, 3);
  // Hidden unit j is tanh(w·input + b), from the stored parameters.
  const p = model.toJSON().parameters;
  for (let j = 0; j < 3; j++) {
    const s = p[3 * j + 2] + p[3 * j] * layers[0][0] +
      p[3 * j + 1] * layers[0][1];
    assert.ok(Math.abs(layers[1][j] - Math.tanh(s)) < 1e-12);
  }
  assert.deepEqual(layers[2], model.predict([0.5, -2]));
  assert.throws(() => model.predictLayers([1]), {
    name: "RangeError",
    message:
      "MLP predictLayers() input must be an array of 2 numbers (a point; the model computes its features), got an array of length 1",
  });
});
