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
  type Expr,
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
    // An own property even for "__proto__", which plain assignment would
    // take as the object's prototype.
    Object.defineProperty(bindings, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
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

/**
 * Checks the gradients after `backward()`: a variable whose gradient is NaN
 * or infinite (as for `sqrt(x) - sqrt(x)` at 0) is reported like a
 * non-finite value, with a caret under the operation whose derivative is
 * not finite.
 *
 * @param calc A calculation after `value.backward()`.
 * @throws {RuntimeError} If a variable's gradient is not finite.
 */
export function checkGradients(calc: Calculation): void {
  const bad = [...calc.variables].find(([, leaf]) =>
    !Number.isFinite(leaf.grad)
  );
  if (bad === undefined) return;
  const [name, leaf] = bad;
  // Sub-expressions are not shared (only variables are), so an operation
  // with a finite gradient feeding a non-finite one into an operand is where
  // the derivative broke; prefer one whose operand is not a shared variable.
  let culprit: Expr | undefined, fallback: Expr | undefined;
  for (const [node, value] of calc.nodes) {
    if (!Number.isFinite(value.grad)) continue;
    const operands = node.kind === "negate"
      ? [node.operand]
      : node.kind === "binary"
      ? [node.left, node.right]
      : node.kind === "call"
      ? node.args
      : [];
    const broken = operands.filter((o) =>
      !Number.isFinite(calc.nodes.get(o)?.grad ?? 0)
    );
    if (broken.length === 0) continue;
    fallback ??= node;
    if (broken.some((o) => o.kind !== "variable")) {
      culprit = node;
      break;
    }
  }
  const at = culprit ?? fallback;
  const where = at === undefined
    ? ""
    : `: the derivative of ${describe(at)} is not finite`;
  const error = new ExprError(
    "value",
    `The gradient of ${name} is ${leaf.grad}, not a finite number${where}`,
    calc.source,
    at?.span ?? { start: 0, end: calc.source.length },
  );
  throw exprErrorToCli(error);

  function describe(node: Expr): string {
    const data = (e: Expr) => String(calc.nodes.get(e)?.data);
    if (node.kind === "binary") {
      return `${data(node.left)} ${node.op} ${data(node.right)}`;
    }
    if (node.kind === "call") {
      return `${node.name}(${node.args.map(data).join(", ")})`;
    }
    return node.kind === "negate" ? `-(${data(node.operand)})` : data(node);
  }
}
