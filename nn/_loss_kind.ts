// The loss-specific parts of a training step (outputs per sample, batch
// loss, predicted class), shared by fit and the parallel workers.

import type { Value } from "../engine/mod.ts";
import {
  binaryCrossEntropy,
  crossEntropy,
  hinge,
  type LossName,
  mse,
  outputsForLoss,
} from "./loss.ts";
import { decideClass } from "./metrics.ts";

/** Loss-specific parts: outputs per sample, the batch loss, the predicted class. */
export interface LossKind {
  /** Set for regression (`classes` 0): accuracy is then R². */
  regression?: boolean;
  outputs: number;
  loss(outputs: Value[][], labels: readonly number[]): Value;
  classify(outputs: ArrayLike<number>, offset: number): number;
}

export function lossKind(name: LossName, classes: number): LossKind {
  if (classes === 0) {
    // Regression: real targets, one output, mean squared error.
    return {
      regression: true,
      outputs: 1,
      loss: (out, y) => mse(out.map((row) => row[0]), y),
      classify: () => 0,
    };
  }
  const signs = (y: readonly number[]) => y.map((c) => (c === 1 ? 1 : -1));
  const first = (out: Value[][]) => out.map((row) => row[0]);
  const binary = (x: ArrayLike<number>, o: number) => decideClass(x, o, 1);
  const argmax = (x: ArrayLike<number>, o: number) =>
    decideClass(x, o, classes);
  switch (name) {
    case "hinge":
      return {
        outputs: 1,
        loss: (out, y) => hinge(first(out), signs(y)),
        classify: binary,
      };
    case "bce":
      return {
        outputs: 1,
        loss: (out, y) => binaryCrossEntropy(first(out), y),
        classify: binary,
      };
    case "mse":
      return outputsForLoss(name, classes) === 1
        ? {
          outputs: 1,
          loss: (out, y) => mse(first(out), signs(y)),
          classify: binary,
        }
        : {
          outputs: classes,
          loss: (out, y) =>
            mse(
              out.flat(),
              y.flatMap((c) => out[0].map((_, k) => (k === c ? 1 : 0))),
            ),
          classify: argmax,
        };
    case "cross-entropy":
      return {
        outputs: classes,
        loss: (out, y) => crossEntropy(out, y),
        classify: argmax,
      };
  }
}
