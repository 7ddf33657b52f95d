/** Tests of the benchmark rivals: they agree with each other and with calculus. */

import assert from "node:assert/strict";
import {
  HandwrittenMlp,
  handwrittenRunner,
  HandwrittenSampleMlp,
  handwrittenSampleRunner,
} from "./handwritten_mlp.ts";
import {
  naiveRunner,
  naiveSampleRunner,
  naiveWorkerRunner,
  Value,
} from "./naive_micrograd.ts";
import {
  tfjsCpuRunner,
  tfjsCpuSampleRunner,
  tfjsWasmRunner,
  tfjsWasmSampleRunner,
} from "./tfjs_mlp.ts";
import {
  demoLearningRate,
  initialParams,
  makeMnistSample,
  makeMoons,
  makeWorkload,
  mulberry32,
  paramCount,
  type RunnerFactory,
  type SampleRunnerFactory,
  validateWorkload,
  W,
  W2,
  WorkloadMnist,
} from "./workload.ts";

const STEPS = 5;

/** Runs `steps` demo-schedule steps; returns the losses and final parameters. */
async function trajectory(
  factory: RunnerFactory,
  spec = W,
  steps = STEPS,
): Promise<{ losses: number[]; params: Float64Array }> {
  const w = makeWorkload(spec);
  const runner = await factory(w.sizes, w.params, w.x, w.y);
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) losses.push(runner.step(demoLearningRate(k)));
  return { losses, params: runner.parameters() };
}

/** Runs `steps` steps of the MNIST-sized workload; returns the losses and final parameters. */
async function sampleTrajectory(
  factory: SampleRunnerFactory,
  steps = 3,
): Promise<{ losses: number[]; params: Float64Array }> {
  const { sizes, lr, paramSeed, sampleSeed } = WorkloadMnist;
  const runner = await factory(sizes, initialParams(sizes, paramSeed));
  const { x, label } = makeMnistSample(sampleSeed);
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) losses.push(runner.step(x, label, lr));
  return { losses, params: runner.parameters() };
}

function assertClose(
  actual: number,
  expected: number,
  tolerance: number,
  what: string,
): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} vs ${expected} (tolerance ${tolerance})`,
  );
}

/** Central finite differences of `loss` at `params`. */
function finiteDifferences(
  params: Float64Array,
  loss: (p: Float64Array) => number,
  h = 1e-6,
): Float64Array {
  const grad = new Float64Array(params.length);
  for (let k = 0; k < params.length; k++) {
    const plus = params.slice(), minus = params.slice();
    plus[k] += h;
    minus[k] -= h;
    grad[k] = (loss(plus) - loss(minus)) / (2 * h);
  }
  return grad;
}

Deno.test("paramCount() counts weights and biases", () => {
  assert.equal(paramCount([2, 1]), 3);
  assert.equal(paramCount([2, 16, 16, 1]), 337);
  assert.equal(paramCount([2, 64, 64, 1]), 4417);
  assert.equal(paramCount([784, 50, 10]), 39760);
});

Deno.test("mulberry32() is deterministic and in [0, 1)", () => {
  const a = mulberry32(5), b = mulberry32(5);
  for (let k = 0; k < 1000; k++) {
    const u = a();
    assert.equal(u, b());
    assert.ok(u >= 0 && u < 1);
  }
  assert.notEqual(mulberry32(6)(), mulberry32(5)());
});

Deno.test("makeMoons() builds two labelled half circles, reproducibly", () => {
  const { x, y } = makeMoons(101, 0, 3);
  assert.equal(x.length, 202);
  assert.equal(y.filter((v) => v === -1).length, 50);
  assert.equal(y.filter((v) => v === 1).length, 51);
  for (let s = 0; s < 101; s++) {
    // without noise every point lies on its circle of radius 1
    const cx = y[s] === -1 ? 0 : 1, cy = y[s] === -1 ? 0 : 0.5;
    assertClose(
      Math.hypot(x[2 * s] - cx, x[2 * s + 1] - cy),
      1,
      1e-12,
      "radius",
    );
  }
  assert.deepEqual(makeMoons(100, 0.1, 42), makeMoons(100, 0.1, 42));
});

Deno.test("initialParams() is uniform in (-1, 1)", () => {
  const p = initialParams([2, 64, 64, 1], 1);
  assert.equal(p.length, 4417);
  assert.ok(p.every((v) => v > -1 && v < 1));
  const mean = p.reduce((a, b) => a + b, 0) / p.length;
  assertClose(mean, 0, 0.05, "mean");
});

Deno.test("validateWorkload() rejects inconsistent arguments", () => {
  assert.throws(() => validateWorkload([2], new Float64Array(0)), {
    name: "RangeError",
    message: 'Cannot build an MLP from sizes "2": need at least two',
  });
  assert.throws(() => validateWorkload([2, 0], new Float64Array(0)), {
    name: "RangeError",
    message:
      'Cannot build an MLP from sizes "2,0": "0" is not a positive integer',
  });
  assert.throws(() => validateWorkload([2, 1], new Float64Array(2)), {
    name: "RangeError",
    message: 'Expected 3 parameters for sizes "2,1": got "2"',
  });
  const p = new Float64Array(3);
  assert.throws(
    () =>
      validateWorkload(
        [2, 1],
        p,
        new Float64Array(3),
        new Float64Array([1, -1]),
      ),
    { name: "RangeError", message: 'Expected 4 inputs for 2 samples: got "3"' },
  );
  assert.throws(
    () =>
      validateWorkload(
        [2, 1],
        p,
        new Float64Array(4),
        new Float64Array([1, 0]),
      ),
    { name: "RangeError", message: 'Expected labels -1 or +1: got "0"' },
  );
});

Deno.test("HandwrittenMlp rejects a last layer wider than one neuron", () => {
  assert.throws(
    () =>
      new HandwrittenMlp(
        [2, 2],
        new Float64Array(6),
        new Float64Array(2),
        new Float64Array([1]),
      ),
    {
      name: "RangeError",
      message:
        'Cannot score with sizes "2,2": the last layer must have one neuron',
    },
  );
});

Deno.test("Value matches micrograd's sanity check", () => {
  // micrograd's test_sanity_check, reference values from PyTorch
  const x = new Value(-4.0);
  const z = x.rmul(2).add(2).add(x);
  const q = z.relu().add(z.mul(x));
  const h = z.mul(z).relu();
  const y = h.add(q).add(q.mul(x));
  y.backward();
  assert.equal(y.data, -20);
  assert.equal(x.grad, 46);
});

Deno.test("Value matches micrograd's README example (sub, div, pow, rdiv)", () => {
  const a = new Value(-4.0);
  const b = new Value(2.0);
  let c = a.add(b);
  let d = a.mul(b).add(b.pow(3));
  c = c.add(c.add(1));
  c = c.add(c.radd(1).add(a.neg()));
  d = d.add(d.mul(2).add(b.add(a).relu()));
  d = d.add(d.rmul(3).add(b.sub(a).relu()));
  const e = c.sub(d);
  const f = e.pow(2);
  let g = f.div(2.0);
  g = g.add(f.rdiv(10.0));
  g.backward();
  assertClose(g.data, 24.70408163265306, 1e-12, "g");
  assertClose(a.grad, 138.83381924198252, 1e-9, "a.grad");
  assertClose(b.grad, 645.5772594752186, 1e-9, "b.grad");
  assert.equal(String(new Value(1.5)), "Value(data=1.5, grad=0)");
});

Deno.test("Value.exp() and Value.log() match their closed forms", () => {
  const a = new Value(0.5);
  const e = a.exp();
  e.backward();
  assert.equal(e.data, Math.exp(0.5));
  assert.equal(a.grad, Math.exp(0.5));
  const b = new Value(4);
  const l = b.log();
  l.backward();
  assert.equal(l.data, Math.log(4));
  assert.equal(b.grad, 0.25);
  assert.equal(String(l), `Value(data=${Math.log(4)}, grad=1)`);
});

Deno.test("Value.exp() and Value.log() gradients match finite differences", () => {
  // f(a, b) = log(exp(a) * b + exp(a * b)) + exp(log(b) * a), with a and b
  // used more than once so that gradients accumulate through shared nodes
  const f = (a: number, b: number): number =>
    Math.log(Math.exp(a) * b + Math.exp(a * b)) + Math.exp(Math.log(b) * a);
  for (const [a0, b0] of [[0.3, 1.7], [-1.2, 0.4], [2, 3]]) {
    const a = new Value(a0), b = new Value(b0);
    const out = a.exp().mul(b).add(a.mul(b).exp()).log()
      .add(b.log().mul(a).exp());
    out.backward();
    assertClose(out.data, f(a0, b0), 1e-14 * Math.abs(f(a0, b0)), "f");
    const h = 1e-6;
    const da = (f(a0 + h, b0) - f(a0 - h, b0)) / (2 * h);
    const db = (f(a0, b0 + h) - f(a0, b0 - h)) / (2 * h);
    assertClose(a.grad, da, 1e-7 + 1e-6 * Math.abs(da), `df/da at ${a0}`);
    assertClose(b.grad, db, 1e-7 + 1e-6 * Math.abs(db), `df/db at ${b0}`);
  }
});

Deno.test("naiveSampleRunner follows handwrittenSampleRunner on the MNIST-sized workload", async () => {
  const naive = await sampleTrajectory(naiveSampleRunner);
  const hand = await sampleTrajectory(handwrittenSampleRunner);
  // the forward pass performs the documented float64 operations
  assert.equal(naive.losses[0], hand.losses[0]);
  // the backward pass may round one division differently (see
  // naiveSampleRunner), so later steps are compared with a tolerance
  for (let k = 0; k < 3; k++) {
    const expected = hand.losses[k];
    assertClose(
      naive.losses[k],
      expected,
      1e-9 * Math.abs(expected),
      `loss ${k}`,
    );
  }
  assert.equal(naive.params.length, 39760);
  for (let k = 0; k < hand.params.length; k++) {
    assertClose(naive.params[k], hand.params[k], 1e-12, `parameter ${k}`);
  }
  assert.ok(naive.losses[1] < naive.losses[0], "the loss falls");
});

Deno.test("naiveSampleRunner's gradient is the hand-written one up to rounding", async () => {
  // With lr = 1, the gradient is the parameters' change. It may differ from
  // the hand-written gradient only by float64 rounding.
  const sizes = [6, 5, 4];
  for (let seed = 1; seed <= 20; seed++) {
    const params = initialParams(sizes, seed);
    const { x, label } = makeMnistSample(100 + seed, 6, 4);
    const hand = new HandwrittenSampleMlp(sizes, params);
    const naive = await naiveSampleRunner(sizes, params);
    assert.equal(naive.step(x, label, 1), hand.step(x, label, 1));
    const grad = hand.gradient(), after = naive.parameters();
    for (let k = 0; k < grad.length; k++) {
      assertClose(
        params[k] - after[k],
        grad[k],
        1e-14 * (1 + Math.abs(grad[k])),
        `seed ${seed}, grad ${k}`,
      );
    }
  }
});

Deno.test("naiveWorkerRunner follows naiveRunner bit for bit in its worker thread", async () => {
  const w = makeWorkload(W);
  const inline = await naiveRunner(w.sizes, w.params, w.x, w.y);
  const worker = await naiveWorkerRunner(1024)(w.sizes, w.params, w.x, w.y);
  try {
    for (let k = 0; k < 3; k++) {
      const lr = demoLearningRate(k);
      assert.equal(worker.step(lr), inline.step(lr), `loss ${k}`);
    }
    assert.deepEqual(worker.parameters(), inline.parameters());
  } finally {
    await worker.close();
  }
  assert.throws(() => worker.step(0.1), {
    name: "Error",
    message: "Cannot use a closed NaiveWorkerRunner",
  });
  await worker.close(); // closing twice is harmless
});

Deno.test("naiveWorkerRunner rejects inconsistent arguments before starting a worker", async () => {
  await assert.rejects(
    naiveWorkerRunner(1024)(
      [2, 1],
      new Float64Array(2),
      new Float64Array(0),
      new Float64Array(0),
    ),
    {
      name: "RangeError",
      message: 'Expected 3 parameters for sizes "2,1": got "2"',
    },
  );
});

Deno.test("naive and handwritten follow the same W trajectory bit for bit", async () => {
  const naive = await trajectory(naiveRunner);
  const hand = await trajectory(handwrittenRunner);
  assert.deepEqual(hand.losses, naive.losses);
  assert.equal(hand.params.length, 337);
  for (let k = 0; k < hand.params.length; k++) {
    assert.equal(hand.params[k], naive.params[k], `parameter ${k}`);
  }
  // and training does something: the loss moves
  assert.notEqual(naive.losses[0], naive.losses[STEPS - 1]);
});

Deno.test("naive and handwritten follow the same W2 trajectory bit for bit", async () => {
  const naive = await trajectory(naiveRunner, W2, 2);
  const hand = await trajectory(handwrittenRunner, W2, 2);
  assert.deepEqual(hand.losses, naive.losses);
  assert.ok(hand.params.every((v, k) => v === naive.params[k]));
});

for (
  const [name, factory] of [
    ["cpu", tfjsCpuRunner],
    ["wasm", tfjsWasmRunner],
  ] as const
) {
  for (const spec of [W, W2]) {
    const label = spec === W ? "W" : "W2";
    Deno.test(`tfjs ${name} follows the float64 ${label} trajectory to 1e-3`, async () => {
      const reference = await trajectory(handwrittenRunner, spec);
      const tfjs = await trajectory(factory, spec);
      for (let k = 0; k < STEPS; k++) {
        const expected = reference.losses[k];
        assertClose(
          tfjs.losses[k],
          expected,
          1e-3 * Math.abs(expected),
          `loss ${k}`,
        );
      }
      for (let k = 0; k < tfjs.params.length; k++) {
        assertClose(
          tfjs.params[k],
          reference.params[k],
          1e-4,
          `parameter ${k}`,
        );
      }
    });
  }
}

for (
  const [name, factory] of [
    ["cpu", tfjsCpuSampleRunner],
    ["wasm", tfjsWasmSampleRunner],
  ] as const
) {
  Deno.test(`tfjs ${name} follows the float64 MNIST-sized trajectory to 1e-3`, async () => {
    const reference = await sampleTrajectory(handwrittenSampleRunner);
    const tfjs = await sampleTrajectory(factory);
    for (let k = 0; k < 3; k++) {
      const expected = reference.losses[k];
      // After one step the loss is 3e-5, the difference (m + log(s)) -
      // z_label of terms near the largest logit m ≈ 38, so float32 knows it
      // only to about one float32 ulp of m (4e-6): the scale's floor is 1e-2.
      assertClose(
        tfjs.losses[k],
        expected,
        1e-3 * Math.max(Math.abs(expected), 1e-2),
        `loss ${k}`,
      );
    }
    for (let k = 0; k < tfjs.params.length; k++) {
      assertClose(tfjs.params[k], reference.params[k], 1e-4, `parameter ${k}`);
    }
  });
}

Deno.test("tfjs runners share the engine, switching backends per step", async () => {
  const w = makeWorkload(W);
  const cpu = await tfjsCpuRunner(w.sizes, w.params, w.x, w.y);
  const wasm = await tfjsWasmRunner(w.sizes, w.params, w.x, w.y);
  const hand = await handwrittenRunner(w.sizes, w.params, w.x, w.y);
  for (let k = 0; k < 3; k++) {
    const lr = demoLearningRate(k);
    const expected = hand.step(lr);
    assertClose(cpu.step(lr), expected, 1e-3 * expected, `cpu loss ${k}`);
    assertClose(wasm.step(lr), expected, 1e-3 * expected, `wasm loss ${k}`);
  }
});

Deno.test("HandwrittenMlp matches a closed form on a [2, 1] network", async () => {
  // w = (0.5, -0.25), b = 0.1; alpha = 1e-4; n = 2, so dL/dscore = -y/2.
  const params = new Float64Array([0.5, -0.25, 0.1]);
  const reg = 1e-4 * (0.25 + 0.0625 + 0.01);
  const cases = [
    {
      // score (0.1, -0.525): both margins active, hinges 0.9 and 0.475
      x: [1, 2, -1, 0.5],
      y: [1, -1],
      loss: (0.9 + 0.475) / 2 + reg,
      grad: [-0.5 * 1 + 0.5 * -1, -0.5 * 2 + 0.5 * 0.5, -0.5 + 0.5],
    },
    {
      // score (0.1, 2.1): the second margin is met, hinge 0, no gradient
      x: [1, 2, 4, 0],
      y: [1, 1],
      loss: 0.9 / 2 + reg,
      grad: [-0.5 * 1, -0.5 * 2, -0.5],
    },
  ];
  for (const c of cases) {
    const x = new Float64Array(c.x), y = new Float64Array(c.y);
    const expectedGrad = c.grad.map((g, k) => g + 2e-4 * params[k]);
    const lr = 0.1;
    for (const factory of [handwrittenRunner, naiveRunner]) {
      const runner = await factory([2, 1], params, x, y);
      assertClose(runner.step(lr), c.loss, 1e-15, "loss");
      const after = runner.parameters();
      for (let k = 0; k < 3; k++) {
        assertClose(
          after[k],
          params[k] - lr * expectedGrad[k],
          1e-15,
          `parameter ${k}`,
        );
      }
    }
    const hand = new HandwrittenMlp([2, 1], params, x, y);
    hand.step(0);
    const grad = hand.gradient();
    for (let k = 0; k < 3; k++) {
      assertClose(grad[k], expectedGrad[k], 1e-15, `grad ${k}`);
    }
    assert.deepEqual(
      hand.parameters(),
      params,
      "lr 0 leaves the parameters alone",
    );
  }
});

Deno.test("HandwrittenMlp's gradient matches finite differences on [2, 3, 1]", () => {
  const sizes = [2, 3, 1];
  const { x, y } = makeMoons(20, 0.1, 11);
  const params = initialParams(sizes, 12);
  const hand = new HandwrittenMlp(sizes, params, x, y);
  hand.step(0);
  const grad = hand.gradient();
  const numeric = finiteDifferences(
    params,
    (p) => new HandwrittenMlp(sizes, p, x, y).step(0),
  );
  assert.ok(grad.some((g) => Math.abs(g) > 1e-3), "some gradient is not tiny");
  for (let k = 0; k < grad.length; k++) {
    assertClose(
      grad[k],
      numeric[k],
      1e-7 + 1e-5 * Math.abs(numeric[k]),
      `grad ${k}`,
    );
  }
});

Deno.test("HandwrittenSampleMlp's gradient matches finite differences on [5, 4, 3]", () => {
  const sizes = [5, 4, 3];
  const params = initialParams(sizes, 21);
  for (const seed of [1, 2, 3]) {
    const { x, label } = makeMnistSample(seed, 5, 3);
    const hand = new HandwrittenSampleMlp(sizes, params);
    const loss = hand.step(x, label, 0);
    const grad = hand.gradient();
    assert.ok(loss > 0);
    const numeric = finiteDifferences(
      params,
      (p) => new HandwrittenSampleMlp(sizes, p).step(x, label, 0),
    );
    for (let k = 0; k < grad.length; k++) {
      assertClose(
        grad[k],
        numeric[k],
        1e-7 + 1e-5 * Math.abs(numeric[k]),
        `grad ${k}`,
      );
    }
  }
});

Deno.test("HandwrittenSampleMlp's loss is the softmax cross-entropy and it updates by SGD", () => {
  // [2, 2] is a single linear layer: logits z = W x + b
  const params = new Float64Array([1, 2, 0.5, -1, 0, -0.5]);
  const x = new Float64Array([0.5, 0.25]);
  const z = [0.5 + 0.5 + 0.5, -0.5 + 0 - 0.5];
  const lse = Math.log(Math.exp(z[0]) + Math.exp(z[1]));
  const runner = new HandwrittenSampleMlp([2, 2], params);
  const lr = 0.01;
  assertClose(runner.step(x, 1, lr), lse - z[1], 1e-14, "loss");
  const p0 = Math.exp(z[0] - lse), p1 = Math.exp(z[1] - lse);
  const dz = [p0, p1 - 1];
  const expected = [
    dz[0] * 0.5,
    dz[0] * 0.25,
    dz[0],
    dz[1] * 0.5,
    dz[1] * 0.25,
    dz[1],
  ];
  const grad = runner.gradient(), after = runner.parameters();
  for (let k = 0; k < 6; k++) {
    assertClose(grad[k], expected[k], 1e-14, `grad ${k}`);
    assertClose(
      after[k],
      params[k] - lr * expected[k],
      1e-15,
      `parameter ${k}`,
    );
  }
});

Deno.test("handwrittenSampleRunner runs the MNIST-sized workload with a falling loss", async () => {
  const { sizes, lr, paramSeed, sampleSeed } = WorkloadMnist;
  const runner = await handwrittenSampleRunner(
    sizes,
    initialParams(sizes, paramSeed),
  );
  const { x, label } = makeMnistSample(sampleSeed);
  const first = runner.step(x, label, lr);
  const second = runner.step(x, label, lr);
  assert.ok(Number.isFinite(first) && Number.isFinite(second));
  assert.ok(second < first, `${second} < ${first}`);
});

Deno.test("naive port: backward() handles graphs deeper than the call stack, in micrograd's order", () => {
  const x = new Value(0.5);
  let y = x;
  for (let k = 0; k < 50_000; k++) y = y.add(x);
  y.backward();
  assert.equal(x.grad, 50_001);
  assert.equal(y.data, 0.5 * 50_001);
});
