/**
 * The library's pictures that the README shows: micrograd's neuron drawn by
 * `drawGraph`, and a moons classifier's boundary drawn by `plotBoundary`.
 * The browser tests render them in Chromium; `screenshots.ts` saves them.
 *
 * @module
 */

import {
  drawGraph,
  fit,
  makeMoons,
  MLP,
  plotBoundary,
  type SvgImage,
  Tape,
  Value,
} from "../mod.ts";

/**
 * micrograd's neuron `o = tanh(x1*w1 + x2*w2 + b)` after backward, drawn.
 *
 * @returns The picture.
 */
export function neuronPicture(): SvgImage {
  const tape = new Tape();
  const v = (x: number, label: string) => new Value(x, { tape, label });
  const x1 = v(2, "x1"), x2 = v(0, "x2"), w1 = v(-3, "w1"), w2 = v(1, "w2");
  const b = v(6.8813735870195432, "b");
  const x1w1 = x1.mul(w1), x2w2 = x2.mul(w2);
  x1w1.label = "x1*w1";
  x2w2.label = "x2*w2";
  const sum = x1w1.add(x2w2);
  sum.label = "x1*w1 + x2*w2";
  const n = sum.add(b);
  n.label = "n";
  const o = n.tanh();
  o.label = "o";
  o.backward();
  return drawGraph(o);
}

/**
 * micrograd's demo model, `MLP(2, [16, 16, 1])` fitted to 100 moons points,
 * and its decision boundary.
 *
 * @returns The picture.
 */
export function boundaryPicture(): SvgImage {
  const data = makeMoons(100, { noise: 0.1, seed: 1337 });
  const model = new MLP(2, [16, 16, 1], { tape: new Tape(), seed: 1337 });
  const result = fit(model, data, { steps: 100, loss: "hinge" });
  return plotBoundary(model, data, {
    title: `MLP(2, [16, 16, 1]) on the moons · ${
      Math.round(result.accuracy * 100)
    }% accuracy`,
  });
}

/**
 * A page that shows one picture at its size, on white.
 *
 * @param image The picture.
 * @returns The HTML.
 */
export function pictureHtml(image: SvgImage): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;background:#fff}</style></head><body>${image.svg}</body></html>`;
}
