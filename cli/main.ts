/**
 * The CLI's dispatcher: picks the subcommand, prints help and the version,
 * and turns errors into one line on stderr and an exit code (2: usage,
 * 1: runtime).
 *
 * @module
 */

import { closest, COMMON_OPTIONS, parseCommandLine } from "./args.ts";
import { type Command, commandHelp, optionLines, PROGRAM } from "./command.ts";
import { demoCommand } from "./demo.ts";
import { quote, RuntimeError, UsageError } from "../app/errors.ts";
import { gradCommand } from "./grad.ts";
import { graphCommand } from "./graph.ts";
import { type Io, processIo } from "./io.ts";
import { LIMIT_LINES } from "./limits.ts";
import { predictCommand } from "./predict.ts";
import { trainCommand } from "./train.ts";
import { serveCommand } from "./serve.ts";
import { VERSION } from "../app/version.ts";

const COMMANDS: readonly Command[] = [
  trainCommand,
  predictCommand,
  gradCommand,
  graphCommand,
  demoCommand,
  serveCommand,
];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    `tapegrad ${VERSION}: a scalar autograd engine on a typed-array tape`,
    "",
    "Usage:",
    `  ${PROGRAM} <command> [options]`,
    `  ${PROGRAM} <command> --help    (help for one command)`,
    `  ${PROGRAM} --version`,
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ];
  for (const command of COMMANDS) {
    lines.push(
      "",
      "─".repeat(72),
      `${command.name}: ${commandHelp(command, false).trimEnd()}`,
    );
  }
  lines.push(
    "",
    "─".repeat(72),
    "Global options (with any command):",
    ...optionLines(COMMON_OPTIONS),
    "",
    "Exit codes: 0 success, 1 runtime error (files, permissions, a loss that",
    "goes non-finite), 2 usage error. Errors are one line on stderr; add",
    "--debug for a stack trace. A run that fails writes no file.",
    "",
    "Limits:",
    ...LIMIT_LINES.map((line) => `  ${line}`),
  );
  return lines.join("\n") + "\n";
}

/**
 * Runs the CLI on `args` and returns the exit code.
 *
 * @param args The arguments after `cli.ts`.
 * @param io Where to write (default: the process's stdout and stderr).
 * @returns 0 on success, 1 for runtime errors, 2 for usage errors.
 */
export async function main(args: readonly string[], io?: Io): Promise<number> {
  const debug = args.includes("--debug");
  const out = io ?? processIo(args.includes("--no-color"));
  try {
    return await dispatch(args, out);
  } catch (error) {
    return report(error, out, debug);
  }
}

async function dispatch(args: readonly string[], io: Io): Promise<number> {
  // Global switches may come before the command.
  let i = 0;
  while (
    i < args.length && (args[i] === "--debug" || args[i] === "--no-color")
  ) i++;
  const word = args[i];
  const rest = args.slice(0, i).concat(args.slice(i + 1));
  if (
    word === undefined || word === "--help" || word === "-h" || word === "help"
  ) {
    const topic = word === "help" ? args[i + 1] : undefined;
    if (topic !== undefined) {
      io.out(commandHelp(findCommand(topic)));
    } else io.out(mainHelp());
    return 0;
  }
  if (word === "--version" || word === "-V" || word === "version") {
    io.out(`tapegrad ${VERSION}\n`);
    return 0;
  }
  const command = findCommand(word);
  const parsed = parseCommandLine(
    command.name,
    command.options,
    rest,
    command.positionals,
  );
  if (parsed.values.help) {
    io.out(commandHelp(command));
    return 0;
  }
  return await command.run(parsed, io);
}

function findCommand(word: string): Command {
  const command = COMMANDS.find((c) => c.name === word);
  if (command) return command;
  const names = COMMANDS.map((c) => c.name);
  const what = word.startsWith("-") ? "option" : "command";
  const best = what === "command" ? closest(word, names) : undefined;
  throw new UsageError(
    `Unknown ${what} ${quote(word)}${best ? `; did you mean ${best}?` : ""} ` +
      `(commands: ${
        names.join(", ")
      }; global options: --help, --version, --debug, --no-color)`,
  );
}

// Messages quoting file contents (JSON.parse's) may span lines.
function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, " ");
}

function report(error: unknown, io: Io, debug: boolean): number {
  // The reader went away (`… | head`): stop quietly, like other tools.
  if (error instanceof Deno.errors.BrokenPipe) return 0;
  let exitCode = 1;
  let lines: string[];
  if (error instanceof UsageError || error instanceof RuntimeError) {
    exitCode = error.exitCode;
    lines = [
      `error: ${oneLine(error.message)}`,
      ...error.details.map((d) => `  ${d}`),
    ];
  } else if (
    error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied
  ) {
    lines = [`error: Permission denied: ${oneLine(error.message)}`];
  } else {
    const message = error instanceof Error ? error.message : String(error);
    lines = [
      `error: Internal error: ${message}${
        debug ? "" : " (run with --debug for a stack trace)"
      }`,
    ];
  }
  if (debug && error instanceof Error && error.stack) {
    lines.push(error.stack);
    let cause = error.cause;
    while (cause instanceof Error) {
      lines.push(`Caused by: ${cause.stack ?? cause.message}`);
      cause = cause.cause;
    }
  }
  io.err(lines.join("\n") + "\n");
  return exitCode;
}
