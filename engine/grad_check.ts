/**
 * Gradient checking: backprop gradients against central finite differences.
 *
 * @module
 */

import { Tape } from "./tape.ts";
import { Value } from "./value.ts";

/** Options for {@linkcode gradCheck}. */
export interface GradCheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Largest relative error that passes (default 1e-6). */
  tolerance?: number;
}

/** What {@linkcode gradCheck} found. */
export interface GradCheckResult {
  /** Whether every relative error is within the tolerance. */
  ok: boolean;
  /**
   * The largest relative error, `|a - n| / max(1, |a|, |n|)`; NaN when a
   * gradient is NaN (or both are infinite).
   */
  maxRelativeError: number;
  /** The input with the largest error. */
  worstIndex: number;
  /** Backprop gradients, one per input. */
  analytic: number[];
  /** Central finite differences, one per input. */
  numeric: number[];
}

/**
 * Compares backprop gradients of `fn` at `inputs` with central finite
 * differences `(f(x + eps) - f(x - eps)) / 2eps`. `fn` receives the inputs as
 * Values on a private tape and must return a Value built from them (use plain
 * numbers for constants).
 *
 * @param fn The function to check.
 * @param inputs The point to check at.
 * @param options Step and tolerance.
 * @returns The gradients and the worst relative error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gradCheck } from "@tapegrad/tapegrad";
 * const result = gradCheck(([x, y]) => x.mul(y).tanh().add(x.pow(3)), [0.5, -1.5]);
 * assert.equal(result.ok, true);
 * assert.ok(result.maxRelativeError < 1e-6);
 * ```
 */
export function gradCheck(
  fn: (inputs: Value[]) => Value,
  inputs: readonly number[],
  options: GradCheckOptions = {},
): GradCheckResult {
  if (typeof fn !== "function") {
    throw new TypeError(
      "gradCheck() needs a function of Values as first argument",
    );
  }
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new RangeError(
      "gradCheck() needs a non-empty array of input numbers",
    );
  }
  for (const x of inputs) {
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new TypeError(
        `gradCheck() inputs must be finite numbers, got ${x}`,
      );
    }
  }
  const eps = options.eps ?? 1e-6;
  const tolerance = options.tolerance ?? 1e-6;
  if (!(eps > 0) || !Number.isFinite(eps)) {
    throw new RangeError(
      `gradCheck() eps must be a positive number, got ${eps}`,
    );
  }
  if (typeof tolerance !== "number" || !(tolerance >= 0)) {
    throw new RangeError(
      `gradCheck() tolerance must be a non-negative number, got ${tolerance}`,
    );
  }
  const tape = new Tape();
  const evaluate = (point: readonly number[]): [Value[], Value] => {
    tape.rewind(0);
    const xs = point.map((x) => new Value(x, { tape }));
    const out = fn(xs);
    if (!(out instanceof Value) || out.tape !== tape) {
      throw new TypeError(
        "gradCheck() function must return a Value built from its inputs",
      );
    }
    return [xs, out];
  };
  const [xs, out] = evaluate(inputs);
  out.backward();
  const analytic = xs.map((x) => x.grad);
  const numeric = inputs.map((_, k) => {
    const plus = inputs.slice(), minus = inputs.slice();
    plus[k] += eps;
    minus[k] -= eps;
    const fPlus = evaluate(plus)[1].data;
    const fMinus = evaluate(minus)[1].data;
    return (fPlus - fMinus) / (2 * eps);
  });
  let maxRelativeError = 0, worstIndex = 0;
  for (let k = 0; k < inputs.length; k++) {
    const a = analytic[k], n = numeric[k];
    const error = Math.abs(a - n) / Math.max(1, Math.abs(a), Math.abs(n));
    // A NaN error (a NaN or infinite gradient) is the worst and stays so.
    if (!(error <= maxRelativeError) && !Number.isNaN(maxRelativeError)) {
      maxRelativeError = error;
      worstIndex = k;
    }
  }
  return {
    ok: maxRelativeError <= tolerance,
    maxRelativeError,
    worstIndex,
    analytic,
    numeric,
  };
}
