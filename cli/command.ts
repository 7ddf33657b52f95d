/**
 * The shape of a CLI subcommand, and the help text generated from it, so
 * that every option's help and default live in one place.
 *
 * @module
 */

import { COMMON_OPTIONS, type OptionSpecs, type ParsedArgs } from "./args.ts";
import type { Io } from "./io.ts";

/** How the CLI is invoked, as shown in usage lines. */
export const PROGRAM = "deno run cli.ts";

/** A subcommand: its options (which drive parsing and help) and its code. */
export interface Command {
  /** The word after the program name, e.g. `"train"`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Usage lines after the program name, e.g. `"grad <expression> [name=value …]"`. */
  usage: string[];
  /** Whether the command takes positional arguments. */
  positionals: boolean;
  /** The command's own options. */
  options: OptionSpecs;
  /** Paragraph lines shown under the usage. */
  description?: string[];
  /** Example invocations (after the program name). */
  examples: string[];
  /** Runs the command; returns the exit code. */
  run(args: ParsedArgs, io: Io): number | Promise<number>;
}

/**
 * The help text of one command: usage, description, options with their
 * defaults, and examples.
 *
 * @param command The command.
 * @returns The help text, ending with a newline.
 */
export function commandHelp(command: Command): string {
  const lines: string[] = [];
  lines.push(`${command.summary}`, "");
  lines.push("Usage:");
  for (const usage of command.usage) lines.push(`  ${PROGRAM} ${usage}`);
  if (command.description) lines.push("", ...command.description);
  lines.push("", "Options:");
  lines.push(...optionLines({ ...command.options, ...COMMON_OPTIONS }));
  if (command.examples.length > 0) {
    lines.push("", "Examples:");
    for (const example of command.examples) {
      lines.push(`  ${PROGRAM} ${example}`);
    }
  }
  return lines.join("\n") + "\n";
}

function optionLines(options: OptionSpecs): string[] {
  const rows = Object.entries(options).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "string" ? ` ${spec.value ?? "<value>"}` : "";
    const help = spec.default === undefined
      ? spec.help
      : `${spec.help} (default: ${spec.default})`;
    return [`${short}--${name}${value}`, help];
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`);
}
