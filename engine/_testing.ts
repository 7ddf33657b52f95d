// Test helpers shared by the engine's *_test.ts files; not part of the published API.

import assert from "node:assert/strict";

/**
 * Asserts that `fn` throws an instance of exactly `Class` with a matching message.
 *
 * @param fn The code expected to throw.
 * @param Class The exact error class expected (a subclass does not match).
 * @param message The exact message, or a pattern it must match.
 */
export function assertThrows(
  fn: () => unknown,
  Class: new (...args: never[]) => Error,
  message: RegExp | string,
): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof Class, `expected ${Class.name}, got ${error}`);
    assert.equal(error.constructor, Class);
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}
