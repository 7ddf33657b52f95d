/**
 * The import graph is a tree of layers: engine ← nn ← app ← cli, playground.
 * Reads every TypeScript file's static and dynamic imports (doc examples
 * excluded), then checks that no file imports itself through others and that
 * no import crosses the layers the wrong way. Permissions: --allow-read.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("./", import.meta.url);
const SKIP = new Set([".git", "node_modules", "dist"]);

/** Every .ts file under the repository, as a path relative to it. */
async function sourceFiles(dir = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir || ".", ROOT))) {
    const path = dir + entry.name;
    if (entry.isDirectory && !SKIP.has(entry.name)) {
      files.push(...await sourceFiles(path + "/"));
    } else if (entry.isFile && path.endsWith(".ts")) files.push(path);
  }
  return files;
}

/**
 * The relative module specifiers `code` imports, comments left out; with
 * `values`, only the imports that load code (not `import type`).
 */
export function importsOf(code: string, values = false): string[] {
  let stripped = code
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  if (values) {
    stripped = stripped.replace(
      /^\s*(?:import|export)\s+type\b[^;]*?\bfrom\s*["'][^"']+["'];?/gm,
      "",
    );
  }
  const specs: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of stripped.matchAll(pattern)) specs.push(match[1]);
  }
  return specs.filter((s) => s.startsWith("./") || s.startsWith("../"));
}

/** `spec` imported from `from`, as a path relative to the repository. */
function resolve(from: string, spec: string): string {
  const url = new URL(spec, new URL(from, ROOT));
  return decodeURIComponent(url.pathname.slice(ROOT.pathname.length));
}

/**
 * The edges of the repository's import graph; with `values`, only the
 * imports that load code at run time (a type-only import cannot make a
 * cycle of module evaluation).
 */
async function importGraph(values = false): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const file of await sourceFiles()) {
    const code = await Deno.readTextFile(new URL(file, ROOT));
    graph.set(
      file,
      importsOf(code, values).map((spec) => resolve(file, spec)).filter((p) =>
        p.endsWith(".ts")
      ),
    );
  }
  return graph;
}

/** A cycle in `graph`, as the files along it, or `undefined`. */
export function findCycle(
  graph: ReadonlyMap<string, readonly string[]>,
): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1: on the path, 2: done
  const path: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 2) return undefined;
    if (state.get(file) === 1) return [...path.slice(path.indexOf(file)), file];
    state.set(file, 1);
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(file, 2);
    return undefined;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
}

/** The layer a file belongs to: its top directory, or the file at the root. */
function layer(file: string): string {
  const slash = file.indexOf("/");
  return slash < 0 ? file : file.slice(0, slash);
}

const isTest = (file: string) =>
  /_test\.ts$/.test(file) || /(^|\/)_testing\.ts$/.test(file);

/**
 * Why the import `from → to` is not allowed, or `undefined` if it is.
 * Within a layer anything goes; across layers only downwards.
 */
export function forbidden(from: string, to: string): string | undefined {
  const a = layer(from), b = layer(to);
  if (a === b) return undefined;
  if (b === "bench") return "only bench/ imports bench/";
  if (b === "testing" && !isTest(from) && a !== "bench") {
    return "testing/ is for tests and benches";
  }
  switch (a) {
    case "engine":
      return "engine/ imports nothing outside engine/";
    case "nn":
      if (b === "engine" && (to === "engine/mod.ts" || isTest(from))) {
        return undefined;
      }
      if (b === "testing" && isTest(from)) return undefined;
      return b === "engine"
        ? "nn/ uses engine/ through engine/mod.ts"
        : "nn/ imports only engine/";
    case "app":
      return b === "engine" || b === "nn" || to === "mod.ts" ||
          to === "deno.json"
        ? undefined
        : "app/ imports only the library";
    case "playground":
      return b === "cli" ? "playground/ never imports cli/" : undefined;
    case "cli":
      // The serve command starts the playground's server, which knows no CLI.
      if (b === "playground") {
        return from === "cli/serve.ts" && to === "playground/serve.ts"
          ? undefined
          : "cli/ reaches the playground only through cli/serve.ts";
      }
      return undefined;
    case "testing":
      return "testing/ imports nothing outside testing/";
    case "bench":
      // The published entry points (`.`, `./engine`, `./nn`, `./viz`).
      return (b === "engine" || b === "nn" || b === "viz") &&
          !to.endsWith("/mod.ts")
        ? "bench/ uses the library through its entry points"
        : undefined;
    default:
      return undefined;
  }
}

Deno.test("the import graph has no cycle", async () => {
  const graph = await importGraph(true);
  assert.ok(graph.size > 50, `found only ${graph.size} files`);
  assert.equal(findCycle(graph)?.join(" → "), undefined);
});

Deno.test("imports go down the layers: engine ← nn ← app ← cli, playground", async () => {
  const problems: string[] = [];
  for (const [from, targets] of await importGraph()) {
    for (const to of targets) {
      const why = forbidden(from, to);
      if (why) {
        problems.push(`${from} → ${to}: ${why}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("the import graph checks catch a cycle and every forbidden edge", () => {
  assert.deepEqual(
    findCycle(
      new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]]]),
    ),
    ["a.ts", "b.ts", "c.ts", "a.ts"],
  );
  assert.equal(
    findCycle(new Map([["a.ts", ["b.ts"]], ["b.ts", []]])),
    undefined,
  );
  assert.deepEqual(
    importsOf(
      'import { a } from "./a.ts";\nexport * from "../b.ts";\n' +
        '/**\n * import { c } from "./c.ts";\n */\nimport type { D } from "./d.ts";\n' +
        'const e = await import("./e.ts");\nimport "node:fs";',
    ),
    ["./a.ts", "../b.ts", "./d.ts", "./e.ts"],
  );
  assert.deepEqual(
    importsOf(
      'import type { D } from "./d.ts";\nimport { a } from "./a.ts";',
      true,
    ),
    ["./a.ts"],
  );
  const edges: [string, string][] = [
    ["engine/tape.ts", "nn/mlp.ts"],
    ["nn/mlp.ts", "app/expr.ts"],
    ["nn/mlp.ts", "cli/main.ts"],
    ["nn/mlp.ts", "playground/session.ts"],
    ["nn/fit.ts", "engine/tape.ts"],
    ["app/expr.ts", "cli/args.ts"],
    ["app/expr.ts", "playground/session.ts"],
    ["playground/session.ts", "cli/model_meta.ts"],
    ["cli/train.ts", "playground/session.ts"],
    ["nn/mlp_test.ts", "bench/naive_micrograd.ts"],
    ["nn/mlp.ts", "testing/naive_micrograd.ts"],
    ["bench/engine_bench.ts", "engine/tape.ts"],
  ];
  for (const [from, to] of edges) {
    assert.ok(forbidden(from, to), `${from} → ${to} should be forbidden`);
  }
  for (
    const [from, to] of [
      ["nn/mlp.ts", "engine/mod.ts"],
      ["app/expr.ts", "mod.ts"],
      ["cli/train.ts", "app/format.ts"],
      ["playground/session.ts", "app/model_meta.ts"],
      ["cli/serve.ts", "playground/serve.ts"],
      ["nn/mlp_test.ts", "testing/naive_micrograd.ts"],
      ["bench/naive_micrograd.ts", "testing/naive_micrograd.ts"],
      ["bench/engine_bench.ts", "mod.ts"],
    ] as const
  ) {
    assert.equal(forbidden(from, to), undefined, `${from} → ${to}`);
  }
});
