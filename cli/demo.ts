/**
 * `demo`: the seed example that started the project. One weight learns to
 * double its input by gradient descent on (w·x − y)², one line per
 * iteration, then the graph of the last step.
 *
 * @module
 */

import { displayGraph, Tape, toDot, toMermaid, Value } from "../mod.ts";
import { choiceOption, integerOption, numberOption } from "./args.ts";
import type { Command } from "./command.ts";
import { RuntimeError } from "../app/errors.ts";
import { formatNumber } from "../app/format.ts";
import { GRAPH_FORMATS } from "./graph.ts";

/** One iteration of the demo: the loss before the update, w after it. */
export interface DemoStep {
  /** Iteration number, from 0. */
  iter: number;
  /** (w·x − y)² with w before the update. */
  loss: number;
  /** w after the update. */
  w: number;
}

/**
 * Runs the seed example: w = 0.4, x = 2, y = 4, loss (w·x − y)², plain
 * gradient descent. Stops early at the first step whose loss or updated w
 * is not finite (the last step returned shows it).
 *
 * @param steps Number of iterations.
 * @param lr Learning rate.
 * @returns The steps, and the loss of the last step (its graph, after backward).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runDemo } from "./demo.ts";
 * const { steps } = runDemo(6, 0.1);
 * assert.ok(Math.abs(steps[0].loss - 10.24) < 1e-12);
 * assert.ok(Math.abs(steps[0].w - 1.68) < 1e-12);
 * ```
 */
export function runDemo(
  steps: number,
  lr: number,
): { steps: DemoStep[]; last: Value } {
  const tape = new Tape();
  const w = new Value(0.4, { tape, label: "w" });
  const x = new Value(2, { tape, label: "x", requiresGrad: false });
  const y = new Value(4, { tape, label: "y", requiresGrad: false });
  const mark = tape.mark();
  const out: DemoStep[] = [];
  let last = w;
  for (let iter = 0; iter < steps; iter++) {
    // Each step rebuilds the loss graph; only the last one is kept.
    tape.rewind(mark);
    const prediction = w.mul(x);
    prediction.label = "w*x";
    const error = prediction.sub(y);
    error.label = "w*x - y";
    const loss = error.pow(2);
    loss.label = "loss";
    w.grad = 0;
    loss.backward();
    const next = w.data - lr * w.grad;
    out.push({ iter, loss: loss.data, w: next });
    last = loss;
    // Diverged: stop before a non-finite w is stored (the caller reports it).
    if (!Number.isFinite(loss.data) || !Number.isFinite(next)) break;
    // The last graph is shown as backward left it, so w keeps its value there.
    if (iter < steps - 1) w.data = next;
  }
  return { steps: out, last };
}

/**
 * Formats one demo line: `Iter:  0, Loss: 10.24, w: 1.68`.
 *
 * @param step The iteration.
 * @returns The line without a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDemoStep } from "./demo.ts";
 * assert.equal(formatDemoStep({ iter: 1, loss: 0.4096, w: 1.936 }), "Iter:  1, Loss: 0.4096, w: 1.936");
 * ```
 */
export function formatDemoStep(step: DemoStep): string {
  return `Iter: ${String(step.iter).padStart(2)}, Loss: ${
    formatNumber(step.loss)
  }, w: ${formatNumber(step.w)}`;
}

/** The `demo` command. */
export const demoCommand: Command = {
  name: "demo",
  summary: "The seed example: gradient descent teaches w to double its input",
  usage: ["demo [options]"],
  positionals: false,
  options: {
    steps: {
      type: "string",
      value: "<n>",
      default: "6",
      help: "Iterations (1-10000)",
    },
    lr: { type: "string", value: "<x>", default: "0.1", help: "Learning rate" },
    format: {
      type: "string",
      value: "<text|dot|mermaid>",
      default: "text",
      help: "Format of the final graph",
    },
    json: {
      type: "boolean",
      help: 'One {"iter", "loss", "w"} object per line, no graph',
    },
  },
  description: [
    "w starts at 0.4; x = 2, y = 4; loss = (w*x - y)^2; w -= lr * dloss/dw.",
    "Each line shows the loss computed before the update and w after it;",
    "then comes the graph of the last step, with its gradients.",
  ].join(" "),
  examples: [
    "demo",
    "demo --steps 20 --lr 0.05",
    "demo --format dot | dot -Tpng > demo.png",
  ],
  run(args, io) {
    const steps = integerOption("steps", String(args.values.steps), {
      min: 1,
      max: 10_000,
    });
    const lr = numberOption("lr", String(args.values.lr), {
      min: 0,
      minExclusive: true,
    });
    const format = choiceOption(
      "format",
      String(args.values.format),
      GRAPH_FORMATS,
    );
    const result = runDemo(steps, lr);
    const final = result.steps[result.steps.length - 1];
    if (!Number.isFinite(final.loss) || !Number.isFinite(final.w)) {
      const what = Number.isFinite(final.loss)
        ? `w became ${final.w}`
        : `the loss became ${final.loss}`;
      throw new RuntimeError(
        `Demo diverged at iteration ${final.iter}: ${what}; try a smaller --lr (the demo converges for --lr below 0.25)`,
      );
    }
    if (args.values.json) {
      io.out(result.steps.map((step) => JSON.stringify(step) + "\n").join(""));
      return 0;
    }
    const lines = result.steps.map(formatDemoStep);
    const render = format === "dot"
      ? toDot
      : format === "mermaid"
      ? toMermaid
      : displayGraph;
    lines.push("", `Graph of the last step (before its update):`);
    lines.push(render(result.last, { digits: 6 }));
    io.out(lines.join("\n") + "\n");
    return 0;
  },
};
