// Private helpers for nn's argument errors: quoting a bad value, and the positive-integer check.

import { describeValue, Value } from "../engine/mod.ts";

/** How {@linkcode show} names arrays and Values; the defaults suit most nn messages. */
export interface ShowOptions {
  /**
   * Whether an array is named with its length, `an array of length 3`, or
   * just as `an array` (default `true`). The data, CSV and random-number
   * messages have always used the short form.
   */
  arrayLength?: boolean;
  /**
   * Whether a {@linkcode Value} is named `a Value` rather than `an object`
   * (default `false`). The optimizers use it: a lone Value where a list of
   * parameters belongs is the likely mistake there.
   */
  value?: boolean;
}

/**
 * Formats a bad argument for an error message: the engine's
 * {@linkcode describeValue}, with nn's option to name a stray Value.
 *
 * @param x The value to format.
 * @param options How to name arrays and Values.
 * @returns The text to put after "got" in the message.
 */
export function show(x: unknown, options: ShowOptions = {}): string {
  if (options.value === true && x instanceof Value) return "a Value";
  return describeValue(x, { arrayLength: options.arrayLength });
}

/**
 * Throws unless `x` is a positive integer.
 *
 * @param x The value to check.
 * @param name What it is, for the error message.
 * @throws {TypeError} If `x` is not a number.
 * @throws {RangeError} If `x` is not a positive integer.
 */
export function checkPositiveInteger(x: unknown, name: string): void {
  if (typeof x !== "number") {
    throw new TypeError(`${name} must be a positive integer, got ${show(x)}`);
  }
  if (!Number.isInteger(x) || x < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${show(x)}`);
  }
}
