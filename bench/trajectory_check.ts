/**
 * The rivals' trajectory checks (run by `rivals_test.ts` and
 * `jaxjs_test.ts`, each in a process of its own): a rival follows the
 * hand-written runner's losses and parameters for a few steps, on W and W2
 * (full batch) or on the MNIST-sized sample.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  handwrittenRunner,
  handwrittenSampleRunner,
} from "./handwritten_mlp.ts";
import {
  demoLearningRate,
  initialParams,
  makeMnistSample,
  makeWorkload,
  type RunnerFactory,
  type SampleRunnerFactory,
  W,
  W2,
  WorkloadMnist,
} from "./workload.ts";

const STEPS = 5;

async function trajectory(factory: RunnerFactory, spec = W) {
  const w = makeWorkload(spec);
  const runner = await factory(w.sizes, w.params, w.x, w.y);
  const losses: number[] = [];
  for (let k = 0; k < STEPS; k++) {
    losses.push(runner.step(demoLearningRate(k)));
  }
  return { losses, params: runner.parameters() };
}

/**
 * Registers one test per workload (W, W2): `factory` follows the
 * hand-written losses and parameters for five steps, to `tolerance`
 * relative.
 *
 * @param name The rival's name, for the test names.
 * @param factory Makes the rival's runner.
 * @param tolerance Relative tolerance.
 */
export function testTrajectory(
  name: string,
  factory: RunnerFactory,
  tolerance: number,
): void {
  for (const [label, spec] of [["W", W], ["W2", W2]] as const) {
    Deno.test(`${name} follows the hand-written ${label} trajectory (relative ${tolerance})`, async () => {
      const reference = await trajectory(handwrittenRunner, spec);
      const rival = await trajectory(factory, spec);
      rival.losses.forEach((loss, k) => {
        const want = reference.losses[k];
        assert.ok(
          Math.abs(loss - want) <= tolerance * Math.abs(want),
          `loss ${k}: ${loss} vs ${want}`,
        );
      });
      rival.params.forEach((p, k) => {
        const want = reference.params[k];
        assert.ok(
          Math.abs(p - want) <= tolerance * Math.max(1, Math.abs(want)),
          `parameter ${k}: ${p} vs ${want}`,
        );
      });
    });
  }
}

/** Losses and parameters of `STEPS` steps on the MNIST-sized sample. */
async function sampleTrajectory(factory: SampleRunnerFactory) {
  const { sizes, lr, paramSeed, sampleSeed } = WorkloadMnist;
  const runner = await factory(sizes, initialParams(sizes, paramSeed));
  const { x, label } = makeMnistSample(sampleSeed);
  const losses: number[] = [];
  for (let k = 0; k < STEPS; k++) losses.push(runner.step(x, label, lr));
  return { losses, params: runner.parameters() };
}

/**
 * Registers a test: `factory` follows the hand-written runner on the
 * MNIST-sized sample for five steps, to `tolerance` relative (with losses
 * below `floor` compared as if they were `floor`), and its loss falls.
 *
 * @param name The rival's name, for the test name.
 * @param factory Makes the rival's runner.
 * @param tolerance Relative tolerance.
 * @param floor The smallest loss scale compared.
 */
export function testSampleTrajectory(
  name: string,
  factory: SampleRunnerFactory,
  tolerance: number,
  floor: number,
): void {
  Deno.test(`${name} follows the hand-written MNIST-sized sample trajectory (relative ${tolerance})`, async () => {
    const reference = await sampleTrajectory(handwrittenSampleRunner);
    const rival = await sampleTrajectory(factory);
    rival.losses.forEach((loss, k) => {
      const want = reference.losses[k];
      assert.ok(
        Math.abs(loss - want) <= tolerance * Math.max(Math.abs(want), floor),
        `loss ${k}: ${loss} vs ${want}`,
      );
    });
    rival.params.forEach((p, k) => {
      const want = reference.params[k];
      assert.ok(
        Math.abs(p - want) <= tolerance * Math.max(1, Math.abs(want)),
        `parameter ${k}: ${p} vs ${want}`,
      );
    });
    // The sample's loss falls: the runner trains, it does not just match.
    assert.ok(rival.losses[STEPS - 1] < rival.losses[0]);
  });
}
