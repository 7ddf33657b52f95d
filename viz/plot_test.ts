// Boundary and loss plots, checked as parsed XML.

import assert from "node:assert/strict";
import { fit, makeMoons, MLP, plotBoundary, plotLosses, Tape } from "../mod.ts";
import { verdictOf } from "./plot.ts";
import { elements, parseSvg } from "./_testing.ts";

Deno.test("plotBoundary() draws a trained moons model: every point, no misclassified ring", () => {
  const data = makeMoons(60, { seed: 7, noise: 0.05 });
  const model = new MLP(2, [16, 16, 1], { tape: new Tape(), seed: 1 });
  const result = fit(model, data, { steps: 100, loss: "hinge", seed: 1 });
  assert.equal(result.accuracy, 1);
  const image = plotBoundary(model, data, { title: "moons <60>" });
  const root = parseSvg(image.svg);
  assert.equal(elements(root, "title")[0].textContent, "moons <60>");
  // 60 points plus the legend's two classes and its "misclassified" sample;
  // a perfect model rings no point.
  const circles = elements(root, "circle");
  assert.equal(circles.length, 60 + 3);
  assert.equal(
    circles.filter((c) => c.getAttribute("stroke") === "#000").length,
    1,
  );
  // Both classes' regions are shaded: red-ish and blue-ish fills.
  const fills = new Set(
    elements(root, "rect").map((r) => r.getAttribute("fill")),
  );
  assert.ok(fills.size >= 4, `${fills.size} shades`);
});

Deno.test("plotBoundary() rings the points a model gets wrong", () => {
  const data = { x: [[-1, 0], [1, 0], [0.5, 1]], y: [0, 1, 0], classes: 2 };
  const image = plotBoundary({ predict: ([x]) => [x] }, data, {
    resolution: 8,
  });
  const root = parseSvg(image.svg);
  const ringed = elements(root, "circle").filter((c) =>
    c.getAttribute("stroke") === "#000"
  );
  // The point (0.5, 1) and the legend's "misclassified" sample.
  assert.equal(ringed.length, 2);
});

Deno.test("plotLosses() draws the loss curve through its points, and accuracy", () => {
  const image = plotLosses([4, 2, 1, 0.5], { accuracies: [0.5, 0.5, 0.75, 1] });
  const root = parseSvg(image.svg);
  const lines = elements(root, "polyline");
  assert.equal(lines.length, 2);
  const xs = lines[0].getAttribute("points")!.split(" ").map((p) =>
    Number(p.split(",")[0])
  );
  assert.equal(xs.length, 4);
  assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]), "steps go right");
  const ys = lines[0].getAttribute("points")!.split(" ").map((p) =>
    Number(p.split(",")[1])
  );
  assert.ok(
    ys.every((y, i) => i === 0 || y > ys[i - 1]),
    "a falling loss goes down",
  );
});

Deno.test("verdictOf() reads one score by sign and several by softmax", () => {
  assert.deepEqual(verdictOf([2]), { cls: 1, confidence: 1 });
  assert.deepEqual(verdictOf([-0.5]), { cls: 0, confidence: 0.5 });
  const v = verdictOf([0, Math.log(3)]);
  assert.equal(v.cls, 1);
  assert.ok(Math.abs(v.confidence - 0.5) < 1e-12); // p = 3/4 → (3/4 - 1/2) / (1/2)
});

Deno.test("plotBoundary() and plotLosses() refuse bad input", () => {
  const data = { x: [[0, 0]], y: [0], classes: 2 };
  assert.throws(() => plotBoundary({} as never, data), {
    name: "TypeError",
    message:
      "plotBoundary() needs a model with a predict(x) method (an MLP) or options.classify",
  });
  const model = { predict: () => [1] };
  assert.throws(() => plotBoundary(model, { x: [[0, 0, 0]], y: [0] }), {
    name: "TypeError",
    message:
      "plotBoundary() draws 2-D data: every row of x must be two finite numbers, got [0,0,0]",
  });
  assert.throws(() => plotBoundary(model, { x: [[0, 0]], y: [] }), {
    name: "TypeError",
    message: /^plotBoundary\(\) data must be a dataset \{ x, y, classes \}/,
  });
  assert.throws(() => plotBoundary(model, data, { resolution: 1 }), {
    name: "RangeError",
    message:
      "plotBoundary() resolution must be an integer from 2 to 400, got 1",
  });
  assert.throws(() => plotLosses("1,2" as never), {
    name: "TypeError",
    message: "plotLosses() needs an array of numbers (one loss per step)",
  });
  assert.throws(() => plotLosses([1, 2], { accuracies: [1] }), {
    name: "RangeError",
    message: "plotLosses() accuracies must have one entry per loss (2), got 1",
  });
});
