/**
 * `graph`: builds an expression, runs backward, and prints its computation
 * graph as text (level by level), Graphviz DOT, Mermaid or an SVG picture,
 * to stdout or to a file.
 *
 * @module
 */

import {
  displayGraph,
  drawGraph,
  toDot,
  toMermaid,
  type Value,
} from "../mod.ts";
import { DRAW_GRAPH_MAX_NODES } from "../viz/mod.ts";
import { choiceOption, integerOption } from "./args.ts";
import { calculate, checkGradients } from "./calculator.ts";
import type { Command } from "./command.ts";
import { quote, RuntimeError } from "../app/errors.ts";
import { checkOutputs, writeOutputs } from "./safe_write.ts";

/** The formats `graph` (and `demo`) can print. */
export const GRAPH_FORMATS = ["text", "dot", "mermaid"] as const;

/** One of {@linkcode GRAPH_FORMATS}. */
export type GraphFormat = typeof GRAPH_FORMATS[number];

/** The formats `graph` can write: the text ones and an SVG picture. */
export const GRAPH_OUTPUT_FORMATS = [...GRAPH_FORMATS, "svg"] as const;

/** The SVG picture of `root`, or a runtime error saying it is too big. */
function svgOf(root: Value, digits: number): string {
  try {
    return drawGraph(root, { digits }).toFile();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new RuntimeError(
      `The graph has more than ${DRAW_GRAPH_MAX_NODES} nodes, too many for a readable picture; use --format text (or dot)`,
      { cause: error },
    );
  }
}

/** The `graph` command. */
export const graphCommand: Command = {
  name: "graph",
  summary: "Print the computation graph of an expression after backward",
  usage: ["graph <expression> [name=value …] [options]"],
  positionals: true,
  options: {
    format: {
      type: "string",
      value: "<text|dot|mermaid|svg>",
      default: "text",
      help: "text: level by level, data | grad | prev { op [inputs] }; " +
        "dot: Graphviz; mermaid: Mermaid flowchart; " +
        "svg: a picture like micrograd's draw_dot",
    },
    output: {
      type: "string",
      value: "<file>",
      help: "Write to this file instead of stdout (needs --allow-write)",
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
    'graph "a*b + c" a=2 b=-3 c=10 --format svg --output graph.svg',
    'graph "a*b + c" a=2 b=-3 c=10 --format dot | dot -Tsvg > graph.svg',
  ],
  async run(args, io) {
    const format = choiceOption(
      "format",
      String(args.values.format),
      GRAPH_OUTPUT_FORMATS,
    );
    const output = args.values.output === undefined
      ? undefined
      : String(args.values.output);
    if (output !== undefined) checkOutputs([{ flag: "output", path: output }]);
    const digits = integerOption("digits", String(args.values.digits), {
      min: 0,
      max: 12,
    });
    const calc = calculate("graph", args.positionals, (line) => io.err(line));
    calc.value.backward();
    checkGradients(calc);
    const text = format === "svg"
      ? svgOf(calc.value, digits)
      : (format === "dot"
        ? toDot
        : format === "mermaid"
        ? toMermaid
        : displayGraph)(calc.value, { digits }) + "\n";
    if (output === undefined) {
      io.out(text);
    } else {
      await writeOutputs([{ path: output, text }]);
      io.out(`Saved the graph to ${quote(output)}\n`);
    }
    return 0;
  },
};
