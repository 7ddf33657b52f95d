// Tests of the graph views: exact text for a small graph, shared nodes,
// input truncation, escaping, options and errors.

import assert from "node:assert/strict";
import { displayGraph, toDot, toMermaid } from "./graph.ts";
import { Tape } from "./tape.ts";
import { dot, sum, Value } from "./value.ts";
import { assertThrows } from "./_testing.ts";

/** micrograd's first example, d = a*b + c, after backward. */
function example(): Value {
  const tape = new Tape();
  const a = new Value(2, { tape, label: "a" });
  const b = new Value(-3, { tape, label: "b" });
  const c = new Value(10, { tape, label: "c" });
  const e = a.mul(b);
  e.label = "e";
  const d = e.add(c);
  d.label = "d";
  d.backward();
  return d;
}

/** x₀ = 1, x_{k+1} = x_k + x_k: 41 nodes, 2^40 paths from root to leaf. */
function doublingChain(): [Value, Value] {
  const tape = new Tape();
  const x0 = new Value(1, { tape, label: "x0" });
  let x = x0;
  for (let k = 0; k < 40; k++) x = x.add(x);
  x.backward();
  return [x0, x];
}

Deno.test("displayGraph() prints d = a*b + c level by level", () => {
  const rule = "─".repeat(48);
  assert.equal(
    displayGraph(example()),
    [
      "level 0",
      "#4 d  data 4.0000 | grad 1.0000 | prev { + [#3 e, #2 c] }",
      rule,
      "level 1",
      "#3 e  data -6.0000 | grad 1.0000 | prev { * [#0 a, #1 b] }",
      "#2 c  data 10.0000 | grad 1.0000 | prev { leaf [] }",
      rule,
      "level 2",
      "#0 a  data 2.0000 | grad -3.0000 | prev { leaf [] }",
      "#1 b  data -3.0000 | grad 2.0000 | prev { leaf [] }",
    ].join("\n"),
  );
});

Deno.test("toDot() writes Graphviz DOT for d = a*b + c", () => {
  assert.equal(
    toDot(example()),
    `digraph tapegrad {
  rankdir=LR;
  node [shape=record, fontname="monospace"];
  n0 [label="{ a | data 2.0000 | grad -3.0000 }"];
  n1 [label="{ b | data -3.0000 | grad 2.0000 }"];
  n2 [label="{ c | data 10.0000 | grad 1.0000 }"];
  n3 [label="{ e | data -6.0000 | grad 1.0000 }"];
  n3_op [label="*", shape=ellipse];
  n3_op -> n3;
  n0 -> n3_op;
  n1 -> n3_op;
  n4 [label="{ d | data 4.0000 | grad 1.0000 }"];
  n4_op [label="+", shape=ellipse];
  n4_op -> n4;
  n3 -> n4_op;
  n2 -> n4_op;
}`,
  );
});

Deno.test("toMermaid() writes a Mermaid flowchart for d = a*b + c", () => {
  assert.equal(
    toMermaid(example()),
    `flowchart LR
  n0["a | data 2.0000 | grad -3.0000"]
  n1["b | data -3.0000 | grad 2.0000"]
  n2["c | data 10.0000 | grad 1.0000"]
  n3["e | data -6.0000 | grad 1.0000"]
  n3_op(("*")) --> n3
  n0 --> n3_op
  n1 --> n3_op
  n4["d | data 4.0000 | grad 1.0000"]
  n4_op(("+")) --> n4
  n3 --> n4_op
  n2 --> n4_op`,
  );
});

Deno.test("displayGraph() prints a shared node once: 40 doublings give 41 node lines", () => {
  const [x0, root] = doublingChain();
  assert.equal(root.data, 2 ** 40);
  assert.equal(x0.grad, 2 ** 40);
  const lines = displayGraph(root).split("\n");
  const nodeLines = lines.filter((line) => line.includes(" data "));
  assert.equal(nodeLines.length, 41);
  assert.equal(lines.filter((line) => line.startsWith("level ")).length, 41);
  assert.equal(lines.length, 41 + 41 + 40);
  assert.equal(
    nodeLines[0],
    "#40    data 1099511627776.0000 | grad 1.0000 | prev { + [#39, #39] }",
  );
  assert.equal(
    nodeLines[40],
    "#0 x0  data 1.0000 | grad 1099511627776.0000 | prev { leaf [] }",
  );
});

Deno.test("toDot() and toMermaid() stay linear on shared nodes", () => {
  const [, root] = doublingChain();
  const dotLines = toDot(root).split("\n");
  // 41 value records, 40 op nodes, 40 op → value edges, 80 input edges.
  assert.equal(dotLines.filter((l) => /^ {2}n\d+ \[label=/.test(l)).length, 41);
  assert.equal(dotLines.filter((l) => /_op \[label="\+"/.test(l)).length, 40);
  assert.equal(dotLines.filter((l) => / -> n\d+_op;$/.test(l)).length, 80);
  assert.equal(dotLines.length, 3 + 41 + 40 * 2 + 80 + 1);
  const mermaidLines = toMermaid(root).split("\n");
  assert.equal(mermaidLines.length, 1 + 41 + 40 + 80);
});

Deno.test("Graph views contain every node with its data and grad, and every edge", () => {
  const tape = new Tape();
  const w = [new Value(0.5, { tape }), new Value(-1.25, { tape })];
  const x = [new Value(2, { tape }), new Value(4, { tape })];
  const y = dot(w, x, 0.75).tanh();
  const unrelated = w[0].mul(100); // not an ancestor of the root
  y.backward();
  const reachable = [0, 1, 2, 3, 4, 5, 6];
  assert.equal(y.index, 6);
  const text = displayGraph(y);
  const dotText = toDot(y);
  const mermaid = toMermaid(y);
  for (const i of reachable) {
    const data = tape.data[i].toFixed(4), grad = tape.grad[i].toFixed(4);
    assert.match(
      text,
      new RegExp(`^#${i} +data ${data} \\| grad ${grad} \\|`, "m"),
    );
    assert.ok(
      dotText.includes(
        `n${i} [label="{ #${i} | data ${data} | grad ${grad} }"];`,
      ),
      `dot node ${i}`,
    );
    assert.ok(
      mermaid.includes(`n${i}["#${i} | data ${data} | grad ${grad}"]`),
      `mermaid node ${i}`,
    );
  }
  assert.match(text, /^#5 +data .* prev \{ dot \[#4, #0, #1, #2, #3\] \}$/m);
  assert.match(text, /^#6 +data .* prev \{ tanh \[#5\] \}$/m);
  for (const j of [4, 0, 1, 2, 3]) {
    assert.ok(dotText.includes(`  n${j} -> n5_op;`));
    assert.ok(mermaid.includes(`  n${j} --> n5_op`));
  }
  assert.ok(dotText.includes('  n5_op [label="dot", shape=ellipse];'));
  assert.ok(mermaid.includes('  n5_op(("dot")) --> n5'));
  assert.ok(dotText.includes("  n5 -> n6_op;"));
  // Only ancestors are shown: not the constant 100 (#7) nor w0·100 (#8).
  assert.equal(unrelated.index, 8);
  for (const i of [7, 8]) {
    assert.ok(!text.includes(`#${i}`), `#${i}`);
    assert.ok(!dotText.includes(`n${i}`), `n${i}`);
    assert.ok(!mermaid.includes(`n${i}`), `n${i}`);
  }
  assert.equal(tape.size, 9, "views record nothing");
});

Deno.test("displayGraph() truncates long input lists at maxInputs", () => {
  const tape = new Tape();
  const xs = Array.from({ length: 12 }, (_, k) => new Value(k, { tape }));
  const s = sum(xs);
  const rootLine = (maxInputs?: number) =>
    displayGraph(s, maxInputs === undefined ? {} : { maxInputs }).split(
      "\n",
    )[1];
  assert.equal(
    rootLine(),
    "#12  data 66.0000 | grad 0.0000 | prev { sum [#0, #1, #2, #3, #4, #5, #6, #7, … 4 more] }",
  );
  assert.equal(
    rootLine(3),
    "#12  data 66.0000 | grad 0.0000 | prev { sum [#0, #1, #2, … 9 more] }",
  );
  assert.equal(
    rootLine(0),
    "#12  data 66.0000 | grad 0.0000 | prev { sum [… 12 more] }",
  );
  const all = "#0, #1, #2, #3, #4, #5, #6, #7, #8, #9, #10, #11";
  assert.equal(
    rootLine(12),
    `#12  data 66.0000 | grad 0.0000 | prev { sum [${all}] }`,
  );
  assert.equal(
    rootLine(Infinity),
    `#12  data 66.0000 | grad 0.0000 | prev { sum [${all}] }`,
  );
  // Every input still gets its own line below.
  assert.equal(
    displayGraph(s, { maxInputs: 3 }).split("\n").length,
    1 + 1 + 1 + 1 + 12,
  );
});

Deno.test("Graph views honour the digits option", () => {
  const d = example();
  assert.equal(
    displayGraph(d, { digits: 0 }).split("\n")[1],
    "#4 d  data 4 | grad 1 | prev { + [#3 e, #2 c] }",
  );
  assert.ok(
    toDot(d, { digits: 1 }).includes(
      'n0 [label="{ a | data 2.0 | grad -3.0 }"];',
    ),
  );
  assert.ok(
    toMermaid(d, { digits: 2 }).includes('n1["b | data -3.00 | grad 2.00"]'),
  );
});

Deno.test("Graph views escape labels", () => {
  const tape = new Tape();
  const x = new Value(1, { tape, label: 'say "hi" {x|y} <z> \\' });
  const y = x.neg();
  assert.ok(
    toDot(y).includes(
      'n0 [label="{ say \\"hi\\" \\{x\\|y\\} \\<z\\> \\\\ | data 1.0000 | grad 0.0000 }"];',
    ),
  );
  assert.ok(
    toMermaid(y).includes(
      `n0["say 'hi' {x|y} <z> \\ | data 1.0000 | grad 0.0000"]`,
    ),
  );
  assert.match(
    displayGraph(y),
    /prev \{ neg \[#0 say "hi" \{x\|y\} <z> \\\] \}/,
  );
});

Deno.test("Graph views of a leaf show one node", () => {
  const tape = new Tape();
  const x = new Value(3, { tape, label: "x" });
  assert.equal(
    displayGraph(x),
    "level 0\n#0 x  data 3.0000 | grad 0.0000 | prev { leaf [] }",
  );
  assert.equal(
    toMermaid(x),
    'flowchart LR\n  n0["x | data 3.0000 | grad 0.0000"]',
  );
  assert.ok(
    toDot(x).endsWith('n0 [label="{ x | data 3.0000 | grad 0.0000 }"];\n}'),
  );
});

Deno.test("Graph views reject a root that is not a live Value", () => {
  const cases: [(root: never) => string, string][] = [
    [displayGraph, "displayGraph"],
    [toDot, "toDot"],
    [toMermaid, "toMermaid"],
  ];
  const tape = new Tape();
  const mark = tape.mark();
  const stale = new Value(1, { tape });
  tape.rewind(mark);
  for (const [view, name] of cases) {
    assertThrows(
      () => view(3 as never),
      TypeError,
      `${name}() needs a Value, got number`,
    );
    assertThrows(
      () => view(null as never),
      TypeError,
      `${name}() needs a Value, got object`,
    );
    assertThrows(
      () => view(undefined as never),
      TypeError,
      `${name}() needs a Value, got undefined`,
    );
    assertThrows(() => view(stale as never), Error, /^Stale Value: node 0/);
  }
});

Deno.test("Graph views reject bad options", () => {
  const d = example();
  for (
    const [view, name] of [[displayGraph, "displayGraph"], [toDot, "toDot"], [
      toMermaid,
      "toMermaid",
    ]] as const
  ) {
    for (const digits of [-1, 101, 1.5, NaN]) {
      assertThrows(
        () => view(d, { digits }),
        RangeError,
        `${name}() digits must be an integer from 0 to 100, got ${digits}`,
      );
    }
  }
  for (const maxInputs of [-1, 2.5, NaN, -Infinity]) {
    assertThrows(
      () => displayGraph(d, { maxInputs }),
      RangeError,
      `displayGraph() maxInputs must be a non-negative integer, got ${maxInputs}`,
    );
  }
  assertThrows(
    () => displayGraph(d, { maxInputs: "3" as unknown as number }),
    RangeError,
    "displayGraph() maxInputs must be a non-negative integer, got 3",
  );
});
