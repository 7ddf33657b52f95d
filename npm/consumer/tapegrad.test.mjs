// The installed npm package, tested as a user's project imports it. Runs
// unchanged under `node --test` (Node 20) and `bun test`; npm/package_test.ts
// installs the packed tarball into a fresh project and runs it there.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as root from "@tapegrad/tapegrad";
import * as engine from "@tapegrad/tapegrad/engine";
import * as nn from "@tapegrad/tapegrad/nn";

const { Value, fit, gradCheck, makeMoons, MLP } = root;

test("Value gives micrograd's first example: d = a*b + c", () => {
  const a = new Value(2);
  const b = new Value(-3);
  const c = new Value(10);
  const d = a.mul(b).add(c);
  d.backward();
  assert.equal(d.data, 4);
  assert.deepEqual([a.grad, b.grad, c.grad], [-3, 2, 1]);
  assert.equal(String(d), "Value(data=4, grad=1)");
});

test("class and function names survive the build", () => {
  assert.equal(Value.name, "Value");
  assert.equal(new Value(1).constructor.name, "Value");
  assert.equal(MLP.name, "MLP");
  assert.equal(fit.name, "fit");
});

test("tanh's gradient matches the closed form and finite differences", () => {
  const x = new Value(0.5);
  const y = x.tanh();
  y.backward();
  assert.ok(Math.abs(x.grad - (1 - Math.tanh(0.5) ** 2)) < 1e-15);
  const h = 1e-6;
  const numeric = (Math.tanh(0.5 + h) - Math.tanh(0.5 - h)) / (2 * h);
  assert.ok(Math.abs(x.grad - numeric) < 1e-9);
  const report = gradCheck(([p, q]) => p.mul(q).sigmoid(), [0.3, -1.2]);
  assert.ok(report.ok, `gradCheck error ${report.maxRelativeError}`);
});

test("fit trains micrograd's demo network to accuracy 1 (README)", () => {
  const data = makeMoons(100, { noise: 0.1, seed: 1 });
  const model = new MLP(2, [16, 16, 1], { seed: 1337 });
  assert.equal(model.parameters().length, 337);
  const result = fit(model, data, { loss: "hinge", optimizer: "sgd", steps: 100 });
  assert.equal(result.accuracy, 1);
});

test("the entry points share one set of classes", () => {
  assert.equal(engine.Value, Value);
  assert.equal(engine.Tape, root.Tape);
  assert.equal(nn.MLP, MLP);
  const tape = new engine.Tape();
  assert.ok(new Value(1, { tape }) instanceof engine.Value);
  // The op table and compiler are the engine entry point's, not the main one's.
  assert.equal(root.OP_TABLE, undefined);
  assert.equal(root.compileRange, undefined);
  assert.equal(engine.OP_TABLE.length, engine.OP_COUNT);
  assert.equal(typeof engine.compileRange, "function");
});

test("bad input throws a TypeError saying what is accepted", () => {
  assert.throws(() => new Value("x"), {
    name: "TypeError",
    message: 'Value data must be a finite number, got "x"',
  });
});

test("a path the package does not export is refused", async () => {
  await assert.rejects(import("@tapegrad/tapegrad/engine/tape.js"), (error) => {
    // Node names the error; Bun says the subpath is not exported.
    if (process.versions.bun === undefined) {
      assert.equal(error.code, "ERR_PACKAGE_PATH_NOT_EXPORTED");
    }
    return true;
  });
});
