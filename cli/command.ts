/**
 * The shape of a CLI subcommand, and the help text generated from it, so
 * that every option's help and default live in one place.
 *
 * @module
 */

import {
  COMMON_OPTIONS,
  type OptionSpecs,
  type ParsedArgs,
  PROGRAM,
} from "./args.ts";
import type { Io } from "./io.ts";

export { PROGRAM };

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
  /** A paragraph shown under the usage (wrapped to 80 columns). */
  description?: string;
  /** The Deno permissions the command needs, one line, if any. */
  permissions?: string;
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
 * @param common Whether to list the options every command takes.
 * @returns The help text, ending with a newline.
 */
export function commandHelp(command: Command, common = true): string {
  const lines: string[] = [];
  lines.push(`${command.summary}`, "");
  lines.push("Usage:");
  for (const usage of command.usage) lines.push(`  ${PROGRAM} ${usage}`);
  if (command.description) {
    lines.push("", ...wrap(command.description, HELP_WIDTH));
  }
  if (command.permissions) {
    lines.push("", ...wrap(`Permissions: ${command.permissions}`, HELP_WIDTH));
  }
  lines.push("", "Options:");
  lines.push(
    ...optionLines(
      common ? { ...command.options, ...COMMON_OPTIONS } : command.options,
    ),
  );
  if (command.examples.length > 0) {
    lines.push("", "Examples:");
    for (const example of command.examples) {
      lines.push(`  ${PROGRAM} ${example}`);
    }
  }
  return lines.join("\n") + "\n";
}

const HELP_WIDTH = 80;
const LEFT_WIDTH = 26;

/**
 * Help lines for options: name, value placeholder, help and default, with
 * the help wrapped in a column.
 *
 * @param options The options.
 * @returns The lines.
 */
export function optionLines(options: OptionSpecs): string[] {
  const lines: string[] = [];
  for (const [name, spec] of Object.entries(options)) {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "string" ? ` ${spec.value ?? "<value>"}` : "";
    const left = `  ${short}--${name}${value}`;
    const shown = spec.defaultText ?? spec.default;
    const help = shown === undefined
      ? spec.help
      : `${spec.help} (default: ${shown})`;
    const indent = LEFT_WIDTH + 4;
    const wrapped = wrap(help, HELP_WIDTH - indent);
    // Long option names get their help on the next line.
    if (left.length > indent - 2) lines.push(left);
    else lines.push(left.padEnd(indent) + wrapped.shift());
    for (const line of wrapped) lines.push(" ".repeat(indent) + line);
  }
  return lines;
}

/**
 * Breaks text into lines of at most `width` characters at spaces.
 *
 * @param text The text.
 * @param width The longest line.
 * @returns The lines (a word longer than `width` gets a line of its own).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wrap } from "./command.ts";
 * assert.deepEqual(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
 * ```
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}
