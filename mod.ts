/**
 * tapegrad: a fast scalar autograd engine on a typed-array tape, with
 * micrograd's `Value`, `Neuron`, `Layer` and `MLP`, losses, optimizers and
 * datasets. Zero dependencies; runs in Deno, Node, Bun and browsers.
 *
 * This entry point holds what a program needs: `Value` and the `Tape`,
 * models, losses, optimizers, datasets, `fit` and `Trainer`, graph views,
 * `gradCheck` and the SVG pictures. The op table, derivative rules and the
 * compiler live in `@tapegrad/tapegrad/engine` (advanced); helpers the CLI and
 * playground share in `@tapegrad/tapegrad/nn` and `@tapegrad/tapegrad/viz`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Value } from "@tapegrad/tapegrad";
 * // The seed example: learn w so that w * x doubles x.
 * const w = new Value(0.4);
 * for (let step = 0; step < 6; step++) {
 *   const loss = w.mul(2).sub(4).pow(2);
 *   w.grad = 0;
 *   loss.backward();
 *   w.data -= 0.1 * w.grad;
 * }
 * assert.ok(Math.abs(w.data - 2) < 0.01);
 * ```
 *
 * @module
 */

export {
  add,
  type BackwardOptions,
  defaultTape,
  type DescribeOptions,
  describeValue,
  displayGraph,
  div,
  dot,
  gradCheck,
  type GradCheckOptions,
  type GradCheckResult,
  type GraphOptions,
  mul,
  type NodeSummary,
  noGrad,
  NonFiniteError,
  type NonFiniteReport,
  pow,
  setDefaultTape,
  sub,
  sum,
  Tape,
  toDot,
  toMermaid,
  Value,
  type ValueOptions,
} from "./engine/mod.ts";
export {
  accuracy,
  activate,
  type Activation,
  ACTIVATIONS,
  Adam,
  type AdamOptions,
  AdamW,
  type AdamWOptions,
  batches,
  type BatchOptions,
  binaryCrossEntropy,
  type BlobsOptions,
  type CirclesOptions,
  constantLr,
  ContiguousModule,
  type ContiguousModuleOptions,
  cosineDecay,
  crossEntropy,
  type CsvOptions,
  type Dataset,
  DATASET_NAMES,
  type DatasetName,
  type DatasetOptions,
  defaultLoss,
  evaluate,
  fit,
  type FitMode,
  fitNormalization,
  type FitOptions,
  type FitPrecision,
  type FitResult,
  hinge,
  type Init,
  INITS,
  type JsonValue,
  l2,
  Layer,
  type LayerOptions,
  linearDecay,
  LOSS_NAMES,
  type LossName,
  makeBlobs,
  makeCircles,
  makeDataset,
  makeMoons,
  makeSpirals,
  makeXor,
  MLP,
  type MLPOptions,
  MODEL_FORMAT,
  MODEL_VERSION,
  type ModelJSON,
  type ModelLayerJSON,
  type ModelLoadOptions,
  type ModelMeta,
  Module,
  type MoonsOptions,
  mse,
  Neuron,
  type NeuronOptions,
  type Normalization,
  normalize,
  oneHot,
  Optimizer,
  OPTIMIZER_NAMES,
  optimizerByName,
  type OptimizerName,
  parseCsv,
  parseModel,
  predictClasses,
  type RandomOptions,
  Rng,
  type Schedule,
  SCHEDULE_NAMES,
  scheduleByName,
  type ScheduleName,
  serializeModel,
  SGD,
  type SGDOptions,
  shuffleDataset,
  type SpiralsOptions,
  type SplitOptions,
  type StepInfo,
  sumSquaredError,
  toSigned,
  Trainer,
  TrainingError,
  type TrainValSplit,
  trainValSplit,
  type XorOptions,
} from "./nn/mod.ts";
export {
  type BoundaryGrid,
  type BoundaryPlotOptions,
  type Dataset2D,
  drawGraph,
  type DrawGraphOptions,
  type LossPlotOptions,
  type MimeBundle,
  plotBoundary,
  type PlotBounds,
  plotLosses,
  plotTraining,
  type Predictor,
  SvgImage,
  type TrainingPlot,
  type Verdict,
} from "./viz/mod.ts";
