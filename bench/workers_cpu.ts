/**
 * CPU time per step of each thread (Linux: `/proc/self/task/<tid>/stat`),
 * for one full-batch step of the "workers" groups' models: `Trainer`
 * ("compiled" and "auto"), then `ParallelTrainer` on 1 and 2 workers. On a
 * loaded machine wall times on workers mostly measure waiting for a core;
 * the CPU each worker spends shows how the work splits.
 *
 * Run: `deno run -A bench/workers_cpu.ts [wide|W2|W] [steps]` (`-A`: Deno grants
 * `/proc/self` only with every permission).
 *
 * @module
 */

import { ParallelTrainer, Trainer } from "../mod.ts";
import { W, W2, type WorkloadSpec } from "./workload.ts";
import { WIDE, workersSetup } from "./minibatch_problems.ts";

const SPECS: Record<string, WorkloadSpec> = {
  wide: WIDE,
  W2,
  W,
};

/** Clock ticks (1/100 s) of user + system time, by thread name and id. */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of Deno.readDirSync("/proc/self/task")) {
    try {
      const dir = `/proc/self/task/${entry.name}`;
      const stat = Deno.readTextFileSync(`${dir}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = Deno.readTextFileSync(`${dir}/comm`).trim();
      out.set(
        `${name} (${entry.name})`,
        Number(fields[11]) + Number(fields[12]),
      );
    } catch {
      // The thread ended.
    }
  }
  return out;
}

async function measure(
  label: string,
  step: () => unknown,
  steps: number,
): Promise<void> {
  for (let k = 0; k < 10; k++) await step();
  const before = threadTicks(), started = performance.now();
  for (let k = 0; k < steps; k++) await step();
  const wall = (performance.now() - started) / steps;
  const busy: string[] = [];
  for (const [thread, ticks] of threadTicks()) {
    const ms = ((ticks - (before.get(thread) ?? 0)) * 10) / steps;
    if (ms > 0.005) busy.push(`${thread} ${ms.toFixed(3)}`);
  }
  console.log(
    `${label}: wall ${wall.toFixed(3)} ms/step; CPU ms/step: ${
      busy.join(", ")
    }`,
  );
}

const name = Deno.args[0] ?? "wide";
const spec = SPECS[name];
if (spec === undefined) throw new RangeError(`Unknown workload ${name}`);
const steps = Number(Deno.args[1] ?? (name === "wide" ? 300 : 3000));
const { problem, model, options } = workersSetup(spec);
const data = problem.data;
console.log(`${name} (${problem.sizes.join("-")}), ${steps} steps`);
for (const mode of ["compiled", "auto"] as const) {
  const trainer = new Trainer(model(), data, { ...options, mode });
  await measure(
    `Trainer ${mode} (${trainer.mode})`,
    () => trainer.step(),
    steps,
  );
}
for (const workers of [1, 2]) {
  const trainer = await ParallelTrainer.create(model(), data, {
    ...options,
    workers,
  });
  await measure(`${workers} worker(s)`, () => trainer.step(), steps);
  trainer.close();
}
