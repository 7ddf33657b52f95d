/**
 * Workers, interleaved: the "workers" groups' full-batch step on 1 and 2
 * threads (`ParallelTrainer`), taking turns in blocks of steps in one
 * process, so that the machine's speed, which drifts here by 30-50% over
 * minutes, weighs on both alike. Prints each one's mean and median step and
 * the ratios.
 *
 * First it measures what this machine's cores give two busy threads: a plain
 * loop timed on one Web Worker, then on two at once. On a virtual machine
 * two "cores" may share one physical core, or wait for the host, and then no
 * program gets 2x from them: that ratio is the ceiling of the others.
 *
 * With `--busy`, a third thread spins throughout, as another busy process
 * would: how the workers hold up on a loaded machine.
 *
 * Run: `deno run --allow-read --allow-env bench/workers_scaling.ts
 * [wide|W2|W] [--busy] [--rounds n]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ParallelTrainer } from "../mod.ts";
import { W, W2, type WorkloadSpec } from "./workload.ts";
import { WIDE, workersSetup } from "./minibatch_problems.ts";

const SPECS: Record<string, WorkloadSpec> = { wide: WIDE, W2, W };

/** A Web Worker running `code` (a module), from a Blob URL. */
function inlineWorker(code: string): Worker {
  const url = URL.createObjectURL(
    new Blob([code], { type: "application/javascript" }),
  );
  return new Worker(url, { type: "module" });
}

/** A fixed amount of floating-point work, timed; posts its ms. */
const LOOP = `
const a = new Float64Array(4096).map((_, i) => i * 1e-3);
let s = 0;
const started = performance.now();
for (let r = 0; r < 40000; r++) {
  for (let i = 0; i < 4096; i++) s += a[i] * a[(i * 7) & 4095];
}
postMessage({ ms: performance.now() - started, s });
`;

/** Spins until the flag it is sent is raised. */
const BUSY = `
onmessage = (event) => {
  const stop = event.data;
  while (Atomics.load(stop, 0) === 0);
  close();
};
`;

/** Runs the loop on `n` workers at once; returns the slowest one's ms. */
async function loopOn(n: number): Promise<number> {
  const workers = Array.from({ length: n }, () => inlineWorker(LOOP));
  const times = await Promise.all(
    workers.map((worker) =>
      new Promise<number>((resolve) => {
        worker.onmessage = (event) => resolve(event.data.ms);
      })
    ),
  );
  for (const worker of workers) worker.terminate();
  return Math.max(...times);
}

/**
 * What two busy threads get from the cores: one thread's loop time over
 * the slowest of two at once, times 2 (2.0: two free cores).
 */
export async function capacity(): Promise<number> {
  await loopOn(1); // Compiles the loop's code paths once.
  let one = Infinity, two = Infinity;
  for (let k = 0; k < 3; k++) {
    one = Math.min(one, await loopOn(1));
    two = Math.min(two, await loopOn(2));
  }
  return (2 * one) / two;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Steps the trainers in turns of `block` steps, `rounds` times after three
 * warm-up rounds; returns each one's step times in µs.
 */
export async function interleaved(
  trainers: { step(): Promise<number> }[],
  block: number,
  rounds: number,
): Promise<number[][]> {
  const times: number[][] = trainers.map(() => []);
  for (let round = -3; round < rounds; round++) {
    for (let t = 0; t < trainers.length; t++) {
      for (let k = 0; k < block; k++) {
        const started = performance.now();
        await trainers[t].step();
        if (round >= 0) times[t].push((performance.now() - started) * 1000);
      }
    }
  }
  return times;
}

/** `ParallelTrainer`s of the workload, one per number of threads. */
export async function trainersOn(
  spec: WorkloadSpec,
  threads: number[],
): Promise<ParallelTrainer[]> {
  const { problem, model, options } = workersSetup(spec);
  const trainers: ParallelTrainer[] = [];
  for (const workers of threads) {
    trainers.push(
      await ParallelTrainer.create(model(), problem.data, {
        ...options,
        workers,
      }),
    );
  }
  return trainers;
}

if (import.meta.main) await main();

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      busy: { type: "boolean", default: false },
      rounds: { type: "string", default: "30" },
    },
  });
  const name = positionals[0] ?? "W2";
  const spec = SPECS[name];
  if (spec === undefined) {
    console.error(`Unknown workload ${name}: use wide, W2 or W`);
    Deno.exit(2);
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`--rounds must be an integer >= 1, got ${values.rounds}`);
    Deno.exit(2);
  }

  const ceiling = await capacity();
  console.log(
    `cores: two busy threads run ${ceiling.toFixed(2)}x as fast as one ` +
      `(2.00: two free cores)`,
  );
  // The busy thread spins until its flag is raised (terminate() alone left
  // the process running after its last line here).
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const busy = values.busy ? inlineWorker(BUSY) : undefined;
  busy?.postMessage(stop);

  const trainers = await trainersOn(spec, [1, 2]);
  // Steps per turn: about 20 ms of work.
  const block = name === "wide" ? 8 : name === "W2" ? 60 : 300;
  const [one, two] = await interleaved(trainers, block, rounds);
  for (const trainer of trainers) trainer.close();
  Atomics.store(stop, 0, 1);
  busy?.terminate();

  console.log(
    `${name} (${spec.sizes.join("-")}), ${rounds} rounds of ${block} steps` +
      (values.busy ? ", a third thread busy" : ""),
  );
  console.log(
    `workers: 1  mean ${mean(one).toFixed(0)} µs  median ${
      median(one).toFixed(0)
    } µs`,
  );
  console.log(
    `workers: 2  mean ${mean(two).toFixed(0)} µs  median ${
      median(two).toFixed(0)
    } µs`,
  );
  console.log(
    `2 threads vs 1: ${(mean(one) / mean(two)).toFixed(2)}x (means), ${
      (median(one) / median(two)).toFixed(2)
    }x (medians); the cores' ceiling ${ceiling.toFixed(2)}x`,
  );
}
