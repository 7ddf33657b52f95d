/**
 * One full training step (forward + backward + update) of an MLP, tapegrad's
 * three paths against the rivals, a group per workload:
 * - W: micrograd's demo, 100 moons points, 2-16-16-1, hinge + 1e-4 L2, SGD;
 * - W2: the same with 2-64-64-1;
 * - wide: the same with 2-256-256-1 (where matrix kernels should shine);
 * - MNIST: 784-50-10, one sample, softmax cross-entropy, SGD.
 * Every group holds the literal micrograd port (the baseline), the
 * hand-written code, TensorFlow.js on its cpu and wasm backends, jax-js on
 * its wasm backend (float64 and float32), and tapegrad re-recorded, replayed,
 * compiled and in wasm. Before any timing, every
 * runner is checked to follow the hand-written code's losses and to end at
 * its parameters.
 *
 * On wide the port builds some 13 million nodes a step (about 40 s and 8 GB),
 * so it runs in a worker thread with a larger heap (see
 * `naive_micrograd.ts`), is checked for one step (its loss and every
 * parameter after it, bit for bit) and timed for two.
 *
 * Run: `deno task bench` (or `deno bench --allow-read --allow-env bench/mlp_bench.ts`;
 * `BENCH_GROUPS=MNIST` before it runs only that group).
 *
 * @module
 */

import { convnetjsRunner } from "./convnetjs_mlp.ts";
import { jaxjsRunner, jaxjsSampleRunner } from "./jaxjs_mlp.ts";
import { simdPeakGflops } from "../engine/mod.ts";
import {
  handwrittenRunner,
  handwrittenSampleRunner,
} from "./handwritten_mlp.ts";
import {
  naiveRunner,
  naiveSampleRunner,
  naiveWorkerRunner,
} from "./naive_micrograd.ts";
import { tapegradRunner, tapegradSampleRunner } from "./tapegrad_runner.ts";
import {
  tfjsCpuRunner,
  tfjsCpuSampleRunner,
  tfjsWasmRunner,
  tfjsWasmSampleRunner,
} from "./tfjs_mlp.ts";
import {
  initialParams,
  makeMnistSample,
  makeWorkload,
  type RunnerFactory,
  type SampleRunnerFactory,
  W,
  W2,
  WorkloadMnist,
  type WorkloadSpec,
} from "./workload.ts";

const LR = 0.05;

// The machine's wasm SIMD multiply-add peak, for reading the timings below
// as GFLOP/s (`bench/wasm_report.ts` reports each path as a fraction of it).
console.log(
  `wasm SIMD peak (one core): f64x2 ${
    simdPeakGflops("float64", true).toFixed(1)
  } GFLOP/s, f32x4 ${simdPeakGflops("float32", true).toFixed(1)} GFLOP/s`,
);
const WIDE: WorkloadSpec = { ...W, sizes: [2, 256, 256, 1] };
/** The naive port's heap on wide, in megabytes: a step there peaks near 8 GB. */
const WIDE_NAIVE_HEAP_MB = 12_000;

/**
 * How closely a runner must follow the hand-written reference: a loss within
 * `relative * max(|loss|, floor)`, a parameter within
 * `relative * max(|parameter|, 1)`.
 */
interface Tolerance {
  relative: number;
  floor: number;
}
const EXACT: Tolerance = { relative: 0, floor: 0 };
/** Float64 code whose roundings may differ from the reference's. */
const FLOAT64: Tolerance = { relative: 1e-12, floor: 0 };
/**
 * Float32 code. The floor is for MNIST, whose loss falls to 3e-5 after one
 * step: float32 computes it as `(m + log(s)) - z_label` with the largest
 * logit `m` near 38, so it is only known to about a float32 ulp of `m`
 * (4e-6); the floor allows 1e-5.
 */
const FLOAT32: Tolerance = { relative: 1e-3, floor: 1e-2 };
/**
 * jax-js in float64 on the MNIST sample: its wasm `exp` and `log` are
 * accurate to about 1e-7 relative even in float64 (measured against
 * `Math.exp`), so the softmax cross-entropy is known to about 1e-7 absolute
 * (5e-8 measured); the parameters still agree to 2e-11.
 */
const JAXJS_SAMPLE_F64: Tolerance = { relative: 1e-6, floor: 1e-1 };

const NAIVE = "micrograd port (naive)";
const HANDWRITTEN = "hand-written Float64Array";

/** The baseline on W and W2. */
const NAIVE_W: [string, RunnerFactory, Tolerance] = [
  NAIVE,
  naiveRunner,
  FLOAT64,
];
/** The baseline on wide, in a worker thread with a larger heap. */
const NAIVE_WIDE: [string, RunnerFactory, Tolerance] = [
  NAIVE,
  naiveWorkerRunner(WIDE_NAIVE_HEAP_MB),
  FLOAT64,
];
/** The other rivals on workload W and its wider variants. */
const W_RIVALS: [string, RunnerFactory, Tolerance][] = [
  [HANDWRITTEN, handwrittenRunner, EXACT],
  ["tfjs cpu", tfjsCpuRunner, FLOAT32],
  ["tfjs wasm", tfjsWasmRunner, FLOAT32],
  ["tapegrad re-recorded", tapegradRunner("record"), FLOAT64],
  ["tapegrad replay", tapegradRunner("replay"), FLOAT64],
  ["tapegrad compiled", tapegradRunner("compiled"), FLOAT64],
  ["tapegrad wasm", tapegradRunner("wasm"), FLOAT64],
  ["tapegrad wasm float32", tapegradRunner("wasm", "float32"), FLOAT32],
  ["convnetjs 0.3.0", convnetjsRunner, FLOAT64],
  ["jax-js 0.1.25 wasm float64", jaxjsRunner("float64"), FLOAT64],
  ["jax-js 0.1.25 wasm float32", jaxjsRunner("float32"), FLOAT32],
];
/** The rivals on the MNIST-sized sample, baseline first. */
const SAMPLE_RIVALS: [string, SampleRunnerFactory, Tolerance][] = [
  [NAIVE, naiveSampleRunner, FLOAT64],
  [HANDWRITTEN, handwrittenSampleRunner, EXACT],
  ["tfjs cpu", tfjsCpuSampleRunner, FLOAT32],
  ["tfjs wasm", tfjsWasmSampleRunner, FLOAT32],
  ["tapegrad re-recorded", tapegradSampleRunner("record"), FLOAT64],
  ["tapegrad replay", tapegradSampleRunner("replay"), FLOAT64],
  ["tapegrad compiled", tapegradSampleRunner("compiled"), FLOAT64],
  ["tapegrad wasm", tapegradSampleRunner("wasm"), FLOAT64],
  ["tapegrad wasm float32", tapegradSampleRunner("wasm", "float32"), FLOAT32],
  [
    "jax-js 0.1.25 wasm float64",
    jaxjsSampleRunner("float64"),
    JAXJS_SAMPLE_F64,
  ],
  ["jax-js 0.1.25 wasm float32", jaxjsSampleRunner("float32"), FLOAT32],
];

/** A runner bound to its group's data: each `step()` is one training step. */
interface Bound {
  step(): number;
  parameters(): Float64Array;
}

/** One rival of a group, ready to be built on the group's data. */
interface Entry {
  name: string;
  tolerance: Tolerance;
  build: () => Promise<Bound>;
}

/** Binds workload-W rivals to the data and weights of `spec`. */
function onWorkload(
  spec: WorkloadSpec,
  rivals: [string, RunnerFactory, Tolerance][],
): Entry[] {
  const w = makeWorkload(spec);
  return rivals.map(([name, factory, tolerance]) => ({
    name,
    tolerance,
    build: async () => {
      const runner = await factory(w.sizes, w.params, w.x, w.y);
      return {
        step: () => runner.step(LR),
        parameters: () => runner.parameters(),
      };
    },
  }));
}

/** Binds single-sample rivals to WorkloadMnist's sample and weights. */
function onMnistSample(
  rivals: [string, SampleRunnerFactory, Tolerance][],
): Entry[] {
  const { sizes, lr, paramSeed, sampleSeed } = WorkloadMnist;
  const params = initialParams(sizes, paramSeed);
  const { x, label } = makeMnistSample(sampleSeed);
  return rivals.map(([name, factory, tolerance]) => ({
    name,
    tolerance,
    build: async () => {
      const runner = await factory(sizes, params);
      return {
        step: () => runner.step(x, label, lr),
        parameters: () => runner.parameters(),
      };
    },
  }));
}

/** Steps of one runner: `checked` before timing, then `warmup` and `n` timed. */
interface Plan {
  checked: number;
  warmup: number;
  n: number;
}

/**
 * The groups. The fast runners run long enough to reach optimised code; the
 * naive port as long as patience allows.
 */
const GROUPS: {
  name: string;
  label: string;
  entries: Entry[];
  naive: Plan;
  others: Plan;
}[] = [
  {
    name: "W",
    label: `[${W.sizes}]`,
    entries: onWorkload(W, [NAIVE_W, ...W_RIVALS]),
    naive: { checked: 3, warmup: 2, n: 50 },
    others: { checked: 3, warmup: 1000, n: 1000 },
  },
  {
    name: "W2",
    label: `[${W2.sizes}]`,
    entries: onWorkload(W2, [NAIVE_W, ...W_RIVALS]),
    naive: { checked: 3, warmup: 2, n: 10 },
    others: { checked: 3, warmup: 1000, n: 1000 },
  },
  {
    name: "wide",
    label: `[${WIDE.sizes}]`,
    entries: onWorkload(WIDE, [NAIVE_WIDE, ...W_RIVALS]),
    naive: { checked: 1, warmup: 1, n: 2 },
    others: { checked: 3, warmup: 100, n: 100 },
  },
  {
    name: "MNIST",
    label: `[${WorkloadMnist.sizes}] one sample`,
    entries: onMnistSample(SAMPLE_RIVALS),
    naive: { checked: 3, warmup: 2, n: 20 },
    others: { checked: 3, warmup: 500, n: 500 },
  },
];

/** Throws unless `got` is within `tolerance` of `want` at the given scale. */
function check(
  what: string,
  got: number,
  want: number,
  tolerance: number,
  scale: number,
): void {
  if (!(Math.abs(got - want) <= tolerance * scale)) {
    throw new Error(`${what}: got ${got}, expected ${want}`);
  }
}

/**
 * Builds every runner of a group, checking each against a fresh hand-written
 * reference: the losses of its first `checked` steps and every parameter
 * after them.
 */
async function prepare(
  group: (typeof GROUPS)[number],
): Promise<[Entry, Bound, Plan][]> {
  const steps = Math.max(group.naive.checked, group.others.checked);
  const reference = await group.entries
    .find((entry) => entry.name === HANDWRITTEN)!.build();
  const losses: number[] = [], params: Float64Array[] = [];
  for (let k = 0; k < steps; k++) {
    losses.push(reference.step());
    params.push(reference.parameters());
  }
  const prepared: [Entry, Bound, Plan][] = [];
  for (const entry of group.entries) {
    const plan = entry.name === NAIVE ? group.naive : group.others;
    const { relative, floor } = entry.tolerance;
    const what = `${entry.name} ${group.label}`;
    const runner = await entry.build();
    for (let k = 0; k < plan.checked; k++) {
      const want = losses[k];
      const scale = Math.max(Math.abs(want), floor);
      check(`${what}, loss ${k}`, runner.step(), want, relative, scale);
    }
    const got = runner.parameters(), want = params[plan.checked - 1];
    for (let i = 0; i < want.length; i++) {
      const scale = Math.max(Math.abs(want[i]), 1);
      check(`${what}, parameter ${i}`, got[i], want[i], relative, scale);
    }
    prepared.push([entry, runner, plan]);
  }
  return prepared;
}

// `BENCH_GROUPS=MNIST,W` runs only those groups (each group's runners are
// built and checked up front, which on wide takes the naive port ~40 s).
const only = Deno.env.get("BENCH_GROUPS")?.split(",").map((s) => s.trim());
for (const group of GROUPS) {
  if (only && !only.includes(group.name)) continue;
  for (const [entry, runner, plan] of await prepare(group)) {
    Deno.bench({
      name: `${entry.name} ${group.label}`,
      group: group.name,
      baseline: entry.name === NAIVE,
      n: plan.n,
      warmup: plan.warmup,
      fn: () => {
        runner.step();
      },
    });
  }
}
