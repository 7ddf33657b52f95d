// The committed notebooks: their outputs hold the expected numbers and
// pictures, and a fresh headless execution reproduces them exactly.

import assert from "node:assert/strict";
import {
  type Cell,
  executeNotebook,
  hasJupyter,
  joined,
  type Notebook,
  NOTEBOOK_DIR,
  NOTEBOOKS,
  notebookText,
  type Output,
} from "./execute.ts";
import { parseSvg } from "../viz/_testing.ts";

async function committed(name: string): Promise<Notebook> {
  return JSON.parse(await Deno.readTextFile(new URL(name, NOTEBOOK_DIR)));
}

const codeCells = (nb: Notebook): Cell[] =>
  nb.cells.filter((c) => c.cell_type === "code");

/** The text/plain (or stream) text of a cell's outputs. */
function textOf(cell: Cell): string {
  return (cell.outputs ?? []).map((o: Output) =>
    o.output_type === "stream" ? joined(o.text) : joined(o.data?.["text/plain"])
  ).join("");
}

/** The code cell whose source includes `marker`. */
function cellWith(nb: Notebook, marker: string): Cell {
  const cell = codeCells(nb).find((c) => joined(c.source).includes(marker));
  assert.ok(cell, `no cell with ${marker}`);
  return cell;
}

function svgOutputs(cell: Cell): string[] {
  return (cell.outputs ?? []).flatMap((o) =>
    o.data?.["image/svg+xml"] === undefined
      ? []
      : [joined(o.data["image/svg+xml"])]
  );
}

Deno.test("notebooks: every code cell ran, in order, and only tagged cells raise", async () => {
  for (const name of NOTEBOOKS) {
    const nb = await committed(name);
    codeCells(nb).forEach((cell, k) => {
      assert.equal(cell.execution_count, k + 1, `${name}: cell ${k} ran`);
      const raises = (cell.metadata.tags as string[] | undefined ?? [])
        .includes("raises-exception");
      const errors = (cell.outputs ?? []).filter((o) =>
        o.output_type === "error"
      );
      assert.equal(errors.length, raises ? 1 : 0, `${name}: cell ${k} errors`);
    });
  }
});

Deno.test("notebooks: engine.ipynb shows the graph, the double(x) losses and a passing gradient check", async () => {
  const nb = await committed("engine.ipynb");
  assert.match(
    textOf(cellWith(nb, "text(displayGraph(d))")),
    /^level 0\n#4 d +data 4\.0000 \| grad 1\.0000/,
  );
  const [abc] = svgOutputs(cellWith(nb, "drawGraph(d)"));
  const root = parseSvg(abc);
  assert.equal(
    root.getElementsByTagName("g").filter((g) =>
      g.getAttribute("class") === "value"
    ).length,
    5,
  );
  const [neuron] = svgOutputs(cellWith(nb, "const o = n.tanh()"));
  parseSvg(neuron);
  assert.match(neuron, />data 0\.7071</);
  assert.match(neuron, />grad -1\.5000</); // x1: w1 · (1 - o²)
  const table = textOf(cellWith(nb, "const rows"));
  assert.match(
    table,
    /^Iter: 1, Loss: 10\.24, w: 1\.68\nIter: 2, Loss: 0\.4096, w: 1\.936\nIter: 3, Loss: 0\.016384, w: 1\.9872\n/,
  );
  const html = joined(
    cellWith(nb, "Deno.jupyter.html").outputs![0].data!["text/html"],
  );
  assert.match(html, /<td>1<\/td><td>10\.24<\/td><td>1\.68<\/td>/);
  assert.match(html, /<td>3<\/td><td>0\.016384<\/td><td>1\.9872<\/td>/);
  assert.match(textOf(cellWith(nb, "gradCheck(")), /^ok: true\n/);
});

Deno.test("notebooks: a raising cell shows tapegrad's message, not a stack of internals", async () => {
  const nb = await committed("engine.ipynb");
  const error = cellWith(nb, "drawGraph(42").outputs!.find((o) =>
    o.output_type === "error"
  )!;
  assert.equal(error.ename, "TypeError");
  assert.equal(error.evalue, "drawGraph() needs a Value, got number");
  assert.equal(
    error.traceback![0],
    "TypeError: drawGraph() needs a Value, got number",
  );
  // Thrown at the public surface: one tapegrad frame, then the cell.
  const frames = error.traceback!.slice(1);
  assert.equal(frames.filter((f) => f.includes("file:///tapegrad/")).length, 1);
  assert.ok(frames.length <= 3, frames.join("\n"));
});

Deno.test("notebooks: micrograd_demo.ipynb trains to 100% by hand and with fit, with pictures", async () => {
  const nb = await committed("micrograd_demo.ipynb");
  const log = textOf(cellWith(nb, "total.backward()")).trimEnd().split("\n");
  assert.equal(log.length, 100);
  assert.match(log[0], /^step 0 loss \d+\.\d{6}, accuracy \d+%$/);
  assert.match(log[99], /^step 99 loss 0\.0\d{5}, accuracy 100%$/);
  assert.match(
    textOf(cellWith(nb, "fit(fitted")),
    /^final loss 0\.0\d{5}, accuracy 100%$/,
  );
  for (
    const marker of [
      "plotBoundary(model",
      "plotLosses(losses",
      "plotBoundary(fitted",
    ]
  ) {
    const svgs = svgOutputs(cellWith(nb, marker));
    assert.equal(svgs.length, 1, marker);
    parseSvg(svgs[0]);
  }
  // A perfect model rings no point as misclassified (only the legend's sample).
  const boundary = svgOutputs(cellWith(nb, "plotBoundary(model"))[0];
  assert.equal(boundary.match(/stroke="#000"/g)!.length, 1);
});

const required = Deno.env.get("TAPEGRAD_REQUIRE_JUPYTER") === "1";
const jupyter = await hasJupyter();
if (!jupyter && !required) {
  console.warn(
    "notebooks_test: jupyter nbconvert not found; skipping the fresh execution (set TAPEGRAD_REQUIRE_JUPYTER=1 to fail instead)",
  );
}

Deno.test({
  name:
    "notebooks: a fresh headless execution reproduces the committed notebooks",
  ignore: !jupyter && !required,
  async fn() {
    assert.ok(
      jupyter,
      "jupyter nbconvert is required (TAPEGRAD_REQUIRE_JUPYTER=1) but not found",
    );
    for (const name of NOTEBOOKS) {
      const fresh = await executeNotebook(name);
      const text = await Deno.readTextFile(new URL(name, NOTEBOOK_DIR));
      if (notebookText(fresh) !== text) {
        // The first difference, for the report.
        const a = notebookText(fresh).split("\n"), b = text.split("\n");
        const k = a.findIndex((line, i) => line !== b[i]);
        assert.fail(
          `${name} differs from a fresh execution at line ${
            k + 1
          }:\n  committed: ${b[k]?.slice(0, 200)}\n  fresh:     ${
            a[k]?.slice(0, 200)
          }\nRun deno task notebooks to update it.`,
        );
      }
    }
  },
});
