/**
 * The tapegrad command line: `deno run cli.ts <command> …` with the commands
 * train, predict, grad, graph and demo (see `deno run cli.ts --help`).
 * The code lives in cli/; this file is the entry point. Not part of the
 * published API.
 *
 * @module
 */

import { main } from "./cli/main.ts";

export { main };

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
