import assert from "node:assert/strict";
import { Op, Tape, Value } from "../engine/mod.ts";
import { Layer } from "./layer.ts";
import { Rng } from "./rng.ts";
import { throwsExactly } from "./_testing.ts";

Deno.test("Layer allocates one contiguous block: neuron j at start + j·(nin + 1)", () => {
  const tape = new Tape();
  tape.constant(7);
  const layer = new Layer(3, 4, { tape });
  assert.equal(layer.parameterStart, 1);
  assert.equal(layer.parameterCount, 16);
  assert.equal(tape.size, 17);
  layer.neurons.forEach((n, j) => {
    assert.equal(n.weightStart, 1 + j * 4);
    assert.equal(n.biasIndex, 1 + j * 4 + 3);
  });
  assert.deepEqual(
    layer.parameters().map((p) => p.index),
    Array.from({ length: 16 }, (_, k) => 1 + k),
  );
  // micrograd's order: neuron by neuron, weights then bias.
  assert.deepEqual(
    layer.parameters().map((p) => p.index),
    layer.neurons.flatMap((n) => n.parameters().map((p) => p.index)),
  );
  assert.equal(layer.nin, 3);
  assert.equal(layer.nout, 4);
  assert.equal(layer.activation, "relu");
});

Deno.test("Layer draws weights neuron by neuron from one generator", () => {
  const layer = new Layer(2, 3, { seed: 21, tape: new Tape() });
  const rng = new Rng(21);
  const expected = [0, 1, 2].flatMap(() => [
    rng.uniform(-1, 1),
    rng.uniform(-1, 1),
    0,
  ]);
  assert.deepEqual(layer.parameters().map((p) => p.data), expected);
  const xavier = new Layer(2, 3, {
    init: "xavier",
    seed: 21,
    tape: new Tape(),
  });
  const limit = Math.sqrt(6 / (2 + 3));
  const ref = new Rng(21);
  assert.deepEqual(
    xavier.parameters().map((p) => p.data),
    [0, 1, 2].flatMap(() => [
      ref.uniform(-limit, limit),
      ref.uniform(-limit, limit),
      0,
    ]),
  );
});

Deno.test("Layer.record() records all dots, then all activations; outputs are contiguous", () => {
  const tape = new Tape();
  const layer = new Layer(2, 3, { activation: "tanh", tape });
  const x = tape.constant(0.5);
  tape.constant(-2);
  const first = layer.record(tape, x);
  const dots = x + 2;
  for (let j = 0; j < 3; j++) {
    assert.equal(tape.op[dots + j], Op.DotRange);
    assert.equal(tape.op[dots + 3 + j], Op.Tanh);
    assert.deepEqual(tape.inputsOf(dots + 3 + j), [dots + j]);
    const n = layer.neurons[j];
    assert.deepEqual(tape.inputsOf(dots + j), [
      n.biasIndex,
      n.weightStart,
      n.weightStart + 1,
      x,
      x + 1,
    ]);
    const [w0, w1] = n.w.map((w) => w.data);
    assert.equal(tape.data[first + j], Math.tanh(0 + w0 * 0.5 + w1 * -2));
  }
  assert.equal(first, dots + 3);
  assert.equal(tape.size, first + 3);
});

Deno.test("Layer.record() of a linear layer records only the dots", () => {
  const tape = new Tape();
  const layer = new Layer(1, 2, { activation: "linear", tape });
  const x = tape.constant(2);
  const first = layer.record(tape, x);
  assert.equal(first, x + 1);
  assert.equal(tape.size, x + 3);
  assert.equal(tape.op[first], Op.DotRange);
  assert.equal(tape.op[first + 1], Op.DotRange);
});

Deno.test("Layer.forward() reads contiguous Values as a range and gathers the rest", () => {
  const tape = new Tape();
  const layer = new Layer(2, 2, { activation: "sigmoid", tape });
  const a = new Value(1, { tape }), b = new Value(-1, { tape });
  let size = tape.size;
  const out = layer.forward([a, b]);
  assert.equal(tape.size, size + 4);
  assert.equal(tape.op[size], Op.DotRange);
  assert.deepEqual(out.map((v) => v.index), [size + 2, size + 3]);
  size = tape.size;
  const swapped = layer.forward([b, a]);
  assert.equal(tape.op[size], Op.Dot);
  assert.equal(tape.op[size + 1], Op.Dot);
  assert.equal(tape.op[size + 2], Op.Sigmoid);
  layer.neurons.forEach((n, j) => {
    const [w0, w1] = n.w.map((w) => w.data);
    const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
    assert.ok(Math.abs(out[j].data - sigmoid(w0 - w1)) <= 1e-15);
    assert.ok(Math.abs(swapped[j].data - sigmoid(-w0 + w1)) <= 1e-15);
  });
});

Deno.test("Layer gradients match finite differences", () => {
  const tape = new Tape();
  const layer = new Layer(3, 2, { activation: "tanh", tape, seed: 4 });
  const x = [0.3, -0.8, 0.5].map((v) => new Value(v, { tape }));
  const mark = tape.mark();
  const loss = (): Value => {
    const [u, v] = layer.forward(x);
    return u.mul(v).add(u);
  };
  layer.zeroGrad();
  loss().backward();
  const nodes = [...layer.parameters(), ...x];
  const analytic = nodes.map((p) => p.grad);
  const eps = 1e-6;
  nodes.forEach((p, k) => {
    const at = (delta: number): number => {
      tape.rewind(mark);
      const keep = tape.data[p.index];
      tape.data[p.index] = keep + delta;
      const value = loss().data;
      tape.data[p.index] = keep;
      return value;
    };
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    assert.ok(Math.abs(analytic[k] - numeric) < 1e-7, `#${k}`);
  });
});

Deno.test("Layer.recordIndices() records gathered dots on arbitrary nodes", () => {
  const tape = new Tape();
  const layer = new Layer(2, 2, { activation: "relu", tape });
  const a = tape.constant(1), b = tape.constant(2);
  const first = layer.recordIndices(tape, [b, a]);
  assert.equal(tape.op[first - 2], Op.Dot);
  assert.equal(tape.op[first], Op.Relu);
  layer.neurons.forEach((n, j) => {
    const [w0, w1] = n.w.map((w) => w.data);
    assert.equal(tape.data[first + j], Math.max(0, 0 + w0 * 2 + w1 * 1));
  });
});

Deno.test("Layer.zeroGrad() clears the whole block", () => {
  const tape = new Tape();
  const layer = new Layer(2, 3, { tape });
  for (let i = 0; i < tape.size; i++) tape.grad[i] = 1;
  const outside = tape.leaf(0);
  tape.grad[outside] = 5;
  layer.zeroGrad();
  assert.ok(layer.parameters().every((p) => p.grad === 0));
  assert.equal(tape.grad[outside], 5);
});

Deno.test("Layer displays like micrograd", () => {
  assert.equal(
    new Layer(2, 3, { tape: new Tape() }).toString(),
    "Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)]",
  );
  assert.equal(
    String(new Layer(16, 1, { activation: "linear", tape: new Tape() })),
    "Layer of [LinearNeuron(16)]",
  );
});

Deno.test("Layer rejects bad arguments before recording anything", () => {
  const tape = new Tape();
  throwsExactly(
    () => new Layer(2, 0, { tape }),
    RangeError,
    "Layer nout must be a positive integer, got 0",
  );
  throwsExactly(
    () => new Layer(-1, 2, { tape }),
    RangeError,
    "Layer nin must be a positive integer, got -1",
  );
  throwsExactly(
    () => new Layer(2, null as unknown as number, { tape }),
    TypeError,
    "Layer nout must be a positive integer, got null",
  );
  throwsExactly(
    () => new Layer(2, 2, { tape, activation: "softmax" as "relu" }),
    TypeError,
    'Layer activation must be one of "relu", "tanh", "sigmoid", "linear", got "softmax"',
  );
  throwsExactly(
    () => new Layer(2, 2, { tape, init: 1 as unknown as "he" }),
    TypeError,
    'Layer init must be one of "uniform", "xavier", "he", got 1',
  );
  throwsExactly(
    () => new Layer(2, 2, { tape, seed: "1" as unknown as number }),
    TypeError,
    'Layer seed must be a safe integer, got "1"',
  );
  throwsExactly(
    () => new Layer(2, 2, [] as unknown as object),
    TypeError,
    "Layer options must be an object, got an array of length 0",
  );
  assert.equal(tape.size, 0);
  const layer = new Layer(2, 2, { tape });
  const size = tape.size;
  throwsExactly(
    () => layer.forward([1, 2, 3]),
    RangeError,
    "Layer input must be an array of 2 Values or numbers, got an array of length 3",
  );
  throwsExactly(
    () => layer.forward([1, Infinity]),
    TypeError,
    "Layer input[1] must be a Value or a finite number, got Infinity",
  );
  assert.equal(tape.size, size);
  throwsExactly(
    () => layer.record(new Tape(), 0),
    Error,
    "Cannot combine Values from different tapes; create them on one tape",
  );
  throwsExactly(
    () => layer.record(tape, 0.5),
    RangeError,
    `Layer inputStart must be an integer from 0 to ${
      size - 2
    } (tape size ${size} minus nin 2), got 0.5`,
  );
  throwsExactly(
    () => layer.recordIndices(tape, [1, -1]),
    RangeError,
    `Layer inputs[1] must be a node index from 0 to ${size - 1}, got -1`,
  );
  throwsExactly(
    () => layer.forward([new Value(1, { tape: new Tape() }), 1]),
    Error,
    "Cannot combine Values from different tapes; create them on one tape",
  );
});

Deno.test("Layer throws once a rewind dropped its parameters", () => {
  const tape = new Tape();
  const layer = new Layer(2, 2, { tape });
  tape.rewind(3); // drops the second neuron
  throwsExactly(
    () => layer.forward([1, 2]),
    Error,
    "Stale Layer: its parameters were dropped by tape.rewind(); rewind only to marks taken after building the model",
  );
});
