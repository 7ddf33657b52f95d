/**
 * `graph`: builds an expression, runs backward, and prints its computation
 * graph as text (level by level), Graphviz DOT or Mermaid.
 *
 * @module
 */

import { displayGraph, toDot, toMermaid } from "../mod.ts";
import { choiceOption, integerOption } from "./args.ts";
import { calculate, checkGradients } from "./calculator.ts";
import type { Command } from "./command.ts";

/** The formats `graph` (and `demo`) can print. */
export const GRAPH_FORMATS = ["text", "dot", "mermaid"] as const;

/** One of {@linkcode GRAPH_FORMATS}. */
export type GraphFormat = typeof GRAPH_FORMATS[number];

/** The `graph` command. */
export const graphCommand: Command = {
  name: "graph",
  summary: "Print the computation graph of an expression after backward",
  usage: ["graph <expression> [name=value …] [options]"],
  positionals: true,
  options: {
    format: {
      type: "string",
      value: "<text|dot|mermaid>",
      default: "text",
      help: "text: level by level, data | grad | prev { op [inputs] }; " +
        "dot: Graphviz; mermaid: Mermaid flowchart",
    },
    digits: {
      type: "string",
      value: "<n>",
      default: "4",
      help: "Digits after the decimal point (0-12)",
    },
  },
  description: [
    "The expression language is the one of grad. Variables appear as leaves",
    "labelled with their names; other nodes as #index. Its limits too (see",
    "grad --help): nesting, tree depth, and finite values and gradients.",
  ].join(" "),
  examples: [
    'graph "tanh(x1*w1 + x2*w2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.88137',
    'graph "a*b + c" a=2 b=-3 c=10 --format dot | dot -Tsvg > graph.svg',
  ],
  run(args, io) {
    const format = choiceOption(
      "format",
      String(args.values.format ?? "text"),
      GRAPH_FORMATS,
    );
    const digits = integerOption("digits", String(args.values.digits ?? "4"), {
      min: 0,
      max: 12,
    });
    const calc = calculate("graph", args.positionals);
    for (const name of calc.unused) {
      io.err(`warning: ${name} is not used in the expression\n`);
    }
    calc.value.backward();
    checkGradients(calc);
    const render = format === "dot"
      ? toDot
      : format === "mermaid"
      ? toMermaid
      : displayGraph;
    io.out(render(calc.value, { digits }) + "\n");
    return 0;
  },
};
