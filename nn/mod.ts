/**
 * tapegrad's neural-network layer on top of the engine: micrograd's
 * `Module`, `Neuron`, `Layer` and `MLP`, losses, model files, optimizers,
 * datasets, a seeded random source and the training loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tape } from "@tapegrad/tapegrad";
 * import { MLP, mse } from "@tapegrad/tapegrad";
 * const tape = new Tape();
 * const model = new MLP(1, [8, 1], { activation: "tanh", tape, seed: 1 });
 * const xs = [-1, -0.5, 0, 0.5, 1];
 * const ys = xs.map((x) => 0.5 * x);
 * const mark = tape.mark();
 * const lossAt = () => mse(xs.map((x) => model.forward([x])[0]), ys);
 * const before = lossAt().data;
 * for (let step = 0; step < 50; step++) {
 *   tape.rewind(mark);
 *   const loss = lossAt();
 *   model.zeroGrad();
 *   loss.backward();
 *   for (const p of model.parameters()) p.data -= 0.1 * p.grad;
 * }
 * tape.rewind(mark);
 * assert.ok(lossAt().data < before / 10);
 * ```
 *
 * @module
 */

export * from "./activation.ts";
export * from "./init.ts";
export * from "./module.ts";
export * from "./neuron.ts";
export * from "./layer.ts";
export * from "./mlp.ts";
export * from "./loss.ts";
export {
  type JsonValue,
  MODEL_FORMAT,
  MODEL_VERSION,
  type ModelJSON,
  type ModelLayerJSON,
  type ModelMeta,
  validateModelFile,
} from "./model_file.ts";
export * from "./model_io.ts";
export {
  firstNonFinite,
  fitNormalization,
  MIN_STD,
  type Normalization,
  normalize,
} from "./normalization.ts";
export * from "./features.ts";
export * from "./rng.ts";
export * from "./data.ts";
export * from "./datasets.ts";
export * from "./regression.ts";
export * from "./csv.ts";
export * from "./builtin_datasets.ts";
export * from "./optim.ts";
export * from "./schedule.ts";
export * from "./metrics.ts";
export * from "./fit.ts";
export {
  defaultWorkers,
  fitParallel,
  PARALLEL_WORKER_URL,
  type ParallelOptions,
  ParallelTrainer,
  type WorkerLike,
} from "./parallel.ts";
