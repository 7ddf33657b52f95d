/**
 * Rewrites the imports of JSDoc examples in the library (mod.ts, engine/,
 * nn/, viz/) from relative paths (`"./value.ts"`, `"../engine/mod.ts"`) to
 * the package's entry points (`"@tapegrad/tapegrad"`,
 * `"@tapegrad/tapegrad/engine"`, …), so a reader can copy an example into a
 * program. An import goes to the first entry point in deno.json's `exports`
 * that exports all its names (the main one first); failing that, each name
 * goes to the first entry point that exports it. Idempotent: run it
 * again after a merge and it touches only what new code added. An example
 * of a private module (one whose names no entry point exports, like
 * engine/wasm/encoder.ts) keeps its relative import: a user cannot import it.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-run=deno tools/rewrite_doc_imports.ts          # rewrite, print each change
 * deno run --allow-read --allow-run=deno tools/rewrite_doc_imports.ts --check  # exit 1 if anything would change
 * ```
 *
 * Not part of the published package.
 *
 * @module
 */

/** The names each entry point exports, keyed by its package specifier. */
export type EntryExports = ReadonlyMap<string, ReadonlySet<string>>;

/** One rewritten (or refused) import. */
export interface Change {
  /** The import as it was, on one line. */
  before: string;
  /** Its replacement (one or more lines), or `undefined` if it was refused. */
  after?: string;
  /** Why the import was kept, when it was: a name no entry point exports. */
  problem?: string;
}

/** The directories and files whose JSDoc examples are rewritten. */
export const LIBRARY_ROOTS: readonly string[] = [
  "mod.ts",
  "engine",
  "nn",
  "viz",
];

const JSDOC = /\/\*\*[\s\S]*?\*\//g;
// `import { a, type B } from "./x.ts";` or `import type { … }`, possibly over
// several JSDoc lines (each continued with ` * `).
const NAMED_IMPORT =
  /import\s+(type\s+)?\{([^}]*)\}\s+from\s+"(\.{1,2}\/[^"]*)";?/g;
const OTHER_RELATIVE_IMPORT = /import\s+[^"{;]*?from\s+"(\.{1,2}\/[^"]*)"/g;

/**
 * The relative specifiers imported by JSDoc comments in `text`: what must be
 * empty in a library file.
 */
export function relativeDocImports(text: string): string[] {
  const found: string[] = [];
  for (const comment of text.match(JSDOC) ?? []) {
    for (const m of comment.matchAll(NAMED_IMPORT)) found.push(m[3]);
    for (const m of comment.matchAll(OTHER_RELATIVE_IMPORT)) found.push(m[1]);
  }
  return found;
}

/**
 * Rewrites the relative named imports in the JSDoc comments of `text`.
 *
 * @param text A source file's text.
 * @param exports What each entry point exports; the first key is the main one.
 * @returns The new text and every change made or refused.
 */
export function rewriteDocImports(
  text: string,
  exports: EntryExports,
): { text: string; changes: Change[] } {
  const changes: Change[] = [];
  const entries = [...exports.keys()];
  const out = text.replace(JSDOC, (comment) =>
    comment.replace(
      NAMED_IMPORT,
      (whole, typeOnly: string | undefined, list: string) => {
        const before = whole.replace(/\s*\n\s*\*\s*/g, " ");
        const items = list.split(",").map((item) =>
          item.replace(/\*/g, " ").trim().replace(/\s+/g, " ")
        ).filter((item) => item !== "");
        const byEntry = new Map<string, string[]>();
        const missing: string[] = [];
        const nameOf = (item: string) =>
          item.replace(/^type /, "").split(" as ")[0];
        // One import when one entry point has every name, else one per entry.
        const single = entries.find((e) =>
          items.every((item) => exports.get(e)!.has(nameOf(item)))
        );
        for (const item of items) {
          const name = nameOf(item);
          const entry = single ??
            entries.find((e) => exports.get(e)!.has(name));
          if (entry === undefined) missing.push(name);
          else byEntry.set(entry, [...(byEntry.get(entry) ?? []), item]);
        }
        if (missing.length > 0 || items.length === 0) {
          changes.push({
            before,
            problem: `No entry point exports ${
              missing.map((n) => `"${n}"`).join(", ") || "an empty list"
            }`,
          });
          return whole;
        }
        const indent = lineIndent(comment, whole);
        const keyword = typeOnly ? "import type" : "import";
        const lines = entries.filter((e) => byEntry.has(e)).map((entry) =>
          importLine(keyword, byEntry.get(entry)!, entry, indent)
        );
        const after = lines.join(`\n${indent}* `);
        changes.push({ before, after: after.replace(/\n\s*\*/g, "\n") });
        return after;
      },
    ));
  return { text: out, changes };
}

/** The spaces before the ` * ` that starts the line holding `part`. */
function lineIndent(comment: string, part: string): string {
  const at = comment.indexOf(part);
  const lineStart = comment.lastIndexOf("\n", at) + 1;
  const prefix = comment.slice(lineStart, at);
  return /^(\s*)\*/.exec(prefix)?.[1] ?? " ";
}

/** One import statement, broken over lines when it passes 80 columns. */
function importLine(
  keyword: string,
  names: string[],
  entry: string,
  indent: string,
): string {
  const flat = `${keyword} { ${names.join(", ")} } from "${entry}";`;
  if (indent.length + 2 + flat.length <= 80) return flat;
  return `${keyword} {\n` +
    names.map((name) => `${indent}*   ${name},\n`).join("") +
    `${indent}* } from "${entry}";`;
}

/** Reads deno.json's package name and `exports`, and asks `deno doc` what each exports. */
export async function entryExports(root = "."): Promise<EntryExports> {
  const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  const result = new Map<string, Set<string>>();
  for (const [subpath, file] of Object.entries(config.exports ?? {})) {
    const specifier = subpath === "."
      ? config.name
      : `${config.name}/${subpath.replace(/^\.\//, "")}`;
    const { code, stdout, stderr } = await new Deno.Command("deno", {
      args: ["doc", "--json", `${root}/${file}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(
        `deno doc ${file} failed: ${new TextDecoder().decode(stderr)}`,
      );
    }
    const doc = JSON.parse(new TextDecoder().decode(stdout));
    const names = new Set<string>();
    for (
      const node of Object.values(doc.nodes) as {
        symbols: { name: string }[];
      }[]
    ) {
      for (const symbol of node.symbols) names.add(symbol.name);
    }
    result.set(specifier, names);
  }
  return result;
}

/** Every library `.ts` file whose examples are rewritten: not tests. */
export async function libraryFiles(root = "."): Promise<string[]> {
  const files: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const info = await Deno.stat(`${root}/${path}`);
    if (info.isFile) {
      if (path.endsWith(".ts") && !path.endsWith("_test.ts")) files.push(path);
      return;
    }
    for await (const entry of Deno.readDir(`${root}/${path}`)) {
      if (entry.name === "testdata") continue;
      await walk(`${path}/${entry.name}`);
    }
  };
  for (const path of LIBRARY_ROOTS) await walk(path);
  return files.sort();
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const exports = await entryExports();
  let changed = 0, refused = 0;
  for (const file of await libraryFiles()) {
    const text = await Deno.readTextFile(file);
    const result = rewriteDocImports(text, exports);
    for (const change of result.changes) {
      if (change.problem) {
        refused++;
        console.log(`${file}: kept ${change.before}: ${change.problem}`);
      } else {
        console.log(`${file}: ${change.before}\n  -> ${change.after}`);
      }
    }
    if (result.text !== text) {
      changed++;
      if (!check) await Deno.writeTextFile(file, result.text);
    }
  }
  console.log(
    `${changed} file(s) ${check ? "would change" : "changed"}, ` +
      `${refused} import(s) of private names kept`,
  );
  if (check && changed > 0) Deno.exit(1);
}
