// Decision-boundary pictures: grid sampling, terminal text and SVG.

import assert from "node:assert/strict";
import {
  axisTicks,
  dataBounds,
  renderSvg,
  renderTerminal,
  sampleBoundary,
  squareBounds,
  terminalGridSize,
} from "./plot.ts";
import { parseSvg } from "../viz/_testing.ts";

const BOUNDS = { xMin: 0, xMax: 4, yMin: 0, yMax: 2 };
const diagonal = ([x, y]: number[]) => ({
  cls: y > x / 2 ? 1 : 0,
  confidence: 0.5,
});

Deno.test("sampleBoundary() samples cell centres, row 0 at the top", () => {
  const grid = sampleBoundary(
    ([x, y]) => ({ cls: x > 2 ? 1 : 0, confidence: y / 2 }),
    BOUNDS,
    4,
    2,
  );
  assert.deepEqual([...grid.classes], [0, 0, 1, 1, 0, 0, 1, 1]);
  assert.deepEqual([...grid.confidence], [
    0.75,
    0.75,
    0.75,
    0.75,
    0.25,
    0.25,
    0.25,
    0.25,
  ]);
});

Deno.test("renderTerminal() draws regions, points, a frame and a legend without colour", () => {
  const grid = sampleBoundary(diagonal, BOUNDS, 8, 2);
  const lines = renderTerminal(grid, [[0.25, 1.75], [3.75, 0.25]], [1, 0], 2, {
    color: false,
    labelNames: ["no", "yes"],
  });
  assert.deepEqual(lines, [
    "+--------+",
    "|x     ..|",
    "|  .....o|",
    "+--------+",
    "x: 0 … 4 (across)   y: 0 … 2 (up)",
    'o class no (region ".")   x class yes (region blank)',
  ]);
});

Deno.test("renderTerminal() uses ANSI background blocks with colour", () => {
  const grid = sampleBoundary(diagonal, BOUNDS, 4, 2);
  const lines = renderTerminal(grid, [[0.5, 1.5]], [1], 2, { color: true });
  assert.ok(lines[0].startsWith("\x1b[48;5;17;38;5;75m●"), lines[0]);
  assert.ok(lines.slice(0, 2).every((line) => line.endsWith("\x1b[0m")));
  assert.ok(lines.at(-1)!.includes("● \x1b[0m class 0"), lines.at(-1));
});

Deno.test("terminalGridSize() keeps the aspect ratio within limits", () => {
  assert.deepEqual(terminalGridSize(BOUNDS, 40), { cols: 40, rows: 10 });
  assert.deepEqual(
    terminalGridSize({ xMin: 0, xMax: 1, yMin: 0, yMax: 100 }, 40).rows,
    32,
  );
  assert.deepEqual(
    terminalGridSize({ xMin: 0, xMax: 100, yMin: 0, yMax: 1 }, 40).rows,
    6,
  );
});

Deno.test("dataBounds() and squareBounds() frame the data", () => {
  assert.deepEqual(dataBounds([]), { xMin: -1, xMax: 1, yMin: -1, yMax: 1 });
  assert.deepEqual(dataBounds([[1, 1]], 0.5), {
    xMin: 0.5,
    xMax: 1.5,
    yMin: 0.5,
    yMax: 1.5,
  });
  assert.deepEqual(squareBounds({ xMin: 0, xMax: 1, yMin: 0, yMax: 3 }), {
    xMin: -1,
    xMax: 2,
    yMin: 0,
    yMax: 3,
  });
});

Deno.test("axisTicks() picks round steps", () => {
  assert.deepEqual(axisTicks(0, 2.3, 5), [0, 0.5, 1, 1.5, 2]);
  assert.deepEqual(axisTicks(-1.46, 2.41, 5), [-1, 0, 1, 2]);
  assert.deepEqual(axisTicks(3, 3, 5), [3]);
});

Deno.test("renderSvg() draws the boundary, points and curves as valid XML", () => {
  const grid = sampleBoundary(diagonal, BOUNDS, 10, 10);
  const svg = renderSvg({
    title: "a <b> & c",
    grid,
    points: [[1, 1], [3, 0.5]],
    labels: [1, 0],
    predicted: [1, 1],
    classes: 2,
    losses: [1, 0.5, Number.NaN, 0.2],
    accuracies: [0.5, 0.7, 0.8, 0.9],
  });
  assert.match(svg, /<title>a &lt;b&gt; &amp; c<\/title>/);
  assert.equal(svg.match(/<circle cx=/g)!.length, 2 + 2 + 1);
  assert.match(svg, /stroke="#000" stroke-width="1\.8"/); // the misclassified point
  assert.match(svg, /<path d="M[^"]+" stroke="#333"/);
  assert.equal(svg.match(/<polyline /g)!.length, 2);
  assert.match(svg, /training accuracy \(right axis\)/);
  parseSvg(svg); // well-formed XML
  // Well-formed enough for a browser: every opened element is closed.
  assert.equal(svg.match(/<g /g)!.length, svg.match(/<\/g>/g)!.length);
  const onlyLoss = renderSvg({ title: "t", classes: 2, losses: [] });
  assert.match(onlyLoss, />no steps</);
});
