import assert from "node:assert/strict";
import { Op } from "./ops.ts";
import { Tape } from "./tape.ts";
import { dot, Value } from "./value.ts";

Deno.test("Tape.localGradientsOf() gives each input slot's local derivative, as backward uses it", () => {
  const tape = new Tape();
  const x = new Value(3, { tape }), y = new Value(-2, { tape });
  const xx = x.mul(x);
  assert.deepEqual(tape.inputsOf(xx.index), [x.index, x.index]);
  assert.deepEqual(tape.localGradientsOf(xx.index), [3, 3]);
  const t = y.tanh();
  assert.deepEqual(tape.localGradientsOf(t.index), [1 - Math.tanh(-2) ** 2]);
  const p = x.pow(y);
  assert.deepEqual(tape.localGradientsOf(p.index), [
    -2 * 3 ** -3,
    3 ** -2 * Math.log(3),
  ]);
  const w = [new Value(0.5, { tape }), new Value(4, { tape })];
  const b = new Value(1, { tape });
  const d = dot(w, [x, y], b);
  // [bias, w1, w2, x1, x2]: 1, then each weight's input, then each input's weight.
  assert.deepEqual(tape.localGradientsOf(d.index), [1, 3, -2, 0.5, 4]);
  assert.deepEqual(tape.localGradientsOf(x.index), []);
  // Summed per input, the locals are what backward gives one step down.
  xx.backward();
  assert.equal(x.grad, 6);
});

Deno.test("Tape.localGradientsOf() of a fused ReLU neuron: the dot's locals where it is positive, else 0", () => {
  const tape = new Tape();
  tape.leaf(2), tape.leaf(-1), tape.leaf(0.5); // weights, then a bias
  const x = tape.leaf(3), x1 = tape.leaf(4);
  const on = tape.denseRange(0, 3, x, 2, 1, 2, Op.Relu, true); // 0.5 + 6 - 4
  assert.equal(tape.data[on], 2.5);
  // [bias, w1, w2, x1, x2]
  assert.deepEqual(tape.localGradientsOf(on), [1, 3, 4, 2, -1]);
  tape.data[x1] = 10; // 0.5 + 6 - 10 < 0
  tape.replay(on);
  assert.equal(tape.data[on], 0);
  assert.deepEqual(tape.localGradientsOf(on), [0, 0, 0, 0, 0]);
});
