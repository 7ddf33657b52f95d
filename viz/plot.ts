/**
 * Pictures of training: a 2-D classifier's decision boundary sampled on a
 * grid and drawn as a shaded map with the data points, and the loss (and
 * accuracy) curve, as SVG. The CLI's `train --plot` files, the playground and
 * notebooks all draw with these.
 *
 * @module
 */

import { escapeXml, SvgImage, svgNumber as num } from "./svg_image.ts";
import { CLASS_COLORS, LINE_COLOR, SECOND_COLOR } from "./palette.ts";

/** The region of the plane a picture covers. */
export interface PlotBounds {
  /** Left edge. */
  xMin: number;
  /** Right edge. */
  xMax: number;
  /** Bottom edge. */
  yMin: number;
  /** Top edge. */
  yMax: number;
}

/** A classifier's answer at one point: its class and how sure it is. */
export interface Verdict {
  /** The predicted class index. */
  cls: number;
  /** Confidence in [0, 1] (0: on the boundary), used for shading. */
  confidence: number;
}

/** A classifier sampled at the centres of a `cols × rows` grid. */
export interface BoundaryGrid {
  /** Cells per row. */
  cols: number;
  /** Number of rows; row 0 is the top (largest y). */
  rows: number;
  /** The region the grid covers. */
  bounds: PlotBounds;
  /** Class of each cell, row-major. */
  classes: Int32Array;
  /** Confidence of each cell, row-major. */
  confidence: Float64Array;
}

/**
 * The bounding box of 2-D points, widened by `pad` (a fraction of each side's
 * range) so that points are not drawn on the edge.
 *
 * @param points Points `[x, y]` (extra coordinates are ignored).
 * @param pad Fraction of the range added on each side (default 0.1).
 * @returns The bounds (a unit box around the origin for no points).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataBounds } from "@tapegrad/tapegrad/viz";
 * assert.deepEqual(dataBounds([[0, 0], [10, 5]], 0.1), { xMin: -1, xMax: 11, yMin: -0.5, yMax: 5.5 });
 * ```
 */
export function dataBounds(points: readonly number[][], pad = 0.1): PlotBounds {
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const [x, y] of points) {
    if (x < xMin) xMin = x;
    if (x > xMax) xMax = x;
    if (y < yMin) yMin = y;
    if (y > yMax) yMax = y;
  }
  if (!(xMin <= xMax)) return { xMin: -1, xMax: 1, yMin: -1, yMax: 1 };
  const dx = xMax - xMin || 1, dy = yMax - yMin || 1;
  return {
    xMin: xMin - pad * dx,
    xMax: xMax + pad * dx,
    yMin: yMin - pad * dy,
    yMax: yMax + pad * dy,
  };
}

/**
 * Samples a classifier at the centre of every grid cell.
 *
 * @param classify The classifier, called with `[x, y]`.
 * @param bounds The region to cover.
 * @param cols Cells per row.
 * @param rows Number of rows (row 0 at the top).
 * @returns The grid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sampleBoundary } from "@tapegrad/tapegrad/viz";
 * const grid = sampleBoundary(([x]) => ({ cls: x > 0 ? 1 : 0, confidence: 1 }),
 *   { xMin: -1, xMax: 1, yMin: -1, yMax: 1 }, 4, 2);
 * assert.deepEqual([...grid.classes], [0, 0, 1, 1, 0, 0, 1, 1]);
 * ```
 */
export function sampleBoundary(
  classify: (point: number[]) => Verdict,
  bounds: PlotBounds,
  cols: number,
  rows: number,
): BoundaryGrid {
  const classes = new Int32Array(cols * rows);
  const confidence = new Float64Array(cols * rows);
  const { xMin, xMax, yMin, yMax } = bounds;
  for (let r = 0; r < rows; r++) {
    const y = yMax - ((r + 0.5) / rows) * (yMax - yMin);
    for (let c = 0; c < cols; c++) {
      const x = xMin + ((c + 0.5) / cols) * (xMax - xMin);
      const verdict = classify([x, y]);
      classes[r * cols + c] = verdict.cls;
      confidence[r * cols + c] = Math.min(1, Math.max(0, verdict.confidence));
    }
  }
  return { cols, rows, bounds, classes, confidence };
}

// ---------------------------------------------------------------------- SVG

// One palette for every picture (viz/palette.ts).
const SVG_COLORS = CLASS_COLORS;

/** What {@linkcode plotTraining} draws. */
export interface TrainingPlot {
  /** A title across the top. */
  title: string;
  /** The sampled decision boundary (omit for data that is not 2-D). */
  grid?: BoundaryGrid;
  /** The data points `[x, y]` (with `grid`). */
  points?: readonly number[][];
  /** The class of each point. */
  labels?: readonly number[];
  /** The predicted class of each point, to ring the misclassified ones. */
  predicted?: readonly number[];
  /** The number of classes. */
  classes: number;
  /** Class names for the legend (default: the class index). */
  labelNames?: readonly string[];
  /** Names of the horizontal and vertical axes (none by default). */
  axisNames?: readonly [string, string];
  /** Training loss per step. */
  losses: readonly number[];
  /** Training accuracy per step (fractions), drawn on a second axis. */
  accuracies?: readonly number[];
}

/**
 * The CLI's training picture: the decision boundary as a shaded heat map
 * with the class boundary and data points on the left, the loss (and
 * accuracy) curve on the right; the loss curve alone when there is no grid.
 *
 * @param plot What to draw.
 * @returns The picture, 960×510.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plotTraining } from "@tapegrad/tapegrad";
 * const image = plotTraining({ title: "loss", classes: 2, losses: [1, 0.5, 0.25] });
 * assert.match(image.svg, /^<svg /);
 * assert.equal(image.svg.match(/<polyline/g)!.length, 1);
 * ```
 */
export function plotTraining(plot: TrainingPlot): SvgImage {
  const width = 960, height = 510, top = 56, size = 400;
  const parts = [svgHead(plot.title, width, height)];
  if (plot.grid) {
    parts.push(boundaryPanel(plot, plot.grid, 50, top, size));
    parts.push(lossPanel(plot, 530, top, 390, size));
  } else {
    parts.push(lossPanel(plot, 80, top, 820, size));
  }
  parts.push("</svg>");
  return new SvgImage(parts.join("\n"), width, height);
}

function svgHead(title: string, width: number, height: number): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${
      width / 2
    }" y="28" text-anchor="middle" font-size="16" font-weight="600" fill="#222">${
      escapeXml(title)
    }</text>`,
  ].join("\n");
}

/** Something that maps a point to output scores, like an `MLP`. */
export interface Predictor {
  /** The model's outputs at `x`. */
  predict(x: readonly number[]): number[];
}

/** Options for {@linkcode plotBoundary}. */
export interface BoundaryPlotOptions {
  /** A title across the top (default "Decision boundary"). */
  title?: string;
  /** Grid cells per side (default 100, from 2 to 400). */
  resolution?: number;
  /** The region drawn (default: the data's square box, padded by 8%). */
  bounds?: PlotBounds;
  /**
   * The class and confidence at a point (default: from the model's outputs,
   * the sign of a single output or the largest of several).
   */
  classify?: (point: number[]) => Verdict;
  /** Names of the horizontal and vertical axes (default: the dataset's feature names). */
  axisNames?: readonly [string, string];
}

/**
 * The class and confidence a model's outputs say: one output is a score
 * whose sign is the class (confidence `min(1, |s|)`); several are class
 * scores, the largest wins (confidence from their softmax).
 *
 * @param outputs The model's outputs at a point.
 * @returns The class and confidence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verdictOf } from "@tapegrad/tapegrad/viz";
 * assert.deepEqual(verdictOf([-0.25]), { cls: 0, confidence: 0.25 });
 * assert.deepEqual(verdictOf([0, 0]), { cls: 0, confidence: 0 });
 * ```
 */
export function verdictOf(outputs: readonly number[]): Verdict {
  if (outputs.length === 1) {
    const s = outputs[0];
    return { cls: s > 0 ? 1 : 0, confidence: Math.min(1, Math.abs(s)) };
  }
  let best = 0;
  for (let k = 1; k < outputs.length; k++) {
    if (outputs[k] > outputs[best]) best = k;
  }
  let total = 0;
  for (const o of outputs) total += Math.exp(o - outputs[best]);
  const k = outputs.length;
  return {
    cls: best,
    confidence: Math.max(0, (1 / total - 1 / k) / (1 - 1 / k)),
  };
}

function checkDataset(data: unknown, fn: string): Dataset2D {
  const d = data as Partial<Dataset2D> | null;
  if (
    typeof d !== "object" || d === null || !Array.isArray(d.x) ||
    !Array.isArray(d.y) || d.x.length !== d.y.length
  ) {
    throw new TypeError(
      `${fn}() data must be a dataset { x, y, classes } with as many labels as rows, like makeMoons() returns`,
    );
  }
  for (const row of d.x) {
    if (
      !Array.isArray(row) || row.length !== 2 ||
      !row.every((v) => Number.isFinite(v))
    ) {
      throw new TypeError(
        `${fn}() draws 2-D data: every row of x must be two finite numbers, got ${
          JSON.stringify(row)
        }`,
      );
    }
  }
  return d as Dataset2D;
}

/** The part of a `Dataset` a boundary plot needs. */
export interface Dataset2D {
  /** Points `[x, y]`. */
  x: readonly number[][];
  /** Class of each point. */
  y: readonly number[];
  /** Number of classes (default: the largest label plus one). */
  classes?: number;
  /** Feature names, for the axes. */
  featureNames?: readonly string[];
  /** Class names, for the legend. */
  labelNames?: readonly string[];
}

/**
 * A classifier's decision boundary over 2-D data, like the last picture of
 * micrograd's demo notebook: regions shaded by the predicted class (darker
 * where the model is surer), the data points on top, misclassified ones
 * ringed in black.
 *
 * @param model A model with `predict(x)` (an `MLP`), used unless
 * `options.classify` is given.
 * @param data The points and their classes (`makeMoons()` and friends).
 * @param options Title, resolution, region, classifier.
 * @returns The picture, 480×510.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plotBoundary } from "@tapegrad/tapegrad";
 * const data = { x: [[-1, 0], [1, 0]], y: [0, 1], classes: 2 };
 * const image = plotBoundary({ predict: ([x]) => [x] }, data, { resolution: 20 });
 * // Two points, two classes and "misclassified" in the legend.
 * assert.equal(image.svg.match(/<circle cx=/g)!.length, 2 + 3);
 * // Only the legend's sample is ringed in black: both points are right.
 * assert.equal(image.svg.match(/stroke="#000"/g)!.length, 1);
 * ```
 *
 * @throws {TypeError} If `model` has no `predict` method or `data` is not 2-D.
 * @throws {RangeError} If `resolution` is out of range.
 */
export function plotBoundary(
  model: Predictor,
  data: Dataset2D,
  options: BoundaryPlotOptions = {},
): SvgImage {
  const classify = options.classify ??
    (typeof model?.predict === "function"
      ? (point: number[]) => verdictOf(model.predict(point))
      : undefined);
  if (classify === undefined) {
    throw new TypeError(
      "plotBoundary() needs a model with a predict(x) method (an MLP) or options.classify",
    );
  }
  const d = checkDataset(data, "plotBoundary");
  const resolution = options.resolution ?? 100;
  if (!Number.isInteger(resolution) || resolution < 2 || resolution > 400) {
    throw new RangeError(
      `plotBoundary() resolution must be an integer from 2 to 400, got ${resolution}`,
    );
  }
  const bounds = options.bounds ?? squareBounds(dataBounds(d.x, 0.08));
  const grid = sampleBoundary(classify, bounds, resolution, resolution);
  const classes = d.classes ?? Math.max(1, ...d.y.map((c) => c + 1));
  const names = d.featureNames;
  const axisNames = options.axisNames ??
    (names && names.length === 2 ? [names[0], names[1]] as const : undefined);
  const plot: TrainingPlot = {
    title: options.title ?? "Decision boundary",
    grid,
    points: d.x,
    labels: d.y,
    predicted: d.x.map((p) => classify([...p]).cls),
    classes,
    labelNames: d.labelNames,
    axisNames,
    losses: [],
  };
  const width = 480, height = 510;
  return new SvgImage(
    [
      svgHead(plot.title, width, height),
      boundaryPanel(plot, grid, 50, 56, 400),
      "</svg>",
    ].join("\n"),
    width,
    height,
  );
}

/** Options for {@linkcode plotLosses}. */
export interface LossPlotOptions {
  /** A title across the top (default "Training loss"). */
  title?: string;
  /** Accuracy per step (fractions), drawn dashed against a right axis. */
  accuracies?: readonly number[];
}

/**
 * The loss curve of a training run (and its accuracy, if given).
 *
 * @param losses Loss per step (non-finite steps are skipped).
 * @param options Title and accuracies.
 * @returns The picture, 680×400.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plotLosses } from "@tapegrad/tapegrad";
 * const image = plotLosses([1, 0.5, 0.25], { accuracies: [0.5, 0.75, 1] });
 * assert.equal(image.svg.match(/<polyline/g)!.length, 2);
 * assert.match(image.svg, /100%/);
 * ```
 *
 * @throws {TypeError} If `losses` is not an array of numbers.
 * @throws {RangeError} If `accuracies` has another length than `losses`.
 */
export function plotLosses(
  losses: readonly number[],
  options: LossPlotOptions = {},
): SvgImage {
  if (!Array.isArray(losses) || !losses.every((v) => typeof v === "number")) {
    throw new TypeError(
      "plotLosses() needs an array of numbers (one loss per step)",
    );
  }
  const accuracies = options.accuracies;
  if (accuracies !== undefined && accuracies.length !== losses.length) {
    throw new RangeError(
      `plotLosses() accuracies must have one entry per loss (${losses.length}), got ${accuracies.length}`,
    );
  }
  const title = options.title ?? "Training loss";
  const width = 680, height = 400;
  return new SvgImage(
    [
      svgHead(title, width, height),
      lossPanel({ title, classes: 0, losses, accuracies }, 70, 56, 560, 290),
      "</svg>",
    ].join("\n"),
    width,
    height,
  );
}

function boundaryPanel(
  plot: TrainingPlot,
  grid: BoundaryGrid,
  left: number,
  top: number,
  size: number,
): string {
  const { cols, rows, bounds } = grid;
  const out: string[] = [
    `<g id="boundary">`,
    `<text x="${left}" y="${
      top - 8
    }" fill="#333">Decision boundary and data</text>`,
  ];
  const cw = size / cols, ch = size / rows;
  const sx = (x: number) =>
    left + ((x - bounds.xMin) / (bounds.xMax - bounds.xMin)) * size;
  const sy = (y: number) =>
    top + ((bounds.yMax - y) / (bounds.yMax - bounds.yMin)) * size;
  // Heat map: confidence quantised to 4 shades, equal runs merged per row.
  for (let r = 0; r < rows; r++) {
    let c = 0;
    while (c < cols) {
      const fill = regionFill(grid, r * cols + c);
      let end = c + 1;
      while (end < cols && regionFill(grid, r * cols + end) === fill) end++;
      out.push(
        `<rect x="${num(left + c * cw)}" y="${num(top + r * ch)}" width="${
          num((end - c) * cw + 0.3)
        }" height="${num(ch + 0.3)}" fill="${fill}"/>`,
      );
      c = end;
    }
  }
  // The class boundary: cell edges whose two sides disagree.
  const path: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const k = grid.classes[r * cols + c];
      if (c + 1 < cols && grid.classes[r * cols + c + 1] !== k) {
        const x = num(left + (c + 1) * cw);
        path.push(`M${x} ${num(top + r * ch)}V${num(top + (r + 1) * ch)}`);
      }
      if (r + 1 < rows && grid.classes[(r + 1) * cols + c] !== k) {
        const y = num(top + (r + 1) * ch);
        path.push(`M${num(left + c * cw)} ${y}H${num(left + (c + 1) * cw)}`);
      }
    }
  }
  if (path.length > 0) {
    out.push(
      `<path d="${
        path.join("")
      }" stroke="#333" stroke-width="1.2" fill="none" opacity="0.6"/>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#888"/>`,
  );
  const points = plot.points ?? [], labels = plot.labels ?? [];
  points.forEach(([x, y], i) => {
    const label = labels[i] ?? 0;
    const wrong = plot.predicted !== undefined && plot.predicted[i] !== label;
    out.push(
      `<circle cx="${num(sx(x))}" cy="${num(sy(y))}" r="${
        wrong ? 5 : 3.6
      }" fill="${SVG_COLORS[label % SVG_COLORS.length]}" stroke="${
        wrong ? "#000" : "#fff"
      }" stroke-width="${wrong ? 1.8 : 0.8}"/>`,
    );
  });
  out.push(
    ...axisTicks(bounds.xMin, bounds.xMax, 5).map((t) =>
      `<text x="${num(sx(t))}" y="${
        top + size + 16
      }" text-anchor="middle" fill="#555">${tickLabel(t)}</text>`
    ),
  );
  out.push(
    ...axisTicks(bounds.yMin, bounds.yMax, 5).map((t) =>
      `<text x="${left - 6}" y="${
        num(sy(t) + 4)
      }" text-anchor="end" fill="#555">${tickLabel(t)}</text>`
    ),
  );
  if (plot.axisNames) {
    const [xName, yName] = plot.axisNames.map(escapeXml);
    out.push(
      `<text x="${left + size}" y="${
        top + size + 30
      }" text-anchor="end" fill="#333">${xName} →</text>`,
      `<text transform="translate(${
        left - 34
      } ${top}) rotate(-90)" text-anchor="end" fill="#333">${yName} →</text>`,
    );
  }
  // Legend under the panel.
  let lx = left;
  const ly = top + size + (plot.axisNames ? 44 : 38);
  for (let k = 0; k < plot.classes; k++) {
    const name = escapeXml(`class ${plot.labelNames?.[k] ?? k}`);
    out.push(
      `<circle cx="${lx + 5}" cy="${ly - 4}" r="5" fill="${
        SVG_COLORS[k % SVG_COLORS.length]
      }"/>`,
      `<text x="${lx + 14}" y="${ly}" fill="#333">${name}</text>`,
    );
    lx += 24 + name.length * 7;
  }
  if (plot.predicted !== undefined) {
    out.push(
      `<circle cx="${lx + 5}" cy="${
        ly - 4
      }" r="5" fill="#ccc" stroke="#000" stroke-width="1.8"/>`,
      `<text x="${lx + 14}" y="${ly}" fill="#333">misclassified</text>`,
    );
  }
  out.push("</g>");
  return out.join("\n");
}

function regionFill(grid: BoundaryGrid, k: number): string {
  const shade = Math.min(3, Math.floor(grid.confidence[k] * 4));
  return mixWithWhite(
    SVG_COLORS[grid.classes[k] % SVG_COLORS.length],
    0.12 + 0.1 * shade,
  );
}

function mixWithWhite(hex: string, amount: number): string {
  const channel = (i: number) => {
    const v = parseInt(hex.slice(i, i + 2), 16);
    return Math.round(255 + (v - 255) * amount).toString(16).padStart(2, "0");
  };
  return `#${channel(1)}${channel(3)}${channel(5)}`;
}

function lossPanel(
  plot: TrainingPlot,
  left: number,
  top: number,
  width: number,
  height: number,
): string {
  const out: string[] = [`<g id="loss">`];
  const losses = plot.losses.filter((x) => Number.isFinite(x));
  const n = plot.losses.length;
  out.push(
    `<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="#fafafa" stroke="#888"/>`,
  );
  if (n === 0 || losses.length === 0) {
    out.push(
      `<text x="${left + width / 2}" y="${
        top + height / 2
      }" text-anchor="middle" fill="#888">no steps</text>`,
      "</g>",
    );
    return out.join("\n");
  }
  // Headroom above the highest loss keeps the curve off the frame.
  const yMin = Math.min(0, ...losses);
  const yMax = Math.max(...losses) + 0.06 * (Math.max(...losses) - yMin);
  const yTicks = axisTicks(yMin, yMax, 5);
  const yTop = Math.max(yMax, yTicks[yTicks.length - 1] ?? yMax) || 1;
  const sx = (i: number) =>
    left + (n === 1 ? width / 2 : (i / (n - 1)) * width);
  const sy = (v: number) =>
    top + height - ((v - yMin) / (yTop - yMin || 1)) * height;
  for (const t of yTicks) {
    out.push(
      `<line x1="${left}" x2="${left + width}" y1="${num(sy(t))}" y2="${
        num(sy(t))
      }" stroke="#e4e4e4"/>`,
      `<text x="${left - 6}" y="${
        num(sy(t) + 4)
      }" text-anchor="end" fill="#555">${tickLabel(t)}</text>`,
    );
  }
  for (const t of axisTicks(1, Math.max(1, n), 6)) {
    if (!Number.isInteger(t)) continue;
    out.push(
      `<text x="${num(sx(t - 1))}" y="${
        top + height + 16
      }" text-anchor="middle" fill="#555">${t}</text>`,
    );
  }
  out.push(
    `<text x="${left + width / 2}" y="${
      top + height + 34
    }" text-anchor="middle" fill="#333">step</text>`,
  );
  const line = plot.losses.map((v, i) =>
    Number.isFinite(v) ? `${num(sx(i))},${num(sy(v))}` : ""
  )
    .filter((p) => p !== "").join(" ");
  out.push(
    `<polyline points="${line}" fill="none" stroke="${LINE_COLOR}" stroke-width="2"/>`,
  );
  const legendY = top - 8;
  out.push(
    `<line x1="${left}" x2="${left + 24}" y1="${legendY - 4}" y2="${
      legendY - 4
    }" stroke="${LINE_COLOR}" stroke-width="2"/>`,
    `<text x="${left + 30}" y="${legendY}" fill="#333">training loss</text>`,
  );
  const accuracies = plot.accuracies;
  if (accuracies && accuracies.length === n) {
    const sa = (a: number) => top + height - a * height;
    const acc = accuracies.map((a, i) => `${num(sx(i))},${num(sa(a))}`).join(
      " ",
    );
    out.push(
      `<polyline points="${acc}" fill="none" stroke="${SECOND_COLOR}" stroke-width="1.5" stroke-dasharray="5 3"/>`,
      `<line x1="${left + 130}" x2="${left + 154}" y1="${legendY - 4}" y2="${
        legendY - 4
      }" stroke="${SECOND_COLOR}" stroke-width="1.5" stroke-dasharray="5 3"/>`,
      `<text x="${
        left + 160
      }" y="${legendY}" fill="#333">training accuracy (right axis)</text>`,
    );
    for (const a of [0, 0.25, 0.5, 0.75, 1]) {
      out.push(
        `<text x="${left + width + 6}" y="${num(sa(a) + 4)}" fill="#8a5a00">${
          a * 100
        }%</text>`,
      );
    }
  }
  out.push("</g>");
  return out.join("\n");
}

/**
 * Round tick values covering `[min, max]`: multiples of 1, 2 or 5 times a
 * power of ten.
 *
 * @param min Low end.
 * @param max High end.
 * @param count About how many ticks.
 * @returns Tick values within the range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { axisTicks } from "@tapegrad/tapegrad/viz";
 * assert.deepEqual(axisTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
 * ```
 */
export function axisTicks(min: number, max: number, count: number): number[] {
  if (!(max > min) || !Number.isFinite(min) || !Number.isFinite(max)) {
    return [min];
  }
  const raw = (max - min) / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ??
    10 * power;
  const ticks: number[] = [];
  for (
    let t = Math.ceil(min / step) * step;
    t <= max + step * 1e-9;
    t += step
  ) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

function tickLabel(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/**
 * Widens the shorter side of `bounds` (about its centre) so that both sides
 * have the same length: a square panel then keeps the data's proportions.
 *
 * @param bounds The region.
 * @returns A square region containing it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { squareBounds } from "@tapegrad/tapegrad/viz";
 * assert.deepEqual(squareBounds({ xMin: 0, xMax: 4, yMin: 0, yMax: 2 }), { xMin: 0, xMax: 4, yMin: -1, yMax: 3 });
 * ```
 */
export function squareBounds(bounds: PlotBounds): PlotBounds {
  const dx = bounds.xMax - bounds.xMin, dy = bounds.yMax - bounds.yMin;
  if (dx > dy) {
    const mid = (bounds.yMin + bounds.yMax) / 2;
    return { ...bounds, yMin: mid - dx / 2, yMax: mid + dx / 2 };
  }
  const mid = (bounds.xMin + bounds.xMax) / 2;
  return { ...bounds, xMin: mid - dy / 2, xMax: mid + dy / 2 };
}
