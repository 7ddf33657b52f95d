/**
 * What `grad` and `graph` share: reading `name=value` bindings and turning
 * an expression into a graph on a tape, with expression errors converted to
 * CLI errors that show the expression and a caret under the mistake.
 *
 * @module
 */

import { parseNumber } from "./args.ts";
import { quote, RuntimeError, UsageError } from "../app/errors.ts";
import {
  evaluateExpression,
  type Evaluation,
  ExprError,
  parseExpression,
  variablesOf,
} from "../app/expr.ts";

/** An expression evaluated on a tape, with the bindings it was given. */
export interface Calculation extends Evaluation {
  /** The expression text. */
  source: string;
  /** Names given on the command line that the expression does not use. */
  unused: string[];
}

/**
 * Reads `name=value` arguments.
 *
 * @param args The arguments after the expression.
 * @returns The values by name, in the order given.
 * @throws {UsageError} For malformed pairs, bad names, non-numbers, repeats.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBindings } from "./calculator.ts";
 * assert.deepEqual(parseBindings(["x=2", "w1=-3e-1"]), { x: 2, w1: -0.3 });
 * ```
 */
export function parseBindings(args: readonly string[]): Record<string, number> {
  const bindings: Record<string, number> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq < 0) {
      throw new UsageError(
        `Expected name=value after the expression, got ${
          quote(arg)
        } (quote the expression if it has spaces)`,
      );
    }
    const name = arg.slice(0, eq).trim(), text = arg.slice(eq + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(
        `Variable name ${quote(name)} in ${
          quote(arg)
        } must be a letter or _ followed by letters, digits or _`,
      );
    }
    const value = parseNumber(text);
    if (value === undefined) {
      throw new UsageError(
        `Value of ${name} must be a number, got ${quote(text)}`,
      );
    }
    if (Object.prototype.hasOwnProperty.call(bindings, name)) {
      throw new UsageError(`Variable ${name} is given twice`);
    }
    bindings[name] = value;
  }
  return bindings;
}

/**
 * Converts an {@linkcode ExprError} to a CLI error: syntax and name errors
 * are usage errors, non-finite values runtime errors; both show the
 * expression with a caret line.
 *
 * @param error The expression error.
 * @returns The CLI error to throw.
 */
export function exprErrorToCli(error: ExprError): UsageError | RuntimeError {
  const details = error.marker();
  const message = error.kind === "syntax"
    ? `Syntax error at column ${error.column}: ${error.message}`
    : error.message;
  return error.kind === "value"
    ? new RuntimeError(message, { details })
    : new UsageError(message, details);
}

/**
 * Parses the expression and bindings from positionals and builds the graph.
 *
 * @param command The command name, for messages.
 * @param positionals The expression, then `name=value` pairs.
 * @param warn Where to write a warning line for each given name the
 * expression does not use (default: nowhere).
 * @returns The evaluation, ready for `value.backward()`.
 * @throws {UsageError} For bad arguments or expressions.
 * @throws {RuntimeError} When a sub-expression is not finite.
 */
export function calculate(
  command: string,
  positionals: readonly string[],
  warn: (line: string) => void = () => {},
): Calculation {
  const [source, ...rest] = positionals;
  if (source === undefined || source.trim() === "") {
    throw new UsageError(
      `${command} needs an expression, as in: ${command} "x^2 + 1" x=3`,
    );
  }
  const bindings = parseBindings(rest);
  try {
    const used = variablesOf(parseExpression(source));
    const unused = Object.keys(bindings).filter((name) => !used.includes(name));
    const evaluation = evaluateExpression(source, bindings);
    for (const name of unused) {
      warn(`warning: ${name} is not used in the expression\n`);
    }
    return { ...evaluation, source, unused };
  } catch (error) {
    if (error instanceof ExprError) throw exprErrorToCli(error);
    throw error;
  }
}
