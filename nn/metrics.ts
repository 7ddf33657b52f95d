/**
 * Metrics and class decisions: how raw model outputs become a class, a score
 * and a confidence under a loss's convention ({@linkcode scoreOutputs}), and
 * the accuracy of labels or of a model on data. One rule decides a class
 * everywhere: the sign of a single output, else the largest output.
 *
 * @module
 */

import { activate } from "./activation.ts";
import type { Dataset } from "./data.ts";
import { type LossName, outputsForLoss } from "./loss.ts";
import type { MLP } from "./mlp.ts";
import { show } from "./_show.ts";
import { r2Score } from "./regression.ts";

/**
 * The class `count` outputs starting at `offset` decide: 1 if a single
 * output is positive (else 0), otherwise the index of the largest output
 * (the first one on ties).
 *
 * @param outputs The outputs (a model's, or a tape's data array).
 * @param offset Where the sample's outputs start (default 0).
 * @param count How many outputs the sample has (default: all after `offset`).
 * @returns The class index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideClass } from "@tapegrad/tapegrad/nn";
 * assert.equal(decideClass([0.3]), 1);
 * assert.equal(decideClass([-0.3]), 0);
 * assert.equal(decideClass([0.1, 2, -1]), 1);
 * assert.equal(decideClass([9, 0.1, 2, -1], 1, 3), 1);
 * ```
 */
export function decideClass(
  outputs: ArrayLike<number>,
  offset = 0,
  count: number = outputs.length - offset,
): number {
  if (count === 1) return outputs[offset] > 0 ? 1 : 0;
  let best = 0;
  for (let k = 1; k < count; k++) {
    if (outputs[offset + k] > outputs[offset + best]) best = k;
  }
  return best;
}

/** A prediction read from raw outputs by {@linkcode scoreOutputs}. */
export interface Scored {
  /** The predicted class index. */
  cls: number;
  /**
   * The score: the raw output for hinge and 2-class mse (its sign decides),
   * the probability of class 1 for bce, the predicted class's probability
   * (softmax) for cross-entropy, its output for multi-class mse.
   */
  score: number;
  /** In [0, 1]: how far from the decision boundary, for shading. */
  confidence: number;
  /** Class probabilities, for bce and cross-entropy. */
  probabilities?: number[];
}

/**
 * Maps raw model outputs to a class, a score and a confidence, by the
 * loss's convention (the class is {@linkcode decideClass}'s).
 *
 * @param outputs The model's outputs.
 * @param loss The loss it was trained with.
 * @returns Class, score and confidence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scoreOutputs } from "@tapegrad/tapegrad/nn";
 * assert.deepEqual(scoreOutputs([-0.3], "hinge"), { cls: 0, score: -0.3, confidence: 0.3 });
 * const bce = scoreOutputs([0], "bce");
 * assert.deepEqual(bce, { cls: 0, score: 0.5, confidence: 0, probabilities: [0.5, 0.5] });
 * const ce = scoreOutputs([0, Math.log(3)], "cross-entropy");
 * assert.equal(ce.cls, 1);
 * assert.ok(Math.abs(ce.score - 0.75) < 1e-12);
 * ```
 */
export function scoreOutputs(
  outputs: readonly number[],
  loss: LossName,
): Scored {
  const cls = decideClass(outputs);
  if (outputs.length === 1) {
    const s = outputs[0];
    if (loss === "bce") {
      const p = activate("sigmoid", s);
      return {
        cls,
        score: p,
        confidence: Math.abs(2 * p - 1),
        probabilities: [1 - p, p],
      };
    }
    return { cls, score: s, confidence: Math.min(1, Math.abs(s)) };
  }
  if (loss === "cross-entropy") {
    const m = outputs[cls];
    const e = outputs.map((o) => Math.exp(o - m));
    const total = e.reduce((a, b) => a + b, 0);
    const p = e.map((x) => x / total);
    const k = outputs.length;
    return {
      cls,
      score: p[cls],
      confidence: Math.max(0, (p[cls] - 1 / k) / (1 - 1 / k)),
      probabilities: p,
    };
  }
  return {
    cls,
    score: outputs[cls],
    confidence: Math.min(1, Math.max(0, outputs[cls])),
  };
}

/**
 * The class `model` predicts for each sample under `loss`'s convention
 * (score sign for hinge/mse/bce on 2 classes, argmax otherwise), computed
 * without gradients: the tape, gradients and optimizer state are untouched.
 *
 * @param model The model.
 * @param x The samples.
 * @param loss The loss the model was trained with (default `"hinge"`).
 * @param classes Number of classes (default: 2, or the model's outputs).
 * @returns One class index per sample.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MLP, predictClasses } from "@tapegrad/tapegrad";
 * // One output y = x1 - x2: class 1 where it is positive.
 * const model = new MLP(2, [1], { parameters: [1, -1, 0] });
 * assert.deepEqual(predictClasses(model, [[0, 1], [2, 1], [3, 3]]), [0, 1, 0]);
 * // Three outputs (cross-entropy): the largest one's index.
 * const three = new MLP(1, [3], { parameters: [1, 0, -1, 0, 0, 0.5] });
 * assert.deepEqual(predictClasses(three, [[2], [-2], [0]], "cross-entropy"), [0, 1, 2]);
 * ```
 */
export function predictClasses(
  model: MLP,
  x: readonly (readonly number[])[],
  loss: LossName = "hinge",
  classes?: number,
): number[] {
  const nout = model.nouts[model.nouts.length - 1];
  const count = outputsForLoss(loss, classes ?? (nout === 1 ? 2 : nout));
  return x.map((sample) =>
    decideClass(model.predict(sample as number[]), 0, count)
  );
}

/**
 * The accuracy of `model` on `data`, computed without gradients.
 *
 * @param model The model.
 * @param data Samples and labels.
 * @param loss The loss the model was trained with (default `"hinge"`).
 * @returns The fraction of samples classified correctly; for regression
 * data (`classes` 0), the R² of the model's first output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluate, MLP } from "@tapegrad/tapegrad";
 * // y = x1 - x2 separates 3 of these 4 points by sign.
 * const model = new MLP(2, [1], { parameters: [1, -1, 0] });
 * const data = { x: [[0, 1], [2, 1], [3, 3], [1, 0]], y: [0, 1, 1, 1], classes: 2 };
 * assert.equal(evaluate(model, data), 0.75);
 * ```
 */
export function evaluate(
  model: MLP,
  data: Dataset,
  loss: LossName = "hinge",
): number {
  if (data.classes === 0) {
    return r2Score(data.x.map((row) => model.predict(row)[0]), data.y);
  }
  return accuracy(predictClasses(model, data.x, loss, data.classes), data.y);
}

/**
 * Returns the fraction of predictions equal to the actual labels.
 *
 * @param predicted Predicted labels.
 * @param actual True labels, as many as `predicted`.
 * @returns A number in [0, 1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accuracy } from "@tapegrad/tapegrad";
 *
 * assert.equal(accuracy([0, 1, 1, 2], [0, 1, 0, 2]), 0.75);
 * ```
 *
 * @throws {TypeError} If an argument is not an array.
 * @throws {RangeError} If the arrays differ in length or are empty.
 */
export function accuracy(
  predicted: readonly number[],
  actual: readonly number[],
): number {
  checkArray("Predicted labels", predicted);
  checkArray("Actual labels", actual);
  if (predicted.length !== actual.length) {
    throw new RangeError(
      `Predicted and actual labels must have the same length, got ${predicted.length} and ${actual.length}`,
    );
  }
  if (predicted.length === 0) {
    throw new RangeError("Accuracy needs at least one label, got empty arrays");
  }
  let hits = 0;
  for (let i = 0; i < predicted.length; i++) {
    if (predicted[i] === actual[i]) hits++;
  }
  return hits / predicted.length;
}

function checkArray(what: string, labels: unknown): void {
  if (!Array.isArray(labels)) {
    throw new TypeError(
      `${what} must be an array, got ${show(labels, { arrayLength: false })}`,
    );
  }
}
