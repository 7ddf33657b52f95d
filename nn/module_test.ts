import assert from "node:assert/strict";
import { Tape, Value } from "../engine/mod.ts";
import { Layer } from "./layer.ts";
import { MLP } from "./mlp.ts";
import { ContiguousModule, Module } from "./module.ts";
import { Neuron } from "./neuron.ts";

class Pair extends Module {
  constructor(readonly a: Value, readonly b: Value) {
    super();
  }
  parameters(): Value[] {
    return [this.a, this.b];
  }
}

Deno.test("Module.zeroGrad() and parameterCount work from parameters() alone", () => {
  const tape = new Tape();
  const model = new Pair(new Value(2, { tape }), new Value(3, { tape }));
  const y = model.a.mul(model.b);
  y.backward();
  assert.deepEqual([model.a.grad, model.b.grad], [3, 2]);
  model.zeroGrad();
  assert.deepEqual([model.a.grad, model.b.grad], [0, 0]);
  assert.equal(model.parameterCount, 2);
});

Deno.test("Neuron, Layer and MLP are contiguous Modules", () => {
  const tape = new Tape();
  for (
    const model of [
      new Neuron(3, { tape }),
      new Layer(3, 2, { tape }),
      new MLP(3, [2, 1], { tape }),
    ]
  ) {
    assert.ok(model instanceof Module);
    assert.ok(model instanceof ContiguousModule);
    const indices = model.parameters().map((p) => p.index);
    assert.deepEqual(
      indices,
      Array.from(
        { length: model.parameterCount },
        (_, k) => model.parameterStart + k,
      ),
    );
    assert.equal(model.tape, tape);
    assert.equal(model.nin, 3);
  }
});

Deno.test("ContiguousModule.zeroGrad() touches only its own block", () => {
  const tape = new Tape();
  const a = new Layer(2, 2, { tape });
  const b = new Layer(2, 2, { tape });
  tape.grad.fill(1, 0, tape.size);
  a.zeroGrad();
  assert.ok(a.parameters().every((p) => p.grad === 0));
  assert.ok(b.parameters().every((p) => p.grad === 1));
});
