import assert from "node:assert/strict";
import { buildExprGraph } from "./expr_graph.ts";
import {
  DEFAULT_LAYOUT_SIZES,
  layoutEdgeKey,
  layoutGraph,
} from "../viz/graph_layout.ts";

const BINDINGS = { x1: 1, x2: 2, w1: 3, w2: 4, b: 5, x: 1, y: 2, u: 1, v: 2 };
const EXPRESSIONS = [
  "tanh(x1*w1 + x2*w2 + b)",
  "x^2 + 3*x*y + tanh(y)",
  "sqrt(softplus(u) + max(u, v)^2)",
  "exp(exp(exp(x))) * y + x",
  "x*x",
  "x",
  "2*3",
];

Deno.test("layoutGraph() puts inputs left of their users, right beside the first", () => {
  for (const source of EXPRESSIONS) {
    const graph = buildExprGraph(source, BINDINGS);
    const { places } = layoutGraph(graph.nodes);
    assert.equal(places.size, graph.nodes.length);
    for (const node of graph.nodes) {
      for (const j of node.inputs) {
        assert.ok(
          places.get(j)!.column < places.get(node.index)!.column,
          `${source}: #${j} is not left of #${node.index}`,
        );
      }
      if (node.kind === "op") continue;
      const users = graph.nodes.filter((n) => n.inputs.includes(node.index));
      const first = Math.min(...users.map((u) => places.get(u.index)!.column));
      assert.equal(
        places.get(node.index)!.column,
        users.length ? first - 1 : 0,
        `${source}: ${node.label} sits just left of its first user`,
      );
    }
  }
});

Deno.test("layoutGraph() routes long edges through lanes that no box covers", () => {
  const { width: w, height: h } = DEFAULT_LAYOUT_SIZES;
  for (const source of EXPRESSIONS) {
    const graph = buildExprGraph(source, BINDINGS);
    const layout = layoutGraph(graph.nodes);
    const boxes = [...layout.places.values()];
    for (let i = 0; i < boxes.length; i++) {
      assert.ok(boxes[i].x >= 0 && boxes[i].x + w <= layout.width);
      assert.ok(boxes[i].y >= 0 && boxes[i].y + h <= layout.height);
      for (let j = i + 1; j < boxes.length; j++) {
        const apart = boxes[i].x + w <= boxes[j].x ||
          boxes[j].x + w <= boxes[i].x ||
          boxes[i].y + h <= boxes[j].y || boxes[j].y + h <= boxes[i].y;
        assert.ok(apart, `${source}: boxes ${i} and ${j} overlap`);
      }
    }
    for (const node of graph.nodes) {
      node.inputs.forEach((j, slot) => {
        const span = layout.places.get(node.index)!.column -
          layout.places.get(j)!.column;
        const route = layout.routes.get(layoutEdgeKey(node.index, slot)) ?? [];
        assert.equal(
          route.length,
          span - 1,
          `${source}: #${j} → #${node.index}`,
        );
        for (const lane of route) {
          for (const box of boxes) {
            const sameColumn = box.x === lane.x1;
            const inside = lane.y > box.y && lane.y < box.y + h;
            assert.ok(
              !(sameColumn && inside),
              `${source}: a lane runs behind a box`,
            );
          }
        }
      });
    }
  }
});
