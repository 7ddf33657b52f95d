/**
 * The "micrograd loop" groups: micrograd's demo loop written the natural
 * way with Values (as in the README), against the hand-written
 * Float64Array step (the baseline), the same loop with a manual
 * mark/rewind or with the L2 term as one `dot` node, and tapegrad's Trainer
 * re-recording every step, on workloads W (2-16-16-1) and W2 (2-64-64-1). Before timing,
 * every runner is checked to follow the hand-written losses bit for bit.
 *
 * Run: `deno bench --allow-read --allow-env bench/micrograd_loop_bench.ts`.
 *
 * @module
 */

import { handwrittenRunner } from "./handwritten_mlp.ts";
import { naturalRunner } from "./micrograd_loop.ts";
import { tapegradRunner } from "./tapegrad_runner.ts";
import {
  makeWorkload,
  type RunnerFactory,
  type StepRunner,
  W,
  W2,
  type WorkloadSpec,
} from "./workload.ts";

const LR = 0.05;
const CHECKED_STEPS = 3;

const RIVALS: [string, RunnerFactory, boolean][] = [
  ["hand-written Float64Array", handwrittenRunner, true],
  ["natural Value loop (README)", naturalRunner(), false],
  ["natural Value loop, manual rewind", naturalRunner("manual"), false],
  ["natural Value loop, L2 as one dot", naturalRunner("dot"), false],
  ["Trainer re-recorded", tapegradRunner("record"), false],
];

async function build(
  spec: WorkloadSpec,
): Promise<[string, StepRunner, boolean][]> {
  const w = makeWorkload(spec);
  const runners: [string, StepRunner, boolean][] = [];
  for (const [name, factory, baseline] of RIVALS) {
    runners.push([name, await factory(w.sizes, w.params, w.x, w.y), baseline]);
  }
  // Every rival follows the hand-written losses bit for bit.
  const reference = runners[0][1];
  for (let k = 0; k < CHECKED_STEPS; k++) {
    const expected = reference.step(LR);
    for (const [name, runner] of runners.slice(1)) {
      const loss = runner.step(LR);
      if (loss !== expected) {
        throw new Error(
          `${name} lost ${loss} at step ${k}, expected ${expected}`,
        );
      }
    }
  }
  return runners;
}

// The first Value-façade loop a process times runs a few hundred of its
// steps several times slower while V8 settles (whichever of the loops
// below comes first: swapping the first two swaps which one is slow). A
// throwaway loop takes that here, in a group of its own, before the
// compared ones.
{
  const w = makeWorkload(W);
  const warm = await naturalRunner()(w.sizes, w.params, w.x, w.y);
  Deno.bench({
    name: "natural Value loop, warm-up (not compared)",
    group: "warm-up",
    n: 1500,
    warmup: 100,
    fn: () => {
      warm.step(LR);
    },
  });
}

for (const [group, spec] of [["W", W], ["W2", W2]] as const) {
  for (const [name, runner, baseline] of await build(spec)) {
    Deno.bench({
      name: `${name} [${spec.sizes}]`,
      group: `micrograd loop ${group}`,
      baseline,
      n: 1000,
      warmup: 500,
      fn: () => {
        runner.step(LR);
      },
    });
  }
}
