import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import { Op, Tape, Value } from "../engine/mod.ts";
import type { Activation } from "./activation.ts";
import * as naive from "../testing/naive_micrograd.ts";
import { hinge, mse } from "./loss.ts";
import { MLP } from "./mlp.ts";
import { Rng } from "./rng.ts";
import { throwsExactly } from "./_testing.ts";

/** The tape's state, to check that something left it untouched. */
function snapshot(tape: Tape): unknown {
  return {
    size: tape.size,
    poolSize: tape.poolSize,
    generation: tape.generation,
    data: Array.from(tape.data.subarray(0, tape.size)),
    grad: Array.from(tape.grad.subarray(0, tape.size)),
  };
}

Deno.test("MLP(2, [16, 16, 1]) has 337 parameters and MLP(3, [4, 4, 1]) has 41", () => {
  const big = new MLP(2, [16, 16, 1], { tape: new Tape() });
  assert.equal(big.parameterCount, 337);
  assert.equal(big.parameters().length, 337);
  const small = new MLP(3, [4, 4, 1], { tape: new Tape() });
  assert.equal(small.parameterCount, 41);
  assert.equal(small.parameters().length, 41);
  assert.equal(small.tape.size, 41);
});

Deno.test("MLP exposes nin, nouts, activations, layers and architecture", () => {
  const model = new MLP(3, [4, 4, 1], { tape: new Tape() });
  assert.equal(model.nin, 3);
  assert.deepEqual(model.nouts, [4, 4, 1]);
  assert.deepEqual(model.activations, ["relu", "relu", "linear"]);
  assert.equal(model.architecture, "3-4-4-1");
  assert.equal(model.layers.length, 3);
  assert.deepEqual(model.layers.map((l) => [l.nin, l.nout]), [
    [3, 4],
    [4, 4],
    [4, 1],
  ]);
  assert.ok(Object.isFrozen(model.nouts));
  assert.ok(Object.isFrozen(model.activations));
  assert.ok(Object.isFrozen(model.layers));
});

Deno.test("MLP copies nouts, so changing the caller's array changes nothing", () => {
  const nouts = [2, 1];
  const model = new MLP(1, nouts, { tape: new Tape() });
  nouts[0] = 9;
  assert.deepEqual(model.nouts, [2, 1]);
});

Deno.test("MLP activations: micrograd's default, the Go port's tanh, or one per layer", () => {
  const tape = new Tape();
  const go = new MLP(3, [4, 4, 1], {
    activation: "tanh",
    outputActivation: "tanh",
    tape,
  });
  assert.deepEqual(go.activations, ["tanh", "tanh", "tanh"]);
  const mixed = new MLP(2, [3, 3, 2], {
    activations: ["relu", "sigmoid", "linear"],
    tape,
  });
  assert.deepEqual(mixed.layers.map((l) => l.activation), [
    "relu",
    "sigmoid",
    "linear",
  ]);
  const one = new MLP(2, [1], { tape });
  assert.deepEqual(one.activations, ["linear"]);
  const sig = new MLP(2, [1], { outputActivation: "sigmoid", tape });
  assert.deepEqual(sig.activations, ["sigmoid"]);
});

Deno.test("MLP displays like micrograd", () => {
  const model = new MLP(2, [16, 16, 1], { tape: new Tape() });
  const layer = (n: number, name: string, nin: number): string =>
    `Layer of [${Array(n).fill(`${name}Neuron(${nin})`).join(", ")}]`;
  assert.equal(
    model.toString(),
    `MLP of [${layer(16, "ReLU", 2)}, ${layer(16, "ReLU", 16)}, ${
      layer(1, "Linear", 16)
    }]`,
  );
  assert.equal(
    String(new MLP(1, [1, 1], { activation: "tanh", tape: new Tape() })),
    "MLP of [Layer of [TanhNeuron(1)], Layer of [LinearNeuron(1)]]",
  );
});

Deno.test("MLP.parameters() is micrograd's order and one contiguous block", () => {
  const tape = new Tape();
  tape.constant(1);
  const model = new MLP(2, [3, 2, 1], { tape });
  const indices = model.parameters().map((p) => p.index);
  assert.deepEqual(
    indices,
    model.layers.flatMap((l) =>
      l.neurons.flatMap((n) => [...n.w, n.b].map((p) => p.index))
    ),
  );
  assert.deepEqual(
    indices,
    Array.from({ length: model.parameterCount }, (_, k) => 1 + k),
  );
  assert.equal(model.parameterStart, 1);
});

Deno.test("MLP with the same seed has bit-identical parameters", () => {
  const bits = (m: MLP): string =>
    Array.from(
      new Uint32Array(Float64Array.from(m.toJSON().parameters).buffer),
    ).join(",");
  for (const init of ["uniform", "xavier", "he"] as const) {
    const a = new MLP(2, [16, 16, 1], { seed: 99, init, tape: new Tape() });
    const b = new MLP(2, [16, 16, 1], { seed: 99, init, tape: new Tape() });
    const c = new MLP(2, [16, 16, 1], { seed: 98, init, tape: new Tape() });
    assert.equal(bits(a), bits(b));
    assert.notEqual(bits(a), bits(c));
  }
  // The default is seed 1337; an rng option draws the same way.
  const byDefault = new MLP(2, [4, 1], { tape: new Tape() });
  const bySeed = new MLP(2, [4, 1], { seed: 1337, tape: new Tape() });
  const byRng = new MLP(2, [4, 1], { rng: new Rng(1337), tape: new Tape() });
  assert.equal(bits(byDefault), bits(bySeed));
  assert.equal(bits(byDefault), bits(byRng));
});

Deno.test("MLP init: weights from micrograd's uniform(-1, 1), biases 0", () => {
  const model = new MLP(2, [3, 1], { seed: 8, tape: new Tape() });
  const rng = new Rng(8);
  const w = () => rng.uniform(-1, 1);
  const expected = [
    ...[w(), w(), 0, w(), w(), 0, w(), w(), 0], // layer 1: 3 neurons
    ...[w(), w(), w(), 0], // layer 2: 1 neuron
  ];
  assert.deepEqual(model.toJSON().parameters, expected);
});

Deno.test("MLP he init uses std √(2/nin) per layer", () => {
  const model = new MLP(4, [2, 1], { init: "he", seed: 2, tape: new Tape() });
  const rng = new Rng(2);
  const expected: number[] = [];
  for (let j = 0; j < 2; j++) {
    for (let k = 0; k < 4; k++) expected.push(rng.normal(0, Math.sqrt(2 / 4)));
    expected.push(0);
  }
  for (let k = 0; k < 2; k++) expected.push(rng.normal(0, Math.sqrt(2 / 2)));
  expected.push(0);
  assert.deepEqual(model.toJSON().parameters, expected);
});

Deno.test("MLP.forward() matches a hand computation", () => {
  // Hidden ReLU layer of 2, linear output.
  const model = new MLP(2, [2, 1], {
    parameters: [1, 2, 0.5, -1, 1, -3, 2, -1, 0.25],
    tape: new Tape(),
  });
  const x = [1, 2];
  const h0 = Math.max(0, 0.5 + 1 * 1 + 2 * 2); // 5.5
  const h1 = Math.max(0, -3 + -1 * 1 + 1 * 2); // 0
  const out = model.forward(x);
  assert.equal(out.length, 1);
  assert.equal(out[0].data, 0.25 + 2 * h0 - 1 * h1);
  out[0].backward();
  const grads = model.parameters().map((p) => p.grad);
  assert.deepEqual(grads, [2 * 1, 2 * 2, 2, 0, 0, 0, h0, h1, 1]);
});

Deno.test("MLP.forward() records one node per neuron (a ReLU neuron fused), record() a dot and a ReLU", () => {
  const tape = new Tape();
  const model = new MLP(2, [3, 1], { tape });
  const a = new Value(1, { tape, requiresGrad: false });
  new Value(2, { tape, requiresGrad: false });
  const before = tape.size;
  const [y] = model.forward([a, Value.at(tape, a.index + 1)]);
  assert.equal(tape.size, before + 4);
  const ops = Array.from(tape.op.subarray(before, tape.size));
  assert.deepEqual(ops, [
    Op.DotRangeRelu,
    Op.DotRangeRelu,
    Op.DotRangeRelu,
    Op.DotRange,
  ]);
  assert.equal(y.index, tape.size - 1);
  // The index path the trainers compile keeps the ReLUs apart; same value.
  const out = model.record(tape, a.index);
  assert.deepEqual(Array.from(tape.op.subarray(y.index + 1, tape.size)), [
    Op.DotRange,
    Op.DotRange,
    Op.DotRange,
    Op.Relu,
    Op.Relu,
    Op.Relu,
    Op.DotRange,
  ]);
  assert.equal(tape.data[out], y.data);
  assert.equal(y.data, model.predict([1, 2])[0]);
});

Deno.test("MLP.forward() returns an array of Values even for one output", () => {
  const out = new MLP(2, [1], { tape: new Tape() }).forward([1, 2]);
  assert.ok(Array.isArray(out));
  assert.equal(out.length, 1);
  assert.ok(out[0] instanceof Value);
});

Deno.test("MLP.record() gives the same outputs as forward() and predict()", () => {
  const tape = new Tape();
  const model = new MLP(3, [5, 4, 2], { activation: "tanh", tape, seed: 3 });
  const x = [0.1, -0.7, 2];
  const start = tape.size;
  x.forEach((v) => tape.constant(v));
  const first = model.record(tape, start);
  const recorded = [tape.data[first], tape.data[first + 1]];
  assert.equal(first, tape.size - 2);
  assert.deepEqual(model.forward(x).map((v) => v.data), recorded);
  assert.deepEqual(model.predict(x), recorded);
});

Deno.test("MLP.forward() and predict() agree bit for bit (property)", () => {
  const activation = fc.constantFrom<Activation>(
    "relu",
    "tanh",
    "sigmoid",
    "linear",
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), activation), {
        minLength: 1,
        maxLength: 3,
      }),
      fc.integer({ min: 0, max: 1000 }),
      fc.constantFrom("uniform", "xavier", "he" as const),
      fc.array(fc.double({ min: -3, max: 3, noNaN: true }), {
        minLength: 4,
        maxLength: 4,
      }),
      (nin, layers, seed, init, xs) => {
        const model = new MLP(nin, layers.map(([n]) => n), {
          activations: layers.map(([, a]) => a),
          init,
          seed,
          tape: new Tape(),
        });
        const x = xs.slice(0, nin);
        const before = snapshot(model.tape);
        const predicted = model.predict(x);
        assert.deepEqual(snapshot(model.tape), before);
        assert.deepEqual(model.forward(x).map((v) => v.data), predicted);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("MLP.predict() leaves the tape, its gradients and Values untouched", () => {
  const tape = new Tape();
  const model = new MLP(2, [4, 1], { tape });
  const [y] = model.forward([0.5, 1]);
  y.backward();
  const before = snapshot(tape);
  const out = model.predict([0.5, 1]);
  assert.deepEqual(out, [y.data]);
  assert.deepEqual(snapshot(tape), before);
  assert.equal(y.data, out[0]); // the handle is still live
});

Deno.test("MLP gradients match finite differences", () => {
  const tape = new Tape();
  const model = new MLP(2, [4, 3, 2], {
    activations: ["tanh", "sigmoid", "linear"],
    tape,
    seed: 17,
  });
  const xs = [[0.5, -1], [1.5, 0.25], [-0.3, 0.8]];
  const ys = [[1, 0], [0, 1], [0.5, 0.5]];
  const mark = tape.mark();
  const lossOf = (): Value =>
    mse(xs.flatMap((x) => model.forward(x)), ys.flat());
  model.zeroGrad();
  lossOf().backward();
  const analytic = model.parameters().map((p) => p.grad);
  // Numeric derivative with predict(): no graph at all.
  const predictedLoss = (): number => {
    let total = 0;
    xs.forEach((x, i) => {
      model.predict(x).forEach((p, j) => total += (p - ys[i][j]) ** 2);
    });
    return total / 6;
  };
  tape.rewind(mark);
  const eps = 1e-6;
  for (let k = 0; k < model.parameterCount; k++) {
    const i = model.parameterStart + k, keep = tape.data[i];
    tape.data[i] = keep + eps;
    const plus = predictedLoss();
    tape.data[i] = keep - eps;
    const minus = predictedLoss();
    tape.data[i] = keep;
    const numeric = (plus - minus) / (2 * eps);
    assert.ok(
      Math.abs(numeric - analytic[k]) < 1e-7,
      `parameter ${k}: ${analytic[k]} vs ${numeric}`,
    );
  }
});

Deno.test("MLP learns y = 0.5x with plain gradient descent", () => {
  const tape = new Tape();
  const model = new MLP(1, [8, 1], { activation: "tanh", tape, seed: 1 });
  const xs = [-1, -0.5, 0, 0.5, 1];
  const mark = tape.mark();
  const step = (): number => {
    tape.rewind(mark);
    const loss = mse(
      xs.map((x) => model.forward([x])[0]),
      xs.map((x) => x / 2),
    );
    model.zeroGrad();
    loss.backward();
    const { data, grad } = tape;
    const end = model.parameterStart + model.parameterCount;
    for (let i = model.parameterStart; i < end; i++) data[i] -= 0.1 * grad[i];
    return loss.data;
  };
  const first = step();
  let last = first;
  for (let i = 0; i < 200; i++) last = step();
  assert.ok(last < first / 100, `${first} -> ${last}`);
});

Deno.test("MLP.zeroGrad() zeroes all parameters with one fill", () => {
  const tape = new Tape();
  const model = new MLP(2, [3, 1], { tape });
  const [y] = model.forward([1, -1]);
  y.backward();
  assert.ok(model.parameters().some((p) => p.grad !== 0));
  model.zeroGrad();
  assert.ok(model.parameters().every((p) => p.grad === 0));
});

Deno.test("MLP parameters option sets the initial parameters", () => {
  const values = Array.from({ length: 13 }, (_, k) => k / 10);
  const model = new MLP(2, [3, 1], { parameters: values, tape: new Tape() });
  assert.deepEqual(model.parameters().map((p) => p.data), values);
});

Deno.test("MLP rejects bad constructor arguments before recording anything", () => {
  const tape = new Tape();
  throwsExactly(
    () => new MLP(0, [1], { tape }),
    RangeError,
    "MLP nin must be a positive integer, got 0",
  );
  throwsExactly(
    () => new MLP(2, 3 as unknown as number[], { tape }),
    TypeError,
    "MLP nouts must be a non-empty array of positive integers, got 3",
  );
  throwsExactly(
    () => new MLP(2, [], { tape }),
    RangeError,
    "MLP nouts must be a non-empty array of positive integers, got an empty array",
  );
  throwsExactly(
    () => new MLP(2, [4, 0, 1], { tape }),
    RangeError,
    "MLP nouts[1] must be a positive integer, got 0",
  );
  throwsExactly(
    () => new MLP(2, [4, "1" as unknown as number], { tape }),
    TypeError,
    'MLP nouts[1] must be a positive integer, got "1"',
  );
  throwsExactly(
    () => new MLP(2, [1], { tape, activation: "elu" as "relu" }),
    TypeError,
    'MLP activation must be one of "relu", "tanh", "sigmoid", "linear", got "elu"',
  );
  throwsExactly(
    () => new MLP(2, [1], { tape, outputActivation: "softmax" as "relu" }),
    TypeError,
    'MLP outputActivation must be one of "relu", "tanh", "sigmoid", "linear", got "softmax"',
  );
  throwsExactly(
    () => new MLP(2, [1], { tape, activations: ["relu"], activation: "tanh" }),
    TypeError,
    "MLP options take activations or activation and outputActivation, not both",
  );
  throwsExactly(
    () => new MLP(2, [2, 1], { tape, activations: ["relu"] }),
    RangeError,
    "MLP activations must be an array of 2 activation names (one per layer), got an array of length 1",
  );
  throwsExactly(
    () => new MLP(2, [1], { tape, activations: "relu" as unknown as [] }),
    TypeError,
    'MLP activations must be an array of 1 activation names, got "relu"',
  );
  throwsExactly(
    () => new MLP(2, [2, 1], { tape, activations: ["relu", "max" as "relu"] }),
    TypeError,
    'MLP activations[1] must be one of "relu", "tanh", "sigmoid", "linear", got "max"',
  );
  throwsExactly(
    () => new MLP(2, [1], { tape, init: "glorot" as "xavier" }),
    TypeError,
    'MLP init must be one of "uniform", "xavier", "he", got "glorot"',
  );
  throwsExactly(
    () => new MLP(2, [1], { tape, rng: new Rng(1), seed: 2 }),
    TypeError,
    "MLP options take rng or seed, not both, got rng and seed 2",
  );
  throwsExactly(
    () => new MLP(3, [4, 4, 1], { tape, parameters: [1, 2] }),
    RangeError,
    "MLP options: expected 41 parameters for 3-4-4-1, got 2",
  );
  throwsExactly(
    () => new MLP(1, [1], { tape, parameters: [1, NaN] }),
    TypeError,
    "MLP options: parameters[1] must be a finite number, got NaN",
  );
  throwsExactly(
    () => new MLP(1, [1], { tape, parameters: {} as number[] }),
    TypeError,
    "MLP options: parameters must be an array of 2 numbers, got an object",
  );
  throwsExactly(
    () => new MLP(1, [1], { tape: "tape" as unknown as Tape }),
    TypeError,
    'MLP tape must be a Tape, got "tape"',
  );
  assert.equal(tape.size, 0);
});

Deno.test("MLP.forward(), record() and predict() reject bad inputs", () => {
  const tape = new Tape();
  const model = new MLP(2, [3, 1], { tape });
  const size = tape.size;
  throwsExactly(
    () => model.forward([1]),
    RangeError,
    "MLP input must be an array of 2 Values or numbers, got an array of length 1",
  );
  throwsExactly(
    () => model.forward([1, null as unknown as number]),
    TypeError,
    "MLP input[1] must be a Value or a finite number, got null",
  );
  throwsExactly(
    () => model.forward([new Value(1, { tape: new Tape() }), 2]),
    Error,
    "Cannot combine Values from different tapes; create them on one tape",
  );
  assert.equal(tape.size, size);
  throwsExactly(
    () => model.predict([1, 2, 3]),
    RangeError,
    "MLP predict() input must be an array of 2 numbers, got an array of length 3",
  );
  throwsExactly(
    () => model.predict([1, new Value(2) as unknown as number]),
    TypeError,
    "MLP predict() input[1] must be a finite number, got an object",
  );
  throwsExactly(
    () => model.predict(undefined as unknown as number[]),
    TypeError,
    "MLP predict() input must be an array of 2 numbers, got undefined",
  );
  throwsExactly(
    () => model.record(new Tape(), 0),
    Error,
    "Cannot combine Values from different tapes; create them on one tape",
  );
  throwsExactly(
    () => model.record(tape, size - 1),
    RangeError,
    `MLP inputStart must be an integer from 0 to ${
      size - 2
    } (tape size ${size} minus nin 2), got ${size - 1}`,
  );
});

Deno.test("MLP throws once a rewind dropped its parameters", () => {
  const tape = new Tape();
  const mark = tape.mark();
  const model = new MLP(2, [3, 1], { tape });
  tape.rewind(mark);
  const message =
    "Stale MLP: its parameters were dropped by tape.rewind(); rewind only to marks taken after building the model";
  throwsExactly(() => model.forward([1, 2]), Error, message);
  throwsExactly(() => model.predict([1, 2]), Error, message);
  throwsExactly(() => model.toJSON(), Error, message);
  throwsExactly(() => model.zeroGrad(), Error, message);
  throwsExactly(() => model.parameters(), Error, message);
});

Deno.test("MLP uses the default tape unless given one", () => {
  const a = new MLP(1, [1]);
  const b = new Value(0);
  assert.equal(a.tape, b.tape);
});

Deno.test("MLP matches the literal micrograd port: display, outputs, gradients, hinge loss", () => {
  const ref = new naive.MLP(2, [16, 16, 1]);
  const model = new MLP(2, [16, 16, 1], {
    parameters: ref.parameters().map((p) => p.data),
    tape: new Tape(),
  });
  assert.equal(model.toString(), ref.toString());
  const xs = [[0.5, -1.25], [1.5, 0.3], [-0.7, 0.9], [2, -2]];
  const ys = [1, -1, 1, -1];
  // micrograd's demo loss: mean max-margin loss plus L2, built literally.
  const refScores = xs.map((x) =>
    ref.call(x.map((v) => new naive.Value(v))) as InstanceType<
      typeof naive.Value
    >
  );
  const refLoss = naive.sum(
    refScores.map((s, i) => s.rmul(-ys[i]).radd(1).relu()),
  ).mul(1 / xs.length);
  refLoss.backward();
  const scores = xs.map((x) => model.forward(x)[0]);
  const loss = hinge(scores, ys);
  loss.backward();
  assert.deepEqual(scores.map((s) => s.data), refScores.map((s) => s.data));
  assert.equal(loss.data, refLoss.data);
  const refGrads = ref.parameters().map((p) => p.grad);
  model.parameters().forEach((p, k) => {
    assert.ok(Math.abs(p.grad - refGrads[k]) <= 1e-12, `parameter ${k}`);
  });
});

Deno.test("MLP rejects holes in nouts and activations", () => {
  const tape = new Tape();
  // deno-lint-ignore no-sparse-arrays
  const nouts = [, 1] as unknown as number[];
  throwsExactly(
    () => new MLP(2, nouts, { tape }),
    TypeError,
    "MLP nouts[0] must be a positive integer, got undefined",
  );
  // deno-lint-ignore no-sparse-arrays
  const activations = ["relu", ,] as unknown as Activation[];
  throwsExactly(
    () => new MLP(2, [2, 1], { tape, activations }),
    TypeError,
    'MLP activations[1] must be one of "relu", "tanh", "sigmoid", "linear", got undefined',
  );
  assert.equal(tape.size, 0);
});
