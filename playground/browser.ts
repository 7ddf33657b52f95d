/**
 * What the end-to-end tests and the screenshot script share: launching
 * Debian's Chromium headless through playwright-core (never a downloaded
 * browser), and starting the playground server as a subprocess, exactly as
 * a user would, on a free port.
 *
 * @module
 */

import type { BrowserContext, Page } from "npm:playwright-core@1.65.1";
import { toPath } from "./build.ts";

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM_PATH: string = Deno.env.get("CHROMIUM_PATH") ??
  "/usr/bin/chromium";

/** The flags the browser is launched with. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/**
 * Whether the Chromium binary is there.
 *
 * @returns `true` if {@linkcode CHROMIUM_PATH} is a file.
 */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

/** A browser with a fresh profile, and how to get rid of it. */
export interface Browser {
  /** The browser context (persistent, in a temporary profile). */
  context: BrowserContext;
  /** A page to drive. */
  page: Page;
  /** Where downloads are saved. */
  downloads: string;
  /** Closes the browser and removes the profile. */
  close(): Promise<void>;
}

/** Options for {@linkcode launchBrowser}. */
export interface LaunchOptions {
  /** Viewport size (default 1440×900). */
  viewport?: { width: number; height: number };
  /** Device pixel ratio (default 1). */
  deviceScaleFactor?: number;
}

/**
 * Launches Chromium headless with a fresh user-data directory.
 *
 * @param options Viewport and pixel ratio.
 * @returns The browser and a page.
 */
export async function launchBrowser(
  options: LaunchOptions = {},
): Promise<Browser> {
  if (!hasChromium()) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: install Debian's (apt-get update && apt-get install -y chromium), or set CHROMIUM_PATH`,
    );
  }
  const { chromium } = await loadPlaywright();
  const profile = await Deno.makeTempDir({ prefix: "tapegrad-chromium-" });
  const downloads = await Deno.makeTempDir({ prefix: "tapegrad-downloads-" });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: options.viewport ?? { width: 1440, height: 900 },
      deviceScaleFactor: options.deviceScaleFactor ?? 1,
      acceptDownloads: true,
      downloadsPath: downloads,
      timeout: 60_000,
    });
  } catch (error) {
    await removeDir(profile);
    await removeDir(downloads);
    throw error;
  }
  const page = context.pages()[0] ?? await context.newPage();
  return {
    context,
    page,
    downloads,
    async close() {
      try {
        await context.close();
      } finally {
        await removeDir(profile);
        await removeDir(downloads);
      }
    },
  };
}

/**
 * Loads playwright-core. It is loaded on first use, not on import, so that
 * this module (and the tests' skip logic) loads with any permissions.
 */
async function loadPlaywright(): Promise<
  typeof import("npm:playwright-core@1.65.1")
> {
  try {
    return await import("npm:playwright-core@1.65.1");
  } catch (error) {
    if (
      error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied
    ) {
      throw new Error(
        "playwright-core needs all permissions under Deno (it reads /proc/sys as it loads): " +
          "run the browser tests with -A, as `deno task test:browser` does",
        { cause: error },
      );
    }
    throw error;
  }
}

/** A playground server running as a child process. */
export interface ServerProcess {
  /** The page's address. */
  url: string;
  /** Everything it printed so far. */
  output(): string;
  /** Stops it and waits for it to exit. */
  stop(): Promise<void>;
}

const ROOT = new URL("../", import.meta.url);

/**
 * The script that serves the playground: `cli.ts` once it lists the `serve`
 * command, else `playground/serve.ts` (which runs the same code).
 *
 * @returns A path relative to the repository root.
 */
export function serverEntry(): string {
  for (const file of ["cli.ts", "cli/main.ts"]) {
    try {
      if (/serveCommand/.test(Deno.readTextFileSync(new URL(file, ROOT)))) {
        return "cli.ts";
      }
    } catch {
      // Not there: look further.
    }
  }
  return "playground/serve.ts";
}

/**
 * Starts `deno run --allow-net=127.0.0.1 --allow-read cli.ts serve --port 0`
 * (the command a user types) and waits for the URL it prints.
 *
 * @param entry The script to run (default `cli.ts`; `playground/serve.ts` works too).
 * @returns The running server.
 * @throws {Error} If it exits or prints no URL within 30 seconds.
 */
export async function startServer(
  entry: string = serverEntry(),
): Promise<ServerProcess> {
  const args = ["run", "--allow-net=127.0.0.1", "--allow-read", entry];
  if (entry === "cli.ts") args.push("serve");
  args.push("--port", "0");
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: toPath(ROOT),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
    }
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status.then((status) => status);
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  let status: Deno.CommandStatus | undefined;
  exited.then((s) => (status = s));
  while (url === undefined) {
    const match = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
    if (match) url = match[1];
    else if (status !== undefined || Date.now() > deadline) {
      if (status === undefined) child.kill("SIGTERM");
      await exited;
      await pumped;
      throw new Error(
        `The playground server ${
          status ? `exited with code ${status.code}` : "printed no URL in 30 s"
        }:\n${text}`,
      );
    } else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    output: () => text,
    async stop() {
      if (status === undefined) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
      }
      await exited;
      await pumped;
    },
  };
}

async function removeDir(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch {
    // Already gone.
  }
}
