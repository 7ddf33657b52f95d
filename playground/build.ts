/**
 * Bundles the playground for the browser with `deno bundle`: the page
 * (`app.ts`), the training worker (`worker.ts`) and the data-parallel
 * workers it starts (`parallel_worker.ts`), each with tapegrad's own
 * library inlined, into `playground/dist/`. Nothing is fetched at run time.
 *
 * Run: `deno run --allow-read --allow-write=playground/dist --allow-run playground/build.ts`
 * (or `deno task playground:build`).
 *
 * @module
 */

/** The bundles the page loads, by output name, from their entry points. */
export const ENTRY_POINTS: Readonly<Record<string, string>> = {
  "app.js": "app.ts",
  "worker.js": "worker.ts",
  "parallel_worker.js": "parallel_worker.ts",
};

/** The playground's own directory (this file's). */
export const PLAYGROUND_DIR: URL = new URL("./", import.meta.url);

/** Where the bundles go. */
export const DIST_DIR: URL = new URL("./dist/", import.meta.url);

const ROOT_DIR = new URL("../", import.meta.url);

/** Options for {@linkcode buildPlayground}. */
export interface BuildOptions {
  /**
   * Minify the bundles (default `true`). Minified bundles carry none of the
   * library's doc comments, whose examples `deno test --doc` would otherwise
   * find; the source maps lead back to the TypeScript.
   */
  minify?: boolean;
  /** Where to write progress lines (default: nowhere). */
  log?: (line: string) => void;
}

/** The result of a build. */
export interface BuildResult {
  /** The files written, by name. */
  files: { name: string; bytes: number }[];
  /** Wall-clock milliseconds. */
  ms: number;
}

/** Thrown when `deno bundle` fails; the message includes its output. */
export class BuildError extends Error {
  /**
   * Creates the error.
   *
   * @param message One line, then `deno bundle`'s output.
   */
  constructor(message: string) {
    super(message);
    this.name = "BuildError";
  }
}

/**
 * Runs `deno bundle` on the page and worker entry points.
 *
 * @param options Minify, logging.
 * @returns The files written.
 * @throws {BuildError} If bundling fails.
 */
export async function buildPlayground(
  options: BuildOptions = {},
): Promise<BuildResult> {
  const started = performance.now();
  await Deno.mkdir(DIST_DIR, { recursive: true });
  const entries = Object.values(ENTRY_POINTS).map((entry) =>
    toPath(new URL(entry, PLAYGROUND_DIR))
  );
  const args = [
    "bundle",
    "--quiet",
    "--platform=browser",
    "--format=esm",
    "--sourcemap=linked",
    `--outdir=${toPath(DIST_DIR)}`,
    ...(options.minify ?? true ? ["--minify"] : []),
    ...entries,
  ];
  // The running deno, or "deno" from PATH when only that may be run (the
  // task grants --allow-run=deno; execPath may be its real path elsewhere).
  const runsSelf = Deno.permissions.querySync({
    name: "run",
    command: Deno.execPath(),
  }).state === "granted";
  const output = await new Deno.Command(runsSelf ? Deno.execPath() : "deno", {
    args,
    cwd: toPath(ROOT_DIR),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr) +
      new TextDecoder().decode(output.stdout);
    throw new BuildError(
      `deno bundle failed (exit code ${output.code}):\n${text.trim()}`,
    );
  }
  const files: { name: string; bytes: number }[] = [];
  for (const name of Object.keys(ENTRY_POINTS)) {
    const info = await Deno.stat(new URL(name, DIST_DIR));
    files.push({ name, bytes: info.size });
  }
  const ms = performance.now() - started;
  options.log?.(
    `Bundled ${
      files.map((f) => `${f.name} (${Math.round(f.bytes / 1024)} KB)`).join(
        ", ",
      )
    } into ${relative(DIST_DIR)} in ${Math.round(ms)} ms`,
  );
  return { files, ms };
}

/**
 * Whether the bundles are missing or older than any source they were built
 * from (the sources listed in their source maps, so exactly what they hold).
 *
 * @returns `"missing"`, `"stale"` or `"fresh"`.
 */
export async function bundleState(): Promise<"missing" | "stale" | "fresh"> {
  for (const name of Object.keys(ENTRY_POINTS)) {
    const bundle = new URL(name, DIST_DIR),
      map = new URL(`${name}.map`, DIST_DIR);
    let built: number, sources: string[];
    try {
      built = (await Deno.stat(bundle)).mtime?.getTime() ?? 0;
      sources = JSON.parse(await Deno.readTextFile(map)).sources;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return "missing";
      if (error instanceof SyntaxError) return "stale";
      throw error;
    }
    if (!Array.isArray(sources)) return "stale";
    for (const source of sources) {
      try {
        const info = await Deno.stat(new URL(source, map));
        if ((info.mtime?.getTime() ?? Infinity) > built) return "stale";
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return "stale";
        throw error;
      }
    }
  }
  return "fresh";
}

function relative(url: URL): string {
  const root = toPath(ROOT_DIR), path = toPath(url);
  return path.startsWith(root) ? path.slice(root.length) : path;
}

/** A file URL as a path for the operating system. */
export function toPath(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  return Deno.build.os === "windows"
    ? path.replace(/^\/([A-Za-z]:)/, "$1").replaceAll("/", "\\")
    : path;
}

if (import.meta.main) {
  try {
    await buildPlayground({
      minify: !Deno.args.includes("--no-minify"),
      log: (line) => console.log(line),
    });
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
