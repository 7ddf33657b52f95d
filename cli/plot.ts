/**
 * Pictures of a 2-D classifier for the CLI: its decision boundary drawn in
 * the terminal (ANSI colour blocks, or plain characters), and the library's
 * SVG training picture as a standalone file.
 *
 * Pure functions of their inputs: no Deno APIs, so the playground can reuse them.
 *
 * @module
 */

import {
  type BoundaryGrid,
  type PlotBounds,
  plotTraining,
  type TrainingPlot,
} from "../mod.ts";

export {
  axisTicks,
  type BoundaryGrid,
  dataBounds,
  escapeXml,
  type PlotBounds,
  sampleBoundary,
  squareBounds,
  type Verdict,
} from "../viz/mod.ts";

/**
 * The training picture as a standalone `.svg` file: the library's
 * {@linkcode plotTraining} with the XML declaration.
 *
 * @param plot What to draw.
 * @returns The file's text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderSvg } from "./plot.ts";
 * const svg = renderSvg({ title: "loss", classes: 2, losses: [1, 0.5, 0.25] });
 * assert.match(svg, /^<\?xml/);
 * assert.match(svg, /<polyline/);
 * ```
 */
export function renderSvg(plot: TrainingPlot): string {
  return plotTraining(plot).toFile();
}

/**
 * A grid size for the terminal: `width` columns and enough rows to keep the
 * data's aspect ratio, given that a character cell is about twice as tall as
 * it is wide.
 *
 * @param bounds The region to draw.
 * @param width Columns available.
 * @returns Columns and rows (rows clamped to 6…32).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { terminalGridSize } from "./plot.ts";
 * assert.deepEqual(terminalGridSize({ xMin: 0, xMax: 2, yMin: 0, yMax: 1 }, 60), { cols: 60, rows: 15 });
 * ```
 */
export function terminalGridSize(
  bounds: PlotBounds,
  width: number,
): { cols: number; rows: number } {
  const aspect = (bounds.yMax - bounds.yMin) / (bounds.xMax - bounds.xMin);
  const rows = Math.round((width * aspect) / 2);
  return { cols: width, rows: Math.min(32, Math.max(6, rows)) };
}

// Plain-text symbols: region fill and point marker per class (cycled).
const REGION_CHARS = [".", " ", ":", "-", "=", "~", "'", "`"];
const POINT_CHARS = ["o", "x", "+", "*", "#", "@", "%", "&"];
// 256-colour ANSI: dark region backgrounds and bright point colours.
const REGION_BG = [52, 17, 22, 58, 53, 23, 94, 236];
const POINT_FG = [203, 75, 78, 221, 177, 80, 215, 250];

/** Options for {@linkcode renderTerminal}. */
export interface TerminalOptions {
  /** ANSI colour blocks (`true`) or plain characters. */
  color: boolean;
  /** Class names for the legend (default: the class index). */
  labelNames?: readonly string[];
  /** Names of the horizontal and vertical axes (default `x`, `y`). */
  axisNames?: readonly [string, string];
}

/**
 * Draws the decision boundary and the data points as lines of text, framed,
 * with the axis ranges and a legend below. With colour, regions are dark
 * background blocks and points bright dots; without, regions are `.` / blank
 * / `:` … and points `o` / `x` / `+` ….
 *
 * @param grid The sampled boundary.
 * @param points The data points `[x, y]`.
 * @param labels The class of each point.
 * @param classes The number of classes.
 * @param options Colour and class names.
 * @returns The lines, without newlines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderTerminal, sampleBoundary } from "./plot.ts";
 * const bounds = { xMin: 0, xMax: 4, yMin: 0, yMax: 1 };
 * const grid = sampleBoundary(([x]) => ({ cls: x > 2 ? 1 : 0, confidence: 1 }), bounds, 4, 1);
 * const lines = renderTerminal(grid, [[0.5, 0.5], [3.5, 0.5]], [0, 1], 2, { color: false });
 * assert.equal(lines[1], "|o. x|");
 * ```
 */
export function renderTerminal(
  grid: BoundaryGrid,
  points: readonly number[][],
  labels: readonly number[],
  classes: number,
  options: TerminalOptions,
): string[] {
  const { cols, rows, bounds } = grid;
  const marks = new Int32Array(cols * rows).fill(-1);
  points.forEach(([x, y], i) => {
    const c = Math.floor(
      ((x - bounds.xMin) / (bounds.xMax - bounds.xMin)) * cols,
    );
    const r = Math.floor(
      ((bounds.yMax - y) / (bounds.yMax - bounds.yMin)) * rows,
    );
    if (c >= 0 && c < cols && r >= 0 && r < rows) {
      marks[r * cols + c] = labels[i];
    }
  });
  const color = options.color;
  const lines: string[] = [];
  const edge = color ? "" : `+${"-".repeat(cols)}+`;
  if (!color) lines.push(edge);
  for (let r = 0; r < rows; r++) {
    let line = color ? "" : "|";
    let open = -2;
    for (let c = 0; c < cols; c++) {
      const k = r * cols + c;
      const region = grid.classes[k], mark = marks[k];
      if (color) {
        const bg = REGION_BG[region % REGION_BG.length];
        const fg = mark >= 0 ? POINT_FG[mark % POINT_FG.length] : -1;
        const key = bg * 1000 + fg;
        if (key !== open) {
          line += fg >= 0
            ? `\x1b[48;5;${bg};38;5;${fg}m`
            : `\x1b[48;5;${bg};39m`;
          open = key;
        }
        line += mark >= 0 ? "●" : " ";
      } else {
        line += mark >= 0
          ? POINT_CHARS[mark % POINT_CHARS.length]
          : REGION_CHARS[region % REGION_CHARS.length];
      }
    }
    lines.push(color ? `${line}\x1b[0m` : `${line}|`);
  }
  if (!color) lines.push(edge);
  const fmt = (x: number) => String(Number(x.toPrecision(3)));
  const [xName, yName] = options.axisNames ?? ["x", "y"];
  lines.push(
    `${xName}: ${fmt(bounds.xMin)} … ${fmt(bounds.xMax)} (across)   ${yName}: ${
      fmt(bounds.yMin)
    } … ${fmt(bounds.yMax)} (up)`,
  );
  const legend: string[] = [];
  for (let k = 0; k < classes; k++) {
    const name = options.labelNames?.[k] ?? String(k);
    if (color) {
      const bg = REGION_BG[k % REGION_BG.length],
        fg = POINT_FG[k % POINT_FG.length];
      legend.push(`\x1b[48;5;${bg};38;5;${fg}m ● \x1b[0m class ${name}`);
    } else {
      const region = REGION_CHARS[k % REGION_CHARS.length];
      legend.push(
        `${POINT_CHARS[k % POINT_CHARS.length]} class ${name} (region ${
          region === " " ? "blank" : `"${region}"`
        })`,
      );
    }
  }
  lines.push(legend.join("   "));
  return lines;
}
