import assert from "node:assert/strict";
import { Op, type StepLayout, Tape } from "../mod.ts";
import { forceWasmSimd, WasmStep, WasmUnsupportedError } from "./step.ts";

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Net {
  tape: Tape;
  params: number[];
  layout: StepLayout;
}

/**
 * Records an MLP step by hand: layers of dense dots (weights then bias per
 * neuron, as nn/ lays them out), an activation after each but the last, and
 * a loss over the samples.
 */
function buildNet(
  seed: number,
  sizes: number[],
  samples: number,
  activation: number,
  loss: "hinge" | "mse" | "logistic",
): Net {
  const random = rng(seed);
  const tape = new Tape();
  const params: number[] = [];
  const layers: { w: number; b: number; nin: number; nout: number }[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const nin = sizes[l - 1], nout = sizes[l];
    const w = tape.size;
    for (let j = 0; j < nout; j++) {
      for (let k = 0; k < nin; k++) params.push(tape.leaf(random() * 2 - 1));
      params.push(tape.leaf(random() * 0.2 - 0.1));
    }
    layers.push({ w, b: w + nin, nin, nout });
  }
  const firstSample = tape.size;
  const outputs: number[] = [];
  for (let s = 0; s < samples; s++) {
    let x = tape.size;
    for (let k = 0; k < sizes[0]; k++) tape.leaf(random() * 4 - 2, false);
    layers.forEach((layer, l) => {
      const first = tape.size;
      for (let j = 0; j < layer.nout; j++) {
        const base = layer.w + j * (layer.nin + 1);
        tape.dotRange(base, x, layer.nin, base + layer.nin);
      }
      x = first;
      if (l < layers.length - 1) {
        const act = tape.size;
        for (let j = 0; j < layer.nout; j++) tape.unary(activation, first + j);
        x = act;
      }
    });
    outputs.push(x);
  }
  const sampleSize = (tape.size - firstSample) / samples;
  const terms = outputs.map((out, s) => {
    const y = tape.constant(s % 2 === 0 ? 1 : -1);
    if (loss === "hinge") {
      const m = tape.binary(Op.Mul, y, out);
      return tape.unary(Op.Relu, tape.binary(Op.Sub, tape.constant(1), m));
    }
    if (loss === "mse") {
      const d = tape.binary(Op.Sub, out, y);
      return tape.binary(Op.Mul, d, d);
    }
    return tape.unary(
      Op.Softplus,
      tape.unary(Op.Neg, tape.binary(Op.Mul, y, out)),
    );
  });
  const total = tape.sum(terms);
  const root = tape.binary(Op.Div, total, tape.constant(samples));
  return { tape, params, layout: { firstSample, sampleSize, samples, root } };
}

/** The interpreter's loss and parameter gradients. */
function reference(net: Net): { loss: number; grads: number[] } {
  const { tape, params, layout } = net;
  tape.replay(layout.firstSample);
  for (const p of params) tape.grad[p] = 0;
  tape.backward(layout.root);
  return {
    loss: tape.data[layout.root],
    grads: params.map((p) => tape.grad[p]),
  };
}

function assertClose(
  actual: number,
  expected: number,
  relative: number,
  absolute: number,
  what: string,
) {
  const error = Math.abs(actual - expected);
  assert.ok(
    error <= absolute || error <= relative * Math.abs(expected),
    `${what}: ${actual} vs ${expected} (error ${error})`,
  );
}

const ACTIVATIONS = [Op.Relu, Op.Tanh, Op.Sigmoid, Op.Softplus, Op.Abs];
const SHAPES = [
  [2, 1, 1],
  [1, 2, 1],
  [3, 3, 3, 1],
  [2, 5, 7, 1],
  [4, 8, 1],
  [5, 9, 2],
  [2, 16, 16, 1],
  [7, 13, 3],
];

for (const relaxed of [true, false]) {
  Deno.test(`WasmStep float64 gradients match the interpreter within 1e-12 on random MLPs (relaxed ${relaxed})`, () => {
    let seed = 1;
    for (const sizes of SHAPES) {
      for (const activation of ACTIVATIONS) {
        for (const loss of ["hinge", "mse", "logistic"] as const) {
          for (const samples of [1, 3, 6]) {
            const net = buildNet(seed++, sizes, samples, activation, loss);
            const ref = reference(net);
            const step = new WasmStep(net.tape, net.layout, { relaxed });
            for (let round = 0; round < 2; round++) {
              for (const p of net.params) net.tape.grad[p] = 0;
              step.forward();
              step.backward();
              const what = `${sizes} act ${activation} ${loss} ${samples}`;
              assertClose(
                net.tape.data[net.layout.root],
                ref.loss,
                1e-12,
                1e-14,
                `${what} loss`,
              );
              net.params.forEach((p, k) =>
                assertClose(
                  net.tape.grad[p],
                  ref.grads[k],
                  1e-12,
                  1e-14,
                  `${what} grad ${k}`,
                )
              );
            }
          }
        }
      }
    }
  });
}

Deno.test("WasmStep float32 gradients match the interpreter within float32 rounding", () => {
  let seed = 100;
  for (const sizes of SHAPES) {
    for (const activation of [Op.Relu, Op.Tanh]) {
      const net = buildNet(seed++, sizes, 5, activation, "mse");
      const ref = reference(net);
      const step = new WasmStep(net.tape, net.layout, { precision: "float32" });
      for (const p of net.params) net.tape.grad[p] = 0;
      step.forward();
      step.backward();
      const scale = Math.max(...ref.grads.map(Math.abs));
      assertClose(net.tape.data[net.layout.root], ref.loss, 1e-5, 1e-6, "loss");
      net.params.forEach((p, k) =>
        assertClose(
          net.tape.grad[p],
          ref.grads[k],
          1e-4,
          1e-5 * scale,
          `grad ${k}`,
        )
      );
    }
  }
});

Deno.test("WasmStep covers every unary and binary op and Sum/Dot nodes inside a sample", () => {
  const tape = new Tape();
  const w = [0.7, -0.4, 0.3].map((v) => tape.leaf(v));
  const firstSample = tape.size;
  const samples = 3;
  for (let s = 0; s < samples; s++) {
    const x = tape.leaf(0.5 + s, false);
    const y = tape.leaf(1.5 - 0.25 * s, false);
    const a = tape.binary(Op.Mul, w[0], x);
    const b = tape.binary(Op.Add, w[1], y);
    const parts = [
      tape.unary(Op.Neg, a),
      tape.unary(Op.Exp, a),
      tape.unary(Op.Log, tape.binary(Op.Mul, a, a)),
      tape.unary(Op.Tanh, b),
      tape.unary(Op.Relu, b),
      tape.unary(Op.Sigmoid, a),
      tape.unary(Op.Sqrt, tape.binary(Op.Mul, b, b)),
      tape.unary(Op.Abs, a),
      tape.unary(Op.Softplus, b),
      tape.binary(Op.Sub, a, b),
      tape.binary(Op.Div, a, b),
      tape.binary(Op.Pow, tape.binary(Op.Mul, b, b), w[2]),
      tape.binary(Op.Max, a, b),
      tape.binary(Op.Min, a, w[2]),
      tape.dot([w[0], a], [b, w[2]], w[1]),
    ];
    tape.sum(parts);
  }
  const sampleSize = (tape.size - firstSample) / samples;
  const outs = Array.from(
    { length: samples },
    (_, s) => firstSample + (s + 1) * sampleSize - 1,
  );
  const root = tape.sum(outs);
  const net = {
    tape,
    params: w,
    layout: { firstSample, sampleSize, samples, root },
  };
  const ref = reference(net);
  const step = new WasmStep(tape, net.layout);
  for (const p of w) tape.grad[p] = 0;
  step.forward();
  step.backward();
  // No dense layer: every value is computed as the interpreter does, bit
  // for bit; gradients sum over the samples in another order.
  assert.equal(tape.data[root], ref.loss);
  w.forEach((p, k) =>
    assertClose(tape.grad[p], ref.grads[k], 1e-14, 0, `grad ${k}`)
  );
});

Deno.test("WasmStep runs a lone sample whose last node is the root", () => {
  const tape = new Tape();
  const w = tape.leaf(0.5), b = tape.leaf(-0.25);
  const x = tape.leaf(3, false);
  const y = tape.unary(Op.Tanh, tape.dotRange(w, x, 1, b));
  const step = new WasmStep(tape, {
    firstSample: x,
    sampleSize: 3,
    samples: 1,
    root: y,
  });
  tape.data[w] = 2;
  tape.grad[w] = tape.grad[b] = 0;
  step.forward();
  step.backward();
  const v = Math.tanh(2 * 3 - 0.25);
  assert.equal(tape.data[y], v);
  assertClose(tape.grad[w], (1 - v * v) * 3, 1e-15, 0, "dw");
  assertClose(tape.grad[b], 1 - v * v, 1e-15, 0, "db");
});

Deno.test("WasmStep.writeBack() copies every sample value to the tape", () => {
  const net = buildNet(7, [2, 3, 1], 2, Op.Tanh, "mse");
  const { tape, layout } = net;
  const expected =
    (reference(net), Array.from(tape.data.subarray(0, tape.size)));
  const step = new WasmStep(tape, layout);
  step.forward();
  tape.data.fill(
    0,
    layout.firstSample,
    layout.firstSample + 2 * layout.sampleSize,
  );
  step.writeBack();
  for (let i = layout.firstSample; i < tape.size; i++) {
    assertClose(tape.data[i], expected[i], 1e-14, 1e-15, `node ${i}`);
  }
});

Deno.test("WasmStep throws WasmUnsupportedError without SIMD", () => {
  const net = buildNet(3, [2, 2, 1], 2, Op.Relu, "hinge");
  forceWasmSimd(false);
  try {
    assert.throws(
      () => new WasmStep(net.tape, net.layout),
      WasmUnsupportedError,
      "This runtime has no WebAssembly SIMD; use the JavaScript compiler",
    );
  } finally {
    forceWasmSimd(undefined);
  }
});

Deno.test("WasmStep throws WasmUnsupportedError on a parameter inside the sample", () => {
  const tape = new Tape();
  const w = tape.leaf(1);
  const v = tape.leaf(2); // needs a gradient, inside the "sample"
  const y = tape.binary(Op.Mul, w, v);
  assert.throws(
    () =>
      new WasmStep(tape, {
        firstSample: v,
        sampleSize: 2,
        samples: 1,
        root: y,
      }),
    WasmUnsupportedError,
    `Node ${v} is a leaf inside the sample that needs a gradient; the wasm backend takes parameters only before the samples`,
  );
});

Deno.test("WasmStep throws WasmUnsupportedError on a fused ReLU neuron (the façade's DotRangeRelu)", () => {
  const tape = new Tape();
  tape.leaf(0.5), tape.leaf(-1), tape.leaf(0.25); // two weights, then a bias
  const x = tape.leaf(2, false);
  tape.leaf(3, false);
  const y = tape.denseRange(0, 3, x, 2, 1, 2, Op.Relu, true);
  assert.throws(
    () =>
      new WasmStep(tape, {
        firstSample: x,
        sampleSize: 3,
        samples: 1,
        root: y,
      }),
    WasmUnsupportedError,
    `Op ${Op.DotRangeRelu} at node ${y} is not covered by the wasm backend`,
  );
});

Deno.test("WasmStep throws WasmUnsupportedError on a dot over sample weights", () => {
  const tape = new Tape();
  const first = tape.size;
  const a = tape.leaf(1, false);
  tape.leaf(2, false);
  const y = tape.dotRange(a, a, 2, -1);
  assert.throws(
    () =>
      new WasmStep(tape, {
        firstSample: first,
        sampleSize: 3,
        samples: 1,
        root: y,
      }),
    WasmUnsupportedError,
    `Dot node ${y} is not a dense layer over shared weights and sample inputs; the wasm backend does not cover it`,
  );
});

Deno.test("WasmStep rejects bad layouts and options", () => {
  const net = buildNet(3, [2, 2, 1], 2, Op.Relu, "hinge");
  assert.throws(
    () => new WasmStep(net.tape, { ...net.layout, samples: 1000 }),
    RangeError,
    "Step layout does not fit the tape",
  );
  assert.throws(
    () => new WasmStep(net.tape, { ...net.layout, samples: -1 }),
    RangeError,
    "Step layout samples must be a non-negative integer, got -1",
  );
  assert.throws(
    () =>
      new WasmStep(net.tape, { ...net.layout, root: net.layout.firstSample }),
    RangeError,
    `Step layout root ${net.layout.firstSample} must be the last sample node or come after the samples`,
  );
  assert.throws(
    () =>
      new WasmStep(net.tape, net.layout, { precision: "float16" as "float32" }),
    RangeError,
    'Unknown precision "float16"; expected float64 or float32',
  );
  assert.throws(
    () =>
      new WasmStep(net.tape, {
        ...net.layout,
        sampleSize: net.layout.sampleSize - 1,
      }),
    RangeError,
    "Sample 1 differs in structure from sample 0",
  );
});

Deno.test("WasmStep.forwardSamples()/backwardSamples() run the first n samples like the interpreter", () => {
  let seed = 300;
  for (const sizes of SHAPES) {
    for (const precision of ["float64", "float32"] as const) {
      const samples = 6, n = 4, nout = sizes[sizes.length - 1];
      const net = buildNet(seed++, sizes, samples, Op.Tanh, "mse");
      const { tape, params, layout } = net;
      tape.replay(layout.firstSample);
      const offsets = Array.from(
        { length: nout },
        (_, k) => layout.sampleSize - nout + k,
      );
      const outputs = (s: number) =>
        offsets.map((o) => layout.firstSample + s * layout.sampleSize + o);
      // Reference: the gradient of Σ seed·output over the first n samples.
      const seeds: number[] = [];
      const terms: number[] = [];
      for (let s = 0; s < n; s++) {
        for (const o of outputs(s)) {
          seeds.push(0.5 + 0.25 * seeds.length);
          terms.push(
            tape.binary(Op.Mul, tape.constant(seeds[seeds.length - 1]), o),
          );
        }
      }
      const probe = tape.sum(terms);
      const want = Array.from(
        { length: n },
        (_, s) => outputs(s).map((o) => tape.data[o]),
      );
      for (const p of params) tape.grad[p] = 0;
      tape.backward(probe);
      const grads = params.map((p) => tape.grad[p]);
      const step = new WasmStep(tape, layout, { precision, outputs: offsets });
      for (let s = 0; s < n; s++) {
        for (const o of outputs(s)) tape.data[o] = NaN;
      }
      step.forwardSamples(n);
      const f32 = precision === "float32";
      const [rel, abs] = f32 ? [1e-4, 1e-5] : [1e-12, 1e-14];
      for (let s = 0; s < n; s++) {
        outputs(s).forEach((o, k) =>
          assertClose(tape.data[o], want[s][k], rel, abs, `${sizes} output`)
        );
      }
      for (const p of params) tape.grad[p] = 0;
      let k = 0;
      for (let s = 0; s < n; s++) {
        for (const o of outputs(s)) tape.grad[o] = seeds[k++];
      }
      step.backwardSamples(n);
      const scale = Math.max(...grads.map(Math.abs));
      params.forEach((p, i) =>
        assertClose(
          tape.grad[p],
          grads[i],
          rel,
          f32 ? 1e-5 * scale : abs,
          `${sizes} ${precision} grad ${i}`,
        )
      );
    }
  }
});

Deno.test("WasmStep resident parameters: descend() is SGD with L2 in the module, stored back on request", () => {
  let seed = 500;
  for (const sizes of SHAPES) {
    for (const precision of ["float64", "float32"] as const) {
      const net = buildNet(seed++, sizes, 5, Op.Relu, "hinge");
      const { tape, params } = net;
      const ref = reference(net);
      const before = params.map((p) => tape.data[p]);
      const lr = 0.3, alpha = 0.01;
      const step = new WasmStep(tape, net.layout, {
        precision,
        parameters: { start: 0, count: params.length },
      });
      const f32 = precision === "float32";
      const squares = (xs: number[]) => xs.reduce((s, x) => s + x * x, 0);
      const [rel, abs] = f32 ? [1e-5, 1e-6] : [1e-12, 1e-14];
      assertClose(step.squaredNorm(), squares(before), rel, abs, "norm");
      for (const p of params) tape.grad[p] = 0;
      step.forward();
      step.backward();
      // The gradients stay in the module: the tape's are untouched.
      params.forEach((p) => assert.equal(tape.grad[p], 0));
      step.descend(lr, alpha);
      // Not written back yet.
      params.forEach((p, k) => assert.equal(tape.data[p], before[k]));
      step.storeParameters();
      const want = before.map((w, k) =>
        w - lr * (ref.grads[k] + 2 * alpha * w)
      );
      const scale = Math.max(...want.map(Math.abs));
      params.forEach((p, k) =>
        assertClose(
          tape.data[p],
          want[k],
          rel,
          f32 ? 1e-6 * scale : abs,
          `${sizes} ${precision} parameter ${k}`,
        )
      );
      if (f32) {
        params.forEach((p) =>
          assert.equal(tape.data[p], Math.fround(tape.data[p]))
        );
      }
      assertClose(step.squaredNorm(), squares(want), rel * 10, abs, "new norm");
      // Edited on the tape, then loaded.
      tape.data[params[0]] = 2;
      step.loadParameters();
      step.storeParameters();
      assert.equal(tape.data[params[0]], 2);
    }
  }
});

Deno.test("WasmStep rejects bad resident blocks and output offsets, and resident calls without a block", () => {
  const net = buildNet(7, [2, 3, 1], 2, Op.Relu, "mse");
  const { tape, layout } = net;
  assert.throws(
    () =>
      new WasmStep(tape, layout, {
        parameters: { start: 0, count: layout.firstSample + 1 },
      }),
    RangeError,
    `Resident parameters must be a block of nodes before the samples (from ${layout.firstSample}), got start 0 count ${
      layout.firstSample + 1
    }`,
  );
  assert.throws(
    () => new WasmStep(tape, layout, { outputs: [layout.sampleSize] }),
    RangeError,
    `Output offsets must be integers from 0 to ${
      layout.sampleSize - 1
    }, got ${layout.sampleSize}`,
  );
  const step = new WasmStep(tape, layout);
  for (const n of [-1, 3, 1.5]) {
    for (const call of [step.forwardSamples, step.backwardSamples]) {
      assert.throws(
        () => call.call(step, n),
        RangeError,
        `Sample count must be an integer from 0 to 2, got ${n}`,
      );
    }
  }
  for (
    const call of [
      () => step.descend(0.1),
      () => step.loadParameters(),
      () => step.storeParameters(),
      () => step.squaredNorm(),
    ]
  ) {
    assert.throws(
      call,
      Error,
      "This WasmStep keeps no parameters of its own; pass options.parameters",
    );
  }
});
