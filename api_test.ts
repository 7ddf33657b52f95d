/** The public surface: what each entry point exports, and examples a user can copy. */
import assert from "node:assert/strict";
import * as root from "./mod.ts";
import * as engine from "./engine/mod.ts";
import * as nn from "./nn/mod.ts";
import * as viz from "./viz/mod.ts";
import {
  entryExports,
  libraryFiles,
  relativeDocImports,
  rewriteDocImports,
} from "./tools/rewrite_doc_imports.ts";

const INTERNALS = [
  "binaryDerivativeA",
  "binaryDerivativeB",
  "unaryDerivative",
  "OP_COUNT",
  "OP_TABLE",
  "Op",
  "compileRange",
  "CompiledStep",
  "naryLocalGradients",
  "naryInputs",
  "dotRangeArgs",
  "indexOn",
] as const;

Deno.test("mod.ts leaves the op table and compiler to the engine entry point", () => {
  const rootNames = new Set(Object.keys(root));
  for (const name of INTERNALS) {
    assert.ok(!rootNames.has(name), `mod.ts exports ${name}`);
    assert.ok(engine[name] !== undefined, `engine/mod.ts lacks ${name}`);
  }
});

Deno.test("mod.ts exports the user's API, the same objects as the other entry points", () => {
  assert.equal(root.Value, engine.Value);
  assert.equal(root.Tape, engine.Tape);
  assert.equal(root.gradCheck, engine.gradCheck);
  assert.equal(root.MLP, nn.MLP);
  assert.equal(root.fit, nn.fit);
  assert.equal(root.Trainer, nn.Trainer);
  assert.equal(root.drawGraph, viz.drawGraph);
  assert.equal(root.plotBoundary, viz.plotBoundary);
  // Every runtime export of mod.ts comes from one of the other entry points.
  const everywhere = new Set([engine, nn, viz].flatMap((m) => Object.keys(m)));
  assert.deepEqual(Object.keys(root).filter((n) => !everywhere.has(n)), []);
  // Far fewer names than the 134 of the flat list it replaced.
  assert.ok(
    Object.keys(root).length < 100,
    `${Object.keys(root).length} exports`,
  );
});

Deno.test("every JSDoc example in the library imports public names from the package", async () => {
  const files = await libraryFiles();
  assert.ok(files.includes("mod.ts") && files.includes("engine/value.ts"));
  const exports = await entryExports();
  assert.ok(exports.get("@tapegrad/tapegrad/engine")?.has("OP_TABLE"));
  const problems: string[] = [];
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    const result = rewriteDocImports(text, exports);
    for (const change of result.changes) {
      if (change.after) problems.push(`${file}: ${change.before}`);
    }
    // What stays relative imports only names no entry point exports.
    const kept = new Set(
      result.changes.filter((c) => c.problem).map((c) =>
        c.before.split('"')[1]
      ),
    );
    for (const specifier of relativeDocImports(result.text)) {
      if (!kept.has(specifier)) problems.push(`${file}: ${specifier}`);
    }
  }
  assert.deepEqual(
    problems,
    [],
    "run: deno task docs:imports (tools/rewrite_doc_imports.ts)",
  );
});
