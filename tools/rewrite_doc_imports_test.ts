import assert from "node:assert/strict";
import {
  type EntryExports,
  relativeDocImports,
  rewriteDocImports,
} from "./rewrite_doc_imports.ts";

const EXPORTS: EntryExports = new Map([
  ["@tapegrad/tapegrad", new Set(["Value", "Tape", "MLP", "Options"])],
  ["@tapegrad/tapegrad/engine", new Set(["Value", "Tape", "Op", "opName"])],
  ["@tapegrad/tapegrad/nn", new Set(["MLP", "Options", "outputsForLoss"])],
]);

const doc = (...lines: string[]) =>
  ["/**", " * ```ts", ...lines.map((l) => ` * ${l}`), " * ```", " */", ""]
    .join("\n");

Deno.test("rewriteDocImports() sends names the main entry exports to it", () => {
  const { text, changes } = rewriteDocImports(
    doc(
      'import assert from "node:assert/strict";',
      'import { Value } from "./value.ts";',
    ),
    EXPORTS,
  );
  assert.equal(
    text,
    doc(
      'import assert from "node:assert/strict";',
      'import { Value } from "@tapegrad/tapegrad";',
    ),
  );
  assert.deepEqual(changes, [{
    before: 'import { Value } from "./value.ts";',
    after: 'import { Value } from "@tapegrad/tapegrad";',
  }]);
});

Deno.test("rewriteDocImports() keeps one import when one entry point has every name", () => {
  const { text } = rewriteDocImports(
    doc('import { Op, Tape, type Value as V } from "../engine/mod.ts";'),
    EXPORTS,
  );
  assert.equal(
    text,
    doc(
      'import { Op, Tape, type Value as V } from "@tapegrad/tapegrad/engine";',
    ),
  );
});

Deno.test("rewriteDocImports() splits an import no single entry point covers", () => {
  const { text } = rewriteDocImports(
    doc('import type { Op, Options } from "./mod.ts";'),
    EXPORTS,
  );
  assert.equal(
    text,
    doc(
      'import type { Options } from "@tapegrad/tapegrad";',
      'import type { Op } from "@tapegrad/tapegrad/engine";',
    ),
  );
});

Deno.test("rewriteDocImports() reads and writes imports over several lines", () => {
  const long = new Map([...EXPORTS, [
    "@tapegrad/tapegrad/nn",
    new Set([
      "aVeryLongExportedNameNumberOne",
      "aVeryLongExportedNameNumberTwo",
    ]),
  ]]);
  const { text } = rewriteDocImports(
    doc(
      "import {",
      "  aVeryLongExportedNameNumberOne,",
      "  aVeryLongExportedNameNumberTwo,",
      '} from "./data.ts";',
    ),
    long,
  );
  assert.equal(
    text,
    doc(
      "import {",
      "  aVeryLongExportedNameNumberOne,",
      "  aVeryLongExportedNameNumberTwo,",
      '} from "@tapegrad/tapegrad/nn";',
    ),
  );
  assert.deepEqual(relativeDocImports(text), []);
});

Deno.test("rewriteDocImports() is idempotent and leaves code outside JSDoc alone", () => {
  const source = 'import { Value } from "./value.ts";\n' +
    doc('import { outputsForLoss } from "./loss.ts";');
  const once = rewriteDocImports(source, EXPORTS).text;
  assert.equal(
    once,
    'import { Value } from "./value.ts";\n' +
      doc('import { outputsForLoss } from "@tapegrad/tapegrad/nn";'),
  );
  const twice = rewriteDocImports(once, EXPORTS);
  assert.equal(twice.text, once);
  assert.deepEqual(twice.changes, []);
});

Deno.test("rewriteDocImports() refuses a name no entry point exports", () => {
  const source = doc('import { Value, helper } from "./_testing.ts";');
  const { text, changes } = rewriteDocImports(source, EXPORTS);
  assert.equal(text, source);
  assert.deepEqual(changes, [{
    before: 'import { Value, helper } from "./_testing.ts";',
    problem: 'No entry point exports "helper"',
  }]);
});

Deno.test("relativeDocImports() finds relative imports in JSDoc only", () => {
  const source = 'import { a } from "./a.ts";\n' +
    doc(
      'import { b } from "./b.ts";',
      'import * as c from "../c.ts";',
      'import d from "./d.ts";',
      'import { e } from "@tapegrad/tapegrad";',
      'import assert from "node:assert/strict";',
    );
  assert.deepEqual(relativeDocImports(source).sort(), [
    "../c.ts",
    "./b.ts",
    "./d.ts",
  ]);
});
