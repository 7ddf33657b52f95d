/**
 * The one colour palette of tapegrad's pictures, shared by the library's
 * plots, the CLI's SVG and the playground: the Okabe–Ito colours, which
 * stay distinct under the common forms of colour blindness, with orange
 * and blue first as in TensorFlow Playground, and a diverging orange–white–blue
 * scale for signed values (weights, neuron activations).
 *
 * @module
 */

/**
 * Class colours by class index (wrap around past eight classes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLASS_COLORS } from "@tapegrad/tapegrad/viz";
 * assert.deepEqual(CLASS_COLORS.slice(0, 2), ["#e69f00", "#0072b2"]);
 * ```
 */
export const CLASS_COLORS: readonly string[] = Object.freeze([
  "#e69f00",
  "#0072b2",
  "#009e73",
  "#cc79a7",
  "#d55e00",
  "#56b4e9",
  "#f0e442",
  "#000000",
]);

/**
 * The colour of a series or line drawn alone (a loss curve, a fitted
 * function): the palette's blue. {@linkcode SECOND_COLOR} is the palette's
 * orange, for a second series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLASS_COLORS, LINE_COLOR } from "@tapegrad/tapegrad/viz";
 * assert.equal(LINE_COLOR, CLASS_COLORS[1]);
 * ```
 */
export const LINE_COLOR: string = CLASS_COLORS[1];

/**
 * The palette's orange, for a second series beside {@linkcode LINE_COLOR}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLASS_COLORS, SECOND_COLOR } from "@tapegrad/tapegrad/viz";
 * assert.equal(SECOND_COLOR, CLASS_COLORS[0]);
 * ```
 */
export const SECOND_COLOR: string = CLASS_COLORS[0];

/**
 * A colour as `[r, g, b]`, each 0 to 255.
 *
 * @param hex `#rrggbb`.
 * @returns The channels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hexToRgb } from "@tapegrad/tapegrad/viz";
 * assert.deepEqual(hexToRgb("#0072b2"), [0, 114, 178]);
 * ```
 */
export function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/**
 * The diverging scale for a signed value: `t = -1` is the palette's
 * orange, 0 white, `t = 1` its blue (clamped outside [-1, 1]).
 *
 * @param t The value, scaled to [-1, 1].
 * @returns `[r, g, b]`, each 0 to 255.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { divergingRgb } from "@tapegrad/tapegrad/viz";
 * assert.deepEqual(divergingRgb(0), [255, 255, 255]);
 * assert.deepEqual(divergingRgb(1), [0, 114, 178]);
 * assert.deepEqual(divergingRgb(-5), [230, 159, 0]);
 * ```
 */
export function divergingRgb(t: number): [number, number, number] {
  const c = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const end = c < 0 ? NEGATIVE : POSITIVE, a = Math.abs(c);
  return [
    Math.round(255 + (end[0] - 255) * a),
    Math.round(255 + (end[1] - 255) * a),
    Math.round(255 + (end[2] - 255) * a),
  ];
}

const NEGATIVE = hexToRgb(CLASS_COLORS[0]);
const POSITIVE = hexToRgb(CLASS_COLORS[1]);
