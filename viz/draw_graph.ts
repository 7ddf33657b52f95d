/**
 * The computation graph as an SVG picture in micrograd's `draw_dot` style,
 * laid out by tapegrad itself (no Graphviz): left to right, a record box per
 * value (`label | data | grad`), a small circle per op.
 *
 * @module
 */

import { Value } from "../engine/mod.ts";
import {
  DEFAULT_LAYOUT_SIZES,
  layoutEdgeKey,
  layoutGraph,
  type LayoutInput,
  type LayoutSizes,
} from "./graph_layout.ts";
import { escapeXml, SvgImage, svgNumber as num } from "./svg_image.ts";

/** Options for {@linkcode drawGraph}. */
export interface DrawGraphOptions {
  /** Digits after the decimal point for data and grad (default 4). */
  digits?: number;
  /**
   * The most nodes drawn (default {@linkcode DRAW_GRAPH_MAX_NODES}); a larger
   * graph is refused, since its picture would be unreadable.
   */
  maxNodes?: number;
}

/** The default size limit of {@linkcode drawGraph}, in value nodes. */
export const DRAW_GRAPH_MAX_NODES = 400;

// Monospace text at 12px: about 7.2px per character.
const CHAR = 7.2;
const PAD = 7;
const BOX_HEIGHT = 28;
const OP_RADIUS = 14;
const GAP_X = 2 * OP_RADIUS + 56;

/** One value node as drawn. */
interface Box {
  index: number;
  fields: [string, string, string];
  op: string;
  inputs: number[];
}

/**
 * Draws the graph that produced `root` as SVG: each value a record box
 * `label | data … | grad …` (unlabelled values show their tape index `#i`),
 * each op a circle just left of its result, edges from inputs to ops. Columns
 * follow depth and rows are ordered to keep edge crossings low. Call
 * `root.backward()` first to see gradients. In a Jupyter notebook the result
 * shows inline; elsewhere `String(image)` is the SVG text.
 *
 * @param root The output Value.
 * @param options Number formatting and the size limit.
 * @returns The picture.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawGraph, Tape, Value } from "@tapegrad/tapegrad";
 * const tape = new Tape();
 * const a = new Value(2, { tape, label: "a" });
 * const b = new Value(-3, { tape, label: "b" });
 * const e = a.mul(b);
 * e.label = "e";
 * e.backward();
 * const image = drawGraph(e);
 * assert.match(image.svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
 * assert.match(image.svg, />data 2\.0000</);
 * assert.match(image.svg, />grad -3\.0000</);
 * assert.equal(image.svg.match(/class="value"/g)!.length, 3);
 * assert.equal(image.svg.match(/class="op"/g)!.length, 1);
 * ```
 *
 * @throws {TypeError} If `root` is not a live Value.
 * @throws {RangeError} If an option is out of range or the graph has more
 * than `maxNodes` nodes.
 */
export function drawGraph(
  root: Value,
  options: DrawGraphOptions = {},
): SvgImage {
  if (!(root instanceof Value)) {
    throw new TypeError(
      `drawGraph() needs a Value, got ${
        root === null ? "null" : Array.isArray(root) ? "an array" : typeof root
      }`,
    );
  }
  try {
    root.data;
  } catch (error) {
    throw new TypeError(
      `drawGraph() needs a live Value: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const digits = options.digits ?? 4;
  if (!Number.isInteger(digits) || digits < 0 || digits > 100) {
    throw new RangeError(
      `drawGraph() digits must be an integer from 0 to 100, got ${digits}`,
    );
  }
  const maxNodes = options.maxNodes ?? DRAW_GRAPH_MAX_NODES;
  if (!Number.isInteger(maxNodes) || maxNodes < 1) {
    throw new RangeError(
      `drawGraph() maxNodes must be a positive integer, got ${maxNodes}`,
    );
  }

  const tape = root.tape;
  // Reachable nodes, counted before anything is built so that a huge graph
  // is refused cheaply.
  const seen = new Set<number>([root.index]);
  const stack = [root.index];
  while (stack.length > 0) {
    for (const j of tape.inputsOf(stack.pop()!)) {
      if (!seen.has(j)) {
        seen.add(j);
        if (seen.size > maxNodes) {
          throw new RangeError(
            `drawGraph() draws graphs of up to ${maxNodes} nodes, and this one has more; use displayGraph(root) for a text view, or pass a larger maxNodes`,
          );
        }
        stack.push(j);
      }
    }
  }
  const order = [...seen].sort((a, b) => a - b);
  const boxes: Box[] = order.map((i) => {
    const v = Value.at(tape, i);
    return {
      index: i,
      fields: [
        tape.labels.get(i) ?? `#${i}`,
        `data ${tape.data[i].toFixed(digits)}`,
        `grad ${tape.grad[i].toFixed(digits)}`,
      ],
      op: v.op,
      inputs: tape.inputsOf(i),
    };
  });

  // Field widths shared by every box, so that columns line up.
  const fieldWidth = [0, 1, 2].map((k) =>
    Math.max(...boxes.map((b) => b.fields[k].length)) * CHAR + 2 * PAD
  );
  const width = fieldWidth[0] + fieldWidth[1] + fieldWidth[2];
  const sizes: LayoutSizes = {
    ...DEFAULT_LAYOUT_SIZES,
    width,
    height: BOX_HEIGHT,
    gapX: GAP_X,
    gapY: 14,
    lane: 6,
  };
  const nodes: LayoutInput[] = boxes.map((b) => ({
    index: b.index,
    inputs: b.inputs,
    kind: b.inputs.length > 0
      ? "op"
      : b.op === "const"
      ? "constant"
      : "variable",
  }));
  const layout = layoutGraph(nodes, sizes);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${
      num(layout.width)
    }" height="${num(layout.height)}" viewBox="0 0 ${num(layout.width)} ${
      num(layout.height)
    }" font-family="ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="12">`,
    `<title>${
      escapeXml(`computation graph of ${boxes.at(-1)!.fields[0]}`)
    }</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<g fill="none" stroke="#555" stroke-width="1.2">`,
  ];
  const mid = BOX_HEIGHT / 2;
  // Edges: input box → (lanes of long edges) → op circle → result box.
  for (const b of boxes) {
    if (b.inputs.length === 0) continue;
    const to = layout.places.get(b.index)!;
    const cx = to.x - GAP_X / 2, cy = to.y + mid;
    b.inputs.forEach((j, slot) => {
      const from = layout.places.get(j)!;
      let x = from.x + width, y = from.y + mid;
      let d = `M${num(x)} ${num(y)}`;
      const curveTo = (x2: number, y2: number) => {
        const h = (x2 - x) / 2;
        d += `C${num(x + h)} ${num(y)} ${num(x2 - h)} ${num(y2)} ${num(x2)} ${
          num(y2)
        }`;
        x = x2;
        y = y2;
      };
      for (const w of layout.routes.get(layoutEdgeKey(b.index, slot)) ?? []) {
        curveTo(w.x1, w.y);
        d += `H${num(w.x2)}`;
        x = w.x2;
      }
      curveTo(cx - OP_RADIUS, cy);
      out.push(`<path class="edge" d="${d}" marker-end="url(#arrow)"/>`);
    });
    out.push(
      `<path class="edge" d="M${num(cx + OP_RADIUS)} ${num(cy)}H${
        num(to.x)
      }" marker-end="url(#arrow)"/>`,
    );
  }
  out.push(`</g>`);
  out.splice(
    2,
    0,
    `<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6" orient="auto"><path d="M0 0L8 4L0 8z" fill="#555"/></marker></defs>`,
  );
  for (const b of boxes) {
    const p = layout.places.get(b.index)!;
    const fill = b.index === root.index
      ? "#fff4d6"
      : b.inputs.length === 0
      ? "#eef5ff"
      : "#ffffff";
    out.push(
      `<g class="value" data-index="${b.index}" transform="translate(${
        num(p.x)
      } ${num(p.y)})">`,
      `<rect width="${
        num(width)
      }" height="${BOX_HEIGHT}" rx="3" fill="${fill}" stroke="#333"/>`,
    );
    let fx = 0;
    b.fields.forEach((text, k) => {
      if (k > 0) {
        out.push(
          `<line x1="${num(fx)}" x2="${
            num(fx)
          }" y1="0" y2="${BOX_HEIGHT}" stroke="#333"/>`,
        );
      }
      out.push(
        `<text x="${num(fx + fieldWidth[k] / 2)}" y="${
          mid + 4
        }" text-anchor="middle" fill="#111"${
          k === 0 ? ' font-weight="600"' : ""
        }>${escapeXml(text)}</text>`,
      );
      fx += fieldWidth[k];
    });
    out.push(`</g>`);
    if (b.inputs.length > 0) {
      const cx = p.x - GAP_X / 2, cy = p.y + mid;
      out.push(
        `<g class="op" data-index="${b.index}">`,
        `<circle cx="${num(cx)}" cy="${
          num(cy)
        }" r="${OP_RADIUS}" fill="#f3f3f3" stroke="#333"/>`,
        `<text x="${num(cx)}" y="${
          num(cy + 4)
        }" text-anchor="middle" fill="#111"${
          b.op.length > 2 ? ' font-size="9"' : ""
        }>${escapeXml(b.op)}</text>`,
        `</g>`,
      );
    }
  }
  out.push(`</svg>`);
  return new SvgImage(out.join("\n"), layout.width, layout.height);
}
