/**
 * The server and the build, without a browser. Permissions: --allow-read
 * --allow-write --allow-run --allow-net=127.0.0.1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RuntimeError } from "../app/errors.ts";
import { startServer } from "./browser.ts";
import { buildPlayground, bundleState, DIST_DIR } from "./build.ts";
import { listenHttp1 } from "./http1.ts";
import {
  handle,
  HEADER_TIMEOUT_MS,
  hostAllowed,
  HOSTNAME,
  serve,
} from "./serve.ts";
import config from "../deno.json" with { type: "json" };

let built: Promise<unknown> | undefined;
const build = () => (built ??= buildPlayground());

const get = (path: string, init?: RequestInit) =>
  handle(new Request(`http://127.0.0.1:8000${path}`, init));

Deno.test("buildPlayground() bundles the page and the worker, self-contained", async () => {
  await build();
  assert.equal(await bundleState(), "fresh");
  for (const name of ["app.js", "worker.js", "parallel_worker.js"]) {
    const code = await Deno.readTextFile(new URL(name, DIST_DIR));
    assert.doesNotMatch(code, /^\s*import\s/m, `${name} imports something`);
    // Symbol.for("Deno.customInspect") names a console hook, not an API call.
    assert.doesNotMatch(
      code,
      /\bDeno\.(?!customInspect")[a-z]/,
      `${name} uses a Deno API`,
    );
    // The library's worker script imports node:worker_threads under Node
    // only (a computed specifier a browser never reaches); nothing else.
    const loads = code.match(/\bimport\(/g) ?? [];
    const node = name === "parallel_worker.js" &&
      code.includes('"node:worker_threads"');
    assert.equal(loads.length, node ? 1 : 0, `${name} loads code at run time`);
  }
  const sources = async (name: string): Promise<string[]> =>
    JSON.parse(await Deno.readTextFile(new URL(`${name}.map`, DIST_DIR)))
      .sources;
  const worker = await sources("worker.js");
  assert.ok(
    worker.includes("../../nn/fit.ts"),
    "the worker runs tapegrad's own fit()",
  );
  assert.ok(
    (await sources("parallel_worker.js")).includes(
      "../../nn/parallel_worker.ts",
    ),
    "the workers run tapegrad's own worker script",
  );
  const app = await sources("app.js");
  assert.ok(
    app.includes("../../app/expr.ts"),
    "the page reuses the shared expression language",
  );
  assert.ok(
    app.includes("../../engine/tape.ts"),
    "and builds graphs on tapegrad's own tape",
  );
});

Deno.test("bundleState() notices a source newer than the bundle", async () => {
  await build();
  assert.equal(await bundleState(), "fresh");
  const source = new URL("../engine/ops.ts", import.meta.url);
  const { atime, mtime } = await Deno.stat(source);
  try {
    await Deno.utime(source, new Date(), new Date(Date.now() + 60_000));
    assert.equal(await bundleState(), "stale");
  } finally {
    await Deno.utime(source, atime!, mtime!);
  }
  assert.equal(await bundleState(), "fresh");
});

Deno.test("handle() serves the page with a strict content security policy", async () => {
  await build();
  const page = await get("/");
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  const csp = page.headers.get("content-security-policy")!;
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  assert.equal(page.headers.get("cache-control"), "no-store");
  const html = await page.text();
  assert.match(html, /<script type="module" src="app\.js"><\/script>/);
  assert.doesNotMatch(
    html,
    /https?:\/\//,
    "the page links nothing outside the server",
  );
  for (
    const [path, type] of [
      ["/style.css", "text/css; charset=utf-8"],
      ["/app.js", "text/javascript; charset=utf-8"],
      ["/worker.js", "text/javascript; charset=utf-8"],
      ["/parallel_worker.js", "text/javascript; charset=utf-8"],
      ["/favicon.svg", "image/svg+xml"],
    ]
  ) {
    const response = await get(path);
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), type, path);
    // Cross-origin isolated, so the page may share memory with workers.
    assert.equal(
      response.headers.get("cross-origin-opener-policy"),
      "same-origin",
      path,
    );
    assert.equal(
      response.headers.get("cross-origin-embedder-policy"),
      "require-corp",
      path,
    );
    await response.body?.cancel();
  }
});

Deno.test("handle() refuses everything else", async () => {
  for (
    const path of [
      "/cli.ts",
      "/deno.json",
      "/../deno.json",
      "/dist/app.js",
      "/playground/index.html",
      "/%2e%2e/mod.ts",
    ]
  ) {
    const response = await get(path);
    assert.equal(response.status, 404, path);
    assert.match(await response.text(), /^Not found: /);
  }
  const post = await get("/", { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
  await build();
  const head = await get("/app.js", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
  assert.ok(Number(head.headers.get("content-length")) > 10_000);
});

Deno.test("serve() listens on 127.0.0.1 only, on a free port with port 0, and stops", async () => {
  await build();
  const lines: string[] = [];
  const server = await serve({
    port: 0,
    log: (line) => lines.push(line),
    build: "never",
  });
  try {
    assert.equal(HOSTNAME, "127.0.0.1");
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(server.port > 0);
    assert.equal(lines[0], `tapegrad playground: ${server.url}`);
    const response = await fetch(server.url);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<title>tapegrad playground<\/title>/);
    // A second server on the same port gets a readable error.
    await assert.rejects(
      () => serve({ port: server.port, log: () => {}, build: "never" }),
      (e) =>
        e instanceof RuntimeError &&
        e.message ===
          `Port ${server.port} on 127.0.0.1 is already in use: choose another with --port, or --port 0 for any free port`,
    );
  } finally {
    await server.shutdown();
    await server.finished;
  }
  await assert.rejects(() => serve({ port: 70000, log: () => {} }), RangeError);
});

Deno.test("the serve command starts with only --allow-net=127.0.0.1 --allow-read and prints its URL", async () => {
  await build();
  const server = await startServer();
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(
      server.output(),
      /tapegrad playground: http:\/\/127\.0\.0\.1:\d+\//,
    );
    const response = await fetch(server.url + "worker.js");
    assert.equal(response.status, 200);
    await response.body?.cancel();
  } finally {
    await server.stop();
  }
});

/** Sends raw bytes and reads until the server closes the connection. */
async function rawExchange(
  port: number,
  text: string,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(text));
    let out = "";
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return out;
      out += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by the server.
    }
  }
}

Deno.test("hostAllowed() accepts only 127.0.0.1 and localhost with the served port", () => {
  assert.equal(hostAllowed("127.0.0.1:8123", 8123), true);
  assert.equal(hostAllowed("localhost:8123", 8123), true);
  assert.equal(hostAllowed("Localhost:8123", 8123), true);
  for (
    const host of [
      null,
      "",
      "127.0.0.1",
      "localhost",
      "127.0.0.1:8124",
      "attacker.example:8123",
      "localhost.attacker.example:8123",
      "[::1]:8123",
    ]
  ) {
    assert.equal(hostAllowed(host, 8123), false, String(host));
  }
  assert.equal(hostAllowed("localhost", 80), true);
});

Deno.test("serve() refuses other Host headers (DNS rebinding) and keeps connections alive", async () => {
  await build();
  const server = await serve({ port: 0, log: () => {}, build: "never" });
  try {
    const request = (host: string | undefined, close = true) =>
      `GET / HTTP/1.1\r\n${host === undefined ? "" : `Host: ${host}\r\n`}${
        close ? "Connection: close\r\n" : ""
      }\r\n`;
    for (
      const host of [
        "attacker.example",
        `attacker.example:${server.port}`,
        "127.0.0.1:1",
        undefined,
      ]
    ) {
      const reply = await rawExchange(server.port, request(host));
      assert.match(reply, /^HTTP\/1\.1 403 Forbidden\r\n/, String(host));
      assert.match(reply, /\r\n\r\nForbidden: Host .* is not this server/);
      assert.doesNotMatch(reply, /<title>/);
    }
    for (
      const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`]
    ) {
      const reply = await rawExchange(server.port, request(host));
      assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(reply, /<title>tapegrad playground<\/title>/);
    }
    // Two requests on one kept-alive connection, the second closing it.
    const host = `127.0.0.1:${server.port}`;
    const reply = await rawExchange(
      server.port,
      request(host, false) + request(host),
    );
    assert.equal(reply.match(/HTTP\/1\.1 200 OK/g)?.length, 2);
    // fetch (with its own Host header) works as before.
    const response = await fetch(server.url + "style.css");
    assert.equal(response.status, 200);
    await response.body?.cancel();
  } finally {
    await server.shutdown();
  }
});

Deno.test("listenHttp1() closes connections whose headers do not arrive in time", async () => {
  const server = listenHttp1(
    { hostname: "127.0.0.1", port: 0, headerTimeoutMs: 200 },
    () => new Response("ok"),
  );
  try {
    const port = server.addr.port;
    // Half a request, then silence: the server hangs up without answering.
    assert.equal(await rawExchange(port, "GET / HTTP/1.1\r\nHost: x"), "");
    // Nothing at all: the same.
    assert.equal(await rawExchange(port, ""), "");
    // A complete request is answered.
    assert.match(
      await rawExchange(port, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
      /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/,
    );
    // Malformed request lines and oversized heads are refused.
    assert.match(
      await rawExchange(port, "BOGUS\r\n\r\n"),
      /^HTTP\/1\.1 400 Bad Request\r\n/,
    );
    assert.match(
      await rawExchange(
        port,
        `GET / HTTP/1.1\r\nX-Big: ${"a".repeat(40_000)}\r\n\r\n`,
      ),
      /^HTTP\/1\.1 431 /,
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("serve() hangs up on a client that sends no headers within HEADER_TIMEOUT_MS", async () => {
  await build();
  const server = await serve({ port: 0, log: () => {}, build: "never" });
  try {
    assert.equal(HEADER_TIMEOUT_MS, 5000);
    assert.equal(
      await rawExchange(server.port, "GET / HTTP/1.1\r\n"),
      "",
      "closed without a response",
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("deno.json scopes the serve and playground:build permissions", () => {
  const tasks = config.tasks as Record<string, string>;
  for (const name of ["serve", "playground:build"]) {
    const task = tasks[name];
    // No bare grants: every --allow-read/--allow-run names what it allows.
    assert.doesNotMatch(task, /--allow-(read|run|write|net)(?!=)/, name);
    assert.doesNotMatch(task, /(^|\s)-A(\s|$)|--allow-all/, name);
  }
  assert.match(tasks["playground:build"], /--allow-read=\. /);
  assert.match(tasks["playground:build"], /--allow-run=deno /);
  assert.match(tasks["playground:build"], /--allow-write=playground\/dist /);
  assert.match(
    tasks.serve,
    /--allow-net=127\.0\.0\.1 --allow-read=\. cli\.ts serve$/,
  );
});

Deno.test("the playground:build task's permissions are enough to build", async () => {
  const task = (config.tasks as Record<string, string>)["playground:build"];
  const args = task.replace(/^deno /, "").split(" ");
  const root = new URL("../", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.equal(await bundleState(), "fresh");
});
