import assert from "node:assert/strict";
import { buildExprGraph } from "./expr_graph.ts";
import { DEFAULT_SIZES, layoutGraph } from "./graph_layout.ts";

const EXPRESSIONS = [
  "tanh(x1*w1 + x2*w2 + b)",
  "x^2 + 3*x*y + tanh(y)",
  "sqrt(softplus(u) + max(u, v)^2)",
  "x",
  "2*3",
];

Deno.test("layoutGraph() puts every input in a column left of its users", () => {
  for (const source of EXPRESSIONS) {
    const graph = buildExprGraph(source, {
      x1: 1,
      x2: 2,
      w1: 3,
      w2: 4,
      b: 5,
      x: 1,
      y: 2,
      u: 1,
      v: 2,
    });
    const { places } = layoutGraph(graph.nodes);
    assert.equal(places.size, graph.nodes.length);
    for (const node of graph.nodes) {
      for (const j of node.inputs) {
        assert.ok(
          places.get(j)!.column < places.get(node.index)!.column,
          `${source}: #${j} is not left of #${node.index}`,
        );
      }
      if (node.kind === "variable") {
        assert.equal(places.get(node.index)!.column, 0);
      }
    }
  }
});

Deno.test("layoutGraph() places constants beside their first user and never overlaps boxes", () => {
  const graph = buildExprGraph("tanh(tanh(tanh(x))) * 2", { x: 1 });
  const { places, width, height } = layoutGraph(graph.nodes);
  const two = graph.nodes.find((n) => n.kind === "constant")!;
  const mul = graph.nodes.find((n) => n.op === "*")!;
  assert.equal(
    places.get(two.index)!.column,
    places.get(mul.index)!.column - 1,
  );
  const boxes = [...places.values()];
  const { width: w, height: h } = DEFAULT_SIZES;
  for (let i = 0; i < boxes.length; i++) {
    assert.ok(boxes[i].x >= 0 && boxes[i].x + w <= width);
    assert.ok(boxes[i].y >= 0 && boxes[i].y + h <= height);
    for (let j = i + 1; j < boxes.length; j++) {
      const apart = boxes[i].x + w <= boxes[j].x ||
        boxes[j].x + w <= boxes[i].x ||
        boxes[i].y + h <= boxes[j].y || boxes[j].y + h <= boxes[i].y;
      assert.ok(apart, `boxes ${i} and ${j} overlap`);
    }
  }
});
