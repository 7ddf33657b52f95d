/**
 * A compiler from a recorded per-sample subgraph to straight-line JavaScript:
 * runs of alike nodes (a layer's dots, its activations) become loops with
 * their indices baked in. The interpreter on {@linkcode Tape} stays the
 * reference; compiled code computes bit-identical values and gradients.
 *
 * @module
 */

import {
  Arity,
  BINARY_SOURCE,
  binaryDerivativeA,
  binaryDerivativeB,
  binaryForward,
  dotArgs,
  dotRangeArgs,
  naryInputs,
  Need,
  Op,
  opArity,
  opName,
  UNARY_SOURCE,
  unaryDerivative,
  unaryForward,
  unaryForwardRange,
} from "./ops.ts";
import type { Tape } from "./tape.ts";

/**
 * Whether this platform lets code be generated at run time (`new Function`).
 * It does not under a Content-Security-Policy without `'unsafe-eval'`; use
 * the interpreter ({@linkcode Tape.replay}, {@linkcode Tape.backward}) there.
 *
 * @returns `true` when {@linkcode compileRange} can be used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codegenAvailable } from "@tapegrad/tapegrad/engine";
 * assert.equal(codegenAvailable(), true); // Deno allows it
 * ```
 */
export function codegenAvailable(): boolean {
  try {
    return new Function("return 1")() === 1;
  } catch {
    return false;
  }
}

/** Forward and backward code for one range of a tape, run at any offset. */
export interface RangeProgram {
  /** The generated JavaScript, for inspection. */
  readonly source: string;
  /**
   * Recomputes the data of the range shifted by `offset` nodes (and resets
   * its interior gradients), exactly as {@linkcode Tape.replay} would; its
   * {@linkcode LinkedInputs} are read shifted by `shift` (default 0).
   */
  forward(offset: number, shift?: number): void;
  /**
   * Propagates the gradients of the range shifted by `offset` nodes to their
   * inputs, exactly as {@linkcode Tape.backward} would (its
   * {@linkcode LinkedInputs} shifted by `shift`). Leaves of a
   * {@linkcode DescentBlock} are updated in place with `lr` instead.
   */
  backward(offset: number, lr?: number, shift?: number): void;
}

/**
 * Inputs of a compiled range that lie before it, in `[start, end)`, and move
 * with a second offset of their own (`shift` in {@linkcode RangeProgram}):
 * such as one sample's outputs, read by that sample's part of a loss
 * recorded after every sample's forward pass.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileRange, Op, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const outputs = [tape.leaf(2), tape.leaf(3)]; // two samples' outputs
 * const squares = outputs.map((z) => tape.binary(Op.Mul, z, z));
 * // Compiled once from the first square, run for the second.
 * const program = compileRange(tape, squares[0], squares[0] + 1, undefined, {
 *   start: outputs[0],
 *   end: outputs[0] + 1,
 * });
 * tape.data[outputs[1]] = 5;
 * program.forward(squares[1] - squares[0], outputs[1] - outputs[0]);
 * assert.equal(tape.data[squares[1]], 25);
 * ```
 */
export interface LinkedInputs {
  /** The first linked node. */
  start: number;
  /** One past the last. */
  end: number;
}

/**
 * An optimizer's update rule, for a compiled backward pass to apply in place
 * as each gradient is produced. The optimizer owns it (see `SGD.descentRule`
 * in `nn`), so a fused step runs the very update its `step()` runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DescentRule } from "@tapegrad/tapegrad/engine";
 * const plain: DescentRule = { emit: (p, g) => `${p} -= lr * (${g});` };
 * assert.equal(plain.emit("d[3]", "g"), "d[3] -= lr * (g);");
 * ```
 */
export interface DescentRule {
  /**
   * One JavaScript statement updating the parameter `param` (an assignable
   * expression) from its gradient `grad` (an expression); the learning rate
   * is in scope as `lr`.
   */
  emit(param: string, grad: string): string;
}

/**
 * Leaves `[start, start + count)` (a model's parameters) that a compiled
 * backward pass updates in place with an optimizer's {@linkcode DescentRule}
 * as each gradient is produced, instead of storing the gradient for the
 * optimizer to read in a second pass. Valid when every one of them gets
 * exactly one gradient contribution in the step, as a dot's weight or bias
 * (one sample).
 */
export interface DescentBlock {
  /** First leaf of the block. */
  start: number;
  /** Number of leaves. */
  count: number;
  /** The update to apply, from the optimizer. */
  update: DescentRule;
}

/**
 * Whether nodes `[from + offset, to + offset)` repeat the structure of
 * `[from, to)`: the same ops and gradient flags, inputs before `from` shared,
 * inputs inside the range shifted by `offset`. Values may differ.
 *
 * @param tape The tape.
 * @param from First node of the reference range.
 * @param to One past its last node.
 * @param offset How far the copy is shifted.
 * @param linked Inputs before `from` that move by `linked.shift` instead
 * (see {@linkcode LinkedInputs}).
 * @returns `true` when one compiled program can run both ranges.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, sameStructure, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(0.5);
 * for (const x of [1, 2]) tape.binary(Op.Mul, w, tape.leaf(x, false));
 * assert.equal(sameStructure(tape, 1, 3, 2), true);
 * ```
 */
export function sameStructure(
  tape: Tape,
  from: number,
  to: number,
  offset: number,
  linked?: LinkedInputs & { shift: number },
): boolean {
  if (to + offset > tape.size || from + offset < 0) return false;
  const shift = (a: number) =>
    a >= from
      ? a + offset
      : linked !== undefined && a >= linked.start && a < linked.end
      ? a + linked.shift
      : a;
  for (let i = from; i < to; i++) {
    const j = i + offset;
    if (tape.op[i] !== tape.op[j] || tape.needsGrad[i] !== tape.needsGrad[j]) {
      return false;
    }
    if (tape.op[i] === Op.DotRange || tape.op[i] === Op.DotRangeRelu) {
      if (tape.arg1[i] !== tape.arg1[j]) return false;
      const p = dotRangeArgs(tape.pool, tape.arg0[i]);
      const q = dotRangeArgs(tape.pool, tape.arg0[j]);
      if (p.weightNeed !== q.weightNeed || p.inputNeed !== q.inputNeed) {
        return false;
      }
    }
    const a = tape.inputsOf(i), b = tape.inputsOf(j);
    if (a.length !== b.length) return false;
    for (let k = 0; k < a.length; k++) if (shift(a[k]) !== b[k]) return false;
  }
  return true;
}

/** A run of consecutive alike nodes whose inputs advance by fixed strides. */
interface Run {
  start: number;
  count: number;
  key: string;
  refs: number[];
  strides: number[];
}

/**
 * Compiles nodes `[from, to)` of a tape into a {@linkcode RangeProgram}.
 * Inputs below `from` are addressed as they are (shared, such as parameters);
 * inputs inside the range move with the offset, so a program compiled from
 * sample 0's subgraph runs every sample with the same structure (check with
 * {@linkcode sameStructure}).
 *
 * @param tape The tape.
 * @param from First node of the range.
 * @param to One past its last node.
 * @param descent Leaves to update in place in backward (see
 * {@linkcode DescentBlock}; `CompiledStep` checks it is valid).
 * @param linked Inputs before `from` that move with the program's second
 * offset (see {@linkcode LinkedInputs}).
 * @returns The compiled program.
 * @throws {Error} When code generation is forbidden on this platform.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileRange, Op, Tape } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(3);
 * const x = tape.leaf(2, false);
 * const y = tape.unary(Op.Tanh, tape.binary(Op.Mul, w, x));
 * const program = compileRange(tape, 1, tape.size);
 * tape.data[w] = 0.25;
 * program.forward(0);
 * assert.equal(tape.data[y], Math.tanh(0.5));
 * ```
 */
export function compileRange(
  tape: Tape,
  from: number,
  to: number,
  descent?: DescentBlock,
  linked?: LinkedInputs,
): RangeProgram {
  if (
    !Number.isInteger(from) || !Number.isInteger(to) || from < 0 ||
    to > tape.size || from > to
  ) {
    throw new RangeError(
      `Range must satisfy 0 <= from <= to <= tape size ${tape.size}, got [${from}, ${to})`,
    );
  }
  if (
    linked !== undefined &&
    !(Number.isInteger(linked.start) && Number.isInteger(linked.end) &&
      linked.start >= 0 && linked.start <= linked.end && linked.end <= from)
  ) {
    throw new RangeError(
      `Linked inputs must satisfy 0 <= start <= end <= from ${from}, got [${linked.start}, ${linked.end})`,
    );
  }
  const f: Frame = {
    from,
    linkedStart: linked?.start ?? 0,
    linkedEnd: linked?.end ?? 0,
  };
  if (!codegenAvailable()) {
    throw new Error(
      "Code generation is not allowed on this platform (new Function failed); use tape.replay() and tape.backward()",
    );
  }
  const runs = findRuns(tape, f, to);
  const forward: string[] = [];
  const backward: string[] = [];
  for (const run of runs) forward.push(emitForward(tape, f, run));
  for (let r = runs.length - 1; r >= 0; r--) {
    backward.push(emitBackward(tape, f, runs[r], descent));
  }
  const source = `"use strict";
return {
  forward(o, p = 0) {
    const d = T.data, gr = T.grad;
${forward.join("\n")}
  },
  backward(o, lr, p = 0) {
    const d = T.data, gr = T.grad, need = T.needsGrad;
${backward.join("\n")}
  },
};`;
  const make = new Function("T", "U", "UD", "B", "BA", "BB", "UR", "S", source);
  let longest = 1;
  for (const run of runs) longest = Math.max(longest, run.count);
  const program = make(
    tape,
    unaryForward,
    unaryDerivative,
    binaryForward,
    binaryDerivativeA,
    binaryDerivativeB,
    unaryForwardRange,
    new Int32Array(longest),
  ) as Omit<RangeProgram, "source">;
  return { source, forward: program.forward, backward: program.backward };
}

/**
 * Where a compiled range's inputs are: from `from` on, inside it (moved by
 * the offset `o`); in `[linkedStart, linkedEnd)`, linked (moved by `p`);
 * elsewhere before it, fixed.
 */
interface Frame {
  from: number;
  linkedStart: number;
  linkedEnd: number;
}

function linkedInput(f: Frame, index: number): boolean {
  return index >= f.linkedStart && index < f.linkedEnd;
}

/** How generated code addresses node `index`: `o + `, `p + ` or as is. */
function origin(f: Frame, index: number): string {
  if (index >= f.from) return "o + ";
  return linkedInput(f, index) ? "p + " : "";
}

/** The part of a node that must match for it to join a run, and its inputs. */
function describeNode(
  tape: Tape,
  f: Frame,
  i: number,
): { key: string; refs: number[] } | undefined {
  const op = tape.op[i], a = tape.arg0[i], b = tape.arg1[i];
  const need = tape.needsGrad;
  const where = (x: number) =>
    x < 0 ? "N" : x >= f.from ? "L" : linkedInput(f, x) ? "P" : "G";
  const arity = opArity(op);
  if (arity === Arity.Leaf) return { key: "leaf", refs: [] };
  if (arity === Arity.Unary) {
    return { key: `u${op}:${need[i]}:${need[a]}:${where(a)}`, refs: [a] };
  }
  if (arity === Arity.Binary) {
    return {
      key: `b${op}:${need[i]}:${need[a]}${need[b]}:${where(a)}${where(b)}`,
      refs: [a, b],
    };
  }
  if (op === Op.DotRange || op === Op.DotRangeRelu) {
    const { weightStart: w, inputStart: x, bias, weightNeed, inputNeed } =
      dotRangeArgs(tape.pool, a);
    return {
      key: `${op === Op.DotRange ? "r" : "q"}${b}:${weightNeed}${inputNeed}:${
        need[i]
      }:${bias >= 0 ? need[bias] : "-"}:${where(w)}${where(x)}${where(bias)}`,
      refs: [w, x, bias],
    };
  }
  return undefined; // Sum and gathered Dot are emitted one node at a time.
}

function findRuns(tape: Tape, f: Frame, to: number): Run[] {
  const runs: Run[] = [];
  let i = f.from;
  while (i < to) {
    const first = describeNode(tape, f, i);
    const run: Run = {
      start: i,
      count: 1,
      key: first?.key ?? "single",
      refs: first?.refs ?? [],
      strides: [],
    };
    if (first !== undefined && first.key !== "leaf") {
      while (i + run.count < to) {
        const next = describeNode(tape, f, i + run.count);
        if (next === undefined || next.key !== first.key) break;
        const strides = next.refs.map((r, k) => r - first.refs[k]);
        if (run.count === 1) {
          run.strides = strides;
        } else if (
          !strides.every((s, k) => s === run.strides[k] * run.count)
        ) break;
        run.count++;
      }
    } else if (first !== undefined) {
      while (
        i + run.count < to && opArity(tape.op[i + run.count]) === Arity.Leaf
      ) {
        run.count++;
      }
    }
    if (run.strides.length === 0) run.strides = run.refs.map(() => 0);
    runs.push(run);
    i += run.count;
  }
  return runs;
}

/** The index expression of a run's reference `k` at loop variable `j`. */
function ref(f: Frame, run: Run, k: number): string {
  const base = run.refs[k], stride = run.strides[k];
  const local = origin(f, base);
  const step = run.count > 1 && stride !== 0 ? ` + ${stride} * j` : "";
  return `${local}${base}${step}`;
}

function nodeRef(run: Run): string {
  return `o + ${run.start}${run.count > 1 ? " + j" : ""}`;
}

function loop(run: Run, body: string[], reverse: boolean): string {
  const inner = body.map((line) => `      ${line}`).join("\n");
  if (run.count === 1) {
    // A labelled block, so that `break node` skips the rest of one node.
    return `    node: {\n${inner}\n    }`;
  }
  const head = reverse
    ? `for (let j = ${run.count - 1}; j >= 0; j--)`
    : `for (let j = 0; j < ${run.count}; j++)`;
  return `    ${head} {\n${inner}\n    }`;
}

function local(f: Frame, index: number): string {
  return `${origin(f, index)}${index}`;
}

/**
 * An op in generated code: its code, named (`/* Op.Relu *\/ 6`). A literal,
 * not a property read, so that V8 folds the op's switch into the call.
 */
function opRef(op: number): string {
  const key = OP_KEYS[op];
  if (key === undefined) throw new RangeError(`Unknown op code ${op}`);
  return `/* Op.${key} */ ${op}`;
}

const OP_KEYS: string[] = [];
for (const [key, code] of Object.entries(Op)) OP_KEYS[code] = key;

function emitForward(tape: Tape, f: Frame, run: Run): string {
  const op = tape.op[run.start];
  const arity = opArity(op);
  if (arity === Arity.Leaf) {
    return `    // nodes ${run.start}…: leaves and constants`;
  }
  const i = nodeRef(run);
  if (arity === Arity.Unary && run.count > 1 && run.strides[0] === 1) {
    // A layer's activations: the loop ops.ts runs when recording them.
    const first = nodeRef({ ...run, count: 1 });
    return `    UR(${opRef(op)}, d, ${
      ref(f, { ...run, count: 1 }, 0)
    }, ${first}, ${run.count});
    for (let j = 0; j < ${run.count}; j++) gr[${nodeRef(run)}] = 0;`;
  }
  if (arity === Arity.Unary) {
    return loop(run, [
      `const i = ${i};`,
      `d[i] = ${
        UNARY_SOURCE[op]?.value(`d[${ref(f, run, 0)}]`) ??
          `U(${opRef(op)}, d[${ref(f, run, 0)}])`
      };`,
      `gr[i] = 0;`,
    ], false);
  }
  if (arity === Arity.Binary) {
    const a = ref(f, run, 0), b = ref(f, run, 1);
    return loop(run, [
      `const i = ${i};`,
      `d[i] = ${
        BINARY_SOURCE[op]?.value(`d[${a}]`, `d[${b}]`) ??
          `B(${opRef(op)}, d[${a}], d[${b}])`
      };`,
      `gr[i] = 0;`,
    ], false);
  }
  if (op === Op.DotRange || op === Op.DotRangeRelu) {
    const n = tape.arg1[run.start];
    const hasBias = run.refs[2] >= 0;
    // DotRangeRelu: the Relu rule's value of the sum.
    const value = (v: string) =>
      op === Op.DotRange ? v : UNARY_SOURCE[Op.Relu].value(v);
    if (
      n > 4 && run.count >= DOT_GROUP && run.strides[1] === 0 &&
      !readsOwnRun(run, n)
    ) {
      return interleavedDots(f, run, n, value);
    }
    return loop(run, [
      `const i = ${i}, w = ${ref(f, run, 0)}, x = ${ref(f, run, 1)};`,
      `let v = ${hasBias ? `d[${ref(f, run, 2)}]` : "0"};`,
      ...dotTerms(n, "v += d[w + K] * d[x + K];"),
      `d[i] = ${value("v")};`,
      `gr[i] = 0;`,
    ], false);
  }
  // Sum or gathered Dot: one node, every index written out.
  if (op !== Op.Sum && op !== Op.Dot) {
    throw new RangeError(
      `Cannot compile op ${
        opName(op)
      } (code ${op}): compile.ts has no code generator for it; use tape.replay() and tape.backward()`,
    );
  }
  const p = tape.arg0[run.start], n = tape.arg1[run.start], pool = tape.pool;
  let terms: string[];
  if (op === Op.Sum) {
    terms = naryInputs(op, pool, p, n).map((j) => `d[${local(f, j)}]`);
    return `    d[${i}] = 0 + ${terms.join(" + ")};\n    gr[${i}] = 0;`;
  }
  const { bias, weights, inputs } = dotArgs(pool, p, n);
  terms = weights.map((w, k) =>
    `d[${local(f, w)}] * d[${local(f, inputs[k])}]`
  );
  const start = bias >= 0 ? `d[${local(f, bias)}]` : "0";
  return `    d[${i}] = ${start} + ${terms.join(" + ")};\n    gr[${i}] = 0;`;
}

/**
 * How many dots of a run the forward pass computes side by side. Each dot's
 * sum is a chain of dependent additions, so one at a time waits on the
 * adder's latency; four independent chains keep it busy (measured: a 64-wide
 * layer's forward in 0.55x the time; eight spill registers). Every dot still
 * adds its terms in its own order, so the values are unchanged.
 */
const DOT_GROUP = 4;

/** Whether a dot of the run reads a node of the run (then: in order). */
function readsOwnRun(run: Run, n: number): boolean {
  return runReads(run, n, run.start, run.start + run.count);
}

/** Whether a dot of the run reads a node in `[start, end)`. */
function runReads(run: Run, n: number, start: number, end: number): boolean {
  const spans = [n, n, 1];
  for (let k = 0; k < 3; k++) {
    const base = run.refs[k];
    if (base < 0) continue;
    const last = base + run.strides[k] * (run.count - 1);
    const lo = Math.min(base, last), hi = Math.max(base, last) + spans[k];
    if (lo < end && hi > start) return true;
  }
  return false;
}

/** Reference `k` of the run at `j + q` (see {@linkcode ref}). */
function refAt(f: Frame, run: Run, k: number, q: number): string {
  const base = run.refs[k], stride = run.strides[k];
  const local = origin(f, base);
  if (stride === 0) return `${local}${base}`;
  return `${local}${base} + ${stride} * ${q === 0 ? "j" : `(j + ${q})`}`;
}

/** A run of long dots over one input, four at a time, then the rest. */
function interleavedDots(
  f: Frame,
  run: Run,
  n: number,
  value: (v: string) => string,
): string {
  const full = run.count - run.count % DOT_GROUP;
  const group = Array.from({ length: DOT_GROUP }, (_, q) => q);
  const body = [
    `const i = ${nodeRef(run)}, x = ${refAt(f, run, 1, 0)};`,
    ...group.map((q) => `const w${q} = ${refAt(f, run, 0, q)};`),
    ...group.map((q) =>
      `let v${q} = ${run.refs[2] >= 0 ? `d[${refAt(f, run, 2, q)}]` : "0"};`
    ),
    `for (let k = 0; k < ${n}; k++) {`,
    `  const xk = d[x + k];`,
    ...group.map((q) => `  v${q} += d[w${q} + k] * xk;`),
    `}`,
    ...group.map((q) => `d[i + ${q}] = ${value(`v${q}`)};`),
    ...group.map((q) => `gr[i + ${q}] = 0;`),
  ];
  const rest = [
    `const i = ${nodeRef(run)}, w = ${ref(f, run, 0)}, x = ${ref(f, run, 1)};`,
    `let v = ${run.refs[2] >= 0 ? `d[${ref(f, run, 2)}]` : "0"};`,
    ...dotTerms(n, "v += d[w + K] * d[x + K];"),
    `d[i] = ${value("v")};`,
    `gr[i] = 0;`,
  ];
  const indent = (lines: string[]) =>
    lines.map((line) => `      ${line}`).join("\n");
  let code = `    for (let j = 0; j < ${full}; j += ${DOT_GROUP}) {\n${
    indent(body)
  }\n    }`;
  if (full < run.count) {
    code += `\n    for (let j = ${full}; j < ${run.count}; j++) {\n${
      indent(rest)
    }\n    }`;
  }
  return code;
}

function emitBackward(
  tape: Tape,
  f: Frame,
  run: Run,
  descent?: DescentBlock,
): string {
  const op = tape.op[run.start];
  const arity = opArity(op);
  if (arity === Arity.Leaf || tape.needsGrad[run.start] === 0) return "";
  const need = tape.needsGrad;
  const head = [`const i = ${nodeRef(run)};`, `const g = gr[i];`];
  const skip = run.count > 1 ? "continue;" : "break node;";
  const guard = `if (g === 0) ${skip}`;
  if (arity === Arity.Unary) {
    const a = ref(f, run, 0);
    if (!need[run.refs[0]]) return "";
    return loop(run, [
      ...head,
      guard,
      `const a = ${a};`,
      `gr[a] += g * ${
        UNARY_SOURCE[op]?.slope("d[a]", "d[i]") ??
          `UD(${opRef(op)}, d[a], d[i])`
      };`,
    ], true);
  }
  if (arity === Arity.Binary) {
    const body = [
      ...head,
      guard,
      `const a = ${ref(f, run, 0)}, b = ${ref(f, run, 1)};`,
      `const x = d[a], y = d[b], out = d[i];`,
    ];
    const name = opRef(op);
    const code = BINARY_SOURCE[op];
    const slopeA = code?.slopeA ?? `BA(${name}, x, y, out)`;
    const slopeB = code?.slopeB ?? `BB(${name}, x, y, out)`;
    if (need[run.refs[0]]) body.push(`gr[a] += g * ${slopeA};`);
    if (need[run.refs[1]]) body.push(`gr[b] += g * ${slopeB};`);
    return loop(run, body, true);
  }
  if (op === Op.DotRange || op === Op.DotRangeRelu) {
    const relu = op === Op.DotRangeRelu;
    const n = tape.arg1[run.start];
    const { weightNeed: wNeed, inputNeed: xNeed } = dotRangeArgs(
      tape.pool,
      tape.arg0[run.start],
    );
    if (
      n > 4 && run.count >= DOT_GROUP && run.strides[1] === 0 &&
      wNeed !== Need.Some &&
      xNeed !== Need.Some && !readsOwnRun(run, n) &&
      !(descent && touchesBlock(run, n, descent)) &&
      gradientsApart(tape, run, n) && !relu
    ) {
      return interleavedDotsBackward(tape, f, run, n);
    }
    const body = [
      ...head,
      // DotRangeRelu: the Relu rule's slope, 1 where the value is positive,
      // else nothing passes.
      relu ? `if (g === 0 || !(d[i] > 0)) ${skip}` : guard,
      `const w = ${ref(f, run, 0)}, x = ${ref(f, run, 1)};`,
    ];
    const bias = run.refs[2];
    const last = run.count - 1;
    const wFirst = run.refs[0], wLast = wFirst + run.strides[0] * last + n;
    const bLast = bias + run.strides[2] * last;
    const descendW = descent !== undefined && wNeed === Need.All &&
      covers(descent, wFirst, wLast);
    const descendB = descent !== undefined && bias >= 0 &&
      covers(descent, Math.min(bias, bLast), Math.max(bias, bLast) + 1);
    if (bias >= 0 && need[bias] && !descendB) {
      body.push(`gr[${ref(f, run, 2)}] += g;`);
    }
    const fused = wNeed === Need.All && !descendW && xNeed === Need.All &&
      n > 4 && rangesMeetWhole(run, n);
    if (
      fused && run.refs[0] === run.refs[1] && run.strides[0] === run.strides[1]
    ) {
      // A dot of a range with itself (an L2 term): both terms of each
      // weight in one pass, in their order.
      body.push(
        `for (let k = 0; k < ${n}; k++) { const v = g * d[w + k]; gr[w + k] = gr[w + k] + v + v; }`,
      );
    } else if (fused) {
      body.push(
        `for (let k = 0; k < ${n}; k++) { gr[w + k] += g * d[x + k]; gr[x + k] += g * d[w + k]; }`,
      );
    }
    if (wNeed === Need.All && !descendW && !fused) {
      body.push(...dotTerms(n, "gr[w + K] += g * d[x + K];"));
    }
    if (wNeed === Need.Some) {
      body.push(...dotTerms(n, "if (need[w + K]) gr[w + K] += g * d[x + K];"));
    }
    if (xNeed === Need.All && !fused) {
      body.push(...dotTerms(n, "gr[x + K] += g * d[w + K];"));
    }
    if (xNeed === Need.Some) {
      body.push(...dotTerms(n, "if (need[x + K]) gr[x + K] += g * d[w + K];"));
    }
    // In-place descent comes last: the input gradients above read the
    // weights as they were in the forward pass.
    const update = descent?.update;
    if (descendW && update) {
      body.push(...dotTerms(n, update.emit("d[w + K]", "g * d[x + K]")));
    }
    if (descendB && update) {
      body.push(update.emit(`d[${ref(f, run, 2)}]`, "g"));
    }
    return loop(run, body, true);
  }
  const p = tape.arg0[run.start], n = tape.arg1[run.start], pool = tape.pool;
  const lines = [...head, guard];
  if (op === Op.Sum) {
    for (const j of naryInputs(op, pool, p, n)) {
      if (need[j]) lines.push(`gr[${local(f, j)}] += g;`);
    }
  } else {
    const { bias, weights, inputs } = dotArgs(pool, p, n);
    if (bias >= 0 && need[bias]) lines.push(`gr[${local(f, bias)}] += g;`);
    for (let k = 0; k < n; k++) {
      const w = weights[k], x = inputs[k];
      if (need[w]) {
        lines.push(`gr[${local(f, w)}] += g * d[${local(f, x)}];`);
      }
      if (need[x]) {
        lines.push(`gr[${local(f, x)}] += g * d[${local(f, w)}];`);
      }
    }
  }
  return loop(run, lines, true);
}

/**
 * Whether each dot's weights and inputs are the same nodes or apart: then
 * one loop can add both gradients of each term, each node's in its order.
 */
function rangesMeetWhole(run: Run, n: number): boolean {
  for (let j = 0; j < run.count; j++) {
    const gap = run.refs[0] + run.strides[0] * j -
      (run.refs[1] + run.strides[1] * j);
    if (gap !== 0 && Math.abs(gap) < n) return false;
  }
  return true;
}

/** Whether a dot of the run reads a leaf of the descent block. */
function touchesBlock(run: Run, n: number, block: DescentBlock): boolean {
  return runReads(run, n, block.start, block.start + block.count);
}

/**
 * Whether a run of dots over one input may interleave its backward pass:
 * its input, weights and biases are distinct nodes, so each node's
 * additions keep their order.
 */
function gradientsApart(tape: Tape, run: Run, n: number): boolean {
  const { weightNeed: wNeed, inputNeed: xNeed } = dotRangeArgs(
    tape.pool,
    tape.arg0[run.start],
  );
  const seen = new Set<number>();
  const claim = (node: number) => !seen.has(node) && !!seen.add(node);
  const [w, x, bias] = run.refs, [sw, , sb] = run.strides;
  for (let k = 0; k < n && xNeed === Need.All; k++) {
    if (!claim(x + k)) return false;
  }
  for (let j = 0; j < run.count; j++) {
    for (let k = 0; k < n && wNeed === Need.All; k++) {
      if (!claim(w + sw * j + k)) return false;
    }
    if (bias >= 0 && tape.needsGrad[bias] && !claim(bias + sb * j)) {
      return false;
    }
  }
  return true;
}

/**
 * Backward of a run of dots over one input, four at a time: the dots with
 * a gradient are listed (last first), then each group loads the input once
 * and adds its dots' terms to each input's gradient with one load and store.
 */
function interleavedDotsBackward(
  tape: Tape,
  f: Frame,
  run: Run,
  n: number,
): string {
  const need = tape.needsGrad;
  const { weightNeed: wNeed, inputNeed: xNeed } = dotRangeArgs(
    tape.pool,
    tape.arg0[run.start],
  );
  const hasBias = run.refs[2] >= 0 && need[run.refs[2]] === 1;
  const group = Array.from({ length: DOT_GROUP }, (_, q) => q);
  const at = (k: number, j: string) => {
    const base = run.refs[k], stride = run.strides[k];
    const local = origin(f, base);
    return stride === 0
      ? `${local}${base}`
      : `${local}${base} + ${stride} * ${j}`;
  };
  const node = `o + ${run.start}`;
  const grouped: string[] = [
    ...group.map((q) => `const j${q} = S[t + ${q}];`),
    ...group.map((q) => `const g${q} = gr[${node} + j${q}];`),
    ...group.map((q) => `const w${q} = ${at(0, `j${q}`)};`),
    `const x = ${at(1, "0")};`,
    ...(hasBias ? group.map((q) => `gr[${at(2, `j${q}`)}] += g${q};`) : []),
    `for (let k = 0; k < ${n}; k++) {`,
  ];
  if (wNeed === Need.All) {
    grouped.push(
      `  const xk = d[x + k];`,
      ...group.map((q) => `  gr[w${q} + k] += g${q} * xk;`),
    );
  }
  if (xNeed === Need.All) {
    const terms = group.map((q) => ` + g${q} * d[w${q} + k]`).join("");
    grouped.push(`  gr[x + k] = gr[x + k]${terms};`);
  }
  grouped.push(`}`);
  const single = [
    `const j = S[t], g = gr[${node} + j];`,
    `const w = ${at(0, "j")}, x = ${at(1, "j")};`,
    ...(hasBias ? [`gr[${at(2, "j")}] += g;`] : []),
    ...(wNeed === Need.All ? dotTerms(n, "gr[w + K] += g * d[x + K];") : []),
    ...(xNeed === Need.All ? dotTerms(n, "gr[x + K] += g * d[w + K];") : []),
  ];
  const indent = (lines: string[]) =>
    lines.map((line) => `      ${line}`).join("\n");
  return `    {
      let m = 0;
      for (let j = ${run.count - 1}; j >= 0; j--) {
        S[m] = j;
        m += +(gr[${node} + j] !== 0);
      }
      let t = 0;
      for (; t + ${DOT_GROUP - 1} < m; t += ${DOT_GROUP}) {
${indent(grouped)}
      }
      for (; t < m; t++) {
${indent(single)}
      }
    }`;
}

/** Whether `[first, end)` lies inside the block (a partial overlap throws). */
function covers(block: DescentBlock, first: number, end: number): boolean {
  const blockEnd = block.start + block.count;
  if (end <= block.start || first >= blockEnd) return false;
  if (first >= block.start && end <= blockEnd) return true;
  throw new RangeError(
    `Descent block [${block.start}, ${blockEnd}) covers only part of nodes [${first}, ${end}); it must cover whole layers`,
  );
}

/** Small dots are unrolled; longer ones stay loops (V8 optimises those). */
function dotTerms(n: number, template: string): string[] {
  if (n <= 4) {
    return Array.from(
      { length: n },
      (_, k) => template.replaceAll("K", `${k}`),
    );
  }
  return [`for (let k = 0; k < ${n}; k++) ${template.replaceAll("K", "k")}`];
}
