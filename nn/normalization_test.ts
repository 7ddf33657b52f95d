import assert from "node:assert/strict";
import { Tape } from "../engine/mod.ts";
import { makeBlobs } from "./datasets.ts";
import { fit } from "./fit.ts";
import { evaluate, predictClasses } from "./metrics.ts";
import { MLP } from "./mlp.ts";
import { parseModel, serializeModel } from "./model_io.ts";
import { fitNormalization, normalize } from "./normalization.ts";

// Blobs far from the origin and on very different scales.
function rawData() {
  const data = makeBlobs(40, { classes: 3, std: 0.5, seed: 4 });
  return {
    ...data,
    x: data.x.map(([a, b]) => [100 + 30 * a, -5 + 0.01 * b]),
  };
}

Deno.test("fitNormalization() gives each feature mean 0 and std 1", () => {
  const data = rawData();
  const norm = fitNormalization(data.x);
  const scaled = data.x.map((row) => normalize(row, norm));
  for (let j = 0; j < 2; j++) {
    const col = scaled.map((row) => row[j]);
    const mean = col.reduce((a, b) => a + b, 0) / col.length;
    const variance = col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length;
    assert.ok(Math.abs(mean) < 1e-12, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 1e-12, `variance ${variance}`);
  }
});

Deno.test("MLP.predict() applies meta.normalization to raw inputs; forward() does not", () => {
  const model = new MLP(2, [3, 2], { seed: 5, tape: new Tape() });
  const plain = new MLP(2, [3, 2], { seed: 5, tape: new Tape() });
  const norm = { mean: [100, -5], std: [30, 0.01] };
  model.meta = { normalization: norm, dataset: "x" };
  const raw = [130, -4.99];
  assert.deepEqual(model.predict(raw), plain.predict(normalize(raw, norm)));
  assert.deepEqual(
    model.forward(raw).map((v) => v.data),
    plain.forward(raw).map((v) => v.data),
  );
});

Deno.test("fit() on raw data with a stored normalisation equals fit() on normalised data", () => {
  const data = rawData();
  const norm = fitNormalization(data.x);
  const a = new MLP(2, [8, 3], { seed: 1, tape: new Tape() });
  a.meta = { normalization: { mean: norm.mean, std: norm.std } };
  const b = new MLP(2, [8, 3], { seed: 1, tape: new Tape() });
  const scaled = { ...data, x: data.x.map((row) => normalize(row, norm)) };
  const options = { loss: "cross-entropy", steps: 30, mode: "record" } as const;
  const ra = fit(a, data, options), rb = fit(b, scaled, options);
  assert.deepEqual(ra.losses, rb.losses);
  assert.equal(ra.accuracy, rb.accuracy);
  assert.ok(ra.accuracy > 0.9, `accuracy ${ra.accuracy}`);
  assert.equal(evaluate(a, data, "cross-entropy"), ra.accuracy);
  assert.deepEqual(
    predictClasses(a, data.x, "cross-entropy"),
    predictClasses(b, scaled.x, "cross-entropy"),
  );
});

Deno.test("a model file keeps the normalisation, so a loaded model takes raw inputs", () => {
  const model = new MLP(2, [2, 1], { seed: 2, tape: new Tape() });
  model.meta = { normalization: { mean: [1, 2], std: [3, 4] } };
  const copy = parseModel(serializeModel(model), { tape: new Tape() });
  assert.deepEqual(copy.normalization, { mean: [1, 2], std: [3, 4] });
  assert.deepEqual(copy.predict([7, -2]), model.predict([7, -2]));
});

Deno.test("a bad meta.normalization is rejected with what is accepted", () => {
  const model = new MLP(2, [1], { tape: new Tape() });
  assert.throws(
    () => (model.meta = { normalization: { mean: [0, 0], std: [1, 0] } }),
    {
      name: "TypeError",
      message:
        "MLP meta.normalization must be { mean, std } with 2 finite numbers each (std at least 2.2250738585072014e-308, the smallest normal number), got an object",
    },
  );
  const file = JSON.parse(serializeModel(model));
  file.meta = { normalization: { mean: [0], std: [1] } };
  assert.throws(() => parseModel(JSON.stringify(file)), {
    name: "TypeError",
    message:
      "Model file: meta.normalization must be { mean, std } with 2 finite numbers each (std at least 2.2250738585072014e-308, the smallest normal number), got an object",
  });
  assert.equal(model.meta, undefined);
});
