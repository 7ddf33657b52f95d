// drawGraph(): micrograd's draw_dot picture, checked as parsed XML.

import assert from "node:assert/strict";
import { displayGraph, drawGraph, MLP, Tape, Value } from "../mod.ts";
import { DRAW_GRAPH_MAX_NODES } from "./mod.ts";
import {
  elements,
  overlaps,
  parseSvg,
  pathPoints,
  type Rect,
} from "./_testing.ts";

/** micrograd's neuron: o = tanh(x1*w1 + x2*w2 + b), as in its README. */
function neuron(tape = new Tape()): Value {
  const v = (x: number, label: string) => new Value(x, { tape, label });
  const x1 = v(2, "x1"), x2 = v(0, "x2"), w1 = v(-3, "w1"), w2 = v(1, "w2");
  const b = v(6.8813735870195432, "b");
  const x1w1 = x1.mul(w1), x2w2 = x2.mul(w2);
  x1w1.label = "x1*w1";
  x2w2.label = "x2*w2";
  const sum = x1w1.add(x2w2);
  sum.label = "x1*w1 + x2*w2";
  const n = sum.add(b);
  n.label = "n";
  const o = n.tanh();
  o.label = "o";
  o.backward();
  return o;
}

/** A 2-4-1 MLP's output on one sample, after backward. */
function mlpOutput(): Value {
  const tape = new Tape();
  const model = new MLP(2, [4, 1], { tape, seed: 3 });
  const x = [new Value(0.5, { tape }), new Value(-1, { tape })];
  const out = model.forward(x)[0];
  out.backward();
  return out;
}

/** A graph with shared nodes and edges spanning several columns. */
function tangled(): Value {
  const tape = new Tape();
  const x = new Value(0.5, { tape, label: "x" });
  const y = new Value(-1.5, { tape, label: "y" });
  const deep = x.mul(y).exp().tanh().add(x).mul(x.pow(2));
  const out = deep.add(y.relu()).add(x.mul(3)).sub(y.div(x));
  out.backward();
  return out;
}

interface Drawn {
  boxes: Map<number, Rect>;
  ops: Map<number, Rect>;
  texts: Map<number, string[]>;
  edges: { x: number; y: number }[][];
}

function read(svg: string): Drawn {
  const root = parseSvg(svg);
  const boxes = new Map<number, Rect>(), ops = new Map<number, Rect>();
  const texts = new Map<number, string[]>();
  for (const g of elements(root, "g")) {
    const index = Number(g.getAttribute("data-index"));
    if (g.getAttribute("class") === "value") {
      const [x, y] = g.getAttribute("transform")!.match(/-?[\d.]+/g)!.map(
        Number,
      );
      const rect = elements(g, "rect")[0];
      boxes.set(index, {
        x,
        y,
        width: Number(rect.getAttribute("width")),
        height: Number(rect.getAttribute("height")),
      });
      texts.set(index, elements(g, "text").map((t) => t.textContent ?? ""));
    } else if (g.getAttribute("class") === "op") {
      const c = elements(g, "circle")[0];
      const r = Number(c.getAttribute("r"));
      ops.set(index, {
        x: Number(c.getAttribute("cx")) - r,
        y: Number(c.getAttribute("cy")) - r,
        width: 2 * r,
        height: 2 * r,
      });
    }
  }
  const edges = elements(root, "path")
    .filter((p) => p.getAttribute("class") === "edge")
    .map((p) => pathPoints(p.getAttribute("d")!));
  return { boxes, ops, texts, edges };
}

Deno.test("drawGraph() draws micrograd's neuron: 10 value boxes, 5 op circles, its numbers", () => {
  const { boxes, ops, texts, edges } = read(drawGraph(neuron()).svg);
  assert.equal(boxes.size, 10);
  assert.equal(ops.size, 5);
  // 2 inputs into each of the 4 binary ops, 1 into tanh, 1 out of each op.
  assert.equal(edges.length, 4 * 2 + 1 + 5);
  const byLabel = new Map([...texts.values()].map((t) => [t[0], t]));
  // o = tanh(0.8814) = 1/√2, do/dn = 1 - o² = 0.5, do/dx1 = w1 · 0.5.
  assert.deepEqual(byLabel.get("o"), ["o", "data 0.7071", "grad 1.0000"]);
  assert.deepEqual(byLabel.get("n"), ["n", "data 0.8814", "grad 0.5000"]);
  assert.deepEqual(byLabel.get("x1"), ["x1", "data 2.0000", "grad -1.5000"]);
  assert.deepEqual(byLabel.get("w1"), ["w1", "data -3.0000", "grad 1.0000"]);
  assert.deepEqual(byLabel.get("x2"), ["x2", "data 0.0000", "grad 0.5000"]);
  assert.deepEqual(byLabel.get("w2"), ["w2", "data 1.0000", "grad 0.0000"]);
  const opNames = [
    ...parseSvg(drawGraph(neuron()).svg).getElementsByTagName("g"),
  ]
    .filter((g) => g.getAttribute("class") === "op")
    .map((g) => g.textContent!.trim()).sort();
  assert.deepEqual(opNames, ["*", "*", "+", "+", "tanh"]);
});

Deno.test("drawGraph() layout: no two boxes or op circles overlap, every edge goes left to right", () => {
  for (
    const [name, root] of [
      ["neuron", neuron()],
      ["2-4-1 MLP", mlpOutput()],
      ["tangled", tangled()],
    ] as const
  ) {
    const image = drawGraph(root);
    const { boxes, ops, edges } = read(image.svg);
    const shapes = [...boxes.values(), ...ops.values()];
    for (let i = 0; i < shapes.length; i++) {
      const s = shapes[i];
      assert.ok(s.x >= 0 && s.x + s.width <= image.width, `${name}: inside`);
      assert.ok(s.y >= 0 && s.y + s.height <= image.height, `${name}: inside`);
      for (let j = i + 1; j < shapes.length; j++) {
        assert.ok(
          !overlaps(s, shapes[j]),
          `${name}: shapes ${i}, ${j} overlap`,
        );
      }
    }
    for (const points of edges) {
      for (let k = 1; k < points.length; k++) {
        assert.ok(
          points[k].x >= points[k - 1].x,
          `${name}: an edge runs right to left`,
        );
      }
      assert.ok(points.at(-1)!.x > points[0].x, `${name}: a vertical edge`);
    }
    // Each edge starts at a box's right side and ends at an op's left side
    // or at a box's left side (the op's own output).
    const starts = [...boxes.values()].map((b) =>
      `${b.x + b.width},${b.y + b.height / 2}`
    );
    const ends = [
      ...[...ops.values()].map((o) => `${o.x},${o.y + o.height / 2}`),
      ...[...boxes.values()].map((b) => `${b.x},${b.y + b.height / 2}`),
    ];
    const key = (p: { x: number; y: number }) =>
      `${Math.round(p.x * 100) / 100},${Math.round(p.y * 100) / 100}`;
    const round = (s: string) =>
      key({ x: +s.split(",")[0], y: +s.split(",")[1] });
    const startSet = new Set(starts.map(round));
    const opStarts = new Set(
      [...ops.values()].map((o) =>
        key({ x: o.x + o.width, y: o.y + o.height / 2 })
      ),
    );
    const endSet = new Set(ends.map(round));
    for (const points of edges) {
      const from = key(points[0]), to = key(points.at(-1)!);
      assert.ok(startSet.has(from) || opStarts.has(from), `${name}: ${from}`);
      assert.ok(endSet.has(to), `${name}: edge ends at ${to}`);
    }
  }
});

Deno.test("drawGraph() of a 2-4-1 MLP on one sample draws every reachable node once", () => {
  const out = mlpOutput();
  const { boxes } = read(drawGraph(out).svg);
  // displayGraph lists each reachable node once, on its own line.
  const listed = displayGraph(out).split("\n").filter((l) => l.startsWith("#"));
  assert.equal(boxes.size, listed.length);
  assert.ok(boxes.has(out.index));
});

Deno.test("drawGraph() escapes labels and honours digits", () => {
  const tape = new Tape();
  const a = new Value(1.25, { tape, label: `a<&>"'` });
  const b = a.mul(2);
  b.backward();
  const { texts } = read(drawGraph(b, { digits: 1 }).svg);
  assert.deepEqual(texts.get(a.index), [`a<&>"'`, "data 1.3", "grad 2.0"]);
  assert.deepEqual(texts.get(b.index), [`#${b.index}`, "data 2.5", "grad 1.0"]);
});

Deno.test("drawGraph() shows itself in Jupyter as image/svg+xml", () => {
  const image = drawGraph(neuron());
  // deno-lint-ignore no-explicit-any
  const bundle = (image as any)[Symbol.for("Jupyter.display")]();
  assert.equal(bundle["image/svg+xml"], image.svg);
  assert.match(bundle["text/plain"], /^SvgImage\(\d+(\.\d+)?×\d+(\.\d+)?\)$/);
  assert.equal(String(image), image.svg);
  assert.equal(Deno.inspect(image), `SvgImage(${image.width}×${image.height})`);
});

Deno.test("drawGraph() refuses a non-Value, a stale Value and bad options", () => {
  assert.throws(
    () => drawGraph(3 as unknown as Value),
    { name: "TypeError", message: "drawGraph() needs a Value, got number" },
  );
  assert.throws(
    () => drawGraph(null as unknown as Value),
    { name: "TypeError", message: "drawGraph() needs a Value, got null" },
  );
  const tape = new Tape();
  const mark = tape.mark();
  const stale = new Value(1, { tape }).mul(2);
  tape.rewind(mark);
  assert.throws(() => drawGraph(stale), {
    name: "TypeError",
    message:
      /^drawGraph\(\) needs a live Value: Stale Value: node 2 was dropped/,
  });
  const x = new Value(1);
  assert.throws(() => drawGraph(x, { digits: -1 }), {
    name: "RangeError",
    message: "drawGraph() digits must be an integer from 0 to 100, got -1",
  });
  assert.throws(() => drawGraph(x, { maxNodes: 0.5 }), {
    name: "RangeError",
    message: "drawGraph() maxNodes must be a positive integer, got 0.5",
  });
});

Deno.test("drawGraph() refuses a graph over the size limit and points to displayGraph", () => {
  const tape = new Tape();
  let acc = new Value(0, { tape });
  for (let i = 0; acc.index < DRAW_GRAPH_MAX_NODES; i++) acc = acc.add(i);
  const message =
    `drawGraph() draws graphs of up to ${DRAW_GRAPH_MAX_NODES} nodes, and this one has more; use displayGraph(root) for a text view, or pass a larger maxNodes`;
  assert.throws(() => drawGraph(acc), { name: "RangeError", message });
  // A low limit refuses a small graph; a raised one draws the big one.
  assert.throws(() => drawGraph(acc, { maxNodes: 10 }), RangeError);
  assert.equal(
    read(drawGraph(acc, { maxNodes: acc.index + 1 }).svg).boxes.size,
    acc.index + 1,
  );
});
