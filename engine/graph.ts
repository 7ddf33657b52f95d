/**
 * Text views of a computation graph: level by level (the Go port's
 * DisplayGraph), Graphviz DOT (micrograd's draw_dot) and Mermaid.
 *
 * @module
 */

import { Value } from "./value.ts";
import type { Tape } from "./tape.ts";

/** Options for the graph views. */
export interface GraphOptions {
  /** Digits after the decimal point for data and grad (default 4). */
  digits?: number;
  /** At most this many inputs are listed per node (default 8, `Infinity` for all). */
  maxInputs?: number;
}

interface Level {
  depth: number;
  nodes: number[];
}

/** Nodes reachable from `root`, grouped by their first (shortest) depth. */
function levelsOf(tape: Tape, root: number): Level[] {
  const seen = new Set<number>([root]);
  const levels: Level[] = [];
  let frontier = [root];
  for (let depth = 0; frontier.length > 0; depth++) {
    levels.push({ depth, nodes: frontier });
    const next: number[] = [];
    for (const i of frontier) {
      for (const j of tape.inputsOf(i)) {
        if (!seen.has(j)) {
          seen.add(j);
          next.push(j);
        }
      }
    }
    frontier = next;
  }
  return levels;
}

/** The options with defaults filled in, checked at the public surface. */
function resolveOptions(
  options: GraphOptions,
  fn: string,
): Required<GraphOptions> {
  const digits = options.digits ?? 4;
  const maxInputs = options.maxInputs ?? 8;
  if (!Number.isInteger(digits) || digits < 0 || digits > 100) {
    throw new RangeError(
      `${fn}() digits must be an integer from 0 to 100, got ${digits}`,
    );
  }
  if (
    typeof maxInputs !== "number" || !(maxInputs >= 0) ||
    !(Number.isInteger(maxInputs) || maxInputs === Infinity)
  ) {
    throw new RangeError(
      `${fn}() maxInputs must be a non-negative integer, got ${maxInputs}`,
    );
  }
  return { digits, maxInputs };
}

function checkRoot(root: unknown, fn: string): asserts root is Value {
  if (!(root instanceof Value)) {
    throw new TypeError(`${fn}() needs a Value, got ${typeof root}`);
  }
  root.data; // throws for a stale handle
}

function nodeName(tape: Tape, i: number): string {
  const label = tape.labels.get(i);
  return label === undefined ? `#${i}` : `#${i} ${label}`;
}

function listInputs(tape: Tape, i: number, maxInputs: number): string {
  const inputs = tape.inputsOf(i);
  const shown = inputs.slice(0, maxInputs).map((j) => nodeName(tape, j));
  if (inputs.length > maxInputs) {
    shown.push(`… ${inputs.length - maxInputs} more`);
  }
  return shown.join(", ");
}

/**
 * The computation graph as text, level by level from the root: each node as
 * `data | grad | prev { op [inputs] }`, levels separated by a rule. A node
 * shared by several users is printed once, at its first level; elsewhere it
 * appears only as a reference `#index` in input lists, so the output grows
 * with the number of nodes, never exponentially.
 *
 * @param root The output Value (call `backward()` first to see gradients).
 * @param options Number formatting and input list length.
 * @returns The text, one line per node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { displayGraph, Tape, Value } from "@tapegrad/tapegrad";
 * const tape = new Tape();
 * const a = new Value(2, { tape, label: "a" });
 * const b = a.add(a);
 * b.label = "b";
 * b.backward();
 * const text = displayGraph(b);
 * assert.match(text, /#1 b +data 4\.0000 \| grad 1\.0000 \| prev \{ \+ \[#0 a, #0 a\] \}/);
 * assert.match(text, /#0 a +data 2\.0000 \| grad 2\.0000 \| prev \{ leaf \[\] \}/);
 * ```
 *
 * @throws {TypeError} If `root` is not a Value.
 * @throws {RangeError} If an option is out of range.
 */
export function displayGraph(root: Value, options: GraphOptions = {}): string {
  checkRoot(root, "displayGraph");
  const { digits, maxInputs } = resolveOptions(options, "displayGraph");
  const tape = root.tape;
  const levels = levelsOf(tape, root.index);
  const names = new Map<number, string>();
  let width = 0;
  for (const level of levels) {
    for (const i of level.nodes) {
      const name = nodeName(tape, i);
      names.set(i, name);
      width = Math.max(width, name.length);
    }
  }
  const lines: string[] = [];
  const rule = "─".repeat(48);
  for (const level of levels) {
    if (level.depth > 0) lines.push(rule);
    lines.push(`level ${level.depth}`);
    for (const i of level.nodes) {
      const data = tape.data[i].toFixed(digits);
      const grad = tape.grad[i].toFixed(digits);
      const op = opLabel(root, i);
      lines.push(
        `${
          names.get(i)!.padEnd(width)
        }  data ${data} | grad ${grad} | prev { ${op} [${
          listInputs(tape, i, maxInputs)
        }] }`,
      );
    }
  }
  return lines.join("\n");
}

function opLabel(root: Value, i: number): string {
  return Value.at(root.tape, i).op;
}

function dotEscape(text: string): string {
  return text.replace(/[\\"{}|<>]/g, (c) => `\\${c}`);
}

/**
 * Graphviz DOT text for the graph (like micrograd's `draw_dot`): one record
 * per value with label, data and grad, and one small node per op. Render
 * with `dot -Tsvg graph.dot > graph.svg`.
 *
 * @param root The output Value.
 * @param options Number formatting.
 * @returns The DOT source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tape, toDot, Value } from "@tapegrad/tapegrad";
 * const tape = new Tape();
 * const x = new Value(3, { tape, label: "x" });
 * const y = x.mul(x);
 * y.backward();
 * const dot = toDot(y);
 * assert.match(dot, /^digraph tapegrad \{/);
 * assert.match(dot, /n0 \[label="\{ x \| data 3\.0000 \| grad 6\.0000 \}"\]/);
 * assert.match(dot, /n1_op \[label="\*", shape=ellipse\]/);
 * ```
 *
 * @throws {TypeError} If `root` is not a Value.
 * @throws {RangeError} If an option is out of range.
 */
export function toDot(root: Value, options: GraphOptions = {}): string {
  checkRoot(root, "toDot");
  const { digits } = resolveOptions(options, "toDot");
  const tape = root.tape;
  const lines = [
    "digraph tapegrad {",
    "  rankdir=LR;",
    '  node [shape=record, fontname="monospace"];',
  ];
  const nodes = levelsOf(tape, root.index).flatMap((l) => l.nodes);
  nodes.sort((a, b) => a - b);
  for (const i of nodes) {
    const label = dotEscape(tape.labels.get(i) ?? `#${i}`);
    const data = tape.data[i].toFixed(digits);
    const grad = tape.grad[i].toFixed(digits);
    lines.push(`  n${i} [label="{ ${label} | data ${data} | grad ${grad} }"];`);
    const inputs = tape.inputsOf(i);
    if (inputs.length === 0) continue;
    lines.push(
      `  n${i}_op [label="${dotEscape(opLabel(root, i))}", shape=ellipse];`,
    );
    lines.push(`  n${i}_op -> n${i};`);
    for (const j of inputs) lines.push(`  n${j} -> n${i}_op;`);
  }
  lines.push("}");
  return lines.join("\n");
}

/**
 * Mermaid flowchart text for the graph, for Markdown renderers that draw
 * Mermaid diagrams.
 *
 * @param root The output Value.
 * @param options Number formatting.
 * @returns The Mermaid source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tape, toMermaid, Value } from "@tapegrad/tapegrad";
 * const tape = new Tape();
 * const x = new Value(3, { tape, label: "x" });
 * const y = x.tanh();
 * y.backward();
 * const text = toMermaid(y);
 * assert.match(text, /^flowchart LR/);
 * assert.match(text, /n1_op\(\("tanh"\)\) --> n1/);
 * ```
 *
 * @throws {TypeError} If `root` is not a Value.
 * @throws {RangeError} If an option is out of range.
 */
export function toMermaid(root: Value, options: GraphOptions = {}): string {
  checkRoot(root, "toMermaid");
  const { digits } = resolveOptions(options, "toMermaid");
  const tape = root.tape;
  const lines = ["flowchart LR"];
  const nodes = levelsOf(tape, root.index).flatMap((l) => l.nodes);
  nodes.sort((a, b) => a - b);
  for (const i of nodes) {
    const label = (tape.labels.get(i) ?? `#${i}`).replace(/"/g, "'");
    const data = tape.data[i].toFixed(digits);
    const grad = tape.grad[i].toFixed(digits);
    lines.push(`  n${i}["${label} | data ${data} | grad ${grad}"]`);
    const inputs = tape.inputsOf(i);
    if (inputs.length === 0) continue;
    const op = opLabel(root, i).replace(/"/g, "'");
    lines.push(`  n${i}_op(("${op}")) --> n${i}`);
    for (const j of inputs) lines.push(`  n${j} --> n${i}_op`);
  }
  return lines.join("\n");
}
