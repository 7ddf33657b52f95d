/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * Canvas drawing for the train view: the decision surface as a heat map
 * under the data points, dataset thumbnails, and the loss and accuracy
 * curves.
 *
 * @module
 */

import type { DataMessage, GridMessage } from "./protocol.ts";
import {
  CLASS_COLORS,
  divergingRgb,
  hexToRgb,
  LINE_COLOR,
  SECOND_COLOR,
} from "../viz/palette.ts";

/** Class colours: the library's one palette (viz/palette.ts). */
export { CLASS_COLORS };

const CLASS_RGB = CLASS_COLORS.map(hexToRgb);

/**
 * Sizes a canvas's backing store to its displayed size times the device
 * pixel ratio, and scales its context so drawing uses CSS pixels.
 *
 * @param canvas The canvas.
 * @returns The context and the size in CSS pixels, or `undefined` while the
 * canvas is not displayed (a hidden view): draw again once it shows.
 */
export function fitCanvas(
  canvas: HTMLCanvasElement,
):
  | { ctx: CanvasRenderingContext2D; width: number; height: number }
  | undefined {
  const rect = canvas.getBoundingClientRect();
  if (rect.width === 0 || rect.height === 0) return undefined;
  const width = Math.round(rect.width);
  const height = Math.round(rect.height);
  const dpr = Math.min(3, globalThis.devicePixelRatio || 1);
  const w = Math.round(width * dpr), h = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, width, height };
}

/** What the boundary plot shows. */
export interface BoundaryScene {
  /** Points, labels, bounds. */
  data: DataMessage;
  /** The decision surface. */
  grid: GridMessage;
  /** Whether to draw the test points (hollow). */
  showTest: boolean;
  /** A signed surface to draw instead of the decision surface (a pinned neuron). */
  heat?: { size: number; values: ArrayLike<number>; offset: number };
}

/**
 * Colours `size * size` signed values from `offset` into RGBA pixels with
 * the palette's diverging scale, scaled by their largest magnitude.
 *
 * @param px The pixels (4 bytes per value).
 * @param values The values.
 * @param offset Where the values start.
 * @param cells How many values.
 */
export function fillHeat(
  px: Uint8ClampedArray,
  values: ArrayLike<number>,
  offset: number,
  cells: number,
): void {
  let scale = 0;
  for (let i = 0; i < cells; i++) {
    const v = Math.abs(values[offset + i]);
    if (v > scale) scale = v;
  }
  if (!(scale > 0 && Number.isFinite(scale))) scale = 1;
  for (let i = 0; i < cells; i++) {
    const [r, g, b] = divergingRgb(values[offset + i] / scale);
    px[4 * i] = r;
    px[4 * i + 1] = g;
    px[4 * i + 2] = b;
    px[4 * i + 3] = 255;
  }
}

let gridCanvas: HTMLCanvasElement | undefined;

/**
 * Draws the decision surface (class colour, stronger where the model is more
 * confident) with the data points on top, and light axes.
 *
 * @param canvas The plot canvas.
 * @param scene What to draw.
 * @returns Whether it drew (not while the canvas is hidden).
 */
export function drawBoundary(
  canvas: HTMLCanvasElement,
  scene: BoundaryScene,
): boolean {
  const fitted = fitCanvas(canvas);
  if (!fitted) return false;
  const { ctx, width, height } = fitted;
  const { grid, data, heat } = scene;
  const size = heat?.size ?? grid.size;
  gridCanvas ??= document.createElement("canvas");
  if (gridCanvas.width !== size) {
    gridCanvas.width = size;
    gridCanvas.height = size;
  }
  const gctx = gridCanvas.getContext("2d")!;
  const image = gctx.createImageData(size, size);
  const px = image.data;
  // Regression: targets span [-range, range] on the diverging scale.
  const regression = data.classes === 0;
  let range = 0;
  for (const t of data.trainLabels) range = Math.max(range, Math.abs(t));
  if (!(range > 0)) range = 1;
  if (heat) fillHeat(px, heat.values, heat.offset, size * size);
  else if (grid.values) {
    for (let i = 0; i < size * size; i++) {
      const [r, g, b] = divergingRgb(grid.values[i] / range);
      px[4 * i] = r;
      px[4 * i + 1] = g;
      px[4 * i + 2] = b;
      px[4 * i + 3] = 255;
    }
  } else if (grid.curve) px.fill(255);
  for (let i = 0; !heat && !regression && i < size * size; i++) {
    const confidence = grid.confidence[i];
    if (!(confidence >= 0 && confidence <= 1)) {
      // The model's output is not a number here (a diverged model): grey.
      px.set([222, 224, 229, 255], 4 * i);
      continue;
    }
    const [r, g, b] = CLASS_RGB[grid.classes[i] % CLASS_RGB.length];
    // Mix the class colour into white: faint near the boundary, full when sure.
    const a = 0.1 + 0.55 * confidence;
    px[4 * i] = Math.round(255 + (r - 255) * a);
    px[4 * i + 1] = Math.round(255 + (g - 255) * a);
    px[4 * i + 2] = Math.round(255 + (b - 255) * a);
    px[4 * i + 3] = 255;
  }
  gctx.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(gridCanvas, 0, 0, width, height);

  const [xMin, xMax, yMin, yMax] = data.bounds;
  const sx = (x: number) => ((x - xMin) / (xMax - xMin)) * width;
  const sy = (y: number) => ((yMax - y) / (yMax - yMin)) * height;
  drawAxes(ctx, width, height, data.bounds, sx, sy);

  const radius = Math.max(3, Math.min(5.5, width / 110));
  const dot = (x: number, y: number, cls: number, hollow: boolean) => {
    ctx.beginPath();
    ctx.arc(sx(x), sy(y), radius, 0, 2 * Math.PI);
    // Regression points: 1-D in the line colour, 2-D coloured by target.
    const color = !regression
      ? CLASS_COLORS[cls % CLASS_COLORS.length]
      : grid.curve
      ? LINE_COLOR
      : `rgb(${divergingRgb(cls / range).join(",")})`;
    if (hollow) {
      ctx.lineWidth = 2;
      ctx.strokeStyle = color;
      ctx.fillStyle = "rgba(255,255,255,0.85)";
      ctx.fill();
      ctx.stroke();
    } else {
      ctx.fillStyle = color;
      ctx.fill();
      // 2-D regression points share the surface's colours: outline them.
      ctx.lineWidth = regression && !grid.curve ? 1 : 1.4;
      ctx.strokeStyle = regression && !grid.curve ? "#1b1f24" : "#ffffff";
      ctx.stroke();
    }
  };
  if (scene.showTest) {
    for (let i = 0; i < data.testLabels.length; i++) {
      dot(data.test[2 * i], data.test[2 * i + 1], data.testLabels[i], true);
    }
  }
  for (let i = 0; i < data.trainLabels.length; i++) {
    dot(data.train[2 * i], data.train[2 * i + 1], data.trainLabels[i], false);
  }
  const curve = grid.curve;
  if (curve && !heat) {
    // The fitted function over the points.
    ctx.beginPath();
    for (let c = 0; c < curve.length; c++) {
      const x = xMin + (c / (curve.length - 1)) * (xMax - xMin);
      const y = Math.max(yMin - 1, Math.min(yMax + 1, curve[c]));
      if (c === 0) ctx.moveTo(sx(x), sy(y));
      else ctx.lineTo(sx(x), sy(y));
    }
    ctx.lineWidth = 3;
    ctx.strokeStyle = SECOND_COLOR;
    ctx.stroke();
  }
  return true;
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function drawAxes(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  bounds: readonly number[],
  sx: (x: number) => number,
  sy: (y: number) => number,
): void {
  const [xMin, xMax, yMin, yMax] = bounds;
  const step = niceStep(xMax - xMin, 6);
  ctx.save();
  ctx.lineWidth = 1;
  ctx.font = "10.5px system-ui, sans-serif";
  ctx.fillStyle = "rgba(60, 64, 72, 0.75)";
  for (let x = Math.ceil(xMin / step) * step; x <= xMax; x += step) {
    const X = Math.round(sx(x)) + 0.5;
    ctx.strokeStyle = Math.abs(x) < step / 2
      ? "rgba(30, 35, 45, 0.28)"
      : "rgba(30, 35, 45, 0.08)";
    ctx.beginPath();
    ctx.moveTo(X, 0);
    ctx.lineTo(X, height);
    ctx.stroke();
    ctx.textAlign = "center";
    ctx.fillText(label(x), X, height - 5);
  }
  for (let y = Math.ceil(yMin / step) * step; y <= yMax; y += step) {
    const Y = Math.round(sy(y)) + 0.5;
    ctx.strokeStyle = Math.abs(y) < step / 2
      ? "rgba(30, 35, 45, 0.28)"
      : "rgba(30, 35, 45, 0.08)";
    ctx.beginPath();
    ctx.moveTo(0, Y);
    ctx.lineTo(width, Y);
    ctx.stroke();
    ctx.textAlign = "left";
    ctx.fillText(label(y), 5, Y - 3);
  }
  ctx.restore();
}

function label(x: number): string {
  const r = Math.round(x * 1000) / 1000;
  return String(Object.is(r, -0) ? 0 : r);
}

/**
 * Draws a dataset's points small, for the dataset picker.
 *
 * @param canvas The thumbnail canvas.
 * @param x Points.
 * @param y Labels (targets for regression).
 * @param regression Colour by target on the diverging scale.
 */
export function drawThumbnail(
  canvas: HTMLCanvasElement,
  x: readonly number[][],
  y: readonly number[],
  regression = false,
): void {
  const fitted = fitCanvas(canvas);
  if (!fitted) return;
  const { ctx, width, height } = fitted;
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const [a, b] of x) {
    xMin = Math.min(xMin, a);
    xMax = Math.max(xMax, a);
    yMin = Math.min(yMin, b);
    yMax = Math.max(yMax, b);
  }
  const span = Math.max(xMax - xMin, yMax - yMin) * 1.15 || 1;
  const cx = (xMin + xMax) / 2, cy = (yMin + yMax) / 2;
  ctx.clearRect(0, 0, width, height);
  for (let i = 0; i < x.length; i++) {
    ctx.fillStyle = regression
      ? `rgb(${divergingRgb(y[i]).join(",")})`
      : CLASS_COLORS[y[i] % CLASS_COLORS.length];
    const px = ((x[i][0] - cx) / span + 0.5) * width;
    const py = (0.5 - (x[i][1] - cy) / span) * height;
    ctx.beginPath();
    ctx.arc(px, py, 1.6, 0, 2 * Math.PI);
    ctx.fill();
  }
}

/** One line of a chart. */
export interface Series {
  /** x values (steps), increasing. */
  x: ArrayLike<number>;
  /** y values. */
  y: ArrayLike<number>;
  /** Line colour. */
  color: string;
}

/** How a chart's y axis is drawn. */
export interface ChartOptions {
  /** Logarithmic y (for the loss). */
  log?: boolean;
  /** Fixed y range; default: the data's. */
  yRange?: [number, number];
  /** Formats y tick labels. */
  format: (y: number) => string;
  /** Shown when there is no data yet. */
  empty: string;
}

/**
 * Draws line charts of values against steps. Long series are averaged per
 * pixel column, so drawing stays cheap however long training runs.
 *
 * @param canvas The chart canvas.
 * @param series The lines.
 * @param options Axis options.
 */
export function drawChart(
  canvas: HTMLCanvasElement,
  series: readonly Series[],
  options: ChartOptions,
): void {
  const fitted = fitCanvas(canvas);
  if (!fitted) return;
  const { ctx, width, height } = fitted;
  ctx.clearRect(0, 0, width, height);
  const left = 44, right = 10, top = 10, bottom = 20;
  const w = width - left - right, h = height - top - bottom;
  const all = series.filter((s) => s.x.length > 0);
  ctx.font = "10.5px system-ui, sans-serif";
  ctx.fillStyle = "#8a909c";
  if (all.length === 0) {
    ctx.textAlign = "center";
    ctx.fillText(options.empty, width / 2, height / 2);
    return;
  }
  let xMax = 1;
  let yLo = Infinity, yHi = -Infinity;
  const tf = (y: number) => (options.log ? Math.log10(Math.max(y, 1e-12)) : y);
  for (const s of all) {
    xMax = Math.max(xMax, s.x[s.x.length - 1]);
    for (let i = 0; i < s.y.length; i++) {
      const v = s.y[i];
      if (!Number.isFinite(v)) continue;
      const t = tf(v);
      if (t < yLo) yLo = t;
      if (t > yHi) yHi = t;
    }
  }
  if (options.yRange) [yLo, yHi] = options.yRange.map(tf) as [number, number];
  if (!(yHi > yLo)) {
    yHi = yLo + (options.log ? 1 : 1);
    yLo -= options.log ? 1 : 0;
  }
  const pad = options.yRange ? 0 : (yHi - yLo) * 0.06;
  yLo -= pad;
  yHi += pad;
  const X = (x: number) => left + (x / xMax) * w;
  const Y = (t: number) => top + (1 - (t - yLo) / (yHi - yLo)) * h;

  // Grid and labels.
  ctx.strokeStyle = "#eef0f3";
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  const ticks = options.log ? logTicks(yLo, yHi) : linearTicks(yLo, yHi, 4);
  for (const t of ticks) {
    const yy = Math.round(Y(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left, yy);
    ctx.lineTo(width - right, yy);
    ctx.stroke();
    ctx.fillText(options.format(options.log ? 10 ** t : t), left - 6, yy + 3.5);
  }
  ctx.textAlign = "left";
  ctx.fillText("0", left, height - 5);
  ctx.textAlign = "right";
  ctx.fillText(`step ${Math.round(xMax)}`, width - right, height - 5);

  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top - 2, w, h + 4);
  ctx.clip();
  for (const s of all) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.8;
    ctx.lineJoin = "round";
    ctx.beginPath();
    const n = s.x.length;
    const columns = Math.max(1, Math.floor(w));
    let started = false;
    if (n <= columns * 2) {
      for (let i = 0; i < n; i++) {
        const v = s.y[i];
        if (!Number.isFinite(v)) continue;
        const px = X(s.x[i]), py = Y(tf(v));
        if (started) ctx.lineTo(px, py);
        else ctx.moveTo(px, py);
        started = true;
      }
    } else {
      // Average per pixel column.
      let i = 0;
      for (let c = 0; c < columns && i < n; c++) {
        const limit = ((c + 1) / columns) * xMax;
        let sum = 0, count = 0;
        while (i < n && s.x[i] <= limit) {
          const v = s.y[i++];
          if (Number.isFinite(v)) {
            sum += tf(v);
            count++;
          }
        }
        if (count === 0) continue;
        const px = left + ((c + 0.5) / columns) * w, py = Y(sum / count);
        if (started) ctx.lineTo(px, py);
        else ctx.moveTo(px, py);
        started = true;
      }
    }
    ctx.stroke();
  }
  ctx.restore();
}

function linearTicks(lo: number, hi: number, target: number): number[] {
  const step = niceStep(hi - lo, target);
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) {
    ticks.push(Math.round(t / step) * step);
  }
  return ticks;
}

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const every = Math.max(1, Math.ceil((hi - lo) / 4));
  for (let t = Math.ceil(lo); t <= hi; t += every) ticks.push(t);
  if (ticks.length < 2) return linearTicks(lo, hi, 3);
  return ticks;
}
