/**
 * The mini-batch problems of `minibatch_bench.ts` and
 * `minibatch_cpu_report.ts`: workload W2 and the digits training split, with
 * tapegrad's `Trainer` and the hand-written step set up alike.
 *
 * @module
 */

import {
  type Dataset,
  MLP,
  parseBuiltinDataset,
  Tape,
  Trainer,
  trainValSplit,
} from "../mod.ts";
import { HandwrittenMiniBatch } from "./handwritten_minibatch.ts";
import {
  ALPHA,
  initialParams,
  makeWorkload,
  W,
  type WorkloadSpec,
} from "./workload.ts";

export const LR = 0.05;
export const BATCH = 32;
export const SEED = 7;
export const WIDE: WorkloadSpec = { ...W, sizes: [2, 256, 256, 1] };

/** A training set and an MLP's initial parameters. */
export interface Problem {
  sizes: number[];
  params: Float64Array;
  data: Dataset;
  flatX: Float64Array;
  flatY: Int32Array;
  loss: "hinge" | "cross-entropy";
}

/** Two moons, as the workload `spec` draws them (hinge loss). */
export function moonsProblem(spec: WorkloadSpec): Problem {
  const w = makeWorkload(spec);
  const nin = w.sizes[0];
  const y = Int32Array.from(w.y, (v) => (v > 0 ? 1 : 0));
  return {
    sizes: w.sizes,
    params: w.params,
    data: {
      x: Array.from(
        y,
        (_, s) => Array.from(w.x.subarray(s * nin, (s + 1) * nin)),
      ),
      y: Array.from(y),
      classes: 2,
    },
    flatX: w.x,
    flatY: y,
    loss: "hinge",
  };
}

/**
 * The "workers" groups' setup: two moons as `spec` draws them, a fresh model
 * with the workload's initial parameters on its own tape, and SGD with L2 on
 * the hinge loss at a constant rate.
 */
export function workersSetup(spec: WorkloadSpec): {
  problem: Problem;
  model: () => MLP;
  options: {
    loss: "hinge";
    optimizer: "sgd";
    lr: number;
    schedule: "constant";
    l2: number;
    steps: number;
  };
} {
  const problem = moonsProblem(spec);
  const model = () =>
    new MLP(problem.sizes[0], problem.sizes.slice(1), {
      parameters: Array.from(problem.params),
      tape: new Tape(),
    });
  const options = {
    loss: "hinge" as const,
    optimizer: "sgd" as const,
    lr: 0.001,
    schedule: "constant" as const,
    l2: ALPHA,
    steps: 1e9,
  };
  return { problem, model, options };
}

/** The digits training split (64-64-10, cross-entropy). */
export async function digitsProblem(): Promise<Problem> {
  const bytes = await Deno.readFile(
    new URL("../data/digits.csv.gz", import.meta.url),
  );
  const all = await parseBuiltinDataset("digits", bytes);
  // The CLI's split: 20% held out with its default seed; pixels scaled to [0, 1].
  const { train } = trainValSplit(
    { ...all, x: all.x.map((row) => row.map((v) => v / 16)) },
    0.2,
    { seed: 1337 },
  );
  const sizes = [64, 64, 10];
  return {
    sizes,
    params: initialParams(sizes, 3).map((p) => p / 8),
    data: train,
    flatX: Float64Array.from(train.x.flat()),
    flatY: Int32Array.from(train.y),
    loss: "cross-entropy",
  };
}

/** tapegrad's `Trainer` on a problem: SGD, L2, batches of 32. */
export function tapegradTrainer(
  problem: Problem,
  mode: "record" | "compiled",
): Trainer {
  const model = new MLP(problem.sizes[0], problem.sizes.slice(1), {
    parameters: Array.from(problem.params),
    tape: new Tape(),
  });
  return new Trainer(model, problem.data, {
    loss: problem.loss,
    optimizer: "sgd",
    lr: LR,
    schedule: "constant",
    l2: ALPHA,
    batchSize: BATCH,
    seed: SEED,
    steps: 1e9,
    mode,
  });
}

/** The hand-written step on a problem, on the same batches. */
export function handwritten(problem: Problem): HandwrittenMiniBatch {
  return new HandwrittenMiniBatch(
    problem.sizes,
    problem.params,
    problem.flatX,
    problem.flatY,
    { batchSize: BATCH, loss: problem.loss, alpha: ALPHA, seed: SEED },
  );
}
