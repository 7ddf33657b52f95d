/**
 * Serves the playground on 127.0.0.1: the page, its stylesheet and the
 * bundles in `playground/dist/` (built first when missing or stale and
 * `deno` may be run). `cli.ts serve` (`cli/serve.ts`) calls {@linkcode serve};
 * nothing here imports from `cli/`.
 *
 * @module
 */

import { RuntimeError } from "../app/errors.ts";
import { type Http1Server, listenHttp1 } from "./http1.ts";
import {
  BuildError,
  buildPlayground,
  bundleState,
  DIST_DIR,
  PLAYGROUND_DIR,
} from "./build.ts";

/** The only address the playground listens on. */
export const HOSTNAME = "127.0.0.1";

/** The default port. */
export const DEFAULT_PORT = 8000;

/** Seconds a connection may take to send a request's headers. */
export const HEADER_TIMEOUT_MS = 5000;

/**
 * Whether a request's `Host` header names this server: `127.0.0.1` or
 * `localhost` with the served port. Anything else may be a DNS-rebinding
 * page reaching the server under a name the attacker controls.
 *
 * @param host The `Host` header, if any.
 * @param port The port the server listens on.
 * @returns Whether to serve the request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostAllowed } from "./serve.ts";
 * assert.equal(hostAllowed("127.0.0.1:8000", 8000), true);
 * assert.equal(hostAllowed("LOCALHOST:8000", 8000), true);
 * assert.equal(hostAllowed("evil.example:8000", 8000), false);
 * assert.equal(hostAllowed("127.0.0.1:9000", 8000), false);
 * ```
 */
export function hostAllowed(host: string | null, port: number): boolean {
  if (host === null) return false;
  const name = host.toLowerCase();
  return name === `127.0.0.1:${port}` || name === `localhost:${port}` ||
    (port === 80 && (name === "127.0.0.1" || name === "localhost"));
}

function misdirected(request: Request): Response {
  const headers = new Headers(SECURITY_HEADERS);
  headers.set("content-type", "text/plain; charset=utf-8");
  return new Response(
    `Forbidden: Host ${
      JSON.stringify(request.headers.get("host"))
    } is not this server; open http://${HOSTNAME}:<port>/\n`,
    { status: 403, headers },
  );
}

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** The port, 0 for any free one (default 8000). */
  port?: number;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Where to write the URL and notes (default: stdout via console.log). */
  log?: (line: string) => void;
  /**
   * Bundle first when the bundles are missing or stale: `"auto"` (default)
   * when permission to run `deno` and write `playground/dist/` is granted,
   * `"always"`, or `"never"`.
   */
  build?: "auto" | "always" | "never";
}

/** A running playground server. */
export interface PlaygroundServer {
  /** The page's address, e.g. `http://127.0.0.1:8000/`. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
  /** Stops the server. */
  shutdown(): Promise<void>;
}

/** The files the server serves, by URL path. */
const ROUTES: Readonly<
  Record<string, { dir: URL; file: string; type: string }>
> = {
  "/": {
    dir: PLAYGROUND_DIR,
    file: "index.html",
    type: "text/html; charset=utf-8",
  },
  "/index.html": {
    dir: PLAYGROUND_DIR,
    file: "index.html",
    type: "text/html; charset=utf-8",
  },
  "/style.css": {
    dir: PLAYGROUND_DIR,
    file: "style.css",
    type: "text/css; charset=utf-8",
  },
  "/favicon.svg": {
    dir: PLAYGROUND_DIR,
    file: "favicon.svg",
    type: "image/svg+xml",
  },
  "/favicon.ico": {
    dir: PLAYGROUND_DIR,
    file: "favicon.svg",
    type: "image/svg+xml",
  },
  "/app.js": {
    dir: DIST_DIR,
    file: "app.js",
    type: "text/javascript; charset=utf-8",
  },
  "/app.js.map": {
    dir: DIST_DIR,
    file: "app.js.map",
    type: "application/json",
  },
  "/worker.js": {
    dir: DIST_DIR,
    file: "worker.js",
    type: "text/javascript; charset=utf-8",
  },
  "/worker.js.map": {
    dir: DIST_DIR,
    file: "worker.js.map",
    type: "application/json",
  },
  "/parallel_worker.js": {
    dir: DIST_DIR,
    file: "parallel_worker.js",
    type: "text/javascript; charset=utf-8",
  },
  "/parallel_worker.js.map": {
    dir: DIST_DIR,
    file: "parallel_worker.js.map",
    type: "application/json",
  },
};

// Everything comes from this server; 'unsafe-eval' lets fit() compile its
// training step with new Function (it falls back to replay without it).
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": [
    "default-src 'self'",
    "script-src 'self' 'unsafe-eval'",
    "worker-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; "),
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // Both make the page cross-origin isolated: SharedArrayBuffer, and so
  // training on several workers, needs it.
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
};

/**
 * Answers one request: the page's files, 404 for anything else, 405 for
 * methods other than GET and HEAD. Files are read on every request, so a
 * rebuild shows on reload.
 *
 * @param request The request.
 * @returns The response.
 */
export async function handle(request: Request): Promise<Response> {
  const headers = new Headers(SECURITY_HEADERS);
  headers.set("cache-control", "no-store");
  if (request.method !== "GET" && request.method !== "HEAD") {
    headers.set("allow", "GET, HEAD");
    return new Response("Method not allowed\n", { status: 405, headers });
  }
  const path = new URL(request.url).pathname;
  const route = ROUTES[path];
  if (!route) {
    headers.set("content-type", "text/plain; charset=utf-8");
    return new Response(`Not found: ${path}\n`, { status: 404, headers });
  }
  let body: Uint8Array;
  try {
    body = await Deno.readFile(new URL(route.file, route.dir));
  } catch (error) {
    headers.set("content-type", "text/plain; charset=utf-8");
    if (error instanceof Deno.errors.NotFound && route.dir === DIST_DIR) {
      return new Response(
        `${route.file} is not built: run "deno task playground:build" and reload\n`,
        { status: 503, headers },
      );
    }
    throw error;
  }
  headers.set("content-type", route.type);
  headers.set("content-length", String(body.byteLength));
  return new Response(request.method === "HEAD" ? null : body as BodyInit, {
    headers,
  });
}

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  return Deno.permissions.querySync(descriptor).state === "granted";
}

/** Builds the bundles when needed and allowed; explains when it cannot. */
async function ensureBundles(
  mode: ServeOptions["build"],
  log: (line: string) => void,
): Promise<void> {
  if (mode === "never") return;
  const state = mode === "always" ? "stale" : await bundleState();
  if (state === "fresh") return;
  const canBuild = granted({ name: "run" }) ||
    (granted({ name: "run", command: Deno.execPath() }) &&
      granted({ name: "write", path: DIST_DIR }));
  if (!canBuild && mode !== "always") {
    if (state === "missing") {
      throw new RuntimeError(
        'The playground is not built: run "deno task playground:build" first (or use "deno task serve", which builds it)',
      );
    }
    log(
      'note: playground/dist/ is older than its sources; run "deno task playground:build" to rebuild',
    );
    return;
  }
  log(
    state === "missing"
      ? "Building the playground…"
      : "Rebuilding the playground…",
  );
  try {
    await buildPlayground({ log });
  } catch (error) {
    if (error instanceof BuildError) throw new RuntimeError(error.message);
    throw error;
  }
}

/**
 * Serves the playground on 127.0.0.1 and prints its URL.
 *
 * @param options Port, stop signal, logging, build policy.
 * @returns The running server.
 * @throws {RuntimeError} If the port is taken or the page is not built.
 */
export async function serve(
  options: ServeOptions = {},
): Promise<PlaygroundServer> {
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Port must be an integer from 0 to 65535, got ${port}`,
    );
  }
  const log = options.log ?? ((line: string) => console.log(line));
  await ensureBundles(options.build ?? "auto", log);
  let server: Http1Server;
  // Known once listening (port 0 picks one); the Host check needs it.
  let actualPort = port;
  try {
    server = listenHttp1(
      {
        hostname: HOSTNAME,
        port,
        signal: options.signal,
        headerTimeoutMs: HEADER_TIMEOUT_MS,
        onError: (error) => {
          const message = error instanceof Error
            ? error.message
            : String(error);
          log(`error: ${message}`);
          return new Response("Internal server error\n", { status: 500 });
        },
      },
      (request) =>
        hostAllowed(request.headers.get("host"), actualPort)
          ? handle(request)
          : misdirected(request),
    );
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new RuntimeError(
        `Port ${port} on ${HOSTNAME} is already in use: choose another with --port, or --port 0 for any free port`,
      );
    }
    if (
      error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied
    ) {
      throw new RuntimeError(
        `Permission to listen on ${HOSTNAME}:${port} was not granted; run deno with --allow-net=${HOSTNAME}`,
      );
    }
    throw error;
  }
  const actual = actualPort = server.addr.port;
  const url = `http://${HOSTNAME}:${actual}/`;
  log(`tapegrad playground: ${url}`);
  log(
    "Train view: " + url + "#train   Graph view: " + url +
      "#graph   (Ctrl+C to stop)",
  );
  return {
    url,
    port: actual,
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
}
