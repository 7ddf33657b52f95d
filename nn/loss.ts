/**
 * Losses: squared errors, micrograd's max-margin hinge, binary and
 * multi-class cross-entropy on logits (numerically stable), and L2
 * regularisation; each returns one Value to call `backward()` on.
 *
 * @module
 */

import { dot, sum, type Tape, Value } from "../engine/mod.ts";
import { show } from "./_show.ts";

/**
 * The losses a classifier can be trained with, by name: what
 * {@linkcode fit} accepts and the CLI and the playground offer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LOSS_NAMES } from "@tapegrad/tapegrad";
 * assert.equal(LOSS_NAMES.join("|"), "hinge|mse|bce|cross-entropy");
 * ```
 */
export const LOSS_NAMES: readonly ["hinge", "mse", "bce", "cross-entropy"] =
  Object.freeze(["hinge", "mse", "bce", "cross-entropy"] as const);

/**
 * A loss name: `"hinge"` (micrograd's max-margin), `"mse"`, `"bce"` (binary
 * cross-entropy on one logit) or `"cross-entropy"` (softmax over one logit
 * per class).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type LossName, outputsForLoss } from "@tapegrad/tapegrad/nn";
 * const loss: LossName = "bce";
 * assert.equal(outputsForLoss(loss, 2), 1);
 * ```
 */
export type LossName = typeof LOSS_NAMES[number];

/**
 * The losses that score one output against 2 classes: `hinge` and `bce`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TWO_CLASS_LOSSES } from "@tapegrad/tapegrad/nn";
 * assert.deepEqual(TWO_CLASS_LOSSES, ["hinge", "bce"]);
 * ```
 */
export const TWO_CLASS_LOSSES: readonly LossName[] = Object.freeze([
  "hinge",
  "bce",
]);

/**
 * Whether `loss` can be trained on `classes` classes: `hinge` and `bce`
 * need exactly 2, `mse` and `cross-entropy` take any number from 2.
 *
 * @param loss The loss.
 * @param classes The number of classes.
 * @returns `true` when the loss fits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lossFitsClasses } from "@tapegrad/tapegrad/nn";
 * assert.equal(lossFitsClasses("hinge", 2), true);
 * assert.equal(lossFitsClasses("hinge", 3), false);
 * assert.equal(lossFitsClasses("cross-entropy", 3), true);
 * ```
 */
export function lossFitsClasses(loss: LossName, classes: number): boolean {
  return !TWO_CLASS_LOSSES.includes(loss) || classes === 2;
}

/**
 * The loss a classifier is trained with when none is chosen: micrograd's
 * hinge for 2 classes, cross-entropy for more.
 *
 * @param classes The number of classes.
 * @returns The loss name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultLoss } from "@tapegrad/tapegrad";
 * assert.equal(defaultLoss(2), "hinge");
 * assert.equal(defaultLoss(3), "cross-entropy");
 * ```
 */
export function defaultLoss(classes: number): LossName {
  return classes === 2 ? "hinge" : "cross-entropy";
}

/**
 * How many outputs a model needs for `loss` on `classes` classes: one score
 * for hinge, bce and 2-class mse; one per class for cross-entropy and
 * multi-class mse.
 *
 * @param loss The loss.
 * @param classes The number of classes (at least 2).
 * @returns The size of the model's last layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outputsForLoss } from "@tapegrad/tapegrad/nn";
 * assert.equal(outputsForLoss("hinge", 2), 1);
 * assert.equal(outputsForLoss("cross-entropy", 3), 3);
 * ```
 */
export function outputsForLoss(loss: LossName, classes: number): number {
  return loss === "cross-entropy" || (loss === "mse" && classes > 2)
    ? classes
    : 1;
}
/**
 * Mean squared error, `(1/n) Σ (pᵢ - tᵢ)²`, recorded as one difference node
 * per pair and a single dot node for the sum of squares.
 *
 * @param predictions The model's outputs, at least one.
 * @param targets The wanted values, as many as `predictions`.
 * @returns The mean of the squared differences.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { mse } from "@tapegrad/tapegrad";
 * const p = [new Value(1), new Value(4)];
 * const loss = mse(p, [0, 2]);
 * loss.backward();
 * assert.equal(loss.data, (1 + 4) / 2);
 * assert.deepEqual(p.map((v) => v.grad), [1, 2]);
 * ```
 *
 * @throws {TypeError} If an argument is not an array, a prediction is not a
 * Value or a target is neither a Value nor a finite number.
 * @throws {RangeError} If the arrays are empty or differ in length.
 * @throws {Error} The engine's error for Values from different tapes or
 * stale Values.
 */
export function mse(
  predictions: readonly Value[],
  targets: readonly (number | Value)[],
): Value {
  return squaredError("mse", predictions, targets).div(predictions.length);
}

/**
 * Sum of squared errors, `Σ (pᵢ - tᵢ)²` (the Go port's loss), recorded as
 * one difference node per pair and a single dot node.
 *
 * @param predictions The model's outputs, at least one.
 * @param targets The wanted values, as many as `predictions`.
 * @returns The sum of the squared differences.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { sumSquaredError } from "@tapegrad/tapegrad";
 * const p = [new Value(1), new Value(-1)];
 * const loss = sumSquaredError(p, [1, 1]);
 * loss.backward();
 * assert.equal(loss.data, 4);
 * assert.deepEqual(p.map((v) => v.grad), [0, -4]);
 * ```
 *
 * @throws {TypeError} If an argument is not an array, a prediction is not a
 * Value or a target is neither a Value nor a finite number.
 * @throws {RangeError} If the arrays are empty or differ in length.
 * @throws {Error} The engine's error for Values from different tapes or
 * stale Values.
 */
export function sumSquaredError(
  predictions: readonly Value[],
  targets: readonly (number | Value)[],
): Value {
  return squaredError("sumSquaredError", predictions, targets);
}

/**
 * micrograd's max-margin loss for labels ±1:
 * `(1/n) Σ relu(1 - yᵢ·scoreᵢ)`, with micrograd's exact arithmetic
 * (`sum(losses) * (1.0 / len(losses))`).
 *
 * @param scores The model's raw scores, at least one.
 * @param labels `-1` or `1`, one per score.
 * @returns The mean hinge loss.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { hinge } from "@tapegrad/tapegrad";
 * const s = [new Value(2), new Value(0.5)];
 * const loss = hinge(s, [1, -1]);
 * loss.backward();
 * assert.equal(loss.data, (0 + 1.5) * 0.5);
 * assert.deepEqual(s.map((v) => v.grad), [0, 0.5]);
 * ```
 *
 * @throws {TypeError} If an argument is not an array, a score is not a Value
 * or a label is not a number.
 * @throws {RangeError} If the arrays are empty or differ in length, or a
 * label is not -1 or 1.
 * @throws {Error} The engine's error for Values from different tapes or
 * stale Values.
 */
export function hinge(
  scores: readonly Value[],
  labels: readonly number[],
): Value {
  checkValues("hinge", scores, "scores");
  checkLabels(
    "hinge",
    labels,
    scores.length,
    "scores",
    "-1 or 1",
    (y) => y === -1 || y === 1,
  );
  const losses = scores.map((s, i) => s.mul(-labels[i]).add(1).relu());
  return sum(losses).mul(1 / losses.length);
}

/**
 * Binary cross-entropy on logits (pre-sigmoid scores) for labels 0 and 1:
 * `(1/n) Σ softplus(zᵢ) - yᵢ·zᵢ`, which equals
 * `-y·log σ(z) - (1-y)·log(1-σ(z))` but stays finite for any finite logit.
 *
 * @param logits The model's raw scores, at least one.
 * @param labels `0` or `1`, one per logit.
 * @returns The mean loss.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { binaryCrossEntropy } from "@tapegrad/tapegrad";
 * const z = [new Value(0)];
 * const loss = binaryCrossEntropy(z, [1]);
 * loss.backward();
 * assert.equal(loss.data, Math.LN2);
 * assert.equal(z[0].grad, -0.5);
 * assert.equal(binaryCrossEntropy([new Value(-1000)], [1]).data, 1000);
 * ```
 *
 * @throws {TypeError} If an argument is not an array, a logit is not a Value
 * or a label is not a number.
 * @throws {RangeError} If the arrays are empty or differ in length, or a
 * label is not 0 or 1.
 * @throws {Error} The engine's error for Values from different tapes or
 * stale Values.
 */
export function binaryCrossEntropy(
  logits: readonly Value[],
  labels: readonly number[],
): Value {
  checkValues("binaryCrossEntropy", logits, "logits");
  checkLabels(
    "binaryCrossEntropy",
    labels,
    logits.length,
    "logits",
    "0 or 1",
    (y) => y === 0 || y === 1,
  );
  // softplus(z) - y·z, with y a constant so every sample's graph has the
  // same shape (which lets a training step be compiled per sample).
  const losses = logits.map((z, i) => z.softplus().sub(z.mul(labels[i])));
  return sum(losses).div(losses.length);
}

/**
 * Cross-entropy of a softmax over `k` classes, on logits: per sample
 * `log Σⱼ e^zⱼ - z_label`, averaged. The log-sum-exp subtracts the sample's
 * largest logit (as a constant, which leaves the value and the gradient
 * unchanged), so it stays finite for logits like ±1000.
 *
 * @param logits One row of `k` logits per sample; every row has the same
 * length.
 * @param labels Each sample's class, an integer from 0 to `k - 1`.
 * @returns The mean loss.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { crossEntropy } from "@tapegrad/tapegrad";
 * const row = [new Value(0), new Value(0), new Value(0)];
 * const loss = crossEntropy([row], [2]);
 * loss.backward();
 * assert.ok(Math.abs(loss.data - Math.log(3)) < 1e-15);
 * assert.ok(Math.abs(row[2].grad - (1 / 3 - 1)) < 1e-15);
 * assert.equal(crossEntropy([[new Value(1000), new Value(-1000)]], [1]).data, 2000);
 * ```
 *
 * @throws {TypeError} If an argument is not an array, a row is not an array
 * of Values or a label is not a number.
 * @throws {RangeError} If there are no rows, a row is empty or of another
 * length than the first, the label count differs from the row count, or a
 * label is not a class index.
 * @throws {Error} The engine's error for Values from different tapes or
 * stale Values.
 */
export function crossEntropy(
  logits: readonly (readonly Value[])[],
  labels: readonly number[],
): Value {
  const fn = "crossEntropy";
  if (!Array.isArray(logits)) {
    throw new TypeError(
      `${fn}() logits must be a non-empty array of rows of Values, got ${
        show(logits)
      }`,
    );
  }
  if (logits.length === 0) {
    throw new RangeError(
      `${fn}() logits must be a non-empty array of rows of Values, got an empty array`,
    );
  }
  let tape: Tape | undefined;
  let k = 0;
  for (let i = 0; i < logits.length; i++) {
    const row: unknown = logits[i];
    tape = checkValues(fn, row, `logits[${i}]`, tape);
    if (i === 0) k = (row as Value[]).length;
    else if ((row as Value[]).length !== k) {
      throw new RangeError(
        `${fn}() logits rows must all have ${k} Values like logits[0], got ${
          (row as Value[]).length
        } in logits[${i}]`,
      );
    }
  }
  checkLabels(
    fn,
    labels,
    logits.length,
    "rows of logits",
    `a class index from 0 to ${k - 1}`,
    (y) => Number.isInteger(y) && y >= 0 && y < k,
  );
  const losses = logits.map((row: readonly Value[], i: number) => {
    // The max is a node of the graph, not a number frozen at recording time,
    // so a replayed graph stays stable as the logits change. Its gradient
    // cancels: d/dm [m + log Σ exp(z - m)] = 1 - Σ softmax = 0.
    let max = row[0];
    for (let k = 1; k < row.length; k++) max = max.max(row[k]);
    const logSumExp = sum(row.map((z: Value) => z.sub(max).exp())).log().add(
      max,
    );
    // z_label as a dot with a one-hot constant: the graph's shape does not
    // depend on the label.
    const oneHot = row.map((_, k) => (k === labels[i] ? 1 : 0));
    return logSumExp.sub(dot(oneHot, row as Value[]));
  });
  return sum(losses).div(losses.length);
}

/**
 * L2 regularisation, micrograd's `alpha * sum((p*p for p in parameters))`,
 * with the sum of squares as a single dot node.
 *
 * @param parameters The parameters to penalise (usually
 * `model.parameters()`), at least one.
 * @param alpha The strength, a finite number ≥ 0.
 * @returns `alpha · Σ p²`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * import { l2 } from "@tapegrad/tapegrad";
 * const ps = [new Value(3), new Value(-4)];
 * const reg = l2(ps, 0.5);
 * reg.backward();
 * assert.equal(reg.data, 12.5);
 * assert.deepEqual(ps.map((p) => p.grad), [3, -4]);
 * ```
 *
 * @throws {TypeError} If `parameters` is not an array of Values or `alpha`
 * not a number.
 * @throws {RangeError} If `parameters` is empty or `alpha` is negative or
 * not finite.
 * @throws {Error} The engine's error for Values from different tapes or
 * stale Values.
 */
export function l2(parameters: readonly Value[], alpha: number): Value {
  checkValues("l2", parameters, "parameters");
  if (typeof alpha !== "number") {
    throw new TypeError(
      `l2() alpha must be a finite number >= 0, got ${show(alpha)}`,
    );
  }
  if (!Number.isFinite(alpha) || alpha < 0) {
    throw new RangeError(
      `l2() alpha must be a finite number >= 0, got ${show(alpha)}`,
    );
  }
  return dot(parameters, parameters).mul(alpha);
}

/** `Σ (pᵢ - tᵢ)²` as one dot node over the differences. */
function squaredError(
  fn: string,
  predictions: readonly Value[],
  targets: readonly (number | Value)[],
): Value {
  const tape = checkValues(fn, predictions, "predictions");
  if (!Array.isArray(targets)) {
    throw new TypeError(
      `${fn}() targets must be an array of Values or numbers, got ${
        show(targets)
      }`,
    );
  }
  if (targets.length !== predictions.length) {
    throw new RangeError(
      `${fn}() needs as many targets as predictions, got ${predictions.length} predictions and ${targets.length} targets`,
    );
  }
  for (let i = 0; i < targets.length; i++) {
    const t: unknown = targets[i];
    if (t instanceof Value) checkValue(tape, t);
    else if (typeof t !== "number" || !Number.isFinite(t)) {
      throw new TypeError(
        `${fn}() targets[${i}] must be a Value or a finite number, got ${
          show(t)
        }`,
      );
    }
  }
  // Constants first, so that the differences are consecutive nodes and the
  // sum of squares is a range dot.
  const t = targets.map((x) =>
    x instanceof Value ? x : Value.at(tape, tape.constant(x))
  );
  const diffs = predictions.map((p, i) => p.sub(t[i]));
  return dot(diffs, diffs);
}

/**
 * Checks a non-empty array of live Values on one tape (`tape`, when given)
 * before anything is recorded; returns that tape.
 */
function checkValues(
  fn: string,
  values: unknown,
  name: string,
  tape?: Tape,
): Tape {
  if (!Array.isArray(values)) {
    throw new TypeError(
      `${fn}() ${name} must be a non-empty array of Values, got ${
        show(values)
      }`,
    );
  }
  if (values.length === 0) {
    throw new RangeError(
      `${fn}() ${name} must be a non-empty array of Values, got an empty array`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    if (!(v instanceof Value)) {
      throw new TypeError(
        `${fn}() ${name}[${i}] must be a Value, got ${show(v)}`,
      );
    }
    tape ??= v.tape;
    checkValue(tape, v);
  }
  return tape as Tape;
}

/** Throws the engine's errors for a Value from another tape or a stale one. */
function checkValue(tape: Tape, v: Value): void {
  if (v.tape !== tape) {
    throw new Error(
      "Cannot combine Values from different tapes; create them on one tape",
    );
  }
  v.data; // throws the engine's error for a stale handle
}

/**
 * Checks one label per sample, each a number for which `valid` holds;
 * `accepted` says which those are.
 */
function checkLabels(
  fn: string,
  labels: unknown,
  count: number,
  what: string,
  accepted: string,
  valid: (y: number) => boolean,
): void {
  if (!Array.isArray(labels)) {
    throw new TypeError(
      `${fn}() labels must be an array of numbers, got ${show(labels)}`,
    );
  }
  if (labels.length !== count) {
    throw new RangeError(
      `${fn}() needs one label per sample, got ${count} ${what} and ${labels.length} labels`,
    );
  }
  for (let i = 0; i < count; i++) {
    const y: unknown = labels[i];
    if (typeof y !== "number" || !valid(y)) {
      const ErrorClass = typeof y === "number" ? RangeError : TypeError;
      throw new ErrorClass(
        `${fn}() labels[${i}] must be ${accepted}, got ${show(y)}`,
      );
    }
  }
}
