/**
 * The `serve` subcommand: the CLI side of the browser playground. The server
 * itself lives in `playground/serve.ts`, which knows nothing of the CLI.
 *
 * @module
 */

import { DEFAULT_PORT, HEADER_TIMEOUT_MS, serve } from "../playground/serve.ts";

export { HEADER_TIMEOUT_MS };
import { integerOption, type ParsedArgs } from "./args.ts";
import type { Command } from "./command.ts";
import type { Io } from "./io.ts";

/** The `serve` subcommand: parses `--port` and runs the playground server. */
export const serveCommand: Command = {
  name: "serve",
  summary: "Serve the browser playground on 127.0.0.1",
  usage: ["serve [--port <n>]"],
  positionals: false,
  options: {
    port: {
      type: "string",
      value: "<n>",
      default: String(DEFAULT_PORT),
      help: "Port to listen on (0: any free port)",
    },
  },
  description: [
    "Serves the playground: train networks live and step through backward",
    "passes in the browser. Listens on 127.0.0.1 only and prints the URL.",
    "The page runs tapegrad itself, bundled into playground/dist/ by",
    '"deno task playground:build" (done for you by "deno task serve").',
    "Requests must name the server as 127.0.0.1:<port> or localhost:<port>",
    "in their Host header (others get 403: DNS-rebinding protection), and",
    `connections that do not send their headers within ${
      HEADER_TIMEOUT_MS / 1000
    } s are closed.`,
  ].join(" "),
  permissions:
    "--allow-net=127.0.0.1 --allow-read=<the tapegrad directory> (to serve and check the page's files)",
  examples: ["serve", "serve --port 0"],
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const port = integerOption("port", String(args.values.port), {
      min: 0,
      max: 65535,
    });
    const server = await serve({ port, log: (line) => io.out(line + "\n") });
    await server.finished;
    return 0;
  },
};
