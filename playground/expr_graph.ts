/**
 * The graph view's model: evaluates an expression (the `cli.ts grad`
 * language) on a fresh tape, lists its nodes in tape order, and replays the
 * backward pass one node at a time so the page can show which gradients each
 * step accumulates. DOM-free, so it is tested under Deno.
 *
 * @module
 */

import type { Tape } from "../mod.ts";
import { Op, opName } from "../engine/mod.ts";
import { parseDecimal } from "../nn/mod.ts";
import {
  evaluateExpression,
  parseExpression,
  variablesOf,
} from "../app/expr.ts";

/** What a node of the graph is. */
export type NodeKind = "variable" | "constant" | "op";

/** One node of an expression's graph, as recorded on the tape. */
export interface GraphNode {
  /** The node's index on the tape. */
  index: number;
  /** The op name (`"leaf"`, `"const"`, `"+"`, `"tanh"`…). */
  op: string;
  /** Variable, constant or op. */
  kind: NodeKind;
  /** The variable's name, or the op name; constants show their value. */
  label: string;
  /** The forward value. */
  data: number;
  /** The gradient after the whole backward pass. */
  grad: number;
  /** Whether backward computes a gradient for the node. */
  needsGrad: boolean;
  /** Input indices, in order (a repeated input appears twice, as in `x*x`). */
  inputs: number[];
}

/** One gradient accumulation: `grad[to] += g × local`. */
export interface Contribution {
  /** The input whose gradient grows. */
  to: number;
  /** Which input slot of the node (0 for `a`, 1 for `b`…). */
  slot: number;
  /** The local derivative d(node)/d(input). */
  local: number;
  /** `g × local`, the amount added. */
  delta: number;
  /** The input's gradient before the addition. */
  before: number;
  /** The input's gradient after it. */
  after: number;
}

/** One step of the backward pass. */
export interface BackwardStep {
  /** `"seed"` sets the root's gradient; `"node"` passes a node's gradient to its inputs. */
  kind: "seed" | "node";
  /** The node whose gradient is seeded or passed on. */
  node: number;
  /** That node's gradient when the step runs. */
  g: number;
  /** The accumulations, in the engine's order. */
  contributions: Contribution[];
  /** True when `g` is 0: the engine skips the node, nothing changes. */
  skipped: boolean;
}

/** A variable of the expression, with its value and final gradient. */
export interface VariableInfo {
  /** The name. */
  name: string;
  /** The leaf's tape index. */
  index: number;
  /** The value it was given. */
  data: number;
  /** d(expression)/d(variable). */
  grad: number;
}

/** An evaluated expression, ready to draw and to step through. */
export interface ExprGraph {
  /** The expression text. */
  source: string;
  /** The expression's value. */
  value: number;
  /** The root node's index. */
  root: number;
  /** Every node reachable from the root, in tape order. */
  nodes: GraphNode[];
  /** The variables in order of appearance. */
  variables: VariableInfo[];
  /** The backward pass: the seed, then every op node from the root down. */
  steps: BackwardStep[];
  /** Names that were given a value but do not occur in the expression. */
  unused: string[];
}

/**
 * An error in the `name=value` list, with the offending text.
 */
export class BindingError extends Error {
  /**
   * Creates the error.
   *
   * @param message One line.
   */
  constructor(message: string) {
    super(message);
    this.name = "BindingError";
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads variable values written as on the command line: `x=2 y=-3`, also
 * separated by commas, semicolons or new lines.
 *
 * @param text The values.
 * @returns The values by name, in the order given.
 * @throws {BindingError} For a malformed pair, a bad name or number, or a repeat.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBindings } from "./expr_graph.ts";
 * assert.deepEqual(parseBindings("x1=2, w1=-3e-1\nb = 6.5"), { x1: 2, w1: -0.3, b: 6.5 });
 * ```
 */
export function parseBindings(text: string): Record<string, number> {
  const bindings: Record<string, number> = {};
  // "b = 6.5" is one pair: glue the spaces around "=" first.
  const pairs = text.replace(/\s*=\s*/g, "=").split(/[\s,;]+/).filter((p) =>
    p !== ""
  );
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 0) {
      throw new BindingError(
        `Expected name=value, got ${JSON.stringify(pair)}`,
      );
    }
    const name = pair.slice(0, eq), value = pair.slice(eq + 1);
    if (!NAME.test(name)) {
      throw new BindingError(
        `Variable name ${
          JSON.stringify(name)
        } must be a letter or _ followed by letters, digits or _`,
      );
    }
    const number = parseDecimal(value);
    if (number === undefined) {
      throw new BindingError(
        `Value of ${name} must be a number, got ${JSON.stringify(value)}`,
      );
    }
    if (Object.prototype.hasOwnProperty.call(bindings, name)) {
      throw new BindingError(`Variable ${name} is given twice`);
    }
    bindings[name] = number;
  }
  return bindings;
}

/**
 * Evaluates `source` with `bindings`, runs the engine's backward pass for
 * the final gradients, and replays it step by step.
 *
 * @param source The expression, in the language of `cli.ts grad`.
 * @param bindings A value for every variable.
 * @returns The graph and its backward steps.
 * @throws {ExprError} On a syntax error, an unknown name or a non-finite value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildExprGraph } from "./expr_graph.ts";
 * const graph = buildExprGraph("x*y + x", { x: 3, y: -2 });
 * assert.equal(graph.value, -3);
 * assert.deepEqual(graph.variables.map((v) => v.grad), [-1, 3]);
 * assert.equal(graph.steps[0].kind, "seed");
 * ```
 */
export function buildExprGraph(
  source: string,
  bindings: Readonly<Record<string, number>>,
): ExprGraph {
  const used = variablesOf(parseExpression(source));
  const { value, variables, tape } = evaluateExpression(source, bindings);
  const root = value.index;
  value.backward();
  const reachable = reachableFrom(tape, root);
  const names = new Map<number, string>();
  for (const [name, leaf] of variables) names.set(leaf.index, name);
  const nodes: GraphNode[] = [];
  for (let i = 0; i <= root; i++) {
    if (!reachable[i]) continue;
    const op = tape.op[i];
    const kind: NodeKind = op === Op.Leaf
      ? "variable"
      : op === Op.Const
      ? "constant"
      : "op";
    nodes.push({
      index: i,
      op: opName(op),
      kind,
      label: kind === "variable"
        ? names.get(i) ?? tape.labels.get(i) ?? `#${i}`
        : kind === "constant"
        ? constantLabel(tape.data[i])
        : opName(op),
      data: tape.data[i],
      grad: tape.grad[i],
      needsGrad: tape.needsGrad[i] === 1,
      inputs: tape.inputsOf(i),
    });
  }
  return {
    source,
    value: value.data,
    root,
    nodes,
    variables: [...variables].map(([name, leaf]) => ({
      name,
      index: leaf.index,
      data: leaf.data,
      grad: leaf.grad,
    })),
    steps: backwardSteps(tape, root, reachable),
    unused: Object.keys(bindings).filter((name) => !used.includes(name)),
  };
}

/**
 * Every node's gradient after the first `count` steps (0: before backward).
 *
 * @param graph The graph.
 * @param count How many steps to apply, from 0 to `graph.steps.length`.
 * @returns Gradients by tape index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildExprGraph, gradsAfter } from "./expr_graph.ts";
 * const graph = buildExprGraph("2*x", { x: 5 });
 * assert.equal(gradsAfter(graph, 0)[0], 0);
 * assert.equal(gradsAfter(graph, graph.steps.length)[0], 2);
 * ```
 */
export function gradsAfter(graph: ExprGraph, count: number): Float64Array {
  const grads = new Float64Array(graph.root + 1);
  const n = Math.max(0, Math.min(count, graph.steps.length));
  for (let s = 0; s < n; s++) {
    for (const c of graph.steps[s].contributions) grads[c.to] = c.after;
  }
  return grads;
}

/** Marks the nodes `root` depends on (and `root`). */
function reachableFrom(tape: Tape, root: number): Uint8Array {
  const reachable = new Uint8Array(root + 1);
  reachable[root] = 1;
  for (let i = root; i >= 0; i--) {
    if (reachable[i]) { for (const j of tape.inputsOf(i)) reachable[j] = 1; }
  }
  return reachable;
}

/**
 * The engine's backward pass laid out one node at a time. Every number comes
 * from the engine: a node's gradient `g` is the one `Tape.backward` left on
 * it (an op node has all of it before the reverse loop reaches it) and each
 * local derivative is `Tape.localGradientsOf`'s; the steps only add the
 * products up in the engine's order, to show each input's grad growing.
 */
function backwardSteps(
  tape: Tape,
  root: number,
  reachable: Uint8Array,
): BackwardStep[] {
  const need = tape.needsGrad;
  const grads = new Float64Array(root + 1);
  const steps: BackwardStep[] = [];
  // Tape.backward: an op root gets 1, a leaf root accumulates 1 if it needs it.
  const seed = tape.inputsOf(root).length > 0 ? 1 : need[root];
  grads[root] = seed;
  steps.push({
    kind: "seed",
    node: root,
    g: seed,
    contributions: [{
      to: root,
      slot: 0,
      local: 1,
      delta: seed,
      before: 0,
      after: seed,
    }],
    skipped: false,
  });
  for (let i = root; i >= 0; i--) {
    const inputs = tape.inputsOf(i);
    if (!reachable[i] || inputs.length === 0 || need[i] === 0) continue;
    const g = i === root ? seed : tape.grad[i];
    const step: BackwardStep = {
      kind: "node",
      node: i,
      g,
      contributions: [],
      skipped: g === 0,
    };
    steps.push(step);
    if (g === 0) continue;
    const locals = tape.localGradientsOf(i);
    inputs.forEach((to, slot) => {
      if (!need[to]) return;
      const local = locals[slot], before = grads[to], delta = g * local;
      grads[to] = before + delta;
      step.contributions.push({
        to,
        slot,
        local,
        delta,
        before,
        after: grads[to],
      });
    });
  }
  return steps;
}

function constantLabel(x: number): string {
  if (x === Math.PI) return "π";
  if (x === Math.E) return "e";
  return String(Number(x.toPrecision(6)));
}
