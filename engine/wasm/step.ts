/**
 * A WebAssembly SIMD backend for a batched training step: one sample's
 * recorded subgraph (the input the JavaScript compiler takes) becomes a
 * module whose dense layers (runs of `DotRange` nodes over contiguous
 * ranges) are vectorised `f64x2` (or `f32x4`) loops over several samples at
 * once, for the forward pass, the weight gradients and the input gradients.
 * Other ops follow the JavaScript compiler in scalar wasm; ops that wasm has
 * no instruction for (`exp`, `log`, `tanh`, `pow`…) call back into
 * {@linkcode unaryForward} and friends, so they round exactly as the
 * interpreter does.
 *
 * The module keeps its own copy of the step's values and gradients in its
 * memory. Every forward pass copies the shared inputs (the parameters) in
 * from the tape; the backward pass adds the parameters' gradients to the
 * tape's. Or the module owns a block of parameters
 * (`options.parameters`): they stay in its memory, their gradients too, a
 * plain SGD step updates them there ({@linkcode WasmStep.descend}) and the
 * tape gets them back when asked ({@linkcode WasmStep.storeParameters}).
 * {@linkcode WasmStep.forwardSamples} and {@linkcode WasmStep.backwardSamples}
 * run only the first samples, for mini-batches in fixed slots. SIMD changes the order of the sums, so results are not
 * bit-identical to the interpreter: in float64 they agree to about 1e-13
 * relative. In float32 the copy in memory is float32 (the tape stays
 * float64): values and gradients carry float32 rounding, about 1e-7
 * relative per op.
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
} from "../ops.ts";
import type { Tape } from "../tape.ts";
import type { StepLayout } from "../compiled_step.ts";
import { checkStepLayout } from "../_step_layout.ts";
import {
  Body,
  encodeModule,
  type FuncDef,
  type FuncImport,
  relaxedSimdAvailable,
  simdAvailable,
  ValType,
  type ValTypeCode,
} from "./encoder.ts";

/** The number format of a {@linkcode WasmStep}'s memory. */
export type WasmPrecision = "float64" | "float32";

/** Options for {@linkcode WasmStep}. */
export interface WasmStepOptions {
  /** `"float64"` (default, `f64x2`) or `"float32"` (`f32x4`). */
  precision?: WasmPrecision;
  /**
   * Use relaxed-SIMD fused multiply-add (default: when the runtime has it).
   * `false` forces plain SIMD multiply then add.
   */
  relaxed?: boolean;
  /**
   * Sample-relative offsets of the nodes that code after the samples reads
   * (the outputs a loss is recorded over): {@linkcode WasmStep.forwardSamples}
   * copies them to the tape and {@linkcode WasmStep.backwardSamples} reads
   * their gradients from it. Default: the sample nodes the nodes after the
   * samples, up to the root, read.
   */
  outputs?: readonly number[];
  /**
   * A contiguous block of parameters (nodes before the samples) the module
   * keeps as its own: loaded once from the tape
   * ({@linkcode WasmStep.loadParameters}), updated in the module's memory by
   * {@linkcode WasmStep.descend} and written back to the tape only when
   * {@linkcode WasmStep.storeParameters} is called. Their gradients stay in
   * the module too. In float32 the copy is float32.
   */
  parameters?: { start: number; count: number };
}

/**
 * Thrown by {@linkcode WasmStep} when the runtime lacks WebAssembly SIMD or
 * the step holds nodes the backend does not cover; callers fall back to the
 * JavaScript compiler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WasmUnsupportedError } from "@tapegrad/tapegrad/engine";
 * const error = new WasmUnsupportedError("no SIMD");
 * assert.equal(error.message, "no SIMD");
 * assert.ok(error instanceof Error);
 * ```
 */
export class WasmUnsupportedError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is not supported.
   */
  constructor(message: string) {
    super(message);
    this.name = "WasmUnsupportedError";
  }
}

let simdOverride: boolean | undefined;

/**
 * Whether the wasm backend can run here: WebAssembly with 128-bit SIMD.
 *
 * @returns `true` when {@linkcode WasmStep} can be built.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmSimdAvailable } from "@tapegrad/tapegrad/engine";
 * assert.equal(wasmSimdAvailable(), true); // Deno's V8
 * ```
 */
export function wasmSimdAvailable(): boolean {
  return simdOverride ?? simdAvailable();
}

/**
 * Forces SIMD detection on or off (`undefined` restores it): for tests of
 * the fallback on runtimes without SIMD.
 *
 * @param available The value {@linkcode wasmSimdAvailable} reports.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forceWasmSimd, wasmSimdAvailable } from "@tapegrad/tapegrad/engine";
 * forceWasmSimd(false);
 * assert.equal(wasmSimdAvailable(), false);
 * forceWasmSimd(undefined);
 * assert.equal(wasmSimdAvailable(), true);
 * ```
 */
export function forceWasmSimd(available: boolean | undefined): void {
  simdOverride = available;
}

/** A run of consecutive alike nodes whose inputs advance by fixed strides. */
interface Run {
  start: number;
  count: number;
  kind: "leaf" | "unary" | "binary" | "dot" | "single";
  refs: number[];
  strides: number[];
}

const { I32, F64, V128 } = ValType;

// Locals of the generated functions (after the parameter n = 0).
const N = 0, S = 1, BASE = 2, PO = 3, PW = 4, PB = 5, PK = 6, PA = 7, PX = 8;
const JJ = 9;
const F = 10; // f64 locals F … F + 11
const X = F + 8, Y = F + 9, OUT = F + 10, G = F + 11;
const V = F + 12; // v128 locals: V … V + 3 accumulators, V + 4 … V + 7 splats
const WV = V + 8, DW = V + 9;
// The second neuron of a pair: accumulators or splats, weights, gradients.
const V2 = V + 10, WV2 = V + 18, DW2 = V + 19;
const LOCALS = [
  ...Array(9).fill(I32),
  ...Array(12).fill(F64),
  ...Array(20).fill(V128),
];
/** Unary ops computed by wasm instructions; the others call JavaScript. */
const NATIVE_UNARY: readonly number[] = [Op.Neg, Op.Abs, Op.Sqrt, Op.Relu];
/** The import that maps a unary op over a run of every sample. */
const MAP = 5;
/** Samples processed together by a dense layer's loops. */
const BLOCK = 4;

/**
 * A training step's per-sample graph compiled to WebAssembly SIMD. Use it
 * as {@linkcode CompiledStep}: `forward()`, zero the parameters' gradients,
 * `backward()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, Tape } from "@tapegrad/tapegrad/engine";
 * import { WasmStep } from "@tapegrad/tapegrad/engine";
 * const tape = new Tape();
 * const w = tape.leaf(0.5), b = tape.leaf(0.25);
 * const first = tape.size;
 * const outs = [1, 2, 3].map((x) => {
 *   const input = tape.leaf(x, false);
 *   return tape.unary(Op.Tanh, tape.dotRange(w, input, 1, b));
 * });
 * const root = tape.sum(outs);
 * const step = new WasmStep(tape, { firstSample: first, sampleSize: 3, samples: 3, root });
 * step.forward();
 * tape.grad[w] = 0;
 * step.backward();
 * const expected = [1, 2, 3].reduce((s, x) => s + Math.tanh(0.5 * x + 0.25), 0);
 * assert.ok(Math.abs(tape.data[root] - expected) < 1e-15);
 * ```
 */
export class WasmStep {
  /** The tape the step runs on. */
  readonly tape: Tape;
  /** Where the samples and the loss lie. */
  readonly layout: StepLayout;
  /** The number format of the module's memory. */
  readonly precision: WasmPrecision;
  /** Whether the module uses relaxed-SIMD fused multiply-add. */
  readonly relaxed: boolean;
  /** The module's bytes, for inspection. */
  readonly bytes: Uint8Array;
  /** Multiply-adds of the dense layers per sample (forward pass). */
  readonly denseMacs: number;
  private readonly data: Float64Array | Float32Array;
  private readonly grad: Float64Array | Float32Array;
  private readonly run: {
    forward(n: number): void;
    backward(n: number): void;
    descend?(lr: number, twoAlpha: number): number;
    norm?(): number;
  };
  private readonly shared: [number, number][];
  private readonly sampleLeaves: Int32Array;
  private readonly tailInputs: Int32Array;
  private readonly tailStart: number;
  private readonly samples: number;
  private readonly resident?: { start: number; count: number };
  private norm = 0;

  /**
   * Checks the layout and the ops, and compiles the module.
   *
   * @param tape The tape holding the recorded step.
   * @param layout Where the samples and the loss lie.
   * @param options Precision and fused multiply-add.
   * @throws {WasmUnsupportedError} When SIMD is missing or an op is not
   * covered.
   * @throws {RangeError} When the layout does not fit the tape or the
   * samples differ in structure.
   */
  constructor(tape: Tape, layout: StepLayout, options: WasmStepOptions = {}) {
    const { firstSample, sampleSize, samples, root } = layout;
    checkStepLayout(tape, layout);
    const end = firstSample + samples * sampleSize;
    const precision = options.precision ?? "float64";
    if (precision !== "float64" && precision !== "float32") {
      throw new RangeError(
        `Unknown precision ${
          JSON.stringify(precision)
        }; expected float64 or float32`,
      );
    }
    if (!wasmSimdAvailable()) {
      throw new WasmUnsupportedError(
        "This runtime has no WebAssembly SIMD; use the JavaScript compiler",
      );
    }
    const relaxed = (options.relaxed ?? true) && relaxedSimdAvailable();
    const from = firstSample, to = firstSample + sampleSize;
    const runs = findRuns(tape, from, to);
    const resident = options.parameters;
    if (resident !== undefined) {
      const { start, count } = resident;
      if (
        !Number.isInteger(start) || !Number.isInteger(count) || start < 0 ||
        count < 1 || start + count > firstSample
      ) {
        throw new RangeError(
          `Resident parameters must be a block of nodes before the samples (from ${firstSample}), got start ${start} count ${count}`,
        );
      }
    }
    // Shared nodes the module owns are not copied in every step.
    const shared = sharedRanges(tape, from, to).flatMap(([a, b]) => {
      if (resident === undefined) return [[a, b]] as [number, number][];
      const s = resident.start, e = s + resident.count;
      const out: [number, number][] = [];
      if (a < s) out.push([a, Math.min(b, s)]);
      if (b > e) out.push([Math.max(a, e), b]);
      return out;
    });
    const memEnd = end;
    const E = precision === "float64" ? 8 : 4;
    const gradBase = Math.ceil((memEnd * E) / 16) * 16 + 16;
    const gen = new Gen(tape, from, sampleSize, E, gradBase, relaxed);
    const forward = new Body(), backward = new Body();
    gen.body = forward;
    for (const run of runs) gen.forward(run);
    gen.body = backward;
    for (let r = runs.length - 1; r >= 0; r--) gen.backward(runs[r]);
    const scalar: { name: string; params: ValTypeCode[] }[] = [
      { name: "u", params: [I32, F64] },
      { name: "ud", params: [I32, F64, F64] },
      { name: "b", params: [I32, F64, F64] },
      { name: "ba", params: [I32, F64, F64, F64] },
      { name: "bb", params: [I32, F64, F64, F64] },
    ];
    const imports: FuncImport[] = scalar.map((f) => ({
      module: "ops",
      name: f.name,
      type: { params: f.params, results: [F64] },
    }));
    imports.push({
      module: "ops",
      name: "map",
      type: { params: [I32, I32, I32, I32, I32], results: [] },
    });
    const type = { params: [I32], results: [] };
    const functions: FuncDef[] = [
      { type, locals: LOCALS, body: forward, export: "forward" },
      { type, locals: LOCALS, body: backward, export: "backward" },
    ];
    if (resident !== undefined) {
      functions.push(
        descendFunction(resident, E, gradBase, relaxed),
        normFunction(resident, E),
      );
    }
    const bytes = encodeModule({
      imports,
      functions,
      memoryPages: Math.ceil((2 * gradBase + 16) / 65536),
    });
    // y[o + j] = f(x[a + j]) for j < count in every sample s < n, indices
    // relative to sample 0's first node; the view is set once instantiated.
    let view: Float64Array | Float32Array = new Float64Array(0);
    const map = (
      op: number,
      a: number,
      o: number,
      count: number,
      n: number,
    ) => {
      const d = view;
      for (let s = 0; s < n; s++) {
        const x = firstSample + a + s * sampleSize;
        const y = firstSample + o + s * sampleSize;
        for (let j = 0; j < count; j++) d[y + j] = unaryForward(op, d[x + j]);
      }
    };
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
        ops: {
          u: unaryForward,
          ud: unaryDerivative,
          b: binaryForward,
          ba: binaryDerivativeA,
          bb: binaryDerivativeB,
          map,
        },
      });
    } catch (error) {
      throw new WasmUnsupportedError(
        `The generated module did not compile: ${(error as Error).message}`,
      );
    }
    const buffer = (instance.exports.memory as WebAssembly.Memory)
      .buffer as ArrayBuffer;
    const Arr = precision === "float64" ? Float64Array : Float32Array;
    this.data = new Arr(buffer, 0, memEnd);
    this.grad = new Arr(buffer, gradBase, memEnd);
    view = this.data;
    this.run = instance.exports as unknown as WasmStep["run"];
    this.tape = tape;
    this.layout = { firstSample, sampleSize, samples, root };
    this.precision = precision;
    this.relaxed = relaxed;
    this.bytes = bytes;
    this.denseMacs = runs.reduce(
      (m, r) => m + (r.kind === "dot" ? r.count * tape.arg1[r.start] : 0),
      0,
    );
    this.shared = shared;
    const leaves: number[] = [];
    for (const r of runs) {
      if (r.kind !== "leaf") continue;
      for (let k = 0; k < r.count; k++) leaves.push(r.start - from + k);
    }
    this.sampleLeaves = Int32Array.from(leaves);
    this.tailStart = end;
    this.samples = samples;
    this.tailInputs = options.outputs === undefined
      ? tailInputs(tape, from, end, root)
      : sampleOutputs(options.outputs, firstSample, sampleSize, samples);
    this.resident = resident && { ...resident };
    if (resident !== undefined) this.loadParameters();
  }

  /** Recomputes every value of the step from the current leaves. */
  forward(): void {
    this.forwardSamples(this.samples);
    this.tape.replay(this.tailStart, this.layout.root + 1);
  }

  /**
   * Backpropagates from the loss. Like {@linkcode Tape.backward}, leaf
   * gradients accumulate: zero the parameters' gradients first. Resident
   * parameters keep theirs in the module, for {@linkcode WasmStep.descend}.
   */
  backward(): void {
    const tape = this.tape, outputs = this.tailInputs;
    for (let k = 0; k < outputs.length; k++) tape.grad[outputs[k]] = 0;
    tape.backward(this.layout.root, this.tailStart);
    this.backwardSamples(this.samples);
  }

  /**
   * Runs the forward pass of the first `n` samples only (a mini-batch in
   * fixed slots): copies the shared inputs (but resident parameters) and
   * the samples' leaves in from the tape, and the outputs out to it.
   *
   * @param n How many samples, from the first (at most `layout.samples`).
   * @throws {RangeError} When `n` is not an integer from 0 to the samples.
   */
  forwardSamples(n: number): void {
    this.checkCount(n);
    const tape = this.tape, data = this.data, tapeData = tape.data;
    const { firstSample, sampleSize } = this.layout;
    for (const [a, b] of this.shared) {
      if (b - a > 16) data.set(tapeData.subarray(a, b), a);
      else for (let i = a; i < b; i++) data[i] = tapeData[i];
    }
    const leaves = this.sampleLeaves;
    for (let s = 0; s < n; s++) {
      const base = firstSample + s * sampleSize;
      for (let k = 0; k < leaves.length; k++) {
        const i = base + leaves[k];
        data[i] = tapeData[i];
      }
    }
    this.run.forward(n);
    const outputs = this.tailInputs, last = firstSample + n * sampleSize;
    for (let k = 0; k < outputs.length; k++) {
      const i = outputs[k];
      if (i >= last && i < this.tailStart) break;
      tapeData[i] = data[i];
    }
    this.grad.fill(0, firstSample, last);
  }

  /**
   * Backpropagates through the first `n` samples from the gradients the
   * tape holds at their outputs (after {@linkcode WasmStep.forwardSamples}
   * with the same `n`). Gradients of shared inputs are added to the tape's,
   * but resident parameters' stay in the module.
   *
   * @param n How many samples, from the first.
   * @throws {RangeError} When `n` is not an integer from 0 to the samples.
   */
  backwardSamples(n: number): void {
    this.checkCount(n);
    const tape = this.tape, grad = this.grad, tapeGrad = tape.grad;
    const outputs = this.tailInputs;
    const last = this.layout.firstSample + n * this.layout.sampleSize;
    for (let k = 0; k < outputs.length; k++) {
      const i = outputs[k];
      if (i >= last && i < this.tailStart) break;
      grad[i] = tapeGrad[i];
    }
    for (const [a, b] of this.shared) grad.fill(0, a, b);
    this.run.backward(n);
    const need = tape.needsGrad;
    for (const [a, b] of this.shared) {
      for (let i = a; i < b; i++) if (need[i]) tapeGrad[i] += grad[i];
    }
  }

  /**
   * Copies the resident parameters from the tape into the module (after
   * they were changed on the tape), and zeroes their gradients there.
   *
   * @throws {Error} When the step has no resident parameters.
   */
  loadParameters(): void {
    const { start, count } = this.residentBlock();
    // set() converts float64 to float32 natively, far faster than a loop.
    this.data.set(this.tape.data.subarray(start, start + count), start);
    this.grad.fill(0, start, start + count);
    this.norm = this.run.norm!();
  }

  /**
   * Writes the resident parameters from the module to the tape (widened to
   * float64 in float32 mode).
   *
   * @throws {Error} When the step has no resident parameters.
   */
  storeParameters(): void {
    const { start, count } = this.residentBlock();
    this.tape.data.set(this.data.subarray(start, start + count), start);
  }

  /**
   * One plain SGD update of the resident parameters in the module, from the
   * gradients backward passes left there plus an L2 term:
   * `p -= lr * (g + 2 * alpha * p)`; the gradients are then zeroed.
   *
   * @param lr The learning rate.
   * @param alpha The L2 strength (the loss holds `alpha * Σ p²`).
   * @throws {Error} When the step has no resident parameters.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Op, Tape, WasmStep } from "@tapegrad/tapegrad/engine";
   * const tape = new Tape();
   * const w = tape.leaf(0.5), b = tape.leaf(0.25);
   * const first = tape.size;
   * const outs = [1, 2].map((x) =>
   *   tape.dotRange(w, tape.leaf(x, false), 1, b)
   * );
   * const root = tape.sum(outs); // 0.5·1 + 0.25 + 0.5·2 + 0.25
   * const step = new WasmStep(
   *   tape,
   *   { firstSample: first, sampleSize: 2, samples: 2, root },
   *   { parameters: { start: w, count: 2 } },
   * );
   * step.forward();
   * step.backward(); // d/dw = 1 + 2, d/db = 2, kept in the module
   * step.descend(0.1);
   * assert.equal(tape.data[w], 0.5); // the tape is written on request
   * step.storeParameters();
   * assert.ok(Math.abs(tape.data[w] - (0.5 - 0.1 * 3)) < 1e-15);
   * assert.ok(Math.abs(tape.data[b] - (0.25 - 0.1 * 2)) < 1e-15);
   * ```
   */
  descend(lr: number, alpha = 0): void {
    this.residentBlock();
    this.norm = this.run.descend!(lr, 2 * alpha);
  }

  /**
   * `Σ p²` over the resident parameters as they are now in the module (the
   * L2 term the loss adds, before its strength).
   *
   * @returns The sum of squares.
   * @throws {Error} When the step has no resident parameters.
   */
  squaredNorm(): number {
    this.residentBlock();
    return this.norm;
  }

  /** Throws unless `n` counts samples of the layout. */
  private checkCount(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.samples) {
      throw new RangeError(
        `Sample count must be an integer from 0 to ${this.samples}, got ${n}`,
      );
    }
  }

  /** The resident block, or an error when the step has none. */
  private residentBlock(): { start: number; count: number } {
    if (this.resident === undefined) {
      throw new Error(
        "This WasmStep keeps no parameters of its own; pass options.parameters",
      );
    }
    return this.resident;
  }

  /**
   * Copies every value of the samples from the module's memory to the tape
   * (the forward pass writes only the nodes the loss reads), e.g. before
   * {@linkcode Tape.findNonFinite}.
   */
  writeBack(): void {
    const { firstSample, sampleSize } = this.layout;
    const end = firstSample + this.samples * sampleSize;
    for (let i = firstSample; i < end; i++) this.tape.data[i] = this.data[i];
  }
}

/** Absolute indices of every sample's output nodes, ascending. */
function sampleOutputs(
  offsets: readonly number[],
  firstSample: number,
  sampleSize: number,
  samples: number,
): Int32Array {
  const sorted = [...new Set(offsets)].sort((a, b) => a - b);
  for (const o of sorted) {
    if (!Number.isInteger(o) || o < 0 || o >= sampleSize) {
      throw new RangeError(
        `Output offsets must be integers from 0 to ${sampleSize - 1}, got ${o}`,
      );
    }
  }
  const out = new Int32Array(sorted.length * samples);
  for (let s = 0; s < samples; s++) {
    sorted.forEach((o, k) => {
      out[s * sorted.length + k] = firstSample + s * sampleSize + o;
    });
  }
  return out;
}

/**
 * `descend(lr, twoAlpha) → Σp²`: p -= lr·(g + twoAlpha·p), g = 0 over the
 * resident block, vectorised, returning the new sum of squares.
 */
function descendFunction(
  block: { start: number; count: number },
  E: number,
  gradBase: number,
  relaxed: boolean,
): FuncDef {
  const b = new Body(), f32 = E === 4, L = 16 / E;
  const LR = 0, TA = 1, P = 2, ACC = 3, XS = 4, GS = 5;
  const VLR = 6, VTA = 7, VACC = 8, VW = 9, VG = 10;
  const vec = block.count - (block.count % L);
  const base = block.start * E;
  const splat = () => f32 ? b.f32DemoteF64().f32x4Splat() : b.f64x2Splat();
  const vmul = () => f32 ? b.f32x4Mul() : b.f64x2Mul();
  const vadd = () => f32 ? b.f32x4Add() : b.f64x2Add();
  const vsub = () => f32 ? b.f32x4Sub() : b.f64x2Sub();
  b.localGet(LR);
  splat();
  b.localSet(VLR).localGet(TA);
  splat();
  b.localSet(VTA).f64Const(0);
  splat();
  b.localSet(VACC).f64Const(0).localSet(ACC);
  if (vec > 0) {
    b.i32Const(base).localSet(P).loop();
    b.localGet(P).v128Load(0).localSet(VW);
    // g += twoAlpha · p
    b.localGet(VTA).localGet(VW);
    if (relaxed) {
      b.localGet(P).v128Load(gradBase);
      if (f32) b.f32x4RelaxedMadd();
      else b.f64x2RelaxedMadd();
    } else {
      vmul();
      b.localGet(P).v128Load(gradBase);
      vadd();
    }
    b.localSet(VG);
    // p -= lr · g, as the optimizer's statement (no fusing)
    b.localGet(VW).localGet(VLR).localGet(VG);
    vmul();
    vsub();
    b.localTee(VW);
    b.localGet(P).localGet(VW).v128Store(0);
    b.localGet(P).f64Const(0);
    splat();
    b.v128Store(gradBase);
    b.localGet(VW);
    vmul();
    b.localGet(VACC);
    vadd();
    b.localSet(VACC);
    b.localGet(P).i32Const(16).i32Add().localTee(P)
      .i32Const(base + vec * E).i32LtS().brIf(0).end();
  }
  const load = (off: number) => {
    b.i32Const(0);
    if (f32) b.f32Load(off).f64PromoteF32();
    else b.f64Load(off);
  };
  const store = (off: number, value: () => void) => {
    b.i32Const(0);
    value();
    if (f32) b.f32DemoteF64().f32Store(off);
    else b.f64Store(off);
  };
  for (let k = vec; k < block.count; k++) {
    const off = base + k * E;
    load(off);
    b.localSet(XS);
    load(gradBase + off);
    b.localGet(TA).localGet(XS).f64Mul().f64Add().localSet(GS);
    store(
      off,
      () => b.localGet(XS).localGet(LR).localGet(GS).f64Mul().f64Sub(),
    );
    store(gradBase + off, () => b.f64Const(0));
    load(off);
    b.localTee(XS).localGet(XS).f64Mul().localGet(ACC).f64Add().localSet(ACC);
  }
  sumLanes(b, VACC, f32);
  b.localGet(ACC).f64Add();
  return {
    type: { params: [F64, F64], results: [F64] },
    locals: [I32, F64, F64, F64, V128, V128, V128, V128, V128],
    body: b,
    export: "descend",
  };
}

/** `norm() → Σp²` over the resident block. */
function normFunction(
  block: { start: number; count: number },
  E: number,
): FuncDef {
  const b = new Body(), f32 = E === 4, L = 16 / E;
  const P = 0, ACC = 1, VACC = 2, VW = 3, XS = 4;
  const vec = block.count - (block.count % L);
  const base = block.start * E;
  b.f64Const(0);
  if (f32) b.f32DemoteF64().f32x4Splat();
  else b.f64x2Splat();
  b.localSet(VACC).f64Const(0).localSet(ACC);
  if (vec > 0) {
    b.i32Const(base).localSet(P).loop();
    b.localGet(P).v128Load(0).localTee(VW).localGet(VW);
    if (f32) b.f32x4Mul().localGet(VACC).f32x4Add();
    else b.f64x2Mul().localGet(VACC).f64x2Add();
    b.localSet(VACC);
    b.localGet(P).i32Const(16).i32Add().localTee(P)
      .i32Const(base + vec * E).i32LtS().brIf(0).end();
  }
  for (let k = vec; k < block.count; k++) {
    b.i32Const(0);
    if (f32) b.f32Load(base + k * E).f64PromoteF32();
    else b.f64Load(base + k * E);
    b.localTee(XS).localGet(XS).f64Mul().localGet(ACC).f64Add().localSet(ACC);
  }
  sumLanes(b, VACC, f32);
  b.localGet(ACC).f64Add();
  return {
    type: { params: [], results: [F64] },
    locals: [I32, F64, V128, V128, F64],
    body: b,
    export: "norm",
  };
}

function sumLanes(b: Body, v: number, f32: boolean): void {
  const lanes = f32 ? 4 : 2;
  for (let l = 0; l < lanes; l++) {
    b.localGet(v);
    if (f32) b.f32x4ExtractLane(l).f64PromoteF32();
    else b.f64x2ExtractLane(l);
    if (l > 0) b.f64Add();
  }
}

/** Tape nodes below `from` that the sample reads, as merged [start, end). */
function sharedRanges(
  tape: Tape,
  from: number,
  to: number,
): [number, number][] {
  const ranges: [number, number][] = [];
  for (let i = from; i < to; i++) {
    const op = tape.op[i];
    if (op === Op.DotRange) {
      const p = tape.arg0[i], n = tape.arg1[i], pool = tape.pool;
      for (
        const [x, len] of [[pool[p], n], [pool[p + 1], n], [pool[p + 2], 1]]
      ) {
        if (x >= 0 && x < from) ranges.push([x, x + len]);
      }
    } else {
      for (const x of tape.inputsOf(i)) if (x < from) ranges.push([x, x + 1]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r[0] <= last[1]) {
      last[1] = Math.max(last[1], r[1]);
    } else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** Sample nodes the tail after the samples reads (and a root inside them). */
function tailInputs(tape: Tape, from: number, end: number, root: number) {
  const seen = new Set<number>();
  if (root < end) seen.add(root);
  for (let i = end; i <= root; i++) {
    for (const x of tape.inputsOf(i)) if (x >= from && x < end) seen.add(x);
  }
  return Int32Array.from([...seen].sort((a, b) => a - b));
}

function describe(
  tape: Tape,
  from: number,
  i: number,
): { key: string; refs: number[]; kind: Run["kind"] } {
  const op = tape.op[i], a = tape.arg0[i], b = tape.arg1[i];
  const need = tape.needsGrad;
  const where = (x: number) => (x < 0 ? "N" : x >= from ? "L" : "G");
  if (op <= Op.Const) {
    if (need[i]) {
      throw new WasmUnsupportedError(
        `Node ${i} is a leaf inside the sample that needs a gradient; the wasm backend takes parameters only before the samples`,
      );
    }
    return { key: "leaf", refs: [], kind: "leaf" };
  }
  if (isUnary(op)) {
    return {
      key: `u${op}:${need[i]}:${need[a]}:${where(a)}`,
      refs: [a],
      kind: "unary",
    };
  }
  if (isBinary(op)) {
    return {
      key: `b${op}:${need[i]}:${need[a]}${need[b]}:${where(a)}${where(b)}`,
      refs: [a, b],
      kind: "binary",
    };
  }
  if (op === Op.DotRange) {
    const p = tape.arg0[i], pool = tape.pool;
    const w = pool[p], x = pool[p + 1], bias = pool[p + 2];
    const modes = pool[p + 3];
    if (
      where(w) !== "G" || where(x) !== "L" || where(bias) === "L" ||
      (modes & 3) === 2 || modes >> 2 === 2
    ) {
      throw new WasmUnsupportedError(
        `Dot node ${i} is not a dense layer over shared weights and sample inputs; the wasm backend does not cover it`,
      );
    }
    return {
      key: `r${b}:${modes}:${need[i]}:${bias >= 0 ? need[bias] : "-"}`,
      refs: [w, x, bias],
      kind: "dot",
    };
  }
  if (op === Op.Sum || op === Op.Dot) {
    return { key: `single${i}`, refs: [], kind: "single" };
  }
  throw new WasmUnsupportedError(
    `Op ${op} at node ${i} is not covered by the wasm backend`,
  );
}

function findRuns(tape: Tape, from: number, to: number): Run[] {
  const runs: Run[] = [];
  let i = from;
  while (i < to) {
    const first = describe(tape, from, i);
    const run: Run = {
      start: i,
      count: 1,
      kind: first.kind,
      refs: first.refs,
      strides: first.refs.map(() => 0),
    };
    if (first.kind !== "single") {
      while (i + run.count < to) {
        const next = describe(tape, from, i + run.count);
        if (next.key !== first.key) break;
        const strides = next.refs.map((r, k) => r - first.refs[k]);
        if (run.count === 1) {
          if (first.kind === "dot" && strides[1] !== 0) break;
          run.strides = strides;
        } else if (
          !strides.every((s, k) => s === run.strides[k] * run.count)
        ) break;
        run.count++;
      }
    }
    runs.push(run);
    i += run.count;
  }
  return runs;
}

/** Emits the instructions of one step's runs into a body. */
class Gen {
  body: Body = new Body();
  private readonly f32: boolean;
  private readonly lanes: number;

  constructor(
    private readonly tape: Tape,
    private readonly from: number,
    private readonly size: number,
    private readonly E: number,
    private readonly gradBase: number,
    private readonly relaxed: boolean,
  ) {
    this.f32 = E === 4;
    this.lanes = 16 / E;
  }

  // ------------------------------------------------------------ primitives

  /** [addr] → [f64]. */
  private load(offset: number): void {
    if (this.f32) this.body.f32Load(offset).f64PromoteF32();
    else this.body.f64Load(offset);
  }
  /** [addr, f64] → []. */
  private store(offset: number): void {
    if (this.f32) this.body.f32DemoteF64().f32Store(offset);
    else this.body.f64Store(offset);
  }
  /** [f64] → [v128]. */
  private splat(): void {
    if (this.f32) this.body.f32DemoteF64().f32x4Splat();
    else this.body.f64x2Splat();
  }
  /** a·b + c, each pushing one vector. */
  private madd(a: () => void, b: () => void, c: () => void): void {
    a();
    b();
    if (this.relaxed) {
      c();
      if (this.f32) this.body.f32x4RelaxedMadd();
      else this.body.f64x2RelaxedMadd();
    } else {
      if (this.f32) this.body.f32x4Mul();
      else this.body.f64x2Mul();
      c();
      if (this.f32) this.body.f32x4Add();
      else this.body.f64x2Add();
    }
  }
  /** [v128] in local `v` → [f64]: the sum of its lanes. */
  private lanesSum(v: number): void {
    const b = this.body;
    for (let l = 0; l < this.lanes; l++) {
      b.localGet(v);
      if (this.f32) b.f32x4ExtractLane(l).f64PromoteF32();
      else b.f64x2ExtractLane(l);
      if (l > 0) b.f64Add();
    }
  }
  private data(i: number): number {
    return i * this.E;
  }
  private grad(i: number): number {
    return this.gradBase + i * this.E;
  }
  /** The byte offset of sample `b`'s node `i` (sample 0 coordinates). */
  private local(i: number, b = 0): number {
    return (i + b * this.size) * this.E;
  }

  /**
   * Loops over the samples, `block` at a time while that many remain, then
   * one at a time; `emit(b)` writes the code for `b` samples at `BASE`.
   */
  private overSamples(emit: (samples: number) => void, block: number): void {
    const b = this.body, stride = this.size * this.E;
    b.i32Const(0).localSet(S);
    const pass = (k: number) => {
      b.block().loop();
      b.localGet(S).i32Const(k).i32Add().localGet(N).i32GtS().brIf(1);
      b.localGet(S).i32Const(stride).i32Mul().localSet(BASE);
      emit(k);
      b.localGet(S).i32Const(k).i32Add().localSet(S);
      b.br(0).end().end();
    };
    if (block > 1) pass(block);
    pass(1);
  }

  /**
   * Loops over `count` neurons two at a time (`emit(2)`), then the odd one
   * (`emit(1)`), with PO = j·E, PW = j·dw, PB = j·db for the first of them:
   * a pair shares every load of the samples' inputs.
   */
  private overNeurons(
    count: number,
    steps: { pw: number; pb: number },
    emit: (neurons: number) => void,
  ): void {
    const b = this.body, pairs = count >> 1;
    b.i32Const(0).localSet(PO).i32Const(0).localSet(PW).i32Const(0)
      .localSet(PB);
    if (pairs > 0) {
      b.loop();
      emit(2);
      b.localGet(PO).i32Const(2 * this.E).i32Add().localSet(PO);
      b.localGet(PW).i32Const(2 * steps.pw).i32Add().localSet(PW);
      b.localGet(PB).i32Const(2 * steps.pb).i32Add().localSet(PB);
      b.localGet(PO).i32Const(2 * pairs * this.E).i32LtS().brIf(0);
      b.end();
    }
    if (count % 2 === 1) emit(1);
  }

  /** [] → [addr]: the address base of ref `k` of an element-wise run. */
  private refAddress(run: Run, k: number): number {
    const b = this.body, r = run.refs[k], st = run.strides[k];
    const isLocal = r >= this.from;
    if (isLocal) b.localGet(BASE);
    else b.i32Const(0);
    if (st !== 0 && run.count > 1) {
      b.localGet(JJ).i32Const(st * this.E).i32Mul().i32Add();
    }
    return isLocal ? this.local(r) : this.data(r);
  }
  private refGradOffset(run: Run, k: number): number {
    const r = run.refs[k];
    return r >= this.from ? this.gradBase + this.local(r) : this.grad(r);
  }
  private nodeAddress(run: Run): number {
    const b = this.body;
    b.localGet(BASE);
    if (run.count > 1) b.localGet(JJ).i32Const(this.E).i32Mul().i32Add();
    return this.local(run.start);
  }

  /** Loops JJ over a run's nodes (or emits once for one node). */
  private overRun(run: Run, emit: () => void): void {
    const b = this.body;
    if (run.count === 1) {
      b.i32Const(0).localSet(JJ);
      emit();
      return;
    }
    b.i32Const(0).localSet(JJ).loop();
    emit();
    b.localGet(JJ).i32Const(1).i32Add().localTee(JJ).i32Const(run.count)
      .i32LtS().brIf(0).end();
  }

  // --------------------------------------------------------------- forward

  /**
   * Whether a unary run has no wasm instruction (`exp`, `tanh`…) and reads
   * consecutive sample nodes: then JavaScript maps it in one call.
   */
  private mapsInJs(run: Run): boolean {
    const op = this.tape.op[run.start];
    return !NATIVE_UNARY.includes(op) && run.refs[0] >= this.from &&
      (run.count === 1 || run.strides[0] === 1);
  }

  forward(run: Run): void {
    switch (run.kind) {
      case "leaf":
        return;
      case "dot":
        return this.overSamples((k) => this.dotForward(run, k), BLOCK);
      case "unary":
        if (this.reluVector(run)) {
          return this.overSamples(() => this.reluForward(run), 1);
        }
        if (this.mapsInJs(run)) {
          // One call into JavaScript for the whole run over every sample:
          // far cheaper than a call per element.
          this.body.i32Const(this.tape.op[run.start])
            .i32Const(run.refs[0] - this.from)
            .i32Const(run.start - this.from)
            .i32Const(run.count).localGet(N).call(MAP);
          return;
        }
        return this.overSamples(
          () => this.overRun(run, () => this.elementForward(run)),
          1,
        );
      case "binary":
        return this.overSamples(
          () => this.overRun(run, () => this.elementForward(run)),
          1,
        );
      case "single":
        return this.overSamples(() => this.singleForward(run.start), 1);
    }
  }

  private dotForward(run: Run, blk: number): void {
    const b = this.body, tape = this.tape, E = this.E, L = this.lanes;
    const n = tape.arg1[run.start];
    const [w0, x0, bias0] = run.refs;
    const vec = n - (n % L);
    const pw = run.strides[0] * E, pb = run.strides[2] * E;
    // Accumulator of neuron j (0 or 1 of the pair) and sample s.
    const acc = (j: number, s: number) => (j === 0 ? V : V2) + s;
    this.overNeurons(run.count, { pw, pb }, (nb) => {
      for (let j = 0; j < nb; j++) {
        for (let s = 0; s < blk; s++) {
          b.f64Const(0).f64x2Splat().localSet(acc(j, s));
        }
      }
      if (vec > 0) {
        b.i32Const(0).localSet(PK).loop();
        b.localGet(PW).localGet(PK).i32Add().localTee(PA)
          .v128Load(this.data(w0)).localSet(WV);
        if (nb === 2) {
          b.localGet(PA).v128Load(this.data(w0) + pw).localSet(WV2);
        }
        b.localGet(BASE).localGet(PK).i32Add().localSet(PX);
        for (let s = 0; s < blk; s++) {
          // The input vector, loaded once for both neurons.
          b.localGet(PX).v128Load(this.local(x0, s)).localSet(V + 4 + s);
          for (let j = 0; j < nb; j++) {
            this.madd(
              () => b.localGet(j === 0 ? WV : WV2),
              () => b.localGet(V + 4 + s),
              () => b.localGet(acc(j, s)),
            );
            b.localSet(acc(j, s));
          }
        }
        b.localGet(PK).i32Const(L * E).i32Add().localTee(PK)
          .i32Const(vec * E).i32LtS().brIf(0).end();
      }
      for (let j = 0; j < nb; j++) {
        for (let s = 0; s < blk; s++) {
          // out = bias + (lanes + tail), stored at the node.
          b.localGet(BASE).localGet(PO).i32Add();
          if (bias0 >= 0) {
            b.localGet(PB);
            this.load(this.data(bias0) + j * pb);
          }
          this.lanesSum(acc(j, s));
          for (let k = vec; k < n; k++) {
            b.localGet(PW);
            this.load(this.data(w0 + k) + j * pw);
            b.localGet(BASE);
            this.load(this.local(x0 + k, s));
            b.f64Mul().f64Add();
          }
          if (bias0 >= 0) b.f64Add();
          this.store(this.local(run.start + j, s));
        }
      }
    });
  }

  private elementForward(run: Run): void {
    const b = this.body, op = this.tape.op[run.start];
    const out = this.nodeAddress(run);
    if (run.kind === "unary") {
      const a = this.refAddress(run, 0);
      this.load(a);
      this.unary(op);
    } else {
      const a = this.refAddress(run, 0);
      this.load(a);
      const c = this.refAddress(run, 1);
      this.load(c);
      this.binary(op);
    }
    this.store(out);
    void b;
  }

  /** [f64] → [f64]: a unary op's forward value. */
  private unary(op: number): void {
    const b = this.body;
    switch (op) {
      case Op.Neg:
        b.f64Neg();
        return;
      case Op.Abs:
        b.f64Abs();
        return;
      case Op.Sqrt:
        b.f64Sqrt();
        return;
      case Op.Relu:
        // x < 0 ? 0 : x, so that NaN stays NaN.
        b.localSet(X).f64Const(0).localGet(X).localGet(X).f64Const(0).f64Lt()
          .select();
        return;
      default:
        b.localSet(X).i32Const(op).localGet(X).call(0);
    }
  }

  /** [f64 a, f64 b] → [f64]. */
  private binary(op: number): void {
    const b = this.body;
    switch (op) {
      case Op.Add:
        b.f64Add();
        return;
      case Op.Sub:
        b.f64Sub();
        return;
      case Op.Mul:
        b.f64Mul();
        return;
      case Op.Div:
        b.f64Div();
        return;
      default:
        b.localSet(Y).localSet(X).i32Const(op).localGet(X).localGet(Y).call(2);
    }
  }

  /** The address (pushed) and offset of any node, local or shared. */
  private anyNode(i: number): number {
    if (i >= this.from) {
      this.body.localGet(BASE);
      return this.local(i);
    }
    this.body.i32Const(0);
    return this.data(i);
  }
  private anyGrad(i: number): number {
    return this.anyNode(i) + this.gradBase;
  }

  private singleForward(i: number): void {
    const b = this.body, tape = this.tape, pool = tape.pool;
    const p = tape.arg0[i], n = tape.arg1[i];
    const out = this.anyNode(i);
    if (tape.op[i] === Op.Sum) {
      b.f64Const(0);
      for (let k = 0; k < n; k++) {
        this.load(this.anyNode(pool[p + k]));
        b.f64Add();
      }
    } else {
      if (pool[p] >= 0) this.load(this.anyNode(pool[p]));
      else b.f64Const(0);
      for (let k = 1; k <= n; k++) {
        this.load(this.anyNode(pool[p + k]));
        this.load(this.anyNode(pool[p + n + k]));
        b.f64Mul().f64Add();
      }
    }
    this.store(out);
  }

  // -------------------------------------------------------------- backward

  backward(run: Run): void {
    const need = this.tape.needsGrad;
    if (run.kind === "leaf" || need[run.start] === 0) return;
    if (run.kind === "unary" && !need[run.refs[0]]) return;
    if (run.kind === "binary" && !need[run.refs[0]] && !need[run.refs[1]]) {
      return;
    }
    switch (run.kind) {
      case "dot":
        return this.overSamples((k) => this.dotBackward(run, k), BLOCK);
      case "unary":
        if (this.reluVector(run)) {
          return this.overSamples(() => this.reluBackward(run), 1);
        }
        return this.overSamples(
          () => this.overRun(run, () => this.elementBackward(run)),
          1,
        );
      case "binary":
        return this.overSamples(
          () => this.overRun(run, () => this.elementBackward(run)),
          1,
        );
      case "single":
        return this.overSamples(() => this.singleBackward(run.start), 1);
    }
  }

  /**
   * Whether a unary run is a ReLU over consecutive sample nodes, at least
   * one vector long: a dense layer's activation, run a vector at a time.
   */
  private reluVector(run: Run): boolean {
    return this.tape.op[run.start] === Op.Relu && run.refs[0] >= this.from &&
      run.strides[0] === 1 && run.count >= this.lanes;
  }

  /** Loops PK over the run's whole vectors, then the scalar tail. */
  private overVectors(
    run: Run,
    vector: () => void,
    scalar: () => void,
  ): void {
    const b = this.body, L = this.lanes, E = this.E;
    const vec = run.count - (run.count % L);
    b.i32Const(0).localSet(PK).loop();
    vector();
    b.localGet(PK).i32Const(L * E).i32Add().localTee(PK)
      .i32Const(vec * E).i32LtS().brIf(0).end();
    for (let j = vec; j < run.count; j++) {
      b.i32Const(j).localSet(JJ);
      scalar();
    }
  }

  /** y = x < 0 ? 0 : x, a vector at a time (NaN stays NaN). */
  private reluForward(run: Run): void {
    const b = this.body, f32 = this.f32;
    const x = this.local(run.refs[0]), y = this.local(run.start);
    this.overVectors(run, () => {
      b.localGet(BASE).localGet(PK).i32Add().localTee(PA);
      b.f64Const(0);
      this.splat();
      b.localGet(PA).v128Load(x).localTee(WV).localGet(WV).f64Const(0);
      this.splat();
      if (f32) b.f32x4Lt();
      else b.f64x2Lt();
      b.v128Bitselect().v128Store(y);
    }, () => this.elementForward(run));
  }

  /** grad[x] += g · (x > 0 ? 1 : 0), a vector at a time. */
  private reluBackward(run: Run): void {
    const b = this.body, f32 = this.f32, gb = this.gradBase;
    const x = this.local(run.refs[0]), y = this.local(run.start);
    this.overVectors(run, () => {
      b.localGet(BASE).localGet(PK).i32Add().localTee(PA);
      b.localGet(PA).v128Load(gb + x);
      b.localGet(PA).v128Load(gb + y);
      b.f64Const(1);
      this.splat();
      b.f64Const(0);
      this.splat();
      b.localGet(PA).v128Load(x).f64Const(0);
      this.splat();
      if (f32) b.f32x4Gt().v128Bitselect().f32x4Mul().f32x4Add();
      else b.f64x2Gt().v128Bitselect().f64x2Mul().f64x2Add();
      b.v128Store(gb + x);
    }, () => this.elementBackward(run));
  }

  private dotBackward(run: Run, blk: number): void {
    const b = this.body, tape = this.tape, E = this.E, L = this.lanes;
    const n = tape.arg1[run.start];
    const [w0, x0, bias0] = run.refs;
    const modes = tape.pool[tape.arg0[run.start] + 3];
    const wNeed = (modes & 3) === 1, xNeed = modes >> 2 === 1;
    const biasNeed = bias0 >= 0 && tape.needsGrad[bias0] === 1;
    const vec = n - (n % L);
    const pw = run.strides[0] * E, pb = run.strides[2] * E;
    const gOff = (j: number, s: number) =>
      this.gradBase + this.local(run.start + j, s);
    // Output gradient of neuron j and sample s: scalar and splat.
    const g = (j: number, s: number) => F + 4 * j + s;
    const gv = (j: number, s: number) => (j === 0 ? V + 4 : V2) + s;
    this.overNeurons(run.count, { pw, pb }, (nb) => {
      b.block();
      // Skip when every output gradient is 0, as the interpreter skips a
      // node whose gradient is 0.
      for (let j = 0; j < nb; j++) {
        for (let s = 0; s < blk; s++) {
          b.localGet(BASE).localGet(PO).i32Add();
          this.load(gOff(j, s));
          b.localSet(g(j, s));
        }
      }
      for (let j = 0; j < nb; j++) {
        for (let s = 0; s < blk; s++) {
          b.localGet(g(j, s)).f64Const(0).f64Eq();
          if (j + s > 0) b.i32And();
        }
      }
      b.brIf(0);
      if (biasNeed) {
        for (let j = 0; j < nb; j++) {
          b.localGet(PB).localGet(PB);
          this.load(this.grad(bias0) + j * pb);
          for (let s = 0; s < blk; s++) b.localGet(g(j, s)).f64Add();
          this.store(this.grad(bias0) + j * pb);
        }
      }
      for (let j = 0; j < nb; j++) {
        for (let s = 0; s < blk; s++) {
          b.localGet(g(j, s));
          this.splat();
          b.localSet(gv(j, s));
        }
      }
      if (vec > 0 && (wNeed || xNeed)) {
        b.i32Const(0).localSet(PK).loop();
        b.localGet(PW).localGet(PK).i32Add().localSet(PA);
        b.localGet(BASE).localGet(PK).i32Add().localSet(PX);
        if (wNeed) {
          // The inputs, loaded once for both neurons' weight gradients.
          for (let s = 0; s < blk; s++) {
            b.localGet(PX).v128Load(this.local(x0, s)).localSet(V + s);
          }
          for (let j = 0; j < nb; j++) {
            const dw = j === 0 ? DW : DW2, off = this.grad(w0) + j * pw;
            b.localGet(PA).v128Load(off).localSet(dw);
            for (let s = 0; s < blk; s++) {
              this.madd(
                () => b.localGet(gv(j, s)),
                () => b.localGet(V + s),
                () => b.localGet(dw),
              );
              b.localSet(dw);
            }
            b.localGet(PA).localGet(dw).v128Store(off);
          }
        }
        if (xNeed) {
          b.localGet(PA).v128Load(this.data(w0)).localSet(WV);
          if (nb === 2) {
            b.localGet(PA).v128Load(this.data(w0) + pw).localSet(WV2);
          }
          for (let s = 0; s < blk; s++) {
            const off = this.gradBase + this.local(x0, s);
            b.localGet(PX);
            const first = () =>
              this.madd(
                () => b.localGet(gv(0, s)),
                () => b.localGet(WV),
                () => b.localGet(PX).v128Load(off),
              );
            if (nb === 2) {
              this.madd(
                () => b.localGet(gv(1, s)),
                () => b.localGet(WV2),
                first,
              );
            } else first();
            b.v128Store(off);
          }
        }
        b.localGet(PK).i32Const(L * E).i32Add().localTee(PK)
          .i32Const(vec * E).i32LtS().brIf(0).end();
      }
      for (let k = vec; k < n; k++) {
        if (wNeed) {
          for (let j = 0; j < nb; j++) {
            const off = this.grad(w0 + k) + j * pw;
            b.localGet(PW).localGet(PW);
            this.load(off);
            for (let s = 0; s < blk; s++) {
              b.localGet(g(j, s)).localGet(BASE);
              this.load(this.local(x0 + k, s));
              b.f64Mul().f64Add();
            }
            this.store(off);
          }
        }
        if (xNeed) {
          for (let s = 0; s < blk; s++) {
            const off = this.gradBase + this.local(x0 + k, s);
            b.localGet(BASE).localGet(BASE);
            this.load(off);
            for (let j = 0; j < nb; j++) {
              b.localGet(g(j, s)).localGet(PW);
              this.load(this.data(w0 + k) + j * pw);
              b.f64Mul().f64Add();
            }
            this.store(off);
          }
        }
      }
      b.end();
    });
  }

  private elementBackward(run: Run): void {
    const b = this.body, tape = this.tape, op = tape.op[run.start];
    const need = tape.needsGrad;
    b.block();
    const node = this.nodeAddress(run);
    b.localTee(PA);
    this.load(this.gradBase + node);
    b.localTee(G).f64Const(0).f64Eq().brIf(0);
    b.localGet(PA);
    this.load(node);
    b.localSet(OUT);
    const aAddr = this.refAddress(run, 0);
    b.localTee(PX);
    this.load(aAddr);
    b.localSet(X);
    const aGrad = this.refGradOffset(run, 0);
    if (run.kind === "unary") {
      // grad[a] += g · f'(x, y)
      b.localGet(PX).localGet(PX);
      this.load(aGrad);
      b.localGet(G);
      this.unaryDerivative(op);
      b.f64Mul().f64Add();
      this.store(aGrad);
      b.end();
      return;
    }
    const cAddr = this.refAddress(run, 1);
    b.localTee(PK);
    this.load(cAddr);
    b.localSet(Y);
    const cGrad = this.refGradOffset(run, 1);
    if (need[run.refs[0]]) {
      b.localGet(PX).localGet(PX);
      this.load(aGrad);
      b.localGet(G);
      this.binaryDerivative(op, true);
      b.f64Mul().f64Add();
      this.store(aGrad);
    }
    if (need[run.refs[1]]) {
      b.localGet(PK).localGet(PK);
      this.load(cGrad);
      b.localGet(G);
      this.binaryDerivative(op, false);
      b.f64Mul().f64Add();
      this.store(cGrad);
    }
    b.end();
  }

  /** [] → [f64]: f'(x) from X and OUT, as {@linkcode unaryDerivative}. */
  private unaryDerivative(op: number): void {
    const b = this.body;
    switch (op) {
      case Op.Neg:
        b.f64Const(-1);
        return;
      case Op.Exp:
        b.localGet(OUT);
        return;
      case Op.Log:
        b.f64Const(1).localGet(X).f64Div();
        return;
      case Op.Tanh:
        b.f64Const(1).localGet(OUT).localGet(OUT).f64Mul().f64Sub();
        return;
      case Op.Relu:
        b.f64Const(1).f64Const(0).localGet(X).f64Const(0).f64Gt().select();
        return;
      case Op.Sigmoid:
        b.localGet(OUT).f64Const(1).localGet(OUT).f64Sub().f64Mul();
        return;
      case Op.Sqrt:
        b.f64Const(0.5).localGet(OUT).f64Div();
        return;
      default:
        b.i32Const(op).localGet(X).localGet(OUT).call(1);
    }
  }

  /** [] → [f64]: ∂f/∂a or ∂f/∂b from X, Y and OUT. */
  private binaryDerivative(op: number, wrtA: boolean): void {
    const b = this.body;
    switch (op) {
      case Op.Add:
        b.f64Const(1);
        return;
      case Op.Sub:
        b.f64Const(wrtA ? 1 : -1);
        return;
      case Op.Mul:
        b.localGet(wrtA ? Y : X);
        return;
      case Op.Div:
        if (wrtA) b.f64Const(1).localGet(Y).f64Div();
        else b.localGet(X).f64Neg().localGet(Y).localGet(Y).f64Mul().f64Div();
        return;
      default:
        b.i32Const(op).localGet(X).localGet(Y).localGet(OUT).call(wrtA ? 3 : 4);
    }
  }

  /** grad[j] += g · d[other] (or += g when `other` < 0), any nodes. */
  private accumulate(j: number, other: number): void {
    const b = this.body;
    const off = this.anyGrad(j);
    b.localTee(PA).localGet(PA);
    this.load(off);
    b.localGet(G);
    if (other >= 0) {
      this.load(this.anyNode(other));
      b.f64Mul();
    }
    b.f64Add();
    this.store(off);
  }

  private singleBackward(i: number): void {
    const b = this.body, tape = this.tape, pool = tape.pool;
    const need = tape.needsGrad;
    const p = tape.arg0[i], n = tape.arg1[i];
    b.block();
    this.load(this.anyGrad(i));
    b.localTee(G).f64Const(0).f64Eq().brIf(0);
    if (tape.op[i] === Op.Sum) {
      for (let k = 0; k < n; k++) {
        if (need[pool[p + k]]) this.accumulate(pool[p + k], -1);
      }
    } else {
      if (pool[p] >= 0 && need[pool[p]]) this.accumulate(pool[p], -1);
      for (let k = 1; k <= n; k++) {
        const w = pool[p + k], x = pool[p + n + k];
        if (need[w]) this.accumulate(w, x);
        if (need[x]) this.accumulate(x, w);
      }
    }
    b.end();
  }
}
