/**
 * The two kinds of failure the CLI and the playground server report: usage
 * errors (exit code 2) and runtime errors (exit code 1). Both carry a
 * one-line message for stderr.
 *
 * @module
 */

import { describeValue } from "../mod.ts";

/**
 * A mistake on the command line: unknown command or option, a missing or
 * malformed value, a bad expression. Exits with code 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./errors.ts";
 * const error = new UsageError('--steps must be a positive integer, got "x"');
 * assert.equal(error.exitCode, 2);
 * ```
 */
export class UsageError extends Error {
  /** The process exit code for this error. */
  readonly exitCode: number = 2;
  /** Extra lines shown under the message (for example a caret marker). */
  readonly details: string[];

  /**
   * Creates the error.
   *
   * @param message One line: what was wrong and what is accepted.
   * @param details Extra lines printed after the message.
   */
  constructor(message: string, details: string[] = []) {
    super(message);
    this.name = "UsageError";
    this.details = details;
  }
}

/**
 * A failure while running a well-formed command: a missing or malformed
 * file, a missing permission, a loss that went non-finite. Exits with code 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RuntimeError } from "./errors.ts";
 * assert.equal(new RuntimeError('Cannot read "x.csv"').exitCode, 1);
 * ```
 */
export class RuntimeError extends Error {
  /** The process exit code for this error. */
  readonly exitCode: number = 1;
  /** Extra lines shown under the message. */
  readonly details: string[];

  /**
   * Creates the error.
   *
   * @param message One line saying what went wrong.
   * @param options The underlying cause and extra lines to print.
   */
  constructor(
    message: string,
    options: { cause?: unknown; details?: string[] } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "RuntimeError";
    this.details = options.details ?? [];
  }
}

/**
 * Quotes a value for an error message, as JSON does for strings (the
 * library's {@linkcode describeValue}, so every message quotes alike).
 *
 * @param value The value the user gave.
 * @returns The quoted text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quote } from "./errors.ts";
 * assert.equal(quote("16,,x"), '"16,,x"');
 * ```
 */
export function quote(value: string): string {
  return describeValue(value);
}
