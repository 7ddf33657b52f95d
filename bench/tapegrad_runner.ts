/**
 * tapegrad's own implementations of the benchmark workloads, on the
 * {@linkcode Trainer}: the graph re-recorded every step, recorded once and
 * replayed, or compiled per sample.
 *
 * @module
 */

import {
  type Dataset,
  type FitMode,
  type FitPrecision,
  MLP,
  Tape,
  Trainer,
} from "../mod.ts";
import {
  ALPHA,
  type RunnerFactory,
  type SampleRunnerFactory,
  type StepRunner,
} from "./workload.ts";

/** The ways tapegrad runs a fixed-shape step. */
export type TapegradMode = Exclude<FitMode, "auto">;

function modelWith(sizes: readonly number[], params: Float64Array): MLP {
  const model = new MLP(sizes[0], sizes.slice(1), { tape: new Tape(1 << 16) });
  const parameters = model.parameters();
  if (parameters.length !== params.length) {
    throw new RangeError(
      `Workload has ${params.length} parameters, the model ${parameters.length}`,
    );
  }
  parameters.forEach((p, i) => (p.data = params[i]));
  return model;
}

function currentParameters(model: MLP): Float64Array {
  return Float64Array.from(model.parameters(), (p) => p.data);
}

/**
 * Workload W (hinge + L2, full batch, SGD) on tapegrad in the given mode.
 *
 * @param mode `"record"`, `"replay"`, `"compiled"` or `"wasm"`.
 * @param precision The number format of `"wasm"` (default float64).
 * @returns A runner factory.
 */
export function tapegradRunner(
  mode: TapegradMode,
  precision?: FitPrecision,
): RunnerFactory {
  return (sizes, initialParams, x, y) => {
    const model = modelWith(sizes, initialParams);
    const nin = sizes[0];
    const data: Dataset = {
      x: Array.from(
        y,
        (_, s) => Array.from(x.subarray(s * nin, (s + 1) * nin)),
      ),
      y: Array.from(y, (label) => (label > 0 ? 1 : 0)),
      classes: 2,
    };
    let lr = 0;
    const trainer = new Trainer(model, data, {
      loss: "hinge",
      optimizer: "sgd",
      l2: ALPHA,
      schedule: () => lr,
      mode,
      precision,
    });
    const runner: StepRunner = {
      step(rate: number): number {
        lr = rate;
        return trainer.step();
      },
      parameters: () => currentParameters(model),
    };
    return runner;
  };
}

/**
 * The single-sample workload (784-50-10, softmax cross-entropy, SGD) on
 * tapegrad in the given mode. The sample is fixed by the first call.
 *
 * @param mode `"record"`, `"replay"`, `"compiled"` or `"wasm"`.
 * @param precision The number format of `"wasm"` (default float64).
 * @returns A sample-runner factory.
 */
export function tapegradSampleRunner(
  mode: TapegradMode,
  precision?: FitPrecision,
): SampleRunnerFactory {
  return (sizes, initialParams) => {
    const model = modelWith(sizes, initialParams);
    let trainer: Trainer | undefined;
    let lr = 0;
    return {
      step(x: Float64Array, label: number, rate: number): number {
        lr = rate;
        trainer ??= new Trainer(
          model,
          { x: [Array.from(x)], y: [label], classes: sizes[sizes.length - 1] },
          {
            loss: "cross-entropy",
            l2: 0,
            schedule: () => lr,
            mode,
            precision,
          },
        );
        return trainer.step();
      },
      parameters: () => currentParameters(model),
    };
  };
}
