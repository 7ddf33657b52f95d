/**
 * Bundles the playground for the browser with `deno bundle`: the page
 * (`app.ts`) and the training worker (`worker.ts`), each with tapegrad's own
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
};

/** The playground's own directory (this file's). */
export const PLAYGROUND_DIR: URL = new URL("./", import.meta.url);

/** Where the bundles go. */
export const DIST_DIR: URL = new URL("./dist/", import.meta.url);

// Sources whose changes make the bundles stale: the page and the library it inlines.
const SOURCE_DIRS = ["playground/", "engine/", "nn/", "cli/"];
const ROOT_DIR = new URL("../", import.meta.url);

/** Options for {@linkcode buildPlayground}. */
export interface BuildOptions {
  /** Minify the bundles (default `false`: readable output for learners). */
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
    ...(options.minify ? ["--minify"] : []),
    ...entries,
  ];
  const output = await new Deno.Command(Deno.execPath(), {
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
 * Whether the bundles are missing or older than any source they come from.
 *
 * @returns `"missing"`, `"stale"` or `"fresh"`.
 */
export async function bundleState(): Promise<"missing" | "stale" | "fresh"> {
  let built = Infinity;
  for (const name of Object.keys(ENTRY_POINTS)) {
    try {
      const info = await Deno.stat(new URL(name, DIST_DIR));
      built = Math.min(built, info.mtime?.getTime() ?? 0);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return "missing";
      throw error;
    }
  }
  const newest = Math.max(
    await newestSource(new URL("../mod.ts", import.meta.url)),
    await newestSource(new URL("../deno.json", import.meta.url)),
    ...await Promise.all(
      SOURCE_DIRS.map((dir) => newestSource(new URL(dir, ROOT_DIR))),
    ),
  );
  return newest > built ? "stale" : "fresh";
}

async function newestSource(url: URL): Promise<number> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(url);
  } catch {
    return 0;
  }
  if (info.isFile) {
    return /\.(ts|json)$/.test(url.pathname) && !/_test\.ts$/.test(url.pathname)
      ? info.mtime?.getTime() ?? 0
      : 0;
  }
  if (url.href === DIST_DIR.href) return 0;
  let newest = 0;
  for await (const entry of Deno.readDir(url)) {
    if (entry.name.startsWith(".") || entry.name === "dist") continue;
    const child = new URL(entry.name + (entry.isDirectory ? "/" : ""), url);
    newest = Math.max(newest, await newestSource(child));
  }
  return newest;
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
      minify: Deno.args.includes("--minify"),
      log: (line) => console.log(line),
    });
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
