// Test helpers shared by nn's *_test.ts files; not part of the published API.

import assert from "node:assert/strict";

/**
 * Asserts that `fn` throws an error whose constructor is exactly `errorClass`
 * and whose message is exactly `message`.
 *
 * @param fn The code expected to throw.
 * @param errorClass The exact error class expected (a subclass does not match).
 * @param message The exact message.
 */
export function throwsExactly(
  fn: () => unknown,
  errorClass:
    | ErrorConstructor
    | TypeErrorConstructor
    | RangeErrorConstructor
    | SyntaxErrorConstructor,
  message: string,
): void {
  assert.throws(fn, (error: unknown) => {
    assert.equal((error as Error).constructor, errorClass);
    assert.equal((error as Error).message, message);
    return true;
  });
}

/**
 * Asserts that `fn` throws an instance of `type` (a subclass matches too) with
 * exactly `message`.
 *
 * @param fn The code expected to throw.
 * @param type The error class expected.
 * @param message The exact message.
 */
export function assertThrowsWith(
  fn: () => unknown,
  type: new (message?: string) => Error,
  message: string,
): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof type, `expected a ${type.name}, got ${error}`);
    assert.equal(error.message, message);
    return true;
  });
}

/**
 * Asserts |actual - expected| <= tolerance.
 *
 * @param actual The computed number.
 * @param expected The reference number.
 * @param tolerance The largest absolute difference allowed.
 */
export function assertClose(
  actual: number,
  expected: number,
  tolerance = 1e-12,
): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `expected ${expected}, got ${actual}`,
  );
}

/**
 * `n` samples of 6 features (smooth, between -2 and 2) with labels cycling
 * through `classes`, and the indices of successive batches of `counts`
 * samples each, every batch another order (every third sample): what the
 * mini-batch steps' tests feed both ways.
 */
export function sampleBatches(
  n: number,
  classes: number,
  counts: number[],
): { x: number[][]; y: number[]; batches: number[][] } {
  const x = Array.from(
    { length: n },
    (_, s) => Array.from({ length: 6 }, (_, k) => Math.sin(s * 6 + k) * 2),
  );
  const y = Array.from({ length: n }, (_, s) => (s * 7) % classes);
  let at = 0;
  const batches = counts.map((count) => {
    const indices = Array.from({ length: count }, (_, s) => (at + s * 3) % n);
    at += count;
    return indices;
  });
  return { x, y, batches };
}
