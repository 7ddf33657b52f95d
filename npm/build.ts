/**
 * Builds the npm package from the same sources JSR publishes: every entry
 * point in deno.json's `exports` is compiled by TypeScript's own compiler
 * (pinned `npm:typescript`) into ES2022 modules with `.d.ts` types, one `.js`
 * per source file, so class and function names stay as written. Then
 * `npm pack` turns the folder into the tarball that users install.
 *
 * Run: `deno task build:npm` → `dist/npm/` and `dist/tapegrad-tapegrad-<version>.tgz`.
 *
 * @module
 */

import ts from "npm:typescript@5.9.3";

/** Where the repository lives (package.json `repository` and `homepage`). */
export const REPOSITORY = "https://github.com/tapegrad/tapegrad";

/** What the build produced. */
export interface BuildResult {
  /** The package folder (`dist/npm/`). */
  dir: string;
  /** The packed tarball, ready for `npm install <file>`. */
  tarball: string;
  /** The package's `package.json`, as written. */
  manifest: Record<string, unknown>;
}

const ROOT = new URL("../", import.meta.url);
const path = (url: URL): string => decodeURIComponent(url.pathname);

interface DenoConfig {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
  compilerOptions?: Record<string, boolean>;
}

/**
 * The npm `exports` map for deno.json's `exports`: `"./engine": "./engine/mod.ts"`
 * becomes `"./engine": { types: "./engine/mod.d.ts", default: "./engine/mod.js" }`.
 *
 * @param exports deno.json's `exports`.
 * @returns package.json's `exports`.
 */
export function npmExports(
  exports: Record<string, string>,
): Record<string, { types: string; default: string }> {
  const out: Record<string, { types: string; default: string }> = {};
  for (const [key, source] of Object.entries(exports)) {
    if (!source.endsWith(".ts")) {
      throw new RangeError(
        `Export "${key}" points at "${source}": expected a .ts file`,
      );
    }
    const stem = source.slice(0, -".ts".length);
    out[key] = { types: `${stem}.d.ts`, default: `${stem}.js` };
  }
  return out;
}

/**
 * Compiles the library into `dist/npm/`, writes its package.json, README and
 * LICENSE, and packs it with `npm pack`.
 *
 * @returns Where everything went.
 * @throws {Error} On a type error or a failing `npm pack`.
 */
export async function buildNpm(): Promise<BuildResult> {
  const config: DenoConfig = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  const dist = new URL("dist/", ROOT);
  const out = new URL("npm/", dist);
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });

  // The exports, and the parallel trainer's worker script, which nothing
  // imports: ParallelTrainer starts it by URL.
  const entries = [
    ...Object.values(config.exports),
    "./nn/parallel_worker.ts",
  ].map((p) => path(new URL(p, ROOT)));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: [],
    strict: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: true,
    ...config.compilerOptions,
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    declaration: true,
    rootDir: path(ROOT),
    outDir: path(out),
    newLine: ts.NewLineKind.LineFeed,
    noEmitOnError: true,
  };
  const program = ts.createProgram(entries, options);
  const emitted = program.emit();
  const diagnostics = [
    ...ts.getPreEmitDiagnostics(program),
    ...emitted.diagnostics,
  ];
  if (diagnostics.length > 0) {
    throw new Error(ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => path(ROOT),
      getNewLine: () => "\n",
    }));
  }

  const manifest = {
    name: config.name,
    version: config.version,
    description:
      "A fast scalar autograd engine on a typed-array tape, with micrograd's Value, Neuron, Layer and MLP",
    keywords: [
      "autograd",
      "automatic-differentiation",
      "backpropagation",
      "micrograd",
      "neural-network",
      "machine-learning",
      "typescript",
    ],
    license: config.license,
    repository: { type: "git", url: `git+${REPOSITORY}.git` },
    homepage: `${REPOSITORY}#readme`,
    type: "module",
    main: "./mod.js",
    types: "./mod.d.ts",
    exports: {
      ...npmExports(config.exports),
      "./package.json": "./package.json",
    },
    sideEffects: false,
    engines: { node: ">=20" },
  };
  await Deno.writeTextFile(
    new URL("package.json", out),
    JSON.stringify(manifest, null, 2) + "\n",
  );
  for (const file of ["README.md", "LICENSE"]) {
    await Deno.copyFile(new URL(file, ROOT), new URL(file, out));
  }

  const packed = await new Deno.Command("npm", {
    args: ["pack", "--json", "--pack-destination", path(dist)],
    cwd: path(out),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(packed.stdout);
  if (!packed.success) {
    throw new Error(
      `npm pack failed:\n${new TextDecoder().decode(packed.stderr)}`,
    );
  }
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  return {
    dir: path(out),
    tarball: path(new URL(filename, dist)),
    manifest,
  };
}

if (import.meta.main) {
  try {
    const { dir, tarball } = await buildNpm();
    console.log(`Built ${dir}\nPacked ${tarball}`);
    console.log(
      `Install it in a Node or Bun project with: npm install ${tarball}`,
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
