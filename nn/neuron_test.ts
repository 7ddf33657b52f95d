import assert from "node:assert/strict";
import { Op, Tape, Value } from "../engine/mod.ts";
import { Neuron } from "./neuron.ts";
import { Rng } from "./rng.ts";
import { throwsExactly } from "./_testing.ts";

/** A neuron with known parameters. */
function neuron(
  weights: number[],
  bias: number,
  activation: "relu" | "tanh" | "sigmoid" | "linear",
  tape: Tape = new Tape(),
): Neuron {
  const n = new Neuron(weights.length, { activation, tape });
  weights.forEach((w, k) => tape.data[n.weightStart + k] = w);
  tape.data[n.biasIndex] = bias;
  return n;
}

Deno.test("Neuron stores nin weights then the bias as consecutive leaves", () => {
  const tape = new Tape();
  tape.leaf(42); // something already on the tape
  const n = new Neuron(3, { tape });
  assert.equal(n.weightStart, 1);
  assert.equal(n.biasIndex, 4);
  assert.equal(n.parameterStart, 1);
  assert.equal(n.parameterCount, 4);
  assert.equal(tape.size, 5);
  for (let i = 1; i < 5; i++) {
    assert.equal(tape.op[i], Op.Leaf);
    assert.equal(tape.needsGrad[i], 1);
  }
  assert.deepEqual(n.parameters().map((p) => p.index), [1, 2, 3, 4]);
  assert.deepEqual(n.w.map((p) => p.index), [1, 2, 3]);
  assert.equal(n.b.index, 4);
  assert.equal(n.nin, 3);
  assert.equal(n.tape, tape);
});

Deno.test("Neuron uses micrograd's init: weights uniform(-1, 1) from the seed, bias 0", () => {
  const n = new Neuron(4, { seed: 5, tape: new Tape() });
  const rng = new Rng(5);
  assert.deepEqual(
    n.w.map((w) => w.data),
    [0, 1, 2, 3].map(() => rng.uniform(-1, 1)),
  );
  assert.equal(n.b.data, 0);
});

Deno.test("Neuron defaults to seed 1337, ReLU and the default tape", () => {
  const n = new Neuron(2);
  const rng = new Rng(1337);
  assert.deepEqual(n.w.map((w) => w.data), [
    rng.uniform(-1, 1),
    rng.uniform(-1, 1),
  ]);
  assert.equal(n.activation, "relu");
  assert.equal(String(n), "ReLUNeuron(2)");
});

Deno.test("Neuron draws from a shared rng, which advances", () => {
  const rng = new Rng(9);
  const a = new Neuron(2, { rng, tape: new Tape() });
  const b = new Neuron(2, { rng, tape: new Tape() });
  const ref = new Rng(9);
  const expected = [0, 1, 2, 3].map(() => ref.uniform(-1, 1));
  assert.deepEqual([...a.w, ...b.w].map((w) => w.data), expected);
});

Deno.test("Neuron xavier and he inits draw from the documented distributions", () => {
  const xavier = new Neuron(2, {
    init: "xavier",
    fanOut: 4,
    seed: 3,
    tape: new Tape(),
  });
  const limit = Math.sqrt(6 / (2 + 4));
  const ref = new Rng(3);
  assert.deepEqual(xavier.w.map((w) => w.data), [
    ref.uniform(-limit, limit),
    ref.uniform(-limit, limit),
  ]);
  const he = new Neuron(2, { init: "he", seed: 3, tape: new Tape() });
  const ref2 = new Rng(3);
  assert.deepEqual(he.w.map((w) => w.data), [
    ref2.normal(0, 1),
    ref2.normal(0, 1),
  ]);
  assert.equal(he.b.data, 0);
});

Deno.test("Neuron.forward() computes activation(b + Σ wᵢxᵢ) for every activation", () => {
  const pre = 0.25 + 0.5 * 2 + -1.5 * 1; // -0.25
  const cases = [
    ["relu", 0],
    ["tanh", Math.tanh(pre)],
    ["sigmoid", 1 / (1 + Math.exp(-pre))],
    ["linear", pre],
  ] as const;
  for (const [activation, expected] of cases) {
    const n = neuron([0.5, -1.5], 0.25, activation);
    const y = n.forward([2, 1]).data;
    assert.ok(Math.abs(y - expected) <= 1e-15, `${activation}: ${y}`);
  }
  assert.equal(neuron([0.5, -1.5], 0.25, "relu").forward([2, -1]).data, 2.75);
});

Deno.test("Neuron.forward() records one fused dot node plus one activation node", () => {
  const tape = new Tape();
  const n = neuron([1, 2, 3], 0.5, "tanh", tape);
  const x = [1, 2, 3].map((v) => new Value(v, { tape, requiresGrad: false }));
  const before = tape.size;
  const y = n.forward(x);
  assert.equal(tape.size, before + 2);
  assert.equal(tape.op[before], Op.DotRange);
  assert.equal(tape.op[before + 1], Op.Tanh);
  assert.equal(y.index, before + 1);
  assert.deepEqual(tape.inputsOf(before), [
    n.biasIndex,
    n.weightStart,
    n.weightStart + 1,
    n.weightStart + 2,
    x[0].index,
    x[1].index,
    x[2].index,
  ]);
  assert.equal(tape.data[before], 0.5 + 1 + 4 + 9);
  // Linear: only the dot node.
  const lin = neuron([1], 0, "linear", tape);
  const size = tape.size;
  lin.forward([x[0]]);
  assert.equal(tape.size, size + 1);
  assert.equal(tape.op[size], Op.DotRange);
});

Deno.test("Neuron.forward() turns numbers into constants and gathers scattered Values", () => {
  const tape = new Tape();
  const n = neuron([1, 2], 0, "linear", tape);
  // Numbers become consecutive constants, read as a range.
  let size = tape.size;
  const y = n.forward([3, 4]);
  assert.equal(tape.op[size], Op.Const);
  assert.equal(tape.op[size + 1], Op.Const);
  assert.equal(tape.op[size + 2], Op.DotRange);
  assert.equal(y.data, 11);
  // Values out of order: a gathered dot.
  const a = new Value(3, { tape }), b = new Value(4, { tape });
  size = tape.size;
  const z = n.forward([b, a]);
  assert.equal(tape.size, size + 1);
  assert.equal(tape.op[size], Op.Dot);
  assert.equal(z.data, 4 + 6);
  // A mix of a Value and a number.
  size = tape.size;
  const m = n.forward([a, 10]);
  assert.equal(tape.op[size], Op.Const);
  assert.equal(tape.op[size + 1], Op.Dot);
  assert.equal(m.data, 3 + 20);
  m.backward();
  assert.equal(a.grad, 1);
});

Deno.test("Neuron gradients match finite differences for every activation", () => {
  for (const activation of ["relu", "tanh", "sigmoid", "linear"] as const) {
    const tape = new Tape();
    const n = new Neuron(3, { activation, tape, seed: 11 });
    tape.data[n.biasIndex] = 0.3;
    const x = [0.7, -0.4, 1.1].map((v) => new Value(v, { tape }));
    const mark = tape.mark();
    const y = n.forward(x);
    n.zeroGrad();
    y.backward();
    const analytic = [...n.parameters(), ...x].map((p) => p.grad);
    const eps = 1e-6;
    const numeric = [...n.parameters(), ...x].map((p) => {
      const at = (delta: number): number => {
        tape.rewind(mark);
        const keep = tape.data[p.index];
        tape.data[p.index] = keep + delta;
        const value = n.forward(x).data;
        tape.data[p.index] = keep;
        return value;
      };
      return (at(eps) - at(-eps)) / (2 * eps);
    });
    for (let k = 0; k < analytic.length; k++) {
      assert.ok(
        Math.abs(analytic[k] - numeric[k]) < 1e-7,
        `${activation} #${k}: ${analytic[k]} vs ${numeric[k]}`,
      );
    }
  }
});

Deno.test("Neuron.record() records on a range of nodes and returns the output index", () => {
  const tape = new Tape();
  const n = neuron([2, -1], 1, "relu", tape);
  const x0 = tape.constant(3);
  tape.constant(1);
  const y = n.record(tape, x0);
  assert.equal(y, tape.size - 1);
  assert.equal(tape.op[y], Op.Relu);
  assert.equal(tape.data[y], 1 + 6 - 1);
});

Deno.test("Neuron.recordIndices() records on arbitrary nodes", () => {
  const tape = new Tape();
  const n = neuron([2, -1], 1, "sigmoid", tape);
  const a = tape.constant(3), b = tape.constant(1);
  const y = n.recordIndices(tape, [b, a]);
  assert.equal(tape.op[y - 1], Op.Dot);
  assert.equal(tape.data[y], 1 / (1 + Math.exp(-(1 + 2 - 3))));
});

Deno.test("Neuron.zeroGrad() zeroes the weights' and the bias' gradients only", () => {
  const tape = new Tape();
  const n = neuron([1, 2], 3, "linear", tape);
  const x = new Value(5, { tape });
  const y = n.forward([x, x]);
  y.backward();
  assert.deepEqual(n.parameters().map((p) => p.grad), [5, 5, 1]);
  n.zeroGrad();
  assert.deepEqual(n.parameters().map((p) => p.grad), [0, 0, 0]);
  assert.equal(x.grad, 3);
});

Deno.test("Neuron displays like micrograd", () => {
  const names = ["ReLU", "Tanh", "Sigmoid", "Linear"];
  (["relu", "tanh", "sigmoid", "linear"] as const).forEach((activation, i) => {
    assert.equal(
      new Neuron(7, { activation, tape: new Tape() }).toString(),
      `${names[i]}Neuron(7)`,
    );
  });
});

Deno.test("Neuron rejects bad constructor arguments", () => {
  const tape = new Tape();
  throwsExactly(
    () => new Neuron(0, { tape }),
    RangeError,
    "Neuron nin must be a positive integer, got 0",
  );
  throwsExactly(
    () => new Neuron(1.5, { tape }),
    RangeError,
    "Neuron nin must be a positive integer, got 1.5",
  );
  throwsExactly(
    () => new Neuron("2" as unknown as number, { tape }),
    TypeError,
    'Neuron nin must be a positive integer, got "2"',
  );
  throwsExactly(
    () => new Neuron(2, null as unknown as object),
    TypeError,
    "Neuron options must be an object, got null",
  );
  throwsExactly(
    () => new Neuron(2, { tape, activation: "gelu" as "relu" }),
    TypeError,
    'Neuron activation must be one of "relu", "tanh", "sigmoid", "linear", got "gelu"',
  );
  throwsExactly(
    () => new Neuron(2, { tape, init: "zeros" as "he" }),
    TypeError,
    'Neuron init must be one of "uniform", "xavier", "he", got "zeros"',
  );
  throwsExactly(
    () => new Neuron(2, { tape, fanOut: 0 }),
    RangeError,
    "Neuron fanOut must be a positive integer, got 0",
  );
  throwsExactly(
    () => new Neuron(2, { tape: {} as Tape }),
    TypeError,
    "Neuron tape must be a Tape, got an object",
  );
  throwsExactly(
    () => new Neuron(2, { tape, seed: 1, rng: new Rng(1) }),
    TypeError,
    "Neuron options take rng or seed, not both, got rng and seed 1",
  );
  throwsExactly(
    () => new Neuron(2, { tape, seed: 0.5 }),
    RangeError,
    "Neuron seed must be a safe integer, got 0.5",
  );
  throwsExactly(
    () => new Neuron(2, { tape, rng: 3 as unknown as Rng }),
    TypeError,
    "Neuron rng must be an Rng, got 3",
  );
  // Nothing was recorded by the failed constructions.
  assert.equal(tape.size, 0);
});

Deno.test("Neuron.forward() rejects bad inputs before recording anything", () => {
  const tape = new Tape();
  const n = new Neuron(2, { tape });
  const size = tape.size;
  throwsExactly(
    () => n.forward([1]),
    RangeError,
    "Neuron input must be an array of 2 Values or numbers, got an array of length 1",
  );
  throwsExactly(
    () => n.forward("ab" as unknown as number[]),
    TypeError,
    'Neuron input must be an array of 2 Values or numbers, got "ab"',
  );
  throwsExactly(
    () => n.forward([1, NaN]),
    TypeError,
    "Neuron input[1] must be a Value or a finite number, got NaN",
  );
  throwsExactly(
    () => n.forward([1, "2" as unknown as number]),
    TypeError,
    'Neuron input[1] must be a Value or a finite number, got "2"',
  );
  assert.equal(tape.size, size);
  const other = new Value(1, { tape: new Tape() });
  throwsExactly(
    () => n.forward([1, other]),
    Error,
    "Cannot combine Values from different tapes; create them on one tape",
  );
  assert.equal(tape.size, size);
  const mark = tape.mark();
  const stale = new Value(1, { tape });
  tape.rewind(mark);
  throwsExactly(
    () => n.forward([stale, 1]),
    Error,
    `Stale Value: node ${stale.index} was dropped by tape.rewind(); create values after the mark again`,
  );
});

Deno.test("Neuron.record() and recordIndices() reject bad arguments", () => {
  const tape = new Tape();
  const n = new Neuron(2, { tape });
  tape.constant(1);
  throwsExactly(
    () => n.record(new Tape(), 0),
    Error,
    "Cannot combine Values from different tapes; create them on one tape",
  );
  throwsExactly(
    () => n.record(null as unknown as Tape, 0),
    TypeError,
    "Neuron tape must be a Tape, got null",
  );
  throwsExactly(
    () => n.record(tape, 3),
    RangeError,
    "Neuron inputStart must be an integer from 0 to 2 (tape size 4 minus nin 2), got 3",
  );
  throwsExactly(
    () => n.record(tape, -1),
    RangeError,
    "Neuron inputStart must be an integer from 0 to 2 (tape size 4 minus nin 2), got -1",
  );
  throwsExactly(
    () => n.record(tape, "0" as unknown as number),
    TypeError,
    'Neuron inputStart must be a node index, got "0"',
  );
  throwsExactly(
    () => n.recordIndices(tape, [0]),
    RangeError,
    "Neuron inputs must be an array of 2 node indices, got an array of length 1",
  );
  throwsExactly(
    () => n.recordIndices(tape, [0, 4]),
    RangeError,
    "Neuron inputs[1] must be a node index from 0 to 3, got 4",
  );
  throwsExactly(
    () => n.recordIndices(tape, 0 as unknown as number[]),
    TypeError,
    "Neuron inputs must be an array of 2 node indices, got 0",
  );
});

Deno.test("Neuron throws once a rewind dropped its parameters", () => {
  const tape = new Tape();
  const mark = tape.mark();
  const n = new Neuron(2, { tape });
  tape.rewind(mark);
  const message =
    "Stale Neuron: its parameters were dropped by tape.rewind(); rewind only to marks taken after building the model";
  throwsExactly(() => n.forward([1, 2]), Error, message);
  throwsExactly(() => n.parameters(), Error, message);
  throwsExactly(() => n.zeroGrad(), Error, message);
  // Even when new nodes now sit at the old indices.
  tape.leaf(1);
  tape.leaf(2);
  tape.leaf(3);
  throwsExactly(() => n.record(tape, 0), Error, message);
  throwsExactly(() => n.w, Error, message);
});
