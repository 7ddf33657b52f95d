/**
 * One training step of workload W (micrograd's demo, `[2, 16, 16, 1]`) and W2
 * (`[2, 64, 64, 1]`) on every rival implementation; the naive micrograd port
 * is the baseline, so `deno bench` prints how many times faster each one is.
 * Also the single-sample 784-50-10 step on the hand-written code.
 *
 * Run: `deno bench --allow-read --allow-env bench/baselines_bench.ts`
 */

import {
  handwrittenRunner,
  handwrittenSampleRunner,
} from "./handwritten_mlp.ts";
import { naiveRunner } from "./naive_micrograd.ts";
import { tfjsCpuRunner, tfjsWasmRunner } from "./tfjs_mlp.ts";
import {
  initialParams,
  makeMnistSample,
  makeWorkload,
  type RunnerFactory,
  type StepRunner,
  W,
  W2,
  WorkloadMnist,
  type WorkloadSpec,
} from "./workload.ts";

/** Small enough that thousands of steps stay finite and free of denormals. */
const LR = 0.05;

const RIVALS: [string, RunnerFactory][] = [
  ["naive micrograd", naiveRunner],
  ["handwritten", handwrittenRunner],
  ["tfjs cpu", tfjsCpuRunner],
  ["tfjs wasm", tfjsWasmRunner],
];

async function runners(spec: WorkloadSpec): Promise<StepRunner[]> {
  const w = makeWorkload(spec);
  return await Promise.all(
    RIVALS.map(([, factory]) => factory(w.sizes, w.params, w.x, w.y)),
  );
}

const groups: [string, WorkloadSpec, StepRunner[]][] = [
  ["W", W, await runners(W)],
  ["W2", W2, await runners(W2)],
];

for (const [group, spec, built] of groups) {
  RIVALS.forEach(([name], r) => {
    const runner = built[r];
    const slow = group === "W2" && r === 0; // ~0.5 s a step
    Deno.bench({
      name: `${name} ${group} [${spec.sizes}] step`,
      group,
      baseline: r === 0,
      n: slow ? 10 : 100,
      warmup: slow ? 2 : 100,
      fn: () => {
        runner.step(LR);
      },
    });
  });
}

const mnist = await handwrittenSampleRunner(
  WorkloadMnist.sizes,
  initialParams(WorkloadMnist.sizes, WorkloadMnist.paramSeed),
);
const sample = makeMnistSample(WorkloadMnist.sampleSeed);
Deno.bench({
  name: `handwritten MNIST [${WorkloadMnist.sizes}] one-sample step`,
  group: "MNIST",
  n: 100,
  warmup: 100,
  fn: () => {
    mnist.step(sample.x, sample.label, WorkloadMnist.lr);
  },
});
