// Models print like micrograd's repr through the runtimes' inspection hooks.

import assert from "node:assert/strict";
import { inspect } from "node:util";
import { Tape, Value } from "../engine/mod.ts";
import { Layer } from "./layer.ts";
import { MLP } from "./mlp.ts";
import { Module } from "./module.ts";
import { Neuron } from "./neuron.ts";

const SHOWS: [string, (x: unknown) => string][] = [
  ["Deno.inspect", (x) => Deno.inspect(x)],
  ["node:util inspect", (x) => inspect(x)],
  ["String", (x) => String(x)],
];

Deno.test("MLP, Layer and Neuron print like micrograd in Deno and Node", () => {
  const tape = new Tape();
  const model = new MLP(2, [2, 1], { tape });
  const layer = new Layer(3, 2, { activation: "tanh", tape });
  const neuron = new Neuron(2, { tape });
  for (const [name, show] of SHOWS) {
    assert.equal(
      show(model),
      "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]",
      name,
    );
    assert.equal(show(layer), "Layer of [TanhNeuron(3), TanhNeuron(3)]", name);
    assert.equal(show(neuron), "ReLUNeuron(2)", name);
  }
  // Parameters print as Values, never as the tape behind them.
  const shown = Deno.inspect(neuron.parameters());
  assert.match(shown, /^\[\s*Value\(data=-?[\d.e-]+, grad=0\),/);
  assert.ok(!shown.includes("Float64Array"));
  assert.equal(inspect(model.parameters()).split("\n").length < 400, true);
});

Deno.test("a Module without its own toString prints its class and size", () => {
  class Scale extends Module {
    readonly k = new Value(2);
    readonly c = new Value(1);
    parameters(): Value[] {
      return [this.k, this.c];
    }
  }
  for (const [name, show] of SHOWS) {
    assert.equal(show(new Scale()), "Scale(2 parameters)", name);
  }
});

Deno.test("Neuron.predict() and Layer.predict() record nothing", () => {
  const tape = new Tape();
  const neuron = new Neuron(2, { activation: "tanh", tape });
  const layer = new Layer(2, 3, { tape });
  const size = tape.size;
  const [w0, w1, b] = neuron.parameters().map((p) => p.data);
  assert.equal(neuron.predict([0.5, -2]), Math.tanh(b + w0 * 0.5 + w1 * -2));
  const expected = layer.neurons.map((n) => {
    const [v0, v1, c] = n.parameters().map((p) => p.data);
    return Math.max(0, c + v0 * 0.5 + v1 * -2);
  });
  assert.deepEqual(layer.predict([0.5, -2]), expected);
  assert.equal(tape.size, size);
  assert.throws(
    // @ts-expect-error: checking the run-time guard
    () => neuron.predict(["a", 1]),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message ===
        'Neuron input[0] must be a Value or a finite number, got "a"',
  );
  assert.equal(tape.size, size);
});
