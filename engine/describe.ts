/**
 * How every tapegrad error message names the value it got: strings quoted,
 * numbers as written, bigints with their `n`, arrays and objects by kind.
 * One helper for the engine, the nn layer and anyone writing their own
 * modules, so that messages read alike.
 *
 * @module
 */

/** Options for {@linkcode describeValue}. */
export interface DescribeOptions {
  /**
   * Name an array with its length, `an array of length 3` (default), or
   * just `an array`.
   */
  arrayLength?: boolean;
  /**
   * Name an object by its class, `an object (Tape)`, and a function or a
   * symbol by its `typeof`; by default they read `an object`, `a function`
   * and the symbol itself.
   */
  className?: boolean;
}

/**
 * Formats a value for the end of an error message (`…, got ${text}`).
 *
 * @param x The value the caller passed.
 * @param options How to name arrays and objects.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeValue, Tape } from "@tapegrad/tapegrad";
 * assert.equal(describeValue("relu"), '"relu"');
 * assert.equal(describeValue(NaN), "NaN");
 * assert.equal(describeValue(2n), "2n");
 * assert.equal(describeValue([1, 2]), "an array of length 2");
 * assert.equal(describeValue([1, 2], { arrayLength: false }), "an array");
 * assert.equal(describeValue(new Tape()), "an object");
 * assert.equal(describeValue(new Tape(), { className: true }), "an object (Tape)");
 * ```
 */
export function describeValue(
  x: unknown,
  options: DescribeOptions = {},
): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "bigint") return `${x}n`;
  if (x === null) return "null";
  if (Array.isArray(x)) {
    return options.arrayLength === false
      ? "an array"
      : `an array of length ${x.length}`;
  }
  if (typeof x === "object") {
    return options.className
      ? `an object (${(x as object).constructor?.name ?? "Object"})`
      : "an object";
  }
  if (options.className && (typeof x === "function" || typeof x === "symbol")) {
    return typeof x;
  }
  if (typeof x === "function") return "a function";
  return String(x);
}
