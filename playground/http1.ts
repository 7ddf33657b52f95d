/**
 * A small HTTP/1.1 server for the playground's static files, on
 * `Deno.listen`: unlike `Deno.serve` it closes a connection whose request
 * headers do not arrive within a deadline (slow or idle clients cannot hold
 * connections open), and it reads no request bodies (GET and HEAD only; any
 * other request is answered and its connection closed).
 *
 * @module
 */

/** Options for {@linkcode listenHttp1}. */
export interface Http1Options {
  /** The address to listen on. */
  hostname: string;
  /** The port, 0 for any free one. */
  port: number;
  /** Answers when the handler throws (default: a plain 500). */
  onError?: (error: unknown) => Response;
  /** Milliseconds a connection may take to send a request's headers. */
  headerTimeoutMs: number;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
}

/** A running server. */
export interface Http1Server {
  /** Where it listens. */
  addr: Deno.NetAddr;
  /** Resolves when the server and all its connections have stopped. */
  finished: Promise<void>;
  /** Stops listening and closes every connection. */
  shutdown(): Promise<void>;
}

/** The largest request head (request line and headers) accepted. */
const MAX_HEAD_BYTES = 32 * 1024;

const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Starts the server.
 *
 * @param options Address, header deadline, stop signal.
 * @param handler Answers one request.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} If the port is taken.
 */
export function listenHttp1(
  options: Http1Options,
  handler: (request: Request) => Response | Promise<Response>,
): Http1Server {
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
  });
  // With port 0, the one actually chosen.
  const bound = { ...options, port: (listener.addr as Deno.NetAddr).port };
  const connections = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    try {
      listener.close();
    } catch {
      // Already closed.
    }
    for (const conn of connections) closeQuietly(conn);
  };
  options.signal?.addEventListener("abort", stop, { once: true });
  const accepting = (async () => {
    while (!stopping) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        break; // The listener was closed.
      }
      connections.add(conn);
      const task = serveConnection(conn, bound, handler).finally(() => {
        connections.delete(conn);
        closeQuietly(conn);
        tasks.delete(task);
      });
      tasks.add(task);
    }
  })();
  const finished = (async () => {
    await accepting;
    while (tasks.size > 0) await Promise.allSettled([...tasks]);
  })();
  return {
    addr: listener.addr as Deno.NetAddr,
    finished,
    shutdown: async () => {
      stop();
      await finished;
    },
  };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Serves requests on one connection until it closes or asks to. */
async function serveConnection(
  conn: Deno.Conn,
  options: Http1Options,
  handler: (request: Request) => Response | Promise<Response>,
): Promise<void> {
  let buffered: Uint8Array = new Uint8Array(0);
  for (;;) {
    // Each request's head must arrive in time, including the wait for it on
    // a kept-alive connection.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      closeQuietly(conn);
    }, options.headerTimeoutMs);
    let head: { text: string; rest: Uint8Array } | "too-large" | undefined;
    try {
      head = await readHead(conn, buffered);
    } catch {
      head = undefined;
    } finally {
      clearTimeout(timer);
    }
    if (timedOut || head === undefined) return;
    if (head === "too-large") {
      await respond(
        conn,
        new Response("Request headers too large\n", {
          status: 431,
        }),
        false,
        true,
      );
      await drain(conn, options.headerTimeoutMs);
      return;
    }
    buffered = head.rest;
    const parsed = parseHead(head.text, options);
    if (parsed === undefined) {
      await respond(
        conn,
        new Response("Bad request\n", { status: 400 }),
        false,
        true,
      );
      return;
    }
    const { request, keepAlive, hasBody } = parsed;
    let response: Response;
    try {
      response = await handler(request);
    } catch (error) {
      response = options.onError?.(error) ??
        new Response("Internal server error\n", { status: 500 });
    }
    // A request body is never read, so the connection cannot carry on.
    const close = !keepAlive || hasBody;
    await respond(conn, response, request.method === "HEAD", close);
    if (close) return;
  }
}

/**
 * Ends our side, then discards what the client still sends (for a while):
 * closing with unread data would reset the connection and could destroy the
 * response before the client reads it.
 */
async function drain(conn: Deno.Conn, ms: number): Promise<void> {
  const timer = setTimeout(() => closeQuietly(conn), ms);
  try {
    await conn.closeWrite();
    const sink = new Uint8Array(8192);
    while ((await conn.read(sink)) !== null) {
      // Discard.
    }
  } catch {
    // Closed by the timer or the client.
  } finally {
    clearTimeout(timer);
  }
}

/** Reads until the blank line that ends a request head. */
async function readHead(
  conn: Deno.Conn,
  start: Uint8Array,
): Promise<{ text: string; rest: Uint8Array } | "too-large" | undefined> {
  let data: Uint8Array = start;
  const chunk = new Uint8Array(8192);
  for (;;) {
    const end = findHeadEnd(data);
    if (end > MAX_HEAD_BYTES) return "too-large";
    if (end >= 0) {
      return {
        text: decoder.decode(data.subarray(0, end)),
        rest: data.slice(end + 4),
      };
    }
    if (data.length > MAX_HEAD_BYTES) return "too-large";
    const n = await conn.read(chunk);
    if (n === null) return undefined;
    const next = new Uint8Array(data.length + n);
    next.set(data);
    next.set(chunk.subarray(0, n), data.length);
    data = next;
  }
}

function findHeadEnd(data: Uint8Array): number {
  for (let i = 0; i + 3 < data.length; i++) {
    if (
      data[i] === 13 && data[i + 1] === 10 && data[i + 2] === 13 &&
      data[i + 3] === 10
    ) return i;
  }
  return -1;
}

function parseHead(
  text: string,
  options: Http1Options,
): { request: Request; keepAlive: boolean; hasBody: boolean } | undefined {
  const [requestLine, ...lines] = text.split("\r\n");
  const match = /^([A-Z]+) (\/\S*) HTTP\/1\.([01])$/.exec(requestLine);
  if (!match) return undefined;
  const [, method, target, minor] = match;
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined;
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      return undefined;
    }
  }
  const connection = (headers.get("connection") ?? "").toLowerCase();
  const keepAlive = minor === "1"
    ? !connection.includes("close")
    : connection.includes("keep-alive");
  const hasBody = headers.has("transfer-encoding") ||
    Number(headers.get("content-length") ?? 0) > 0;
  // The URL's authority is the listening address: the Host header is left
  // for the handler to check, never trusted to build URLs.
  const url = `http://${options.hostname}:${options.port}${target}`;
  let request: Request;
  try {
    request = new Request(url, { method, headers });
  } catch {
    return undefined;
  }
  return { request, keepAlive, hasBody };
}

async function respond(
  conn: Deno.Conn,
  response: Response,
  head: boolean,
  close: boolean,
): Promise<void> {
  const body = head || response.body === null
    ? new Uint8Array(0)
    : new Uint8Array(await response.arrayBuffer());
  const headers = new Headers(response.headers);
  if (!head || !headers.has("content-length")) {
    headers.set("content-length", String(body.byteLength));
  }
  headers.set("connection", close ? "close" : "keep-alive");
  headers.set("date", new Date().toUTCString());
  let text = `HTTP/1.1 ${response.status} ${
    REASONS[response.status] ?? (response.statusText || "Unknown")
  }\r\n`;
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  const bytes = encoder.encode(text + "\r\n");
  const message = new Uint8Array(bytes.length + body.length);
  message.set(bytes);
  message.set(body, bytes.length);
  try {
    let rest = message;
    while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
  } catch {
    // The client went away.
  }
}
