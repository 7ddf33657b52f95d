import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import { ExprError } from "../app/expr.ts";
import {
  BindingError,
  buildExprGraph,
  type ExprGraph,
  gradsAfter,
  parseBindings,
} from "./expr_graph.ts";

/** Every node's final grad, as the engine computed it, by tape index. */
function engineGrads(graph: ExprGraph): Map<number, number> {
  return new Map(graph.nodes.map((n) => [n.index, n.grad]));
}

function assertReplayMatchesEngine(graph: ExprGraph): void {
  const replayed = gradsAfter(graph, graph.steps.length);
  for (const [index, grad] of engineGrads(graph)) {
    const node = graph.nodes.find((n) => n.index === index)!;
    if (!node.needsGrad) continue;
    assert.ok(
      Object.is(replayed[index], grad),
      `node #${index} (${node.op}): replay ${
        replayed[index]
      }, engine ${grad} in ${graph.source}`,
    );
  }
}

Deno.test("buildExprGraph() gives micrograd's neuron values and gradients", () => {
  const graph = buildExprGraph("tanh(x1*w1 + x2*w2 + b)", {
    x1: 2,
    x2: 0,
    w1: -3,
    w2: 1,
    b: 6.8813735870195432,
  });
  assert.ok(Math.abs(graph.value - 0.7071) < 1e-4);
  const grads = Object.fromEntries(
    graph.variables.map((v) => [v.name, v.grad]),
  );
  assert.ok(Math.abs(grads.x1 - -1.5) < 1e-6);
  assert.ok(Math.abs(grads.w1 - 1) < 1e-6);
  assert.ok(Math.abs(grads.x2 - 0.5) < 1e-6);
  assert.equal(grads.w2, 0);
  assert.ok(Math.abs(grads.b - 0.5) < 1e-6);
  assert.deepEqual(graph.variables.map((v) => v.name), [
    "x1",
    "w1",
    "x2",
    "w2",
    "b",
  ]);
  assert.equal(graph.nodes.at(-1)!.index, graph.root);
  assert.equal(graph.nodes.at(-1)!.op, "tanh");
});

Deno.test("buildExprGraph() steps the backward pass from the root down in tape order", () => {
  const graph = buildExprGraph("a*b + c", { a: 2, b: -3, c: 10 });
  const [seed, ...rest] = graph.steps;
  assert.equal(seed.kind, "seed");
  assert.equal(seed.node, graph.root);
  assert.equal(seed.g, 1);
  const order = rest.map((s) => s.node);
  assert.deepEqual(order, [...order].sort((x, y) => y - x));
  // Every op node that needs a gradient is visited once.
  const ops = graph.nodes.filter((n) => n.kind === "op" && n.needsGrad);
  assert.deepEqual(order.sort(), ops.map((n) => n.index).sort());
  // The + node passes 1 to both inputs; the * node passes g·b to a and g·a to b.
  const add = rest[0];
  assert.deepEqual(add.contributions.map((c) => [c.local, c.delta]), [[1, 1], [
    1,
    1,
  ]]);
  const mul = rest[1];
  assert.deepEqual(mul.contributions.map((c) => [c.local, c.after]), [
    [-3, -3],
    [2, 2],
  ]);
  assertReplayMatchesEngine(graph);
});

Deno.test("buildExprGraph() shows a shared variable's grad accumulating", () => {
  const graph = buildExprGraph("x*x + x", { x: 3 });
  const x = graph.variables[0].index;
  const afterEach = graph.steps.map((_, k) => gradsAfter(graph, k + 1)[x]);
  // 0 until the + reaches x (1), then the * step adds 3 twice: 1 → 4 → 7.
  assert.deepEqual([...new Set(afterEach)], [0, 1, 7]);
  const mul = graph.steps.find((s) =>
    graph.nodes.find((n) => n.index === s.node)?.op === "*"
  )!;
  assert.deepEqual(mul.contributions.map((c) => [c.to, c.before, c.after]), [[
    x,
    1,
    4,
  ], [x, 4, 7]]);
  assert.equal(graph.variables[0].grad, 7);
});

Deno.test("gradsAfter() is all zeros before backward and clamps its count", () => {
  const graph = buildExprGraph("exp(u)*v", { u: 0.5, v: 2 });
  assert.ok(gradsAfter(graph, 0).every((g) => g === 0));
  assert.deepEqual(gradsAfter(graph, -5), gradsAfter(graph, 0));
  assert.deepEqual(
    gradsAfter(graph, 999),
    gradsAfter(graph, graph.steps.length),
  );
  assert.equal(gradsAfter(graph, 1)[graph.root], 1);
});

Deno.test("buildExprGraph() handles a leaf root, constants and skipped nodes as the engine does", () => {
  const leaf = buildExprGraph("x", { x: 4 });
  assert.equal(leaf.steps.length, 1);
  assert.equal(leaf.variables[0].grad, 1);
  assert.deepEqual([...gradsAfter(leaf, 1)], [1]);

  const constant = buildExprGraph("2*3 + pi", {});
  assert.equal(constant.variables.length, 0);
  assert.equal(constant.steps.length, 1, "nothing needs a gradient");
  assert.ok(
    constant.nodes.some((n) => n.kind === "constant" && n.label === "π"),
  );

  // relu of a negative number: the relu passes 0, so the nodes below are skipped.
  const dead = buildExprGraph("relu(w*x - 5)", { w: 1, x: 2 });
  const skipped = dead.steps.filter((s) => s.skipped);
  assert.ok(skipped.length >= 1);
  for (const s of skipped) assert.deepEqual(s.contributions, []);
  assert.deepEqual(dead.variables.map((v) => v.grad), [0, 0]);
  assertReplayMatchesEngine(dead);
});

Deno.test("buildExprGraph() reports unused values and throws ExprError on bad input", () => {
  assert.deepEqual(buildExprGraph("x + 1", { x: 1, y: 2 }).unused, ["y"]);
  assert.throws(
    () => buildExprGraph("x + * y", { x: 1, y: 1 }),
    (e) => e instanceof ExprError && e.kind === "syntax" && e.column === 5,
  );
  assert.throws(
    () => buildExprGraph("x + z", { x: 1 }),
    (e) =>
      e instanceof ExprError && e.kind === "name" &&
      /Unknown variable "z"/.test(e.message),
  );
  assert.throws(
    () => buildExprGraph("log(x)", { x: 0 }),
    (e) =>
      e instanceof ExprError && e.kind === "value" &&
      e.message === "log(0) is -Infinity, not a finite number",
  );
});

Deno.test("parseBindings() reads the command line's name=value pairs", () => {
  assert.deepEqual(parseBindings(""), {});
  assert.deepEqual(parseBindings("x=1 y=-2.5e-1"), { x: 1, y: -0.25 });
  assert.deepEqual(parseBindings("a = 1, b=2;\nc=.5"), { a: 1, b: 2, c: 0.5 });
  assert.throws(() => parseBindings("x"), {
    name: "BindingError",
    message: 'Expected name=value, got "x"',
  });
  assert.throws(() => parseBindings("1x=2"), {
    name: "BindingError",
    message:
      'Variable name "1x" must be a letter or _ followed by letters, digits or _',
  });
  assert.throws(() => parseBindings("x=abc"), {
    name: "BindingError",
    message: 'Value of x must be a number, got "abc"',
  });
  assert.throws(() => parseBindings("x=1 x=2"), {
    name: "BindingError",
    message: "Variable x is given twice",
  });
  assert.ok(new BindingError("m") instanceof Error);
});

// Random expressions over a, b, c: the step-by-step replay ends with exactly
// the engine's gradients, and visits nodes in decreasing tape order.
const UNARY = ["tanh", "sigmoid", "relu", "abs", "softplus", "exp"] as const;
const expression: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("a", "b", "c", "2", "0.5", "pi"),
    fc.tuple(tie("e"), fc.constantFrom("+", "-", "*", "/"), tie("e")).map(
      ([l, op, r]) => `(${l} ${op} ${r})`,
    ),
    fc.tuple(fc.constantFrom(...UNARY), tie("e")).map(([f, x]) => `${f}(${x})`),
    fc.tuple(tie("e"), tie("e")).map(([l, r]) => `max(${l}, ${r})`),
    tie("e").map((x) => `-${x}`),
    tie("e").map((x) => `${x}^2`),
  ),
})).e;

Deno.test("buildExprGraph() replays backward to the engine's gradients on random expressions", () => {
  fc.assert(
    fc.property(
      expression,
      fc.double({ min: -2, max: 2, noNaN: true }),
      fc.double({ min: -2, max: 2, noNaN: true }),
      fc.double({ min: -2, max: 2, noNaN: true }),
      (source, a, b, c) => {
        let graph: ExprGraph;
        try {
          graph = buildExprGraph(source, { a, b, c });
        } catch (error) {
          if (error instanceof ExprError && error.kind === "value") return; // e.g. 1/0
          throw error;
        }
        assertReplayMatchesEngine(graph);
        const order = graph.steps.slice(1).map((s) => s.node);
        for (let k = 1; k < order.length; k++) {
          assert.ok(order[k] < order[k - 1]);
        }
      },
    ),
    { numRuns: 300 },
  );
});
