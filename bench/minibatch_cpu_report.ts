/**
 * The mini-batch groups of `minibatch_bench.ts` counted in CPU time rather
 * than wall time, for a machine whose cores are shared: each round runs 200
 * steps of the hand-written step, tapegrad compiled and tapegrad re-recorded
 * in turn, timed with `process.cpuUsage()` (time spent waiting for a core is
 * not counted), and the fastest round of each is kept. Prints each one's time
 * per step and ratio to the hand-written step.
 *
 * Run: `deno run --allow-read --allow-env bench/minibatch_cpu_report.ts [rounds]`.
 *
 * @module
 */

import process from "node:process";
import { W2 } from "./workload.ts";
import {
  digitsProblem,
  handwritten,
  LR,
  moonsProblem,
  type Problem,
  tapegradTrainer,
} from "./minibatch_problems.ts";

const rounds = Number(Deno.args[0] ?? 30);
const STEPS = 200;

/** CPU milliseconds of `steps` calls of `step`. */
function cpuTime(step: () => unknown, steps: number): number {
  const start = process.cpuUsage();
  for (let k = 0; k < steps; k++) step();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function report(name: string, problem: Problem): void {
  const hand = handwritten(problem);
  const compiled = tapegradTrainer(problem, "compiled");
  const recorded = tapegradTrainer(problem, "record");
  const runners: [string, () => unknown][] = [
    ["hand-written", () => hand.step(LR)],
    ["tapegrad compiled", () => compiled.step()],
    ["tapegrad record", () => recorded.step()],
  ];
  for (const [, step] of runners) cpuTime(step, 2 * STEPS); // warm up
  const best = runners.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    runners.forEach(([, step], k) => {
      best[k] = Math.min(best[k], cpuTime(step, STEPS));
    });
  }
  console.log(`${name} (CPU time per step, fastest of ${rounds} rounds)`);
  runners.forEach(([label], k) => {
    const us = (best[k] / STEPS * 1000).toFixed(1);
    const ratio = (best[k] / best[0]).toFixed(2);
    console.log(`  ${label.padEnd(18)} ${us.padStart(7)} µs  ${ratio}x`);
  });
  compiled.close();
  recorded.close();
}

report("minibatch W2", moonsProblem(W2));
report("minibatch digits", await digitsProblem());
