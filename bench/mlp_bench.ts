/**
 * One full training step (forward + backward + update) of an MLP, tapegrad's
 * three paths against the rivals, a group per workload:
 * - W: micrograd's demo, 100 moons points, 2-16-16-1, hinge + 1e-4 L2, SGD;
 * - W2: the same with 2-64-64-1;
 * - wide: the same with 2-256-256-1 (where matrix kernels should shine);
 * - MNIST: 784-50-10, one sample, softmax cross-entropy, SGD.
 * The literal micrograd port is the baseline (hand-written code on wide and
 * MNIST, where the port takes seconds a step). Every runner is first checked
 * to follow the hand-written code's loss trajectory.
 *
 * Run: `deno task bench` (or `deno bench --allow-read --allow-env bench/mlp_bench.ts`).
 *
 * @module
 */

import {
  handwrittenRunner,
  handwrittenSampleRunner,
} from "./handwritten_mlp.ts";
import { naiveRunner } from "./naive_micrograd.ts";
import { tapegradRunner, tapegradSampleRunner } from "./tapegrad_runner.ts";
import { tfjsCpuRunner, tfjsWasmRunner } from "./tfjs_mlp.ts";
import {
  initialParams,
  makeMnistSample,
  makeWorkload,
  type RunnerFactory,
  type SampleRunnerFactory,
  type StepRunner,
  W,
  W2,
  WorkloadMnist,
  type WorkloadSpec,
} from "./workload.ts";

const LR = 0.05;
const WIDE: WorkloadSpec = { ...W, sizes: [2, 256, 256, 1] };

type Rival = [name: string, factory: RunnerFactory, tolerance: number];
const TAPEGRAD: Rival[] = [
  ["tapegrad re-recorded", tapegradRunner("record"), 1e-12],
  ["tapegrad replay", tapegradRunner("replay"), 1e-12],
  ["tapegrad compiled", tapegradRunner("compiled"), 1e-12],
];
const OTHERS: Rival[] = [
  ["hand-written Float64Array", handwrittenRunner, 0],
  ["tfjs cpu", tfjsCpuRunner, 1e-3],
  ["tfjs wasm", tfjsWasmRunner, 1e-3],
];
const NAIVE: Rival = ["micrograd port (naive)", naiveRunner, 1e-12];

/** Builds every runner on the same data and weights and checks 3 steps. */
async function prepare(spec: WorkloadSpec, rivals: Rival[]) {
  const w = makeWorkload(spec);
  const reference = await handwrittenRunner(w.sizes, w.params, w.x, w.y);
  const expected = [0, 1, 2].map(() => reference.step(LR));
  const runners: [string, StepRunner][] = [];
  for (const [name, factory, tolerance] of rivals) {
    const runner = await factory(w.sizes, w.params, w.x, w.y);
    for (const want of expected) {
      const got = runner.step(LR);
      if (!(Math.abs(got - want) <= tolerance * Math.abs(want))) {
        throw new Error(
          `${name} on [${spec.sizes}]: loss ${got}, expected ${want}`,
        );
      }
    }
    runners.push([name, runner]);
  }
  return runners;
}

const groups: [string, WorkloadSpec, Rival[]][] = [
  ["W", W, [NAIVE, ...OTHERS, ...TAPEGRAD]],
  ["W2", W2, [NAIVE, ...OTHERS, ...TAPEGRAD]],
  ["wide", WIDE, [...OTHERS, ...TAPEGRAD]],
];

for (const [group, spec, rivals] of groups) {
  const runners = await prepare(spec, rivals);
  runners.forEach(([name, runner], r) => {
    // Runs long enough to reach optimised code; the naive port is slow.
    const naive = name === NAIVE[0];
    const steps = naive
      ? (group === "W" ? 50 : 10)
      : group === "wide"
      ? 100
      : 1000;
    Deno.bench({
      name: `${name} [${spec.sizes}]`,
      group,
      baseline: r === 0,
      n: steps,
      warmup: naive ? 2 : steps,
      fn: () => {
        runner.step(LR);
      },
    });
  });
}

// One MNIST-sized sample: the hand-written code is the baseline here.
const mnistParams = initialParams(WorkloadMnist.sizes, WorkloadMnist.paramSeed);
const sample = makeMnistSample(WorkloadMnist.sampleSeed);
const sampleRivals: [string, SampleRunnerFactory][] = [
  ["hand-written Float64Array", handwrittenSampleRunner],
  ["tapegrad re-recorded", tapegradSampleRunner("record")],
  ["tapegrad replay", tapegradSampleRunner("replay")],
  ["tapegrad compiled", tapegradSampleRunner("compiled")],
];
const sampleReference = await handwrittenSampleRunner(
  WorkloadMnist.sizes,
  mnistParams,
);
const sampleExpected = [0, 1, 2].map(() =>
  sampleReference.step(sample.x, sample.label, WorkloadMnist.lr)
);
for (const [name, factory] of sampleRivals) {
  const runner = await factory(WorkloadMnist.sizes, mnistParams);
  for (const want of sampleExpected) {
    const got = runner.step(sample.x, sample.label, WorkloadMnist.lr);
    if (!(Math.abs(got - want) <= 1e-12 * Math.abs(want))) {
      throw new Error(`${name} on MNIST: loss ${got}, expected ${want}`);
    }
  }
  Deno.bench({
    name: `${name} [${WorkloadMnist.sizes}] one sample`,
    group: "MNIST",
    baseline: name.startsWith("hand-written"),
    n: 500,
    warmup: 500,
    fn: () => {
      runner.step(sample.x, sample.label, WorkloadMnist.lr);
    },
  });
}
