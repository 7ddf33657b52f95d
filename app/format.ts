/**
 * Number, duration and colour formatting shared by the CLI and the playground.
 *
 * @module
 */

/**
 * Formats a number compactly: at most `digits` significant digits, no
 * trailing zeros, exponent notation only for very small or very large
 * magnitudes (`10.24`, `0.016384`, `2.62144e-5`, `1.5e+9`).
 *
 * @param x The number.
 * @param digits Significant digits, 1 to 17 (default 6).
 * @returns The text; `NaN`, `Infinity` and `-Infinity` as JavaScript spells them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatNumber } from "./format.ts";
 * assert.equal(formatNumber(0.40960000000000024), "0.4096");
 * assert.equal(formatNumber(1.9998976), "1.9999");
 * assert.equal(formatNumber(0.0000262144), "2.62144e-5");
 * ```
 */
export function formatNumber(x: number, digits = 6): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const abs = Math.abs(x);
  if (abs >= 1e-4 && abs < 1e9) {
    const text = stripZeros(x.toPrecision(digits));
    // toPrecision switches to exponent form when digits < integer digits.
    if (!text.includes("e")) return text === "-0" ? "0" : text;
    return x.toFixed(0);
  }
  const [mantissa, exponent] = x.toExponential(digits - 1).split("e");
  return `${stripZeros(mantissa)}e${exponent}`;
}

function stripZeros(text: string): string {
  if (!text.includes(".") || text.includes("e")) return text;
  return text.replace(/\.?0+$/, "");
}

/**
 * Formats a fraction as a percentage with one decimal: `0.97` → `97.0%`.
 *
 * @param fraction A number in [0, 1].
 * @returns The percentage text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPercent } from "./format.ts";
 * assert.equal(formatPercent(0.97), "97.0%");
 * ```
 */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/**
 * Formats a duration in seconds for people: `0.42s`, `12.3s`, `2m05s`.
 *
 * @param seconds A non-negative duration.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./format.ts";
 * assert.equal(formatDuration(0.421), "0.42s");
 * assert.equal(formatDuration(125), "2m05s");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 10) return `${seconds.toFixed(2)}s`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60), rest = whole % 60;
  if (minutes < 60) return `${minutes}m${String(rest).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h${String(minutes % 60).padStart(2, "0")}m`;
}

/**
 * Formats a rate such as steps per second with about three significant
 * digits: `1234`, `56.7`, `0.89`.
 *
 * @param rate A non-negative number.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRate } from "./format.ts";
 * assert.equal(formatRate(1234.5), "1235");
 * assert.equal(formatRate(56.74), "56.7");
 * ```
 */
export function formatRate(rate: number): string {
  if (!Number.isFinite(rate)) return "?";
  if (rate >= 100) return rate.toFixed(0);
  if (rate >= 10) return rate.toFixed(1);
  return rate.toFixed(2);
}

/** ANSI styles the CLI uses; each wraps text when colour is on. */
export interface Style {
  /** Whether colour escapes are emitted. */
  readonly enabled: boolean;
  /** Bold text. */
  bold(text: string): string;
  /** Dimmed text. */
  dim(text: string): string;
  /** Red text, for errors. */
  red(text: string): string;
  /** Yellow text, for warnings. */
  yellow(text: string): string;
  /** Green text, for success. */
  green(text: string): string;
  /** Cyan text, for names. */
  cyan(text: string): string;
}

/**
 * ANSI styles, or identity functions when colour is off (NO_COLOR, not a
 * terminal, or `--no-color`).
 *
 * @param enabled Whether to emit escape codes.
 * @returns The styles.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeStyle } from "./format.ts";
 * assert.equal(makeStyle(false).bold("x"), "x");
 * assert.equal(makeStyle(true).bold("x"), "\x1b[1mx\x1b[22m");
 * ```
 */
export function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    green: wrap(32, 39),
    cyan: wrap(36, 39),
  };
}

/**
 * Pads rows of cells into aligned columns separated by two spaces.
 *
 * @param rows The rows; every cell is plain text (no escape codes).
 * @param align Per column `"left"` (default) or `"right"`.
 * @returns One string per row, trailing spaces removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { table } from "./format.ts";
 * assert.deepEqual(table([["a", "1"], ["bcd", "22"]], ["left", "right"]), ["a     1", "bcd  22"]);
 * ```
 */
export function table(
  rows: readonly (readonly string[])[],
  align: readonly ("left" | "right")[] = [],
): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, k) => {
      widths[k] = Math.max(widths[k] ?? 0, [...cell].length);
    });
  }
  return rows.map((row) =>
    row.map((cell, k) => {
      const pad = widths[k] - [...cell].length;
      return align[k] === "right"
        ? " ".repeat(pad) + cell
        : cell + " ".repeat(pad);
    }).join("  ").trimEnd()
  );
}
