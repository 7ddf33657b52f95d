/**
 * A compiler from a recorded per-sample subgraph to straight-line JavaScript:
 * runs of alike nodes (a layer's dots, its activations) become loops with
 * their indices baked in. The interpreter on {@linkcode Tape} stays the
 * reference; compiled code computes bit-identical values and gradients.
 *
 * @module
 */

import {
  binaryDerivativeA,
  binaryDerivativeB,
  binaryForward,
  isBinary,
  isUnary,
  Op,
  unaryDerivative,
  unaryForward,
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
 * import { codegenAvailable } from "./compile.ts";
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
   * its interior gradients), exactly as {@linkcode Tape.replay} would.
   */
  forward(offset: number): void;
  /**
   * Propagates the gradients of the range shifted by `offset` nodes to their
   * inputs, exactly as {@linkcode Tape.backward} would. Leaves of a
   * {@linkcode DescentBlock} are updated in place with `lr` instead.
   */
  backward(offset: number, lr?: number): void;
}

/**
 * Leaves `[start, start + count)` (a model's parameters) that a compiled
 * backward pass updates in place, `data -= lr · gradient`, as each gradient is
 * produced, instead of storing the gradient for an optimizer to read in a
 * second pass. Valid when every one of them gets exactly one gradient
 * contribution in the step, as a dot's weight or bias (one sample).
 */
export interface DescentBlock {
  /** First leaf of the block. */
  start: number;
  /** Number of leaves. */
  count: number;
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
 * @returns `true` when one compiled program can run both ranges.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, sameStructure, Tape } from "./mod.ts";
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
): boolean {
  if (to + offset > tape.size || from + offset < 0) return false;
  const shift = (a: number) => (a >= from ? a + offset : a);
  for (let i = from; i < to; i++) {
    const j = i + offset;
    if (tape.op[i] !== tape.op[j] || tape.needsGrad[i] !== tape.needsGrad[j]) {
      return false;
    }
    if (tape.op[i] === Op.DotRange) {
      const p = tape.arg0[i], q = tape.arg0[j];
      if (tape.arg1[i] !== tape.arg1[j]) return false;
      if (tape.pool[p + 3] !== tape.pool[q + 3]) return false;
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
 * {@linkcode DescentBlock}; {@linkcode CompiledStep} checks it is valid).
 * @returns The compiled program.
 * @throws {Error} When code generation is forbidden on this platform.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileRange, Op, Tape } from "./mod.ts";
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
): RangeProgram {
  if (
    !Number.isInteger(from) || !Number.isInteger(to) || from < 0 ||
    to > tape.size || from > to
  ) {
    throw new RangeError(
      `Range must satisfy 0 <= from <= to <= tape size ${tape.size}, got [${from}, ${to})`,
    );
  }
  if (!codegenAvailable()) {
    throw new Error(
      "Code generation is not allowed on this platform (new Function failed); use tape.replay() and tape.backward()",
    );
  }
  const runs = findRuns(tape, from, to);
  const forward: string[] = [];
  const backward: string[] = [];
  for (const run of runs) forward.push(emitForward(tape, from, run));
  for (let r = runs.length - 1; r >= 0; r--) {
    backward.push(emitBackward(tape, from, runs[r], descent));
  }
  const source = `"use strict";
return {
  forward(o) {
    const d = T.data, gr = T.grad;
${forward.join("\n")}
  },
  backward(o, lr) {
    const d = T.data, gr = T.grad, need = T.needsGrad;
${backward.join("\n")}
  },
};`;
  const make = new Function("T", "U", "UD", "B", "BA", "BB", source);
  const program = make(
    tape,
    unaryForward,
    unaryDerivative,
    binaryForward,
    binaryDerivativeA,
    binaryDerivativeB,
  ) as Omit<RangeProgram, "source">;
  return { source, forward: program.forward, backward: program.backward };
}

/** The part of a node that must match for it to join a run, and its inputs. */
function describeNode(
  tape: Tape,
  from: number,
  i: number,
): { key: string; refs: number[] } | undefined {
  const op = tape.op[i], a = tape.arg0[i], b = tape.arg1[i];
  const need = tape.needsGrad;
  const where = (x: number) => (x < 0 ? "N" : x >= from ? "L" : "G");
  if (op <= Op.Const) return { key: "leaf", refs: [] };
  if (isUnary(op)) {
    return { key: `u${op}:${need[i]}:${need[a]}:${where(a)}`, refs: [a] };
  }
  if (isBinary(op)) {
    return {
      key: `b${op}:${need[i]}:${need[a]}${need[b]}:${where(a)}${where(b)}`,
      refs: [a, b],
    };
  }
  if (op === Op.DotRange) {
    const p = tape.arg0[i], pool = tape.pool;
    const w = pool[p], x = pool[p + 1], bias = pool[p + 2];
    return {
      key: `r${b}:${pool[p + 3]}:${need[i]}:${bias >= 0 ? need[bias] : "-"}:${
        where(w)
      }${where(x)}${where(bias)}`,
      refs: [w, x, bias],
    };
  }
  return undefined; // Sum and gathered Dot are emitted one node at a time.
}

function findRuns(tape: Tape, from: number, to: number): Run[] {
  const runs: Run[] = [];
  let i = from;
  while (i < to) {
    const first = describeNode(tape, from, i);
    const run: Run = {
      start: i,
      count: 1,
      key: first?.key ?? "single",
      refs: first?.refs ?? [],
      strides: [],
    };
    if (first !== undefined && first.key !== "leaf") {
      while (i + run.count < to) {
        const next = describeNode(tape, from, i + run.count);
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
      while (i + run.count < to && tape.op[i + run.count] <= Op.Const) {
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
function ref(from: number, run: Run, k: number): string {
  const base = run.refs[k], stride = run.strides[k];
  const local = base >= from ? "o + " : "";
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

function local(from: number, index: number): string {
  return index >= from ? `o + ${index}` : `${index}`;
}

function emitForward(tape: Tape, from: number, run: Run): string {
  const op = tape.op[run.start];
  if (op <= Op.Const) return `    // nodes ${run.start}…: leaves and constants`;
  const i = nodeRef(run);
  if (isUnary(op)) {
    return loop(run, [
      `const i = ${i};`,
      `d[i] = U(${op}, d[${ref(from, run, 0)}]);`,
      `gr[i] = 0;`,
    ], false);
  }
  if (isBinary(op)) {
    return loop(run, [
      `const i = ${i};`,
      `d[i] = B(${op}, d[${ref(from, run, 0)}], d[${ref(from, run, 1)}]);`,
      `gr[i] = 0;`,
    ], false);
  }
  if (op === Op.DotRange) {
    const n = tape.arg1[run.start];
    const hasBias = run.refs[2] >= 0;
    return loop(run, [
      `const i = ${i}, w = ${ref(from, run, 0)}, x = ${ref(from, run, 1)};`,
      `let v = ${hasBias ? `d[${ref(from, run, 2)}]` : "0"};`,
      ...dotTerms(n, "v += d[w + K] * d[x + K];"),
      `d[i] = v;`,
      `gr[i] = 0;`,
    ], false);
  }
  // Sum or gathered Dot: one node, every index written out.
  const p = tape.arg0[run.start], n = tape.arg1[run.start], pool = tape.pool;
  const terms: string[] = [];
  if (op === Op.Sum) {
    for (let k = 0; k < n; k++) terms.push(`d[${local(from, pool[p + k])}]`);
    return `    d[${i}] = 0 + ${terms.join(" + ")};\n    gr[${i}] = 0;`;
  }
  const bias = pool[p];
  for (let k = 1; k <= n; k++) {
    terms.push(
      `d[${local(from, pool[p + k])}] * d[${local(from, pool[p + n + k])}]`,
    );
  }
  const start = bias >= 0 ? `d[${local(from, bias)}]` : "0";
  return `    d[${i}] = ${start} + ${terms.join(" + ")};\n    gr[${i}] = 0;`;
}

function emitBackward(
  tape: Tape,
  from: number,
  run: Run,
  descent?: DescentBlock,
): string {
  const op = tape.op[run.start];
  if (op <= Op.Const || tape.needsGrad[run.start] === 0) return "";
  const need = tape.needsGrad;
  const head = [`const i = ${nodeRef(run)};`, `const g = gr[i];`];
  const skip = run.count > 1 ? "continue;" : "break node;";
  const guard = `if (g === 0) ${skip}`;
  if (isUnary(op)) {
    const a = ref(from, run, 0);
    if (!need[run.refs[0]]) return "";
    return loop(run, [
      ...head,
      guard,
      `const a = ${a};`,
      `gr[a] += g * UD(${op}, d[a], d[i]);`,
    ], true);
  }
  if (isBinary(op)) {
    const body = [
      ...head,
      guard,
      `const a = ${ref(from, run, 0)}, b = ${ref(from, run, 1)};`,
      `const x = d[a], y = d[b], out = d[i];`,
    ];
    if (need[run.refs[0]]) body.push(`gr[a] += g * BA(${op}, x, y, out);`);
    if (need[run.refs[1]]) body.push(`gr[b] += g * BB(${op}, x, y, out);`);
    return loop(run, body, true);
  }
  if (op === Op.DotRange) {
    const n = tape.arg1[run.start];
    const modes = tape.pool[tape.arg0[run.start] + 3];
    const wNeed = modes & 3, xNeed = modes >> 2;
    const body = [
      ...head,
      guard,
      `const w = ${ref(from, run, 0)}, x = ${ref(from, run, 1)};`,
    ];
    const bias = run.refs[2];
    const last = run.count - 1;
    const wFirst = run.refs[0], wLast = wFirst + run.strides[0] * last + n;
    const bLast = bias + run.strides[2] * last;
    const descendW = descent !== undefined && wNeed === 1 &&
      covers(descent, wFirst, wLast);
    const descendB = descent !== undefined && bias >= 0 &&
      covers(descent, Math.min(bias, bLast), Math.max(bias, bLast) + 1);
    if (bias >= 0 && need[bias] && !descendB) {
      body.push(`gr[${ref(from, run, 2)}] += g;`);
    }
    if (wNeed === 1 && !descendW) {
      body.push(...dotTerms(n, "gr[w + K] += g * d[x + K];"));
    }
    if (wNeed === 2) {
      body.push(...dotTerms(n, "if (need[w + K]) gr[w + K] += g * d[x + K];"));
    }
    if (xNeed === 1) body.push(...dotTerms(n, "gr[x + K] += g * d[w + K];"));
    if (xNeed === 2) {
      body.push(...dotTerms(n, "if (need[x + K]) gr[x + K] += g * d[w + K];"));
    }
    // In-place descent comes last: the input gradients above read the
    // weights as they were in the forward pass.
    if (descendW) body.push(...dotTerms(n, "d[w + K] -= lr * (g * d[x + K]);"));
    if (descendB) body.push(`d[${ref(from, run, 2)}] -= lr * g;`);
    return loop(run, body, true);
  }
  const p = tape.arg0[run.start], n = tape.arg1[run.start], pool = tape.pool;
  const lines = [...head, guard];
  if (op === Op.Sum) {
    for (let k = 0; k < n; k++) {
      const j = pool[p + k];
      if (need[j]) lines.push(`gr[${local(from, j)}] += g;`);
    }
  } else {
    const bias = pool[p];
    if (bias >= 0 && need[bias]) lines.push(`gr[${local(from, bias)}] += g;`);
    for (let k = 1; k <= n; k++) {
      const w = pool[p + k], x = pool[p + n + k];
      if (need[w]) {
        lines.push(`gr[${local(from, w)}] += g * d[${local(from, x)}];`);
      }
      if (need[x]) {
        lines.push(`gr[${local(from, x)}] += g * d[${local(from, w)}];`);
      }
    }
  }
  return loop(run, lines, true);
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

/** Where the parts of a batched training step lie on the tape. */
export interface StepLayout {
  /** The first node of sample 0's subgraph. */
  firstSample: number;
  /** Nodes per sample; sample k starts at `firstSample + k * sampleSize`. */
  sampleSize: number;
  /** Number of samples. */
  samples: number;
  /** The loss node: after the samples (or the last node of a lone sample). */
  root: number;
}

/**
 * A training step's graph compiled per sample: one generated function for
 * sample 0's subgraph, looped over every sample, and the interpreter for the
 * few nodes after them (the batch mean, regularisation). Values and gradients
 * are bit-identical to {@linkcode Tape.replay} plus {@linkcode Tape.backward}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompiledStep, Op, Tape } from "./mod.ts";
 * const tape = new Tape();
 * const w = tape.leaf(0.5);
 * const first = tape.size;
 * const terms = [1, 2, 3].map((x) => tape.binary(Op.Mul, w, tape.leaf(x, false)));
 * const root = tape.sum(terms);
 * const step = new CompiledStep(tape, { firstSample: first, sampleSize: 2, samples: 3, root });
 * step.forward();
 * tape.grad[w] = 0;
 * step.backward();
 * assert.equal(tape.data[root], 3);
 * assert.equal(tape.grad[w], 6);
 * ```
 */
export class CompiledStep {
  /** The tape the step runs on. */
  readonly tape: Tape;
  /** Where the samples and the loss lie. */
  readonly layout: StepLayout;
  /** The per-sample program. */
  readonly program: RangeProgram;
  /** The leaves updated in place by {@linkcode CompiledStep.backwardAndDescend}. */
  readonly descent?: DescentBlock;
  private readonly tailStart: number;

  /**
   * Checks that every sample repeats sample 0's structure and compiles it.
   *
   * @param tape The tape holding the recorded step.
   * @param layout Where the samples and the loss lie.
   * @param options `descent`: leaves to update in place during backward
   * (see {@linkcode CompiledStep.backwardAndDescend}).
   * @throws {RangeError} When the layout does not fit the tape, the samples
   * differ in structure, or the descent block is not valid for this step.
   */
  constructor(
    tape: Tape,
    layout: StepLayout,
    options: { descent?: DescentBlock } = {},
  ) {
    const { firstSample, sampleSize, samples, root } = layout;
    for (const [name, x] of Object.entries(layout)) {
      if (!Number.isInteger(x) || x < 0) {
        throw new RangeError(
          `Step layout ${name} must be a non-negative integer, got ${x}`,
        );
      }
    }
    const end = firstSample + samples * sampleSize;
    if (samples < 1 || sampleSize < 1 || end > tape.size || root >= tape.size) {
      throw new RangeError(
        `Step layout does not fit the tape: samples end at ${end}, root ${root}, tape size ${tape.size}`,
      );
    }
    if (root < end - 1) {
      throw new RangeError(
        `Step layout root ${root} must be the last sample node or come after the samples (from ${end})`,
      );
    }
    for (let k = 1; k < samples; k++) {
      if (
        !sameStructure(
          tape,
          firstSample,
          firstSample + sampleSize,
          k * sampleSize,
        )
      ) {
        throw new RangeError(
          `Sample ${k} differs in structure from sample 0; compile needs identical per-sample graphs`,
        );
      }
    }
    const descent = options.descent;
    if (descent !== undefined) checkDescent(tape, layout, descent);
    this.tape = tape;
    this.layout = { firstSample, sampleSize, samples, root };
    this.tailStart = end;
    this.descent = descent && { start: descent.start, count: descent.count };
    this.program = compileRange(
      tape,
      firstSample,
      firstSample + sampleSize,
      this.descent,
    );
  }

  /** Recomputes every value of the step from the current leaves. */
  forward(): void {
    const { sampleSize, samples, root } = this.layout;
    for (let k = 0; k < samples; k++) this.program.forward(k * sampleSize);
    this.tape.replay(this.tailStart, root + 1);
  }

  /**
   * Backpropagates from the loss. Like {@linkcode Tape.backward}, leaf
   * gradients accumulate: zero the parameters' gradients first.
   */
  backward(): void {
    if (this.descent !== undefined) {
      throw new Error(
        "This step was compiled with a descent block; call backwardAndDescend(lr)",
      );
    }
    const { sampleSize, samples, root } = this.layout;
    this.tape.backward(root, this.tailStart);
    for (let k = samples - 1; k >= 0; k--) {
      this.program.backward(k * sampleSize);
    }
  }

  /**
   * Backpropagates from the loss and, in the same pass, applies plain
   * gradient descent `data -= lr · gradient` to the descent block's leaves
   * (their gradients are not stored). The result is bit-identical to zeroing
   * their gradients, {@linkcode CompiledStep.backward} and an SGD step, with
   * one pass over the parameters instead of three.
   *
   * @param lr The learning rate.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { CompiledStep, Op, Tape } from "./mod.ts";
   * const tape = new Tape();
   * const w = tape.leaf(0.5), b = tape.leaf(0.1);
   * const x = tape.leaf(2, false);
   * const y = tape.dotRange(w, x, 1, b); // b + w·x
   * const step = new CompiledStep(
   *   tape,
   *   { firstSample: x, sampleSize: 2, samples: 1, root: y },
   *   { descent: { start: w, count: 2 } },
   * );
   * step.backwardAndDescend(0.1); // dy/dw = x = 2, dy/db = 1
   * assert.equal(tape.data[w], 0.5 - 0.1 * 2);
   * assert.equal(tape.data[b], 0.1 - 0.1 * 1);
   * ```
   */
  backwardAndDescend(lr: number): void {
    if (this.descent === undefined) {
      throw new Error(
        "This step has no descent block; call backward() and update the parameters",
      );
    }
    if (typeof lr !== "number" || !Number.isFinite(lr)) {
      throw new RangeError(`Learning rate must be a finite number, got ${lr}`);
    }
    this.tape.backward(this.layout.root, this.tailStart);
    this.program.backward(0, lr);
  }
}

/**
 * Throws unless every leaf of `block` gets at most one gradient contribution
 * in the step, as the weight or bias of a dot in the (single) sample.
 */
function checkDescent(tape: Tape, layout: StepLayout, block: DescentBlock) {
  const { start, count } = block;
  const fail = (why: string) => {
    throw new RangeError(
      `Cannot descend in place on nodes [${start}, ${start + count}): ${why}`,
    );
  };
  if (
    !Number.isInteger(start) || !Number.isInteger(count) || start < 0 ||
    count < 1 || start + count > tape.size
  ) {
    fail("the block must be a non-empty range of the tape");
  }
  if (layout.samples !== 1) {
    fail(`the step has ${layout.samples} samples sharing them, not 1`);
  }
  for (let j = start; j < start + count; j++) {
    if (tape.op[j] !== Op.Leaf || tape.needsGrad[j] !== 1) {
      fail(`node ${j} is not a leaf that needs a gradient`);
    }
  }
  const sampleEnd = layout.firstSample + layout.sampleSize;
  const uses = new Uint8Array(count);
  for (let i = layout.firstSample; i <= layout.root; i++) {
    if (tape.op[i] <= Op.Const || tape.needsGrad[i] === 0) continue;
    for (const j of tape.inputsOf(i)) {
      if (j < start || j >= start + count) continue;
      const p = tape.arg0[i], n = tape.arg1[i];
      const w = tape.pool[p], bias = tape.pool[p + 2];
      const asWeight = tape.op[i] === Op.DotRange && j >= w && j < w + n &&
        (tape.pool[p + 3] & 3) === 1;
      const asBias = tape.op[i] === Op.DotRange && j === bias;
      if (i >= sampleEnd || !(asWeight || asBias)) {
        fail(
          `node ${j} is used by node ${i} (${
            tape.op[i] === Op.DotRange ? "as a dot input" : "not a dot"
          })`,
        );
      }
      if (++uses[j - start] > 1) fail(`node ${j} gets more than one gradient`);
    }
  }
}
