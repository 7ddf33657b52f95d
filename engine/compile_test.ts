import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import { assertThrows } from "./_testing.ts";
import {
  codegenAvailable,
  compileRange,
  type DescentBlock,
  type DescentRule,
  sameStructure,
} from "./compile.ts";
import { CompiledStep } from "./compiled_step.ts";
import { Op } from "./ops.ts";
import { Tape } from "./tape.ts";

/** Plain gradient descent, the rule the hand-written loops below apply. */
const PLAIN: DescentRule = { emit: (p, g) => `${p} -= lr * (${g});` };

/** One sample's recipe: which op each node applies to which earlier nodes. */
interface Recipe {
  ops: { kind: number; picks: number[]; c: number }[];
}

const KINDS = 12;

/**
 * Records one sample on `tape`: two input leaves (no gradient), a dense
 * "layer" of dots over the shared weights, then random ops over every node
 * of the sample so far (and the weights), in safe domains.
 */
function recordSample(
  tape: Tape,
  weights: number,
  inputs: number[],
  recipe: Recipe,
): number {
  const local: number[] = inputs.map((x) => tape.leaf(x, false));
  const first = tape.denseRange(0, 3, local[0], 2, 3, 2);
  local.push(first, first + 1, first + 2);
  const act = tape.unaryRange(Op.Tanh, first, 3);
  local.push(act, act + 1, act + 2);
  const pick = (k: number) => local[k % local.length];
  for (const { kind, picks, c } of recipe.ops) {
    const a = pick(picks[0]), b = pick(picks[1]);
    let node: number;
    switch (kind % KINDS) {
      case 0:
        node = tape.binary(Op.Add, a, b);
        break;
      case 1:
        node = tape.binary(Op.Mul, a, tape.constant(c));
        break;
      case 2:
        node = tape.binary(Op.Sub, a, b);
        break;
      case 3:
        node = tape.unary(Op.Sigmoid, a);
        break;
      case 4:
        node = tape.unary(Op.Relu, a);
        break;
      case 5:
        node = tape.sum([a, b, pick(picks[2]), tape.constant(c)]);
        break;
      case 6:
        node = tape.dot([a, b], [pick(picks[2]), weights + (picks[3] % 9)]);
        break;
      case 7:
        node = tape.dot([a], [b], tape.constant(c));
        break;
      case 8:
        node = tape.binary(Op.Max, a, b);
        break;
      case 9:
        node = tape.binary(
          Op.Div,
          a,
          tape.binary(Op.Add, tape.constant(1), tape.binary(Op.Mul, b, b)),
        );
        break;
      case 10:
        node = tape.unary(Op.Softplus, a);
        break;
      default:
        node = tape.binary(Op.Pow, tape.unary(Op.Exp, a), tape.constant(0.5));
    }
    local.push(node);
  }
  return tape.sum(local.slice(8));
}

/** A batch of `samples` alike samples and a loss over them, recorded. */
function recordBatch(recipe: Recipe, inputs: number[][]) {
  const tape = new Tape(64);
  for (let k = 0; k < 9; k++) tape.leaf(Math.cos(k + 1) / 2);
  const firstSample = tape.size;
  const outputs = inputs.map((x) => recordSample(tape, 0, x, recipe));
  const sampleSize = (tape.size - firstSample) / inputs.length;
  const root = tape.binary(
    Op.Mul,
    tape.sum(outputs),
    tape.constant(1 / inputs.length),
  );
  return {
    tape,
    layout: { firstSample, sampleSize, samples: inputs.length, root },
  };
}

const recipe: fc.Arbitrary<Recipe> = fc.record({
  ops: fc.array(
    fc.record({
      kind: fc.nat({ max: KINDS - 1 }),
      picks: fc.array(fc.nat({ max: 50 }), { minLength: 4, maxLength: 4 }),
      c: fc.double({ min: -2, max: 2, noNaN: true }),
    }),
    { minLength: 1, maxLength: 25 },
  ),
});

const batchInputs = fc.array(
  fc.tuple(
    fc.double({ min: -2, max: 2, noNaN: true }),
    fc.double({ min: -2, max: 2, noNaN: true }),
  ),
  { minLength: 1, maxLength: 5 },
);

Deno.test("codegenAvailable() is true under Deno", () => {
  assert.equal(codegenAvailable(), true);
});

Deno.test("CompiledStep gives bit-identical values and gradients to replay + backward (random graphs)", () => {
  fc.assert(
    fc.property(recipe, batchInputs, (r, inputs) => {
      const a = recordBatch(r, inputs), b = recordBatch(r, inputs);
      const step = new CompiledStep(b.tape, b.layout);
      // Move the parameters, then recompute both ways.
      for (let k = 0; k < 9; k++) {
        a.tape.data[k] += 0.25;
        b.tape.data[k] += 0.25;
      }
      a.tape.replay(a.layout.firstSample);
      a.tape.backward(a.layout.root);
      step.forward();
      step.backward();
      assert.equal(b.tape.size, a.tape.size);
      for (let i = 0; i < a.tape.size; i++) {
        assert.ok(Object.is(b.tape.data[i], a.tape.data[i]), `data ${i}`);
        assert.ok(Object.is(b.tape.grad[i], a.tape.grad[i]), `grad ${i}`);
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test("CompiledStep leaves constants and no-gradient inputs without gradient, like the interpreter", () => {
  const { tape, layout } = recordBatch(
    {
      ops: [{ kind: 5, picks: [0, 1, 3, 0], c: 2 }, {
        kind: 7,
        picks: [2, 4, 0, 0],
        c: 3,
      }],
    },
    [[1, 2], [3, 4]],
  );
  const step = new CompiledStep(tape, layout);
  step.forward();
  step.backward();
  let checked = 0;
  for (let i = 0; i < tape.size; i++) {
    if (tape.needsGrad[i] === 0) {
      assert.equal(tape.grad[i], 0, `node ${i} (${tape.op[i]})`);
      checked++;
    }
  }
  assert.ok(checked >= 8, `${checked} nodes without gradient checked`);
});

Deno.test("compileRange() turns a layer's dots and activations into loops", () => {
  const tape = new Tape();
  for (let k = 0; k < 16 * 3; k++) tape.leaf(k / 100);
  const x = tape.leaf(1, false);
  tape.leaf(2, false);
  const dots = tape.denseRange(0, 3, x, 2, 16, 2);
  tape.unaryRange(Op.Relu, dots, 16);
  const program = compileRange(tape, x, tape.size);
  assert.match(program.source, /for \(let j = 0; j < 16; j\+\+\)/);
  assert.match(program.source, /UR\(\/\* Op\.Relu \*\/ 6, d, /);
  // Forward at offset 0 reproduces the recorded values.
  const before = Array.from(tape.data.subarray(0, tape.size));
  tape.data.fill(0, dots, tape.size);
  program.forward(0);
  assert.deepEqual(Array.from(tape.data.subarray(0, tape.size)), before);
});

Deno.test("compileRange() runs fused ReLU layers (DotRangeRelu) as the tape does, bit for bit", () => {
  // Two layers: 6 inputs -> 9 neurons (interleaved four at a time, then the
  // rest), then 9 -> 3; some neurons below 0 so that their ReLU blocks the
  // gradient.
  const build = () => {
    const tape = new Tape();
    let s = 7;
    const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
    for (let k = 0; k < 9 * 7 + 3 * 10; k++) tape.leaf(rand());
    const x = tape.size;
    for (let k = 0; k < 6; k++) tape.leaf(rand(), false);
    const h = tape.denseRange(0, 7, x, 6, 9, 6, Op.Relu, true);
    const out = tape.denseRange(63, 10, h, 9, 3, 9, Op.Relu, true);
    const root = tape.sumRange(out, 3);
    return { tape, x, h, root };
  };
  const interpreted = build(), compiled = build();
  const { tape, x, h, root } = compiled;
  const program = compileRange(tape, x, tape.size);
  const before = Array.from(tape.data.subarray(0, tape.size));
  tape.data.fill(0, h, tape.size);
  program.forward(0);
  assert.deepEqual(Array.from(tape.data.subarray(0, tape.size)), before);
  const blocked = Array.from({ length: 9 }, (_, j) => tape.data[h + j])
    .filter((v) => v === 0).length;
  assert.ok(blocked >= 1 && blocked < 9, `${blocked} neurons at 0`);
  tape.setGrad(root, 1);
  program.backward(0);
  interpreted.tape.backward(interpreted.root);
  assert.deepEqual(
    Array.from(tape.grad.subarray(0, x)),
    Array.from(interpreted.tape.grad.subarray(0, x)),
  );
  // And against finite differences through the replayed tape, for one weight.
  const f = (w: number) => {
    const t = interpreted.tape, old = t.data[3];
    t.data[3] = w;
    t.replay(x);
    const v = t.data[interpreted.root];
    t.data[3] = old;
    t.replay(x);
    return v;
  };
  const w3 = interpreted.tape.data[3];
  const fd = (f(w3 + 1e-6) - f(w3 - 1e-6)) / 2e-6;
  assert.ok(Math.abs(fd - tape.grad[3]) < 1e-6, `${fd} vs ${tape.grad[3]}`);
});

Deno.test("compileRange() runs a sample's program on a later sample by offset", () => {
  const tape = new Tape();
  const w = tape.leaf(0.5);
  const ys: number[] = [];
  for (const x of [1, 2, 3]) {
    ys.push(tape.unary(Op.Exp, tape.binary(Op.Mul, w, tape.leaf(x, false))));
  }
  const program = compileRange(tape, 1, 4); // sample 0: leaf, mul, exp
  tape.data[w] = 1;
  program.forward(6); // sample 2
  assert.equal(tape.data[ys[2]], Math.exp(3));
  assert.equal(tape.data[ys[0]], Math.exp(0.5), "sample 0 untouched");
});

Deno.test("sameStructure() compares ops, gradient flags and input positions", () => {
  const tape = new Tape();
  const w = tape.leaf(1);
  const a0 = tape.leaf(1, false);
  tape.binary(Op.Mul, w, a0); // 2
  const a1 = tape.leaf(2, false);
  tape.binary(Op.Mul, w, a1); // 4
  const a2 = tape.leaf(3, false);
  tape.binary(Op.Add, w, a2); // 6: another op
  const a3 = tape.leaf(4); // needs a gradient
  tape.binary(Op.Mul, w, a3); // 8
  const a4 = tape.leaf(5, false);
  tape.binary(Op.Mul, a4, w); // 10: inputs swapped
  assert.equal(sameStructure(tape, 1, 3, 2), true);
  assert.equal(sameStructure(tape, 1, 3, 4), false);
  assert.equal(sameStructure(tape, 1, 3, 6), false);
  assert.equal(sameStructure(tape, 1, 3, 8), false);
  assert.equal(sameStructure(tape, 1, 3, 100), false, "beyond the tape");
});

Deno.test("CompiledStep rejects layouts that do not fit the tape", () => {
  const tape = new Tape();
  const w = tape.leaf(1);
  const first = tape.size;
  const terms = [1, 2].map((x) => tape.binary(Op.Mul, w, tape.leaf(x, false)));
  const root = tape.sum(terms);
  const ok = { firstSample: first, sampleSize: 2, samples: 2, root };
  assertThrows(
    () => new CompiledStep(tape, { ...ok, samples: 1.5 }),
    RangeError,
    "Step layout samples must be a non-negative integer, got 1.5",
  );
  assertThrows(
    () => new CompiledStep(tape, { ...ok, samples: 5 }),
    RangeError,
    "Step layout does not fit the tape: samples end at 11, root 5, tape size 6",
  );
  assertThrows(
    () => new CompiledStep(tape, { ...ok, root: 1 }),
    RangeError,
    "Step layout root 1 must be the last sample node or come after the samples (from 5)",
  );
  tape.rewind(first);
  tape.binary(Op.Mul, w, tape.leaf(1, false));
  tape.binary(Op.Add, w, tape.leaf(2, false));
  assertThrows(
    () => new CompiledStep(tape, { ...ok, root: tape.size - 1 }),
    RangeError,
    "Sample 1 differs in structure from sample 0; compile needs identical per-sample graphs",
  );
  assertThrows(
    () => compileRange(tape, 3, 99),
    RangeError,
    "Range must satisfy 0 <= from <= to <= tape size 5, got [3, 99)",
  );
});

/** One sample through a 3-4-2 "MLP" and a squared-error loss, recorded. */
function recordMlpSample(tape: Tape, x: number[]) {
  for (let k = 0; k < 4 * 4 + 2 * 5; k++) tape.leaf(Math.sin(3 * k + 1) / 2);
  const firstSample = tape.size;
  const input = tape.size;
  for (const v of x) tape.leaf(v, false);
  const hidden = tape.unaryRange(
    Op.Tanh,
    tape.denseRange(0, 4, input, 3, 4, 3),
    4,
  );
  const out = tape.denseRange(16, 5, hidden, 4, 2, 4);
  const e0 = tape.binary(Op.Sub, out, tape.constant(0.5));
  const e1 = tape.binary(Op.Sub, out + 1, tape.constant(-0.25));
  const root = tape.dot([e0, e1], [e0, e1]);
  const sampleSize = tape.size - firstSample;
  return { firstSample, sampleSize, samples: 1, root };
}

Deno.test("CompiledStep.backwardAndDescend() equals zeroing, backward and an SGD step, bit for bit", () => {
  const a = new Tape(), b = new Tape();
  const layoutA = recordMlpSample(a, [0.3, -1.2, 2]);
  const layoutB = recordMlpSample(b, [0.3, -1.2, 2]);
  const plain = new CompiledStep(a, layoutA);
  const fused = new CompiledStep(b, layoutB, {
    descent: { start: 0, count: 26, update: PLAIN },
  });
  assert.match(
    fused.program.source,
    /d\[w \+ \d\] -= lr \* \(g \* d\[x \+ \d\]\);/,
  );
  for (let step = 0; step < 5; step++) {
    const lr = 0.1 / (step + 1);
    plain.forward();
    a.zeroGrad(0, 26);
    plain.backward();
    for (let i = 0; i < 26; i++) a.data[i] -= lr * a.grad[i];
    fused.forward();
    fused.backwardAndDescend(lr);
    for (let i = 0; i < b.size; i++) {
      assert.ok(Object.is(b.data[i], a.data[i]), `step ${step}, data ${i}`);
    }
  }
  assertThrows(
    () => fused.backward(),
    Error,
    "This step was compiled with a descent block; call backwardAndDescend(lr)",
  );
  assertThrows(
    () => plain.backwardAndDescend(0.1),
    Error,
    "This step has no descent block; call backward() and update the parameters",
  );
});

Deno.test("CompiledStep refuses a descent block its step cannot update in place", () => {
  const tape = new Tape();
  const layout = recordMlpSample(tape, [1, 2, 3]);
  const cases: [DescentBlock, string][] = [
    [
      { start: 0, count: 0, update: PLAIN },
      "the block must be a non-empty range of the tape",
    ],
    [
      { start: 0, count: 27, update: PLAIN },
      "node 26 is not a leaf that needs a gradient",
    ],
    [
      { start: 0, count: 10, update: PLAIN },
      "Descent block [0, 10) covers only part of nodes [0, 15); it must cover whole layers",
    ],
  ];
  for (const [descent, why] of cases) {
    assert.throws(() => new CompiledStep(tape, layout, { descent }), {
      name: "RangeError",
      message: why.startsWith("Descent")
        ? why
        : `Cannot descend in place on nodes [${descent.start}, ${
          descent.start + descent.count
        }): ${why}`,
    });
  }
  // A parameter used twice (an L2 term after the sample) cannot be fused.
  const reg = new Tape();
  const base = recordMlpSample(reg, [1, 2, 3]);
  const l2 = reg.dotRange(0, 0, 26);
  const root = reg.binary(Op.Add, base.root, l2);
  assert.throws(
    () =>
      new CompiledStep(reg, { ...base, root }, {
        descent: { start: 0, count: 26, update: PLAIN },
      }),
    {
      name: "RangeError",
      message:
        /^Cannot descend in place on nodes \[0, 26\): node 0 is used by node \d+ \(as a dot input\)$/,
    },
  );
  // Samples share the parameters.
  const { tape: two, layout: twoLayout } = recordBatch({ ops: [] }, [[1, 2], [
    3,
    4,
  ]]);
  assert.throws(
    () =>
      new CompiledStep(two, twoLayout, {
        descent: { start: 0, count: 9, update: PLAIN },
      }),
    {
      name: "RangeError",
      message: /the step has 2 samples sharing them, not 1$/,
    },
  );
});

/**
 * Records `samples` samples of a network that uses every shape the compiler
 * interleaves: a first layer (inputs without gradient, 10 dots of 7 terms,
 * bias), ReLU, a second layer (inputs with gradient, 6 dots of 10, no bias),
 * dots with an input range each (apart, or overlapping), and a sum as the
 * loss.
 */
function recordLayers(samples: number[][]) {
  const tape = new Tape();
  const weights = 10 * 8 + 6 * 10 + 4 * 5;
  for (let k = 0; k < weights; k++) {
    // Some weights -0 and 0, so that terms are signed zeros.
    const v = k % 11 === 0 ? -0 : k % 13 === 0 ? 0 : Math.sin(k * 1.7) / 2;
    tape.leaf(v);
  }
  const firstSample = tape.size;
  const outputs: number[] = [];
  for (const inputs of samples) {
    const x = tape.size;
    for (const v of inputs) tape.leaf(v, false);
    const extra = tape.size;
    for (let k = 0; k < 20; k++) tape.leaf(inputs[k % 7] - k / 8);
    const h = tape.denseRange(0, 8, x, 7, 10, 7, Op.Relu);
    const z = tape.denseRange(80, 10, h, 10, 6);
    // Four dots, each over five inputs of its own (stride 5), then four
    // over overlapping activations (stride 1).
    const own: number[] = [];
    for (let j = 0; j < 4; j++) {
      own.push(tape.dotRange(140 + 5 * j, extra + 5 * j, 5));
    }
    const overlapping: number[] = [];
    for (let j = 0; j < 4; j++) {
      overlapping.push(tape.dotRange(80 + 10 * j, h + j, 5));
    }
    outputs.push(tape.sum([...own, ...overlapping, z + 5]));
  }
  const sampleSize = (tape.size - firstSample) / samples.length;
  const root = tape.sum(outputs.map((o) => tape.binary(Op.Mul, o, o)));
  return {
    tape,
    layout: { firstSample, sampleSize, samples: samples.length, root },
  };
}

Deno.test("compileRange() interleaves a layer's dots (with a remainder, skipped dots, signed zeros) bit for bit like the interpreter", () => {
  const samples = [
    [1, -2, 0.5, 0, 3, -1, 0.25],
    [0, 0, 0, 0, 0, 0, 0], // every ReLU dead: dots with zero gradient
    [-1, 2, -0.5, 4, -3, 1, -0.25],
  ];
  const a = recordLayers(samples), b = recordLayers(samples);
  const step = new CompiledStep(b.tape, b.layout);
  const source = step.program.source;
  assert.match(source, /v3 \+= d\[w3 \+ k\] \* xk;/, "forward, shared input");
  assert.match(source, /gr\[x \+ k\] = gr\[x \+ k\] \+ g0 \* d\[w0 \+ k\]/);
  assert.match(source, /for \(let j = 8; j < 10; j\+\+\)/, "remainder of 10");
  for (let k = 0; k < 3; k++) {
    for (const t of [a.tape, b.tape]) t.data[k * 7] += 0.125;
    a.tape.replay(a.layout.firstSample);
    for (let i = 0; i < 160; i++) a.tape.grad[i] = b.tape.grad[i] = 0;
    a.tape.backward(a.layout.root);
    step.forward();
    step.backward();
    for (let i = 0; i < a.tape.size; i++) {
      assert.ok(Object.is(b.tape.data[i], a.tape.data[i]), `data ${i}`);
      assert.ok(Object.is(b.tape.grad[i], a.tape.grad[i]), `grad ${i}`);
    }
  }
});

Deno.test("compileRange() reads linked inputs at the second offset", () => {
  const tape = new Tape();
  const w = tape.leaf(0.5);
  const outputs = [tape.leaf(2), tape.leaf(-3)];
  const terms = outputs.map((z) =>
    tape.unary(Op.Tanh, tape.binary(Op.Mul, w, z))
  );
  const first = terms[0] - 1, size = terms[1] - terms[0];
  const program = compileRange(tape, first, first + size, undefined, {
    start: outputs[0],
    end: outputs[0] + 1,
  });
  assert.match(program.source, /d\[p \+ 1\]/);
  tape.data[w] = 0.25;
  program.forward(size, outputs[1] - outputs[0]);
  assert.equal(tape.data[terms[1]], Math.tanh(0.25 * -3));
  tape.grad[terms[1]] = 1;
  program.backward(size, undefined, outputs[1] - outputs[0]);
  const slope = 1 - Math.tanh(-0.75) ** 2;
  assert.equal(tape.grad[outputs[1]], slope * 0.25);
  assert.equal(tape.grad[w], slope * -3);
  assert.equal(tape.grad[outputs[0]], 0, "sample 0 untouched");
  assert.equal(
    sameStructure(tape, first, first + size, size, {
      start: outputs[0],
      end: outputs[0] + 1,
      shift: 1,
    }),
    true,
  );
  assert.equal(sameStructure(tape, first, first + size, size), false);
});

Deno.test("compileRange() rejects linked inputs outside [0, from)", () => {
  const tape = new Tape();
  tape.leaf(1);
  const x = tape.leaf(2);
  tape.binary(Op.Mul, 0, x);
  assertThrows(
    () => compileRange(tape, 1, 3, undefined, { start: 0, end: 2 }),
    RangeError,
    "Linked inputs must satisfy 0 <= start <= end <= from 1, got [0, 2)",
  );
  assertThrows(
    () => compileRange(tape, 1, 3, undefined, { start: 1, end: 0 }),
    RangeError,
    "Linked inputs must satisfy 0 <= start <= end <= from 1, got [1, 0)",
  );
});

Deno.test("compileRange() computes every unary and binary op like the interpreter on signed zeros, infinities and NaN", () => {
  const values = [0, -0, 1, -1, 2.5, -3, 1e-310, Infinity, -Infinity, NaN];
  const unary = [
    Op.Neg,
    Op.Exp,
    Op.Log,
    Op.Tanh,
    Op.Relu,
    Op.Sigmoid,
    Op.Sqrt,
    Op.Abs,
    Op.Softplus,
  ];
  const binary = [Op.Add, Op.Sub, Op.Mul, Op.Div, Op.Pow, Op.Max, Op.Min];
  const cases: { op: number; inputs: number[] }[] = [];
  for (const op of unary) {
    for (const v of values) cases.push({ op, inputs: [v] });
  }
  for (const op of binary) {
    for (const a of values) {
      for (const b of values) cases.push({ op, inputs: [a, b] });
    }
  }
  const build = (op: number, arity: number) => {
    const tape = new Tape();
    const scale = tape.leaf(-1.5);
    const first = tape.size;
    const xs = Array.from({ length: arity }, () => tape.leaf(0.25));
    const y = arity === 1
      ? tape.unary(op, xs[0])
      : tape.binary(op, xs[0], xs[1]);
    tape.binary(Op.Mul, y, scale);
    const root = tape.sum([tape.size - 1]);
    const layout = {
      firstSample: first,
      sampleSize: root - first,
      samples: 1,
      root,
    };
    return { tape, xs, layout };
  };
  for (const { op, inputs } of cases) {
    const a = build(op, inputs.length), b = build(op, inputs.length);
    const step = new CompiledStep(b.tape, b.layout);
    inputs.forEach((v, k) => {
      a.tape.data[a.xs[k]] = v;
      b.tape.data[b.xs[k]] = v;
    });
    a.tape.replay(a.layout.firstSample);
    a.tape.backward(a.layout.root);
    step.forward();
    step.backward();
    for (let i = 0; i < a.tape.size; i++) {
      const where = `op ${op} on ${inputs.map(String)}, node ${i}`;
      assert.ok(Object.is(b.tape.data[i], a.tape.data[i]), `data, ${where}`);
      assert.ok(Object.is(b.tape.grad[i], a.tape.grad[i]), `grad, ${where}`);
    }
  }
});

Deno.test("compileRange() backpropagates dots of a range with itself, overlapping and apart like the interpreter", () => {
  const build = (t: number) => {
    const tape = new Tape();
    for (let k = 0; k < 12; k++) tape.leaf(Math.cos(k * t) * 2);
    const first = tape.size;
    tape.leaf(0.5);
    const self = tape.dotRange(0, 0, 8); // Σ w²: both terms per weight
    const overlap = tape.dotRange(0, 3, 7); // weights and inputs overlap
    const apart = tape.dotRange(0, 6, 6, first); // apart, with a bias
    const product = tape.binary(Op.Mul, self, overlap);
    // Recorded last, so its terms reach weights 3 to 6 first: the order of
    // the overlapping dot's two terms then shows in the rounding.
    const extra = [3, 4, 5, 6].map((k) =>
      tape.binary(Op.Mul, k, tape.constant(1 / 3))
    );
    const root = tape.sum([product, apart, ...extra]);
    return {
      tape,
      layout: {
        firstSample: first,
        sampleSize: root - first,
        samples: 1,
        root,
      },
    };
  };
  for (let t = 1; t <= 6; t++) {
    const a = build(t), b = build(t);
    const step = new CompiledStep(b.tape, b.layout);
    assert.match(step.program.source, /gr\[w \+ k\] = gr\[w \+ k\] \+ v \+ v;/);
    a.tape.replay(a.layout.firstSample);
    a.tape.backward(a.layout.root);
    step.forward();
    step.backward();
    for (let i = 0; i < a.tape.size; i++) {
      assert.ok(Object.is(b.tape.data[i], a.tape.data[i]), `data ${i}`);
      assert.ok(Object.is(b.tape.grad[i], a.tape.grad[i]), `grad ${i}, t ${t}`);
    }
  }
});
