/**
 * tapegrad's pictures, as SVG with no dependencies: the computation graph in
 * micrograd's `draw_dot` style ({@linkcode drawGraph}), a classifier's
 * decision boundary ({@linkcode plotBoundary}) and a loss curve
 * ({@linkcode plotLosses}). Each returns an {@linkcode SvgImage}: its text
 * with `String(image)`, inline in a Deno Jupyter notebook as a cell's result.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { drawGraph } from "@tapegrad/tapegrad";
 * const x = new Value(3, { label: "x" });
 * const y = x.mul(x);
 * y.label = "y";
 * y.backward();
 * const image = drawGraph(y);
 * assert.match(String(image), />grad 6\.0000</);
 * ```
 *
 * @module
 */

export { escapeXml, type MimeBundle, SvgImage } from "./svg_image.ts";
export * from "./graph_layout.ts";
export * from "./draw_graph.ts";
export * from "./plot.ts";
export * from "./palette.ts";
