// Learning-rate schedules: functions from (step, totalSteps) to a learning rate, to set an optimizer's lr each step.

import { show } from "./_show.ts";

/**
 * A learning-rate schedule: the learning rate for step `step` (counted from
 * 0) of a run of `totalSteps` steps. A schedule throws a `TypeError` or
 * `RangeError` unless `totalSteps` is a positive integer and `step` an
 * integer from 0 to `totalSteps`.
 *
 * @example micrograd's demo loop with a decaying learning rate
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearDecay, type Schedule } from "@tapegrad/tapegrad";
 * const schedule: Schedule = linearDecay(1.0, 0.1);
 * const rates: number[] = [];
 * for (let k = 0; k < 100; k++) rates.push(schedule(k, 100));
 * assert.equal(rates[0], 1.0);
 * assert.equal(rates[50], 0.55);
 * ```
 */
export type Schedule = (step: number, totalSteps: number) => number;

/**
 * The schedule names {@linkcode scheduleByName} accepts, for help text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCHEDULE_NAMES } from "@tapegrad/tapegrad";
 * assert.equal(SCHEDULE_NAMES.join("|"), "constant|linear|cosine");
 * ```
 */
export const SCHEDULE_NAMES: readonly ["constant", "linear", "cosine"] = Object
  .freeze(["constant", "linear", "cosine"] as const);

/**
 * A name accepted by {@linkcode scheduleByName}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ScheduleName, scheduleByName } from "@tapegrad/tapegrad";
 * const name: ScheduleName = "cosine";
 * assert.equal(scheduleByName(name, 0.1)(0, 10), 0.1);
 * ```
 */
export type ScheduleName = typeof SCHEDULE_NAMES[number];

/**
 * The same learning rate at every step.
 *
 * @param lr The learning rate: a finite number >= 0.
 * @returns A schedule that always returns `lr`.
 * @throws {TypeError} If `lr` is not a number.
 * @throws {RangeError} If `lr` is negative or not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { constantLr } from "@tapegrad/tapegrad";
 * const schedule = constantLr(0.05);
 * assert.equal(schedule(0, 100), 0.05);
 * assert.equal(schedule(99, 100), 0.05);
 * ```
 */
export function constantLr(lr: number): Schedule {
  checkRate("constantLr lr", lr);
  return (step: number, totalSteps: number): number => {
    checkStep(step, totalSteps);
    return lr;
  };
}

/**
 * A learning rate that moves in a straight line from `start` at step 0 to
 * `end` at step `totalSteps`: `start + (end - start)·step/totalSteps`.
 * micrograd's demo, `lr = 1.0 - 0.9*k/100` for `k` in `range(100)`, is
 * `linearDecay(1.0, 0.1)` over 100 steps, with bit-identical values.
 *
 * @param start The learning rate at step 0: a finite number >= 0.
 * @param end The learning rate at step `totalSteps`: a finite number >= 0.
 * @returns The schedule.
 * @throws {TypeError} If `start` or `end` is not a number.
 * @throws {RangeError} If `start` or `end` is negative or not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearDecay } from "@tapegrad/tapegrad";
 * const schedule = linearDecay(1.0, 0.1);
 * assert.equal(schedule(0, 100), 1.0);
 * assert.equal(schedule(50, 100), 0.55);
 * assert.equal(schedule(99, 100), 1.0 - 0.9 * 99 / 100);
 * ```
 */
export function linearDecay(start: number, end: number): Schedule {
  checkRate("linearDecay start", start);
  checkRate("linearDecay end", end);
  const change = end - start;
  return (step: number, totalSteps: number): number => {
    checkStep(step, totalSteps);
    return start + change * step / totalSteps;
  };
}

/**
 * A learning rate that follows half a cosine from `start` at step 0 to `end`
 * at step `totalSteps`: `end + (start - end)·(1 + cos(π·step/totalSteps))/2`
 * (SGDR's annealing without restarts). It falls slowly at first, fastest
 * midway, and slowly again near the end.
 *
 * @param start The learning rate at step 0: a finite number >= 0.
 * @param end The learning rate at step `totalSteps`: a finite number >= 0;
 * defaults to 0.
 * @returns The schedule.
 * @throws {TypeError} If `start` or `end` is not a number.
 * @throws {RangeError} If `start` or `end` is negative or not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosineDecay } from "@tapegrad/tapegrad";
 * const schedule = cosineDecay(0.1);
 * assert.equal(schedule(0, 100), 0.1);
 * assert.ok(Math.abs(schedule(50, 100) - 0.05) < 1e-15);
 * assert.equal(schedule(100, 100), 0);
 * ```
 */
export function cosineDecay(start: number, end: number = 0): Schedule {
  checkRate("cosineDecay start", start);
  checkRate("cosineDecay end", end);
  const range = start - end;
  return (step: number, totalSteps: number): number => {
    checkStep(step, totalSteps);
    return end + range * (1 + Math.cos(Math.PI * step / totalSteps)) / 2;
  };
}

/**
 * A schedule chosen by name, as the command line spells it: `"constant"`
 * ({@linkcode constantLr}), `"linear"` ({@linkcode linearDecay}) or
 * `"cosine"` ({@linkcode cosineDecay}).
 *
 * @param name `"constant"`, `"linear"` or `"cosine"`.
 * @param lr The learning rate at step 0: a finite number >= 0.
 * @param end The learning rate at the last step for `"linear"` and
 * `"cosine"` (default 0); must be left out for `"constant"`.
 * @returns The schedule.
 * @throws {TypeError} If `name` is not a string or a rate not a number.
 * @throws {RangeError} If `name` is not a known schedule, a rate is negative
 * or not finite, or `end` is given for `"constant"`.
 *
 * @example micrograd's schedule, picked by name
 * ```ts
 * import assert from "node:assert/strict";
 * import { scheduleByName } from "@tapegrad/tapegrad";
 * const schedule = scheduleByName("linear", 1.0, 0.1);
 * assert.equal(schedule(50, 100), 0.55);
 * assert.equal(scheduleByName("constant", 0.01)(7, 10), 0.01);
 * ```
 */
export function scheduleByName(
  name: ScheduleName,
  lr: number,
  end?: number,
): Schedule {
  const accepted = `"constant", "linear" or "cosine"`;
  if (typeof name !== "string") {
    throw new TypeError(`Schedule name must be ${accepted}, got ${show(name)}`);
  }
  if (!(SCHEDULE_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(
      `Schedule name must be ${accepted}, got ${show(name)}`,
    );
  }
  // Checked here so that messages name the arguments the caller passed.
  checkRate("Schedule lr", lr);
  if (end !== undefined) checkRate("Schedule end", end);
  switch (name) {
    case "constant":
      if (end !== undefined) {
        throw new RangeError(
          `A "constant" schedule takes no end learning rate, got ${show(end)}`,
        );
      }
      return constantLr(lr);
    case "linear":
      return linearDecay(lr, end ?? 0);
    case "cosine":
      return cosineDecay(lr, end ?? 0);
  }
}

/** Throws unless `value` is a finite number >= 0. */
function checkRate(what: string, value: unknown): void {
  const message = `${what} must be a finite number >= 0, got ${show(value)}`;
  if (typeof value !== "number") throw new TypeError(message);
  if (!(value >= 0 && value < Infinity)) throw new RangeError(message);
}

/** Throws unless `totalSteps` is a positive integer and `step` in [0, totalSteps]. */
function checkStep(step: unknown, totalSteps: unknown): void {
  if (typeof totalSteps !== "number") {
    throw new TypeError(
      `Schedule totalSteps must be a positive integer, got ${show(totalSteps)}`,
    );
  }
  if (!Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new RangeError(
      `Schedule totalSteps must be a positive integer, got ${show(totalSteps)}`,
    );
  }
  const message =
    `Schedule step must be an integer from 0 to totalSteps ${totalSteps}, got ${
      show(step)
    }`;
  if (typeof step !== "number") throw new TypeError(message);
  if (!Number.isInteger(step) || step < 0 || step > totalSteps) {
    throw new RangeError(message);
  }
}
