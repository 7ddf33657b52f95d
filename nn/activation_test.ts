import assert from "node:assert/strict";
import { Op, Tape } from "../engine/mod.ts";
import {
  activate,
  activationName,
  activationOp,
  ACTIVATIONS,
  isActivation,
  parseActivation,
} from "./activation.ts";
import { throwsExactly } from "./_testing.ts";

Deno.test("activationOp() maps relu, tanh, sigmoid to their ops and linear to none", () => {
  assert.equal(activationOp("relu"), Op.Relu);
  assert.equal(activationOp("tanh"), Op.Tanh);
  assert.equal(activationOp("sigmoid"), Op.Sigmoid);
  assert.equal(activationOp("linear"), -1);
});

Deno.test("activate() gives exactly what the tape records", () => {
  const tape = new Tape();
  for (const activation of ACTIVATIONS) {
    for (const x of [-1000, -3.5, -1e-9, 0, 1e-9, 0.75, 2, 1000]) {
      const op = activationOp(activation);
      const recorded = op < 0 ? x : tape.data[tape.unary(op, tape.leaf(x))];
      assert.equal(activate(activation, x), recorded, `${activation}(${x})`);
    }
  }
  assert.equal(activate("relu", -2), 0);
  assert.equal(activate("relu", 2), 2);
  assert.equal(activate("tanh", 0.5), Math.tanh(0.5));
  assert.equal(activate("sigmoid", 0), 0.5);
  assert.equal(activate("linear", -7), -7);
});

Deno.test("activationName() gives micrograd's neuron kinds", () => {
  assert.deepEqual(ACTIVATIONS.map(activationName), [
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Linear",
  ]);
});

Deno.test("isActivation() and parseActivation() accept exactly the four names", () => {
  assert.deepEqual(ACTIVATIONS, ["relu", "tanh", "sigmoid", "linear"]);
  assert.ok(Object.isFrozen(ACTIVATIONS));
  for (const a of ACTIVATIONS) {
    assert.equal(isActivation(a), true);
    assert.equal(parseActivation(a), a);
  }
  for (const bad of ["ReLU", "gelu", "", 1, null, undefined, {}]) {
    assert.equal(isActivation(bad), false);
  }
});

Deno.test("parseActivation() and friends reject unknown names", () => {
  const accepted = '"relu", "tanh", "sigmoid", "linear"';
  throwsExactly(
    () => parseActivation("ReLU"),
    TypeError,
    `Activation must be one of ${accepted}, got "ReLU"`,
  );
  throwsExactly(
    () => parseActivation(undefined, "--activation"),
    TypeError,
    `--activation must be one of ${accepted}, got undefined`,
  );
  throwsExactly(
    () => parseActivation(["relu"]),
    TypeError,
    `Activation must be one of ${accepted}, got an array of length 1`,
  );
  throwsExactly(
    () => activationOp("elu" as "relu"),
    TypeError,
    `Activation must be one of ${accepted}, got "elu"`,
  );
  throwsExactly(
    () => activate(3 as unknown as "relu", 1),
    TypeError,
    `Activation must be one of ${accepted}, got 3`,
  );
  throwsExactly(
    () => activationName(null as unknown as "relu"),
    TypeError,
    `Activation must be one of ${accepted}, got null`,
  );
});
