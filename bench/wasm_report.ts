/**
 * One-run report of tapegrad's paths on workloads W, W2 and wide against the
 * hand-written step, in ms, ratio, GFLOP/s (6 flops per weight per sample)
 * and fraction of the wasm SIMD multiply-add peak. Runners are timed in
 * interleaved rounds and the median kept, so a loaded machine skews them
 * alike.
 *
 * Run: `deno run --allow-read --allow-env bench/wasm_report.ts [rounds]`.
 *
 * @module
 */

import { convnetjsRunner } from "./convnetjs_mlp.ts";
import { jaxjsRunner } from "./jaxjs_mlp.ts";
import { handwrittenRunner } from "./handwritten_mlp.ts";
import { tapegradRunner } from "./tapegrad_runner.ts";
import { simdPeakGflops } from "../engine/mod.ts";
import {
  type Dataset,
  type FitMode,
  type FitPrecision,
  MLP,
  type ParameterSync,
  Tape,
  Trainer,
} from "../mod.ts";
import { HandwrittenMiniBatch } from "./handwritten_minibatch.ts";
import {
  ALPHA,
  makeWorkload,
  type RunnerFactory,
  type StepRunner,
  W,
  W2,
  type WorkloadSpec,
} from "./workload.ts";

const LR = 0.05;
const WIDE: WorkloadSpec = { ...W, sizes: [2, 256, 256, 1] };
const rounds = Number(Deno.args[0] ?? 15);

const peak64 = simdPeakGflops("float64", true);
const peak64Plain = simdPeakGflops("float64", false);
const peak32 = simdPeakGflops("float32", true);
console.log(
  `wasm peak: f64x2 ${peak64.toFixed(1)} GFLOP/s (relaxed madd), ${
    peak64Plain.toFixed(1)
  } (mul+add); f32x4 ${peak32.toFixed(1)} GFLOP/s`,
);

const PATHS: [string, RunnerFactory, number][] = [
  ["hand-written Float64Array", handwrittenRunner, peak64],
  ["tapegrad replay", tapegradRunner("replay"), peak64],
  ["tapegrad compiled", tapegradRunner("compiled"), peak64],
  ["tapegrad wasm", tapegradRunner("wasm"), peak64],
  ["tapegrad wasm float32", tapegradRunner("wasm", "float32"), peak32],
  ["tapegrad wasm, manual sync", manualRunner("float64"), peak64],
  ["wasm float32, manual sync", manualRunner("float32"), peak32],
  ["convnetjs 0.3.0", convnetjsRunner, peak64],
  ["jax-js 0.1.25 wasm float64", jaxjsRunner("float64"), peak64],
  ["jax-js 0.1.25 wasm float32", jaxjsRunner("float32"), peak32],
];

/** A wasm Trainer whose parameters stay in the module between steps. */
function manualRunner(precision: FitPrecision): RunnerFactory {
  return (sizes, params, x, y) => {
    const data = toDataset(sizes[0], x, y);
    let lr = 0;
    const trainer = new Trainer(modelOf(sizes, params), data, {
      l2: ALPHA,
      schedule: () => lr,
      mode: "wasm",
      precision,
      parameterSync: "manual",
    });
    return {
      step(rate: number): number {
        lr = rate;
        return trainer.step();
      },
      parameters() {
        trainer.syncParameters();
        return Float64Array.from(trainer.model.parameters(), (p) => p.data);
      },
    };
  };
}

function modelOf(sizes: readonly number[], params: Float64Array): MLP {
  return new MLP(sizes[0], sizes.slice(1), {
    parameters: Array.from(params),
    tape: new Tape(1 << 16),
  });
}

function toDataset(nin: number, x: Float64Array, y: Float64Array): Dataset {
  return {
    x: Array.from(y, (_, s) => Array.from(x.subarray(s * nin, (s + 1) * nin))),
    y: Array.from(y, (label) => (label > 0 ? 1 : 0)),
    classes: 2,
  };
}

for (const [label, spec] of [["W", W], ["W2", W2], ["wide", WIDE]] as const) {
  const w = makeWorkload(spec);
  let weights = 0;
  for (let l = 1; l < w.sizes.length; l++) {
    weights += w.sizes[l - 1] * w.sizes[l];
  }
  const flops = 6 * weights * w.y.length;
  const runners: StepRunner[] = [];
  for (const [, factory] of PATHS) {
    runners.push(await factory(w.sizes, w.params, w.x, w.y));
  }
  // Every runner must follow the hand-written losses before it is timed.
  const want = [0, 1, 2].map(() => runners[0].step(LR));
  runners.slice(1).forEach((runner, k) => {
    const tolerance = PATHS[k + 1][2] === peak32 ? 1e-3 : 1e-12;
    for (const loss of want) {
      const got = runner.step(LR);
      if (!(Math.abs(got - loss) <= tolerance * Math.abs(loss))) {
        throw new Error(
          `${PATHS[k + 1][0]} ${label}: loss ${got}, want ${loss}`,
        );
      }
    }
  });
  const reps = Math.max(1, Math.round(2e7 / flops));
  const times: number[][] = PATHS.map(() => []);
  for (let r = 0; r < rounds + 3; r++) {
    runners.forEach((runner, k) => {
      const t = performance.now();
      for (let i = 0; i < reps; i++) runner.step(LR);
      if (r >= 3) times[k].push((performance.now() - t) / reps);
    });
  }
  const median = times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
  console.log(`\n${label} [${w.sizes}], ${w.y.length} samples`);
  PATHS.forEach(([name, , peak], k) => {
    const ms = median[k], gflops = flops / (ms * 1e6);
    console.log(
      `  ${name.padEnd(26)} ${ms.toFixed(3).padStart(8)} ms  ${
        (ms / median[0]).toFixed(2)
      }x  ${gflops.toFixed(2).padStart(6)} GFLOP/s  ${
        (100 * gflops / peak).toFixed(0).padStart(3)
      }% of peak`,
    );
  });
}

// Mini-batches of 32 over the same 100 samples: 4 steps per epoch.
const BATCH = 32, SEED = 7;
const MINI: [string, FitMode | "hand", FitPrecision, ParameterSync, number][] =
  [
    ["hand-written mini-batch", "hand", "float64", "step", peak64],
    ["tapegrad compiled", "compiled", "float64", "step", peak64],
    ["tapegrad wasm", "wasm", "float64", "step", peak64],
    ["tapegrad wasm float32", "wasm", "float32", "step", peak32],
    ["wasm float32, manual sync", "wasm", "float32", "manual", peak32],
  ];
for (const [label, spec] of [["W", W], ["W2", W2], ["wide", WIDE]] as const) {
  const w = makeWorkload(spec);
  const data = toDataset(w.sizes[0], w.x, w.y);
  const runners = MINI.map(([, mode, precision, parameterSync]) => {
    if (mode === "hand") {
      const hand = new HandwrittenMiniBatch(
        w.sizes,
        w.params,
        w.x,
        Int32Array.from(data.y),
        { batchSize: BATCH, loss: "hinge", alpha: ALPHA, seed: SEED },
      );
      return () => hand.step(LR);
    }
    const trainer = new Trainer(modelOf(w.sizes, w.params), data, {
      l2: ALPHA,
      lr: LR,
      schedule: "constant",
      batchSize: BATCH,
      seed: SEED,
      steps: 1e9,
      mode,
      precision,
      parameterSync,
    });
    if (trainer.mode !== mode) {
      throw new Error(`mini-batch ${label}: ${mode} ran ${trainer.mode}`);
    }
    return () => trainer.step();
  });
  // One epoch of losses must agree before anything is timed.
  const want = [0, 1, 2, 3].map(() => runners[0]());
  runners.slice(1).forEach((run, k) => {
    const tolerance = MINI[k + 1][2] === "float32" ? 1e-3 : 1e-12;
    for (const loss of want) {
      const got = run();
      if (!(Math.abs(got - loss) <= tolerance * Math.abs(loss))) {
        throw new Error(
          `${MINI[k + 1][0]} mini-batch ${label}: loss ${got}, want ${loss}`,
        );
      }
    }
  });
  let weights = 0;
  for (let l = 1; l < w.sizes.length; l++) {
    weights += w.sizes[l - 1] * w.sizes[l];
  }
  const flops = 6 * weights * w.y.length; // per epoch
  const epochs = Math.max(1, Math.round(2e7 / flops));
  const times: number[][] = MINI.map(() => []);
  for (let r = 0; r < rounds + 3; r++) {
    runners.forEach((run, k) => {
      const t = performance.now();
      for (let i = 0; i < 4 * epochs; i++) run();
      if (r >= 3) times[k].push((performance.now() - t) / epochs);
    });
  }
  const median = times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
  console.log(
    `\nmini-batch ${label} [${w.sizes}], batches of ${BATCH}, ms per epoch`,
  );
  MINI.forEach(([name, , , , peak], k) => {
    const ms = median[k], gflops = flops / (ms * 1e6);
    console.log(
      `  ${name.padEnd(26)} ${ms.toFixed(3).padStart(8)} ms  ${
        (ms / median[0]).toFixed(2)
      }x  ${gflops.toFixed(2).padStart(6)} GFLOP/s  ${
        (100 * gflops / peak).toFixed(0).padStart(3)
      }% of peak`,
    );
  });
}
