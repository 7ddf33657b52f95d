/**
 * Mini-batches, real data and workers (issue 12), ratios in one run:
 * - "minibatch W2" and "minibatch digits": one SGD step on a shuffled batch
 *   of 32, tapegrad compiled and re-recorded against a hand-written
 *   Float64Array step (the baseline);
 * - "digits epoch": one pass over the digits training split (1,438 samples,
 *   45 batches of 32, 64-64-10, cross-entropy) against TensorFlow.js on its
 *   cpu and wasm backends;
 * - "workers wide", "workers W2", "workers W": one full-batch step (100
 *   samples) on 1 and 2 workers (16 chunks, compiled JavaScript), and on one
 *   thread (`Trainer`: "auto", what `fitParallel` runs where workers do not
 *   pay, which picks WebAssembly SIMD here; and "compiled").
 * Before timing, tapegrad's compiled steps are checked against the
 * hand-written ones (losses within 1e-12).
 *
 * Run: `deno bench --allow-read --allow-env bench/minibatch_bench.ts`.
 *
 * @module
 */

import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import { ParallelTrainer, Trainer } from "../mod.ts";
import { ALPHA, W, W2 } from "./workload.ts";
import {
  BATCH,
  digitsProblem,
  handwritten,
  LR,
  moonsProblem,
  type Problem,
  tapegradTrainer,
  WIDE,
  workersSetup,
} from "./minibatch_problems.ts";

tf.enableProdMode();

/** Throws unless tapegrad's compiled steps follow the hand-written ones. */
function checkAgainstHandwritten(name: string, problem: Problem): void {
  const hand = handwritten(problem),
    trainer = tapegradTrainer(problem, "compiled");
  for (let k = 0; k < 3; k++) {
    const want = hand.step(LR), got = trainer.step();
    if (!(Math.abs(got - want) <= 1e-12 * Math.abs(want))) {
      throw new Error(
        `${name} step ${k}: tapegrad ${got}, hand-written ${want}`,
      );
    }
  }
  trainer.close();
}

const W2_PROBLEM = moonsProblem(W2);
const DIGITS = await digitsProblem();

for (
  const [group, problem] of [
    ["minibatch W2", W2_PROBLEM],
    ["minibatch digits", DIGITS],
  ] as const
) {
  checkAgainstHandwritten(group, problem);
  const hand = handwritten(problem);
  Deno.bench({
    name: "hand-written Float64Array",
    group,
    baseline: true,
    fn: () => void hand.step(LR),
  });
  for (const mode of ["compiled", "record"] as const) {
    const trainer = tapegradTrainer(problem, mode);
    Deno.bench({
      name: `tapegrad ${mode}`,
      group,
      fn: () => void trainer.step(),
    });
  }
}

// One epoch of digits.
const stepsPerEpoch = Math.ceil(DIGITS.flatY.length / BATCH);
{
  const trainer = tapegradTrainer(DIGITS, "compiled");
  Deno.bench({
    name: "tapegrad compiled",
    group: "digits epoch",
    baseline: true,
    fn: () => {
      for (let k = 0; k < stepsPerEpoch; k++) trainer.step();
    },
  });
  const hand = handwritten(DIGITS);
  Deno.bench({
    name: "hand-written Float64Array",
    group: "digits epoch",
    fn: () => {
      for (let k = 0; k < stepsPerEpoch; k++) hand.step(LR);
    },
  });
}

/** One digits epoch on TensorFlow.js (float32): fused matMul per layer. */
async function tfjsEpoch(backend: string): Promise<() => void> {
  if (!(await tf.setBackend(backend))) throw new Error(`No backend ${backend}`);
  await tf.ready();
  const { sizes, params, flatX, flatY } = DIGITS;
  const weights: tf.Variable[] = [], biases: tf.Variable[] = [];
  let o = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const nin = sizes[l], nout = sizes[l + 1];
    const w = new Float32Array(nin * nout), b = new Float32Array(nout);
    for (let j = 0; j < nout; j++) {
      for (let i = 0; i < nin; i++) w[i * nout + j] = params[o++];
      b[j] = params[o++];
    }
    weights.push(tf.variable(tf.tensor2d(w, [nin, nout])));
    biases.push(tf.variable(tf.tensor1d(b)));
  }
  const variables = [...weights, ...biases];
  const n = flatY.length;
  const batches: { x: tf.Tensor2D; y: tf.Tensor2D }[] = [];
  for (let s = 0; s < n; s += BATCH) {
    const to = Math.min(s + BATCH, n);
    batches.push({
      x: tf.tensor2d(Float32Array.from(flatX.subarray(s * 64, to * 64)), [
        to - s,
        64,
      ]),
      y: tf.oneHot(
        tf.tensor1d(flatY.subarray(s, to), "int32"),
        10,
      ) as tf.Tensor2D,
    });
  }
  return () => {
    if (tf.getBackend() !== backend) void tf.setBackend(backend);
    for (const batch of batches) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          let h: tf.Tensor = batch.x;
          for (let l = 0; l < weights.length; l++) {
            h = tf.fused.matMul({
              a: h as tf.Tensor2D,
              b: weights[l] as tf.Tensor2D,
              bias: biases[l],
              activation: l < weights.length - 1 ? "relu" : "linear",
            });
          }
          let l2 = tf.scalar(0);
          for (const v of variables) l2 = l2.add(tf.sum(tf.square(v)));
          return tf.losses.softmaxCrossEntropy(batch.y, h).add(
            l2.mul(ALPHA),
          ) as tf.Scalar;
        }, variables);
        for (const v of variables) {
          v.assign(tf.sub(v, tf.mul(grads[v.name], LR)));
        }
      });
    }
  };
}

for (const backend of ["cpu", "wasm"]) {
  const epoch = await tfjsEpoch(backend);
  Deno.bench({ name: `tfjs ${backend}`, group: "digits epoch", fn: epoch });
}

/**
 * Runs `step` for {@linkcode WARM_UP_MS}: the steps a long training run
 * times are those V8 has compiled. (`deno bench` warms each bench for 10
 * ms, about 40 steps of W2, while V8 compiles a worker's generated step on
 * a background thread for longer, which takes one of the 2 cores from the 2
 * threads being timed. Its `warmup` option is ignored in Deno 2.9.)
 */
async function warmUp(step: () => unknown): Promise<void> {
  const until = performance.now() + WARM_UP_MS;
  while (performance.now() < until) await step();
}

/** How long each workers bench runs before it is timed, in ms. */
const WARM_UP_MS = 400;

// Workers: one full-batch step, timed once warm (see warmUp).
for (
  const [group, spec] of [
    ["workers wide", WIDE],
    ["workers W2", W2],
    ["workers W", W],
  ] as const
) {
  const { problem, model, options } = workersSetup(spec);
  // What one thread runs by default ("auto": WebAssembly SIMD for these
  // models), and the JavaScript compiler the workers run.
  for (const mode of ["auto", "compiled"] as const) {
    const single = new Trainer(model(), problem.data, { ...options, mode });
    await warmUp(() => single.step());
    Deno.bench({
      name: `one thread (Trainer, ${mode}${
        mode === "auto" ? ": " + single.mode : ""
      })`,
      group,
      baseline: mode === "auto",
      fn: () => void single.step(),
    });
  }
  for (const workers of [1, 2]) {
    const trainer = await ParallelTrainer.create(model(), problem.data, {
      ...options,
      workers,
    });
    await warmUp(() => trainer.step());
    Deno.bench({
      name: `${workers} worker${workers > 1 ? "s" : ""}`,
      group,
      fn: async () => void await trainer.step(),
    });
    globalThis.addEventListener("unload", () => trainer.close());
  }
}
