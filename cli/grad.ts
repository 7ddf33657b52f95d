/**
 * `grad`: the autograd calculator. Evaluates an expression and prints its
 * value and its partial derivative with respect to every variable.
 *
 * @module
 */

import { integerOption } from "./args.ts";
import { calculate, checkGradients } from "./calculator.ts";
import type { Command } from "./command.ts";
import { formatNumber, makeStyle, table } from "../app/format.ts";
import { FUNCTION_NAMES, MAX_NESTING, MAX_TREE_DEPTH } from "../app/expr.ts";

/** The `grad` command. */
export const gradCommand: Command = {
  name: "grad",
  summary: "Evaluate an expression and print every partial derivative",
  usage: ["grad <expression> [name=value …] [options]"],
  positionals: true,
  options: {
    json: {
      type: "boolean",
      help: 'Print {"value": …, "grad": {"name": …}} (full precision)',
    },
    digits: {
      type: "string",
      value: "<n>",
      default: "6",
      help: "Significant digits in text output (1-17)",
    },
  },
  description: [
    "Expressions use numbers (2, 0.5, 1e-3), variables, + - * / ^ ** (power,",
    "right-associative), unary minus (-x^2 is -(x^2)), parentheses, the",
    "constants pi and e, and the functions",
    `${FUNCTION_NAMES.join(", ")}. Every variable needs a value: name=value.`,
    "Quote the expression for the shell. Limits: numbers are finite (up to",
    `about 1.8e308); at most ${MAX_NESTING} levels of nested parentheses,`,
    `calls, signs and powers; a tree at most ${MAX_TREE_DEPTH} operations deep`,
    `(about ${MAX_TREE_DEPTH} terms in one sum). A value or a gradient that is`,
    "not finite is an error (exit 1).",
  ].join(" "),
  examples: [
    'grad "tanh(x1*w1 + x2*w2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432',
    'grad "x^2 + 3*x*y" x=1 y=2 --json',
  ],
  run(args, io) {
    const digits = integerOption("digits", String(args.values.digits), {
      min: 1,
      max: 17,
    });
    const calc = calculate("grad", args.positionals, (line) => io.err(line));
    calc.value.backward();
    checkGradients(calc);
    const names = [...calc.variables.keys()];
    if (args.values.json) {
      // Own properties even for names such as "__proto__"; every gradient
      // is finite (checkGradients).
      const grad: Record<string, number> = Object.fromEntries(
        [...calc.variables].map(([name, leaf]) => [name, leaf.grad]),
      );
      io.out(JSON.stringify({ value: calc.value.data, grad }) + "\n");
      return 0;
    }
    const style = makeStyle(io.color);
    const lines = [
      `${calc.source.trim()} = ${
        style.bold(formatNumber(calc.value.data, digits))
      }`,
    ];
    if (names.length === 0) {
      lines.push("", "(no variables, so no derivatives)");
    } else {
      const rows = [["name", "value", "grad"]];
      for (const [name, leaf] of calc.variables) {
        rows.push([
          name,
          formatNumber(leaf.data, digits),
          formatNumber(leaf.grad, digits),
        ]);
      }
      const [header, ...body] = table(rows);
      lines.push(
        "",
        `  ${style.dim(header)}`,
        ...body.map((line) => `  ${line}`),
      );
    }
    io.out(lines.join("\n") + "\n");
    return 0;
  },
};
