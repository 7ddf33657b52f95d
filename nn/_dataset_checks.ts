// Argument checks shared by the dataset generators and the dataset helpers.

import { show, type ShowOptions } from "./_show.ts";

/** The dataset modules' messages name an array without its length: `got an array`. */
export const SHORT_ARRAYS: ShowOptions = { arrayLength: false };

/** Throws unless `options` is an object (or undefined, meaning all defaults). */
export function checkOptions(options: unknown): void {
  if (
    options !== undefined &&
    (typeof options !== "object" || options === null || Array.isArray(options))
  ) {
    throw new TypeError(
      `Options must be an object, got ${show(options, SHORT_ARRAYS)}`,
    );
  }
}

/** Throws unless `value` is an integer of at least `min`; `rule` describes what is accepted. */
export function checkInteger(
  what: string,
  value: unknown,
  min: number,
  rule: string,
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `${what} must be ${rule}, got ${show(value, SHORT_ARRAYS)}`,
    );
  }
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `${what} must be ${rule}, got ${show(value, SHORT_ARRAYS)}`,
    );
  }
}

/** Throws unless `value` is a number in [0, 1). */
export function checkFraction(what: string, value: unknown): void {
  const message = `${what} must be a number in [0, 1), got ${
    show(value, SHORT_ARRAYS)
  }`;
  if (typeof value !== "number") throw new TypeError(message);
  if (!(value >= 0 && value < 1)) throw new RangeError(message);
}
