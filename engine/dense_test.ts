// Dense layers: Tape.denseRange computes four neurons per pass and
// Tape.backward takes a layer's neurons at once (denseForward, denseBackward).
// Both must give the bits of one DotRange node at a time, for every shape,
// bias, activation and mix of inputs that need a gradient.

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import { naryBackward, Op, unaryDerivative } from "./ops.ts";
import { Tape } from "./tape.ts";

const ACTIVATIONS = [-1, Op.Relu, Op.Tanh] as const;

interface Layer {
  n: number;
  count: number;
  bias: boolean;
  activation: number;
  /** Per input: whether it needs a gradient. */
  inputNeeds: boolean[];
  /** Weights frozen (no gradient) in this layer. */
  frozen: boolean;
  values: number[];
}

const layerArb: fc.Arbitrary<Layer> = fc.record({
  n: fc.integer({ min: 1, max: 7 }),
  count: fc.integer({ min: 1, max: 11 }),
  bias: fc.boolean(),
  activation: fc.constantFrom(...ACTIVATIONS),
  frozen: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  needMode: fc.constantFrom("all", "none", "some"),
}).map(({ n, count, bias, activation, frozen, seed, needMode }) => {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const values = Array.from(
    { length: (n + 1) * count + n },
    // Some exact zeros: the backward skips nodes whose gradient is 0.
    () => (rand() < 0.1 ? 0 : rand() * 4 - 2),
  );
  const inputNeeds = Array.from(
    { length: n },
    (_, k) => needMode === "all" || (needMode === "some" && k % 2 === 0),
  );
  return { n, count, bias, activation, frozen, inputNeeds, values };
});

/** Records the layer's leaves: weights (+ bias) per neuron, then the inputs. */
function leaves(tape: Tape, layer: Layer): number {
  const { n, count, values } = layer;
  const stride = n + 1;
  for (let j = 0; j < count * stride; j++) {
    tape.leaf(values[j], !layer.frozen);
  }
  const x = tape.size;
  for (let k = 0; k < n; k++) {
    tape.leaf(values[count * stride + k], layer.inputNeeds[k]);
  }
  return x;
}

/** Records the layer: its leaves, then its dots (and activations). */
function record(tape: Tape, layer: Layer, fused: boolean) {
  const { n, count, bias, activation } = layer;
  const stride = n + 1;
  const x = leaves(tape, layer);
  const biasOffset = bias ? n : -1;
  let first: number;
  if (fused) {
    first = tape.denseRange(0, stride, x, n, count, biasOffset, activation);
  } else {
    first = tape.size;
    for (let j = 0; j < count; j++) {
      tape.dotRange(j * stride, x, n, bias ? j * stride + n : -1);
    }
    if (activation !== -1) tape.unaryRange(activation, first, count);
  }
  const outs = activation === -1 ? first : first + count;
  // A root that mixes the outputs with varied weights (some 0).
  const root = tape.dot(
    Array.from({ length: count }, (_, j) => tape.constant(j % 3 - 1 + j / 7)),
    Array.from({ length: count }, (_, j) => outs + j),
  );
  return { x, first, root };
}

/** Backward one node at a time, as before the layer pass. */
function referenceBackward(tape: Tape, root: number): void {
  const { data, grad, op, arg0, arg1, needsGrad: need, pool } = tape;
  grad[root] = 1;
  for (let i = root; i >= 0; i--) {
    const code = op[i];
    if (code === Op.Leaf || code === Op.Const || need[i] === 0) continue;
    const g = grad[i];
    if (g === 0) continue;
    if (
      code === Op.Dot || code === Op.DotRange || code === Op.DotRangeRelu ||
      code === Op.Sum
    ) {
      naryBackward(code, g, data, grad, need, pool, arg0[i], arg1[i], data[i]);
    } else {
      const a = arg0[i];
      if (need[a]) grad[a] += g * unaryDerivative(code, data[a], data[i]);
    }
  }
}

function bits(xs: Float64Array): string {
  return Array.from(xs, (x) => Object.is(x, -0) ? "-0" : String(x)).join(",");
}

Deno.test("denseRange and the layer backward match one node at a time, bit for bit", () => {
  fc.assert(
    fc.property(layerArb, (layer) => {
      const fused = new Tape(), plain = new Tape();
      const a = record(fused, layer, true), b = record(plain, layer, false);
      assert.equal(fused.size, plain.size);
      assert.equal(
        bits(fused.data.subarray(0, fused.size)),
        bits(plain.data.subarray(0, plain.size)),
      );
      fused.backward(a.root);
      referenceBackward(plain, b.root);
      assert.equal(
        bits(fused.grad.subarray(0, fused.size)),
        bits(plain.grad.subarray(0, plain.size)),
      );
    }),
    { numRuns: 400, seed: 9 },
  );
});

Deno.test("the layer backward leaves alone dots whose inputs overlap their weights", () => {
  // dot(x, x) over one range four times: weights and inputs are the same
  // nodes, so each node must go on its own, in order (other orders round
  // differently).
  const run = (blocked: boolean) => {
    const tape = new Tape();
    const x = tape.leaf(0.1);
    tape.leaf(-1 / 3);
    tape.leaf(2.7);
    const first = tape.size;
    for (let j = 0; j < 4; j++) tape.dotRange(x, x, 3);
    const scales = [1e16, 0.3, -1e16, 0.7].map((c) => tape.constant(c));
    const root = tape.dot(scales, [first, first + 1, first + 2, first + 3]);
    if (blocked) tape.backward(root);
    else referenceBackward(tape, root);
    return bits(tape.grad.subarray(0, 3));
  };
  assert.equal(run(true), run(false));
  // d/dx Σ_j c_j (x·x) = 2x Σ c_j, up to rounding.
  const grads = run(true).split(",").map(Number);
  assert.ok(Math.abs(grads[0] - 0.2 * 1.0) < 4, `${grads[0]}`);
});

Deno.test("a fused ReLU layer (DotRangeRelu) has the values and gradients of dots then ReLUs, bit for bit", () => {
  fc.assert(
    fc.property(layerArb, (drawn) => {
      const layer = { ...drawn, activation: Op.Relu };
      const plain = new Tape();
      const b = record(plain, layer, true); // count dots, then count ReLUs
      const fused = new Tape();
      const { n, count, bias } = layer;
      const stride = n + 1;
      const x = leaves(fused, layer);
      const first = fused.denseRange(
        0,
        stride,
        x,
        n,
        count,
        bias ? n : -1,
        Op.Relu,
        true,
      );
      assert.equal(fused.size, first + count);
      for (let j = 0; j < count; j++) {
        assert.equal(fused.op[first + j], Op.DotRangeRelu);
      }
      const root = fused.dot(
        Array.from(
          { length: count },
          (_, j) => fused.constant(j % 3 - 1 + j / 7),
        ),
        Array.from({ length: count }, (_, j) => first + j),
      );
      const reluValues = (t: Tape, at: number) =>
        t.data.subarray(at, at + count);
      assert.equal(
        bits(reluValues(fused, first)),
        bits(reluValues(plain, b.first + count)),
      );
      assert.equal(fused.data[root], plain.data[b.root]);
      fused.backward(root);
      plain.backward(b.root);
      // Every leaf's gradient, and each neuron's output gradient.
      assert.equal(
        bits(fused.grad.subarray(0, x + n)),
        bits(plain.grad.subarray(0, x + n)),
      );
      assert.equal(
        bits(fused.grad.subarray(first, first + count)),
        bits(plain.grad.subarray(b.first + count, b.first + 2 * count)),
      );
      // Replayed, then backpropagated one node at a time: the same again.
      fused.replay(first);
      assert.equal(
        bits(reluValues(fused, first)),
        bits(reluValues(plain, b.first + count)),
      );
      fused.grad.fill(0);
      referenceBackward(fused, root);
      assert.equal(
        bits(fused.grad.subarray(0, x + n)),
        bits(plain.grad.subarray(0, x + n)),
      );
    }),
    { numRuns: 300, seed: 11 },
  );
});

Deno.test("denseRange fuses only a ReLU", () => {
  const tape = new Tape();
  tape.leaf(1), tape.leaf(2);
  assert.throws(
    () => tape.denseRange(0, 1, 1, 1, 1, -1, Op.Tanh, true),
    RangeError,
    "Only a ReLU fuses with the dots, got activation tanh",
  );
  assert.throws(
    () => tape.denseRange(0, 1, 1, 1, 1, -1, -1, true),
    RangeError,
    "Only a ReLU fuses with the dots, got activation none",
  );
});
