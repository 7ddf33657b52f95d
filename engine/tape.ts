/**
 * The tape: every node of every graph in flat typed arrays, in creation order,
 * so that index order is a topological order and backward is one reverse loop.
 *
 * @module
 */

import type { Value } from "./value.ts";
import {
  Arity,
  binaryDerivativeA,
  binaryDerivativeB,
  binaryForward,
  denseBackward,
  denseForward,
  naryBackward,
  naryForward,
  naryInputs,
  naryLocalGradients,
  naryPoolSize,
  needKind,
  Op,
  opArity,
  opName,
  unaryDerivative,
  unaryForward,
  unaryForwardRange,
  writeDotRange,
} from "./ops.ts";

const INITIAL_CAPACITY = 1024;
// Tape.firstInterior when the tape holds only leaves and constants.
const NO_INTERIOR = 2 ** 31 - 1;

// The op table's arities by code, copied once for the hot loops (a typed
// array read per node, no call), and its kinds as plain constants.
const ARITY = Uint8Array.from({ length: 256 }, (_, op) => opArity(op));
const LEAF = Arity.Leaf;
const UNARY = Arity.Unary;
const NARY = Arity.Nary;

// Why nodes were dropped, to explain a stale handle (see Tape.staleMessage).
const DROP_REWIND = 0;
const DROP_BACKWARD = 1;
const DROP_STEP = 2;
const DROP_NO_GRAD = 3;
// How many recent drops are remembered (a ring indexed by generation).
const DROP_LOG = 64;

/**
 * A node's inputs as reported by {@linkcode Tape.findNonFinite} and
 * {@linkcode NonFiniteError}.
 */
export interface NodeSummary {
  /** The node's index on the tape. */
  index: number;
  /** The node's op name (`"leaf"`, `"+"`, `"log"`…). */
  op: string;
  /** The node's value. */
  data: number;
}

/** Where a non-finite value first appeared: the op, its index and inputs. */
export interface NonFiniteReport extends NodeSummary {
  /** The node's inputs, in order. */
  inputs: NodeSummary[];
  /** A one-line description, e.g. `log produced -Infinity at node 4 …`. */
  message: string;
}

/**
 * Thrown when {@linkcode Tape.checkFinite} is on and an op produces NaN or
 * ±Infinity. It names the op, the node index and the inputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op } from "@tapegrad/tapegrad/engine";
 * import { NonFiniteError, Tape } from "@tapegrad/tapegrad";
 * const tape = new Tape();
 * tape.checkFinite = true;
 * const zero = tape.leaf(0);
 * assert.throws(() => tape.unary(Op.Log, zero), NonFiniteError);
 * ```
 */
export class NonFiniteError extends RangeError {
  /** The report on the offending node. */
  readonly report: NonFiniteReport;

  /**
   * Creates the error from a report.
   *
   * @param report Where the non-finite value appeared.
   */
  constructor(report: NonFiniteReport) {
    super(report.message);
    this.name = "NonFiniteError";
    this.report = report;
  }
}

/**
 * Structure-of-arrays storage for computation graphs.
 *
 * Each node `i` has `data[i]`, `grad[i]`, an op code `op[i]`, two argument
 * slots `arg0[i]`, `arg1[i]` and a flag `needsGrad[i]`. Unary ops use `arg0`,
 * binary ops `arg0` and `arg1`; n-ary ops (`Sum`, `Dot`, `DotRange`) keep
 * `arg0` as an offset into {@linkcode Tape.pool} and `arg1` as a count.
 * Arrays double when full, so read them again after recording nodes.
 *
 * Nodes are only appended, so every input has a smaller index than its
 * users: {@linkcode Tape.backward} is a single loop from the root down.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op } from "@tapegrad/tapegrad/engine";
 * import { Tape } from "@tapegrad/tapegrad";
 * const tape = new Tape();
 * const a = tape.leaf(2), b = tape.leaf(-3), c = tape.leaf(10);
 * const d = tape.binary(Op.Add, tape.binary(Op.Mul, a, b), c);
 * tape.backward(d);
 * assert.equal(tape.data[d], 4);
 * assert.equal(tape.grad[a], -3);
 * assert.equal(tape.grad[b], 2);
 * ```
 */
export class Tape {
  /** Node values. */
  data: Float64Array;
  /**
   * Node gradients: d(root)/d(node) after {@linkcode Tape.backward}. Read
   * freely; write interior nodes' gradients with {@linkcode Tape.setGrad}.
   */
  grad: Float64Array;
  /** Node op codes (see {@linkcode Op}). */
  op: Uint8Array;
  /** First argument: an input index, or a pool offset for n-ary ops. */
  arg0: Int32Array;
  /** Second argument: an input index, or an argument count for n-ary ops. */
  arg1: Int32Array;
  /** 1 when a gradient must flow into the node, 0 for constants and inputs. */
  needsGrad: Uint8Array;
  /**
   * The generation a node was created in; guards stale handles. Doubles,
   * so the count of rewinds cannot wrap (it is exact up to 2^53).
   */
  born: Float64Array;
  // Interior nodes at or after this index have gradient 0: backward only
  // resets interior gradients below it (see setGrad).
  private gradsDirtyEnd = 0;
  // Every node below this index is a leaf or a constant (NO_INTERIOR when
  // there is no other kind of node): backward neither resets nor visits
  // them, so the parameters of models made before a step cost nothing.
  private firstInterior = NO_INTERIOR;
  // needCount[i] = how many nodes before i need a gradient: a range's count
  // is one subtraction, so recording a dot does not scan its inputs twice.
  private needCount: Int32Array;
  /** Argument storage of n-ary nodes. */
  pool: Int32Array;
  /** Number of nodes on the tape. */
  size = 0;
  /** Number of pool entries in use. */
  poolSize = 0;
  /** Bumped by every {@linkcode Tape.rewind}; new nodes carry it. */
  generation = 0;
  /**
   * When `true`, recording and replay throw a {@linkcode NonFiniteError} as
   * soon as an op produces NaN or ±Infinity.
   */
  checkFinite = false;
  /** Optional display labels, by node index. */
  readonly labels: Map<number, string> = new Map();
  /**
   * The number of live nodes past which the tape warns once, through
   * `console.warn`, that nothing is being released (default 5,000,000: a
   * loop that calls neither `backward()` nor a scope). Set it to `Infinity`
   * to silence the warning.
   */
  liveNodeWarning = 5_000_000;
  private warned = false;
  // The current step's graph starts here: the first façade op (see settle)
  // since the last keep point or mark, or the last release's mark; -1 when
  // no step is open.
  private stepStart = -1;
  // Where the release scheduled by Value.backward() will rewind to at the
  // next recording call, or -1.
  private pendingRelease = -1;
  // Depth of step() / noGrad() scopes: inside one, backward releases nothing.
  private scopeDepth = 0;
  // 0 inside noGrad(): new nodes need no gradient.
  private gradEnabled = 1;
  // The cause of the next rewind, and a ring of recent drops (mark, cause)
  // by the generation they ended.
  private dropCause = DROP_REWIND;
  private readonly dropMarks = new Int32Array(DROP_LOG).fill(-1);
  private readonly dropCauses = new Uint8Array(DROP_LOG);

  /**
   * Creates an empty tape.
   *
   * @param capacity Initial number of node slots (it grows as needed).
   */
  constructor(capacity: number = INITIAL_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Tape capacity must be a positive integer, got ${capacity}`,
      );
    }
    this.data = new Float64Array(capacity);
    this.grad = new Float64Array(capacity);
    this.op = new Uint8Array(capacity);
    this.arg0 = new Int32Array(capacity);
    this.arg1 = new Int32Array(capacity);
    this.needsGrad = new Uint8Array(capacity);
    this.born = new Float64Array(capacity);
    this.needCount = new Int32Array(capacity + 1);
    this.pool = new Int32Array(capacity);
  }

  /** Number of node slots allocated. */
  get capacity(): number {
    return this.data.length;
  }

  // ---------------------------------------------------------------- recording

  /**
   * Records a leaf: a parameter (`requiresGrad = true`) or an input.
   *
   * @param value The leaf's value.
   * @param requiresGrad Whether backward should compute its gradient.
   * @returns The new node's index.
   */
  leaf(value: number, requiresGrad = true): number {
    this.beginOp();
    return this.push(Op.Leaf, -1, -1, value, requiresGrad ? 1 : 0);
  }

  /**
   * Records a constant (never needs a gradient).
   *
   * @param value The constant.
   * @returns The new node's index.
   */
  constant(value: number): number {
    this.beginOp();
    return this.push(Op.Const, -1, -1, value, 0);
  }

  /**
   * Records a unary op on node `a`.
   *
   * @param op A unary op code (its `OP_TABLE` row says `Arity.Unary`).
   * @param a The input's index.
   * @returns The new node's index.
   *
   * @throws {RangeError} If `op` is not a unary op or `a` is not a node index.
   */
  unary(op: number, a: number): number {
    this.beginOp();
    if (ARITY[op] !== UNARY) throw badOp(op, "unary");
    this.#checkNode(a, "Input");
    return this.push(
      op,
      a,
      -1,
      unaryForward(op, this.data[a]),
      this.needsGrad[a],
    );
  }

  /**
   * Records a binary op on nodes `a` and `b`.
   *
   * @param op A binary op code (its `OP_TABLE` row says `Arity.Binary`).
   * @param a The first input's index.
   * @param b The second input's index.
   * @returns The new node's index.
   *
   * @throws {RangeError} If `op` is not a binary op or an input is not a node index.
   */
  binary(op: number, a: number, b: number): number {
    this.beginOp();
    if (ARITY[op] !== Arity.Binary) throw badOp(op, "binary");
    this.#checkNode(a, "First input");
    this.#checkNode(b, "Second input");
    const value = binaryForward(op, this.data[a], this.data[b]);
    return this.push(op, a, b, value, this.needsGrad[a] | this.needsGrad[b]);
  }

  /**
   * Records the sum of a list of nodes as one node.
   *
   * @param inputs Input indices (at least one).
   * @returns The new node's index.
   */
  sum(inputs: ArrayLike<number>): number {
    this.beginOp();
    const n = inputs.length;
    const offset = this.reservePool(n);
    const pool = this.pool, data = this.data, need = this.needsGrad;
    let total = 0;
    let anyNeed = 0;
    for (let k = 0; k < n; k++) {
      const j = inputs[k];
      this.#checkNode(j, "Input");
      pool[offset + k] = j;
      total += data[j];
      anyNeed |= need[j];
    }
    return this.push(Op.Sum, offset, n, total, anyNeed);
  }

  /**
   * Records the sum of the `count` consecutive nodes from `start` as one
   * node: the same node as {@linkcode Tape.sum} on the list `start, start +
   * 1, …`, recorded without a list (the L2 term's `p·p` nodes, say).
   *
   * @param start Index of the first input.
   * @param count Number of inputs (at least one).
   * @returns The new node's index.
   *
   * @throws {RangeError} If the inputs are not `count >= 1` nodes on the tape.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const a = tape.leaf(1);
   * tape.leaf(2);
   * tape.leaf(3);
   * const s = tape.sumRange(a, 3);
   * assert.equal(tape.data[s], 6);
   * assert.deepEqual(tape.inputsOf(s), [0, 1, 2]);
   * ```
   */
  sumRange(start: number, count: number): number {
    this.beginOp();
    this.#checkRange(start, count, "Inputs");
    if (count < 1) {
      throw new RangeError(`sumRange() needs at least one input, got ${count}`);
    }
    const offset = this.reservePool(count);
    const pool = this.pool, data = this.data, needCount = this.needCount;
    let total = 0;
    for (let k = 0; k < count; k++) {
      pool[offset + k] = start + k;
      total += data[start + k];
    }
    const anyNeed = needCount[start + count] > needCount[start] ? 1 : 0;
    return this.push(Op.Sum, offset, count, total, anyNeed);
  }

  /**
   * Records `bias + Σ weights[k]·inputs[k]` as one node, summed in that order
   * (micrograd's order). Contiguous index lists are stored as two ranges.
   *
   * @param weights Weight indices.
   * @param inputs Input indices, as many as weights.
   * @param bias Bias index, or -1 for none.
   * @returns The new node's index.
   */
  dot(
    weights: ArrayLike<number>,
    inputs: ArrayLike<number>,
    bias = -1,
  ): number {
    this.beginOp();
    const n = weights.length;
    if (isRange(weights) && isRange(inputs) && n > 0) {
      return this.dotRange(weights[0], inputs[0], n, bias);
    }
    if (inputs.length !== n) {
      throw new RangeError(
        `dot() needs as many inputs as weights, got ${n} weights and ${inputs.length} inputs`,
      );
    }
    if (bias !== -1) this.#checkNode(bias, "Bias");
    for (let k = 0; k < n; k++) {
      this.#checkNode(weights[k], "Weight");
      this.#checkNode(inputs[k], "Input");
    }
    // The layout is described (and read) in ops.ts: bias, weights, inputs.
    const offset = this.reservePool(naryPoolSize(Op.Dot, n));
    const pool = this.pool;
    pool[offset] = bias;
    for (let k = 0; k < n; k++) {
      pool[offset + 1 + k] = weights[k];
      pool[offset + 1 + n + k] = inputs[k];
    }
    const data = this.data, need = this.needsGrad;
    let total = bias >= 0 ? data[bias] : 0;
    let anyNeed = bias >= 0 ? need[bias] : 0;
    for (let k = 0; k < n; k++) {
      const w = weights[k], x = inputs[k];
      total += data[w] * data[x];
      anyNeed |= need[w] | need[x];
    }
    return this.push(Op.Dot, offset, n, total, anyNeed);
  }

  /**
   * Records `bias + Σ data[w + k]·data[x + k]` for `k < n` as one node: the
   * neuron's dot product over contiguous weights and inputs.
   *
   * @param weightStart Index of the first weight.
   * @param inputStart Index of the first input.
   * @param n Number of terms.
   * @param bias Bias index, or -1 for none.
   * @returns The new node's index.
   */
  dotRange(
    weightStart: number,
    inputStart: number,
    n: number,
    bias = -1,
  ): number {
    this.beginOp();
    this.#checkRange(weightStart, n, "Weights");
    this.#checkRange(inputStart, n, "Inputs");
    if (bias !== -1) this.#checkNode(bias, "Bias");
    return this.#dotRangeNode(Op.DotRange, weightStart, inputStart, n, bias);
  }

  /** Records a checked `DotRange` or `DotRangeRelu` node. */
  #dotRangeNode(
    op: number,
    weightStart: number,
    inputStart: number,
    n: number,
    bias: number,
  ): number {
    const offset = this.reservePool(naryPoolSize(op, n));
    const data = this.data, count = this.needCount;
    let total = bias >= 0 ? data[bias] : 0;
    for (let k = 0; k < n; k++) {
      total += data[weightStart + k] * data[inputStart + k];
    }
    const wCount = count[weightStart + n] - count[weightStart];
    const xCount = count[inputStart + n] - count[inputStart];
    writeDotRange(
      this.pool,
      offset,
      weightStart,
      inputStart,
      bias,
      needKind(wCount, n),
      needKind(xCount, n),
    );
    const anyNeed =
      wCount + xCount > 0 || (bias >= 0 && this.needsGrad[bias] === 1) ? 1 : 0;
    const value = op === Op.DotRange ? total : unaryForward(Op.Relu, total);
    return this.push(op, offset, n, value, anyNeed);
  }

  /**
   * Records a dense layer's dots in one call: `count` {@linkcode Op.DotRange}
   * nodes, node `j` computing `data[b_j] + Σ_k data[w_j + k]·data[x + k]`
   * with `w_j = weightStart + j·weightStride` and `b_j = w_j + biasOffset`
   * (no bias when `biasOffset` is negative). Same nodes as `count` calls to
   * {@linkcode Tape.dotRange}, recorded with less overhead per node. With an
   * `activation`, `count` nodes of that unary op on the dots follow them,
   * as {@linkcode Tape.unaryRange} would record them, in the same pass;
   * with `Op.Relu` and `fuse`, each neuron and its ReLU are one
   * {@linkcode Op.DotRangeRelu} node instead (the same values and
   * gradients, half the nodes).
   *
   * @param weightStart Index of neuron 0's first weight.
   * @param weightStride Distance between neurons' first weights.
   * @param inputStart Index of the first input (shared by every neuron).
   * @param n Inputs per neuron.
   * @param count Number of neurons.
   * @param biasOffset Bias index relative to each neuron's first weight, or -1.
   * @param activation A unary op code applied to the dots, or -1 for none.
   * @param fuse With `activation` `Op.Relu`: record `DotRangeRelu` nodes.
   * @returns The index of the first new node (the first dot); the rest
   * follow it, and the activations start at that index plus `count` (when
   * not fused).
   *
   * @throws {RangeError} If an index is out of the tape, the stride is
   * negative, `activation` is not a unary op code, or `fuse` comes without
   * `Op.Relu`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Op } from "@tapegrad/tapegrad/engine";
   * import { Tape } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * tape.leaf(2), tape.leaf(-1), tape.leaf(1); // two weights, then a bias
   * const x = tape.leaf(3, false);
   * tape.leaf(4, false);
   * const first = tape.denseRange(0, 3, x, 2, 1, 2, Op.Relu);
   * assert.equal(tape.data[first], 1 + 2 * 3 + -1 * 4); // 3
   * assert.equal(tape.data[first + 1], 3); // relu of the dot
   * const fused = tape.denseRange(0, 3, x, 2, 1, 2, Op.Relu, true);
   * assert.equal(tape.op[fused], Op.DotRangeRelu);
   * assert.equal(tape.data[fused], 3);
   * assert.equal(tape.size, fused + 1);
   * ```
   */
  denseRange(
    weightStart: number,
    weightStride: number,
    inputStart: number,
    n: number,
    count: number,
    biasOffset = -1,
    activation = -1,
    fuse = false,
  ): number {
    this.beginOp();
    if (activation !== -1 && ARITY[activation] !== UNARY) {
      throw badOp(activation, "unary");
    }
    if (fuse && activation !== Op.Relu) {
      throw new RangeError(
        `Only a ReLU fuses with the dots, got activation ${
          activation === -1 ? "none" : opName(activation)
        }`,
      );
    }
    this.#checkRange(inputStart, n, "Inputs");
    if (!(Number.isInteger(weightStride) && weightStride >= 0)) {
      throw new RangeError(
        `Weight stride must be an integer >= 0, got ${weightStride}`,
      );
    }
    if (count > 0) {
      const last = weightStart + (count - 1) * weightStride;
      this.#checkRange(weightStart, n, "Weights");
      this.#checkRange(last, n, "Weights");
      if (biasOffset >= 0) {
        this.#checkNode(weightStart + biasOffset, "Bias");
        this.#checkNode(last + biasOffset, "Bias");
      }
    }
    const first = this.size;
    const dotOp = fuse ? Op.DotRangeRelu : Op.DotRange;
    if (this.checkFinite || this.gradEnabled === 0) {
      for (let j = 0; j < count; j++) {
        const w = weightStart + j * weightStride;
        const bias = biasOffset < 0 ? -1 : w + biasOffset;
        this.#dotRangeNode(dotOp, w, inputStart, n, bias);
      }
      if (activation !== -1 && !fuse) {
        this.unaryRange(activation, first, count);
      }
      return first;
    }
    const nodes = activation === -1 || fuse ? count : 2 * count;
    while (this.size + nodes > this.data.length) this.grow();
    const size = naryPoolSize(Op.DotRange, n);
    const offset = this.reservePool(size * count);
    const pool = this.pool, data = this.data, need = this.needsGrad;
    const needCount = this.needCount, op = this.op, arg0 = this.arg0;
    const arg1 = this.arg1, born = this.born;
    const xCount = needCount[inputStart + n] - needCount[inputStart];
    const xNeed = needKind(xCount, n);
    const generation = this.generation;
    denseForward(
      data,
      weightStart,
      weightStride,
      inputStart,
      n,
      count,
      biasOffset,
      first,
      activation !== Op.Relu ? -1 : fuse ? first : first + count,
    );
    let counted = needCount[first];
    for (let j = 0; j < count; j++) {
      const w = weightStart + j * weightStride;
      const bias = biasOffset < 0 ? -1 : w + biasOffset;
      const wCount = needCount[w + n] - needCount[w];
      const p = offset + size * j;
      writeDotRange(pool, p, w, inputStart, bias, needKind(wCount, n), xNeed);
      const i = first + j;
      op[i] = dotOp;
      arg0[i] = p;
      arg1[i] = n;
      const anyNeed = wCount + xCount > 0 || (bias >= 0 && need[bias] === 1)
        ? 1
        : 0;
      need[i] = anyNeed;
      counted += anyNeed;
      needCount[i + 1] = counted;
      born[i] = generation;
    }
    if (activation !== -1 && !fuse) {
      // The activations in the same call: nodes first + count + j.
      const acts = first + count;
      if (activation !== Op.Relu) {
        unaryForwardRange(activation, data, first, acts, count);
      }
      this.#writeUnaryRun(activation, first, acts, count);
    }
    this.size = first + nodes;
    if (first < this.firstInterior && count > 0) this.firstInterior = first;
    return first;
  }

  /**
   * Records `count` unary ops of the same kind on consecutive inputs (a
   * layer's activations): node `j` is `op(start + j)`. Same nodes as `count`
   * calls to {@linkcode Tape.unary}, recorded with less overhead per node.
   *
   * @param op A unary op code.
   * @param start Index of the first input.
   * @param count Number of nodes.
   * @returns The index of the first new node; the rest follow it.
   */
  unaryRange(op: number, start: number, count: number): number {
    this.beginOp();
    if (ARITY[op] !== UNARY) throw badOp(op, "unary");
    this.#checkRange(start, count, "Inputs");
    const first = this.size;
    if (this.checkFinite || this.gradEnabled === 0) {
      for (let j = 0; j < count; j++) this.unary(op, start + j);
      return first;
    }
    while (this.size + count > this.data.length) this.grow();
    // The values in a loop of their own, one per op: no switch per node.
    unaryForwardRange(op, this.data, start, first, count);
    this.#writeUnaryRun(op, start, first, count);
    this.size = first + count;
    if (first < this.firstInterior && count > 0) this.firstInterior = first;
    return first;
  }

  /**
   * Writes the records of `count` unary nodes `op(start + j)` at `first + j`
   * (their values already written), in room the caller has made.
   */
  #writeUnaryRun(op: number, start: number, first: number, count: number) {
    const need = this.needsGrad, needCount = this.needCount;
    const ops = this.op, arg0 = this.arg0, arg1 = this.arg1;
    const born = this.born, generation = this.generation;
    // The running count in a local: reading back the last store would
    // chain every node to the previous one.
    let counted = needCount[first];
    for (let j = 0; j < count; j++) {
      const a = start + j, i = first + j;
      const needs = need[a];
      ops[i] = op;
      arg0[i] = a;
      arg1[i] = -1;
      need[i] = needs;
      counted += needs;
      needCount[i + 1] = counted;
      born[i] = generation;
    }
  }

  /** Appends one node, growing the arrays when full. */
  private push(
    op: number,
    a0: number,
    a1: number,
    value: number,
    needsGrad: number,
  ): number {
    if (this.size === this.data.length) this.grow();
    needsGrad &= this.gradEnabled;
    const i = this.size++;
    if (i < this.firstInterior && ARITY[op] !== LEAF) this.firstInterior = i;
    this.op[i] = op;
    this.arg0[i] = a0;
    this.arg1[i] = a1;
    this.data[i] = value;
    this.needsGrad[i] = needsGrad;
    this.needCount[i + 1] = this.needCount[i] + needsGrad;
    this.born[i] = this.generation;
    if (
      this.checkFinite && !Number.isFinite(value) &&
      opArity(op) !== Arity.Leaf
    ) {
      const report = this.describeNonFinite(i);
      this.size--;
      // Give back the pool entries the n-ary op reserved at offset `a0`.
      if (opArity(op) === Arity.Nary) this.poolSize = a0;
      throw new NonFiniteError(report);
    }
    return i;
  }

  /** Reserves `n` pool entries and returns their offset. */
  private reservePool(n: number): number {
    const offset = this.poolSize;
    if (offset + n > this.pool.length) {
      let length = this.pool.length * 2;
      while (length < offset + n) length *= 2;
      const pool = new Int32Array(length);
      pool.set(this.pool.subarray(0, offset));
      this.pool = pool;
    }
    this.poolSize = offset + n;
    return offset;
  }

  /** Doubles every per-node array, keeping the recorded nodes. */
  private grow(): void {
    const n = this.size, capacity = this.data.length * 2;
    this.data = copyInto(new Float64Array(capacity), this.data, n);
    this.grad = copyInto(new Float64Array(capacity), this.grad, n);
    this.op = copyInto(new Uint8Array(capacity), this.op, n);
    this.arg0 = copyInto(new Int32Array(capacity), this.arg0, n);
    this.arg1 = copyInto(new Int32Array(capacity), this.arg1, n);
    this.needsGrad = copyInto(new Uint8Array(capacity), this.needsGrad, n);
    this.born = copyInto(new Float64Array(capacity), this.born, n);
    this.needCount = copyInto(
      new Int32Array(capacity + 1),
      this.needCount,
      n + 1,
    );
  }

  // ------------------------------------------------------------ marks, rewind

  /**
   * The current size, to {@linkcode Tape.rewind} to later or to
   * {@linkcode Tape.replay} from.
   *
   * @returns A mark: the index the next node will get.
   */
  mark(): number {
    if (this.pendingRelease >= 0) this.applyRelease();
    // The caller manages what follows its mark: no step spans it.
    this.stepStart = -1;
    return this.size;
  }

  /**
   * Drops every node recorded after `mark`. Handles to dropped nodes become
   * stale and throw when used. Memory is reused, not released, so a loop that
   * rewinds each step runs in constant memory.
   *
   * @param mark A value returned by {@linkcode Tape.mark}.
   */
  rewind(mark: number): void {
    if (!Number.isInteger(mark) || mark < 0 || mark > this.size) {
      throw new RangeError(
        `Mark must be an integer from 0 to the tape size ${this.size}, got ${mark}`,
      );
    }
    // Pool entries of dropped nodes come after those of kept nodes: the
    // first n-ary node at or after the mark says where they start.
    for (let i = mark; i < this.size; i++) {
      if (opArity(this.op[i]) === Arity.Nary) {
        this.poolSize = this.arg0[i];
        break;
      }
    }
    // New nodes start with grad 0 without a store per node: the slots of
    // dropped nodes are cleared here, and grown arrays start zeroed.
    this.grad.fill(0, mark, this.size);
    if (this.gradsDirtyEnd > mark) this.gradsDirtyEnd = mark;
    if (this.firstInterior >= mark) this.firstInterior = NO_INTERIOR;
    this.size = mark;
    // No wrap-around (a Uint32 counter wrapped after 2^32 rewinds and made
    // old handles look live again).
    this.generation += 1;
    if (this.labels.size > 0) {
      for (const index of this.labels.keys()) {
        if (index >= mark) this.labels.delete(index);
      }
    }
    this.noteDrop(mark);
  }

  /**
   * Whether a handle `(index, generation)` still refers to a live node.
   *
   * @param index A node index.
   * @param generation The generation the handle was created in.
   * @returns `false` if the node was dropped by a rewind.
   */
  isLive(index: number, generation: number): boolean {
    return index >= 0 && index < this.size && this.born[index] === generation;
  }

  // Argument checks for the public index methods: once per call, never in
  // the loops over nodes.

  #checkNode(i: number, what: string): void {
    if (!(Number.isInteger(i) && i >= 0 && i < this.size)) {
      throw new RangeError(
        `${what} must be a node index from 0 to ${this.size - 1}, got ${i}`,
      );
    }
  }

  #checkRange(start: number, count: number, what: string): void {
    if (
      !(Number.isInteger(start) && Number.isInteger(count) && start >= 0 &&
        count >= 0 && start + count <= this.size)
    ) {
      throw new RangeError(
        `${what} must be ${count} nodes from index ${start}, within the tape size ${this.size}`,
      );
    }
  }

  #checkSpan(from: number, to: number): void {
    if (
      !(Number.isInteger(from) && Number.isInteger(to) && from >= 0 &&
        from <= to && to <= this.size)
    ) {
      throw new RangeError(
        `Node span must satisfy 0 <= from <= to <= ${this.size} (the tape size), got from ${from}, to ${to}`,
      );
    }
  }

  // ------------------------------------------------- releasing step graphs

  /**
   * Declares every node recorded so far persistent: a later
   * `Value.backward()` never releases it. Model constructors call it after
   * creating their parameters; call it after creating Values of your own
   * that must outlive the training steps, when they are made after an
   * earlier step's `backward()`. Applies a pending release first.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape, Value } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * new Value(1, { tape }).mul(2).backward(); // schedules a release
   * const w = new Value(3, { tape });
   * tape.keep(); // w survives the next steps' releases
   * for (let step = 0; step < 3; step++) {
   *   const x = new Value(2, { tape });
   *   x.mul(w).backward();
   * }
   * assert.equal(w.data, 3);
   * assert.equal(w.grad, 6);
   * ```
   */
  keep(): void {
    if (this.pendingRelease >= 0) this.applyRelease();
    this.stepStart = -1;
  }

  /**
   * Schedules the release of the current step's graph, as
   * `Value.backward()` does unless given `{ retainGraph: true }`: every node
   * from the step's start (the first façade op since the last release, keep
   * point or mark, or the last release's mark) to the end is dropped at the
   * next recording call or {@linkcode Tape.mark}, so the step's results stay
   * readable until then. Does nothing inside {@linkcode Tape.step} and
   * {@linkcode Tape.noGrad} scopes, which release on exit.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape, Value } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const w = new Value(2, { tape });
   * w.exp().exp(); // a step of two ops
   * tape.releaseStep();
   * assert.equal(tape.size, 3); // still readable
   * new Value(1, { tape }); // the next step starts: the old graph is dropped
   * assert.equal(tape.size, 2);
   * ```
   */
  releaseStep(): void {
    if (this.scopeDepth === 0 && this.stepStart >= 0) {
      this.pendingRelease = this.stepStart;
    }
  }

  /**
   * Called by the Value façade (Value ops, `sum`, `dot`, model `forward`)
   * before it records on nodes `a` and `b`: applies a pending release, and
   * notes where the current step starts. Only the façade starts steps:
   * nodes recorded through the tape's own methods (as `fit`, replay and
   * compiled steps do, with their own marks) are never released by
   * `Value.backward()` unless a façade step started before them. When the
   * new step uses a leaf that the released step created before its first
   * op (`w = new Value(0.4)` made before a loop), those leading leaves are
   * kept: they belong to the user, not to the step.
   *
   * @param a A node about to be used, or -1.
   * @param b Another node about to be used, or -1.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape, Value } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * new Value(1, { tape }).mul(2).backward();
   * const w = new Value(0.5, { tape }); // made after a backward()
   * w.mul(4).backward();
   * tape.settle(w.index);
   * assert.equal(w.data, 0.5); // used by the next step: kept
   * ```
   */
  settle(a = -1, b = -1): void {
    if (this.pendingRelease >= 0) this.releaseBefore(a, b);
    if (this.stepStart < 0) this.stepStart = this.size;
  }

  /** Applies the pending release, keeping leading leaves `a` or `b` use. */
  private releaseBefore(a: number, b: number): void {
    const from = this.pendingRelease;
    let end = from;
    const size = this.size, op = this.op;
    while (end < size && op[end] === Op.Leaf) end++;
    if ((a >= from && a < end) || (b >= from && b < end)) {
      this.pendingRelease = end;
      this.applyRelease();
      this.stepStart = -1;
    } else this.applyRelease();
  }

  /**
   * Runs `fn` as one step whose nodes are all dropped when it returns (or
   * throws): the explicit form of the release `backward()` does, for loops
   * that do not end in `backward()` or that want the release at a fixed
   * point. Inside it, `backward()` schedules no release of its own.
   * Return numbers (`loss.data`), not Values: Values made inside are stale
   * afterwards. Nodes made before the scope are untouched.
   *
   * @param fn The step; synchronous.
   * @returns What `fn` returns.
   * @throws {TypeError} If `fn` is not a function or returns a promise.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape, Value } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const w = new Value(3, { tape });
   * const size = tape.size;
   * const loss = tape.step(() => {
   *   const l = w.mul(w);
   *   l.backward();
   *   return l.data;
   * });
   * assert.equal(loss, 9);
   * assert.equal(w.grad, 6);
   * assert.equal(tape.size, size);
   * ```
   */
  step<T>(fn: () => T): T {
    return this.scope(fn, DROP_STEP, "step");
  }

  /**
   * Runs `fn` without gradients, like PyTorch's `torch.no_grad()`: nodes
   * recorded inside need no gradient, and all of them are dropped when `fn`
   * returns, so forward-only work (evaluation, prediction) leaves nothing on
   * the tape. Return numbers (`y.data`), not Values.
   *
   * @param fn The computation; synchronous.
   * @returns What `fn` returns.
   * @throws {TypeError} If `fn` is not a function or returns a promise.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape, Value } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const w = new Value(3, { tape });
   * const size = tape.size;
   * const y = tape.noGrad(() => {
   *   const out = w.mul(2);
   *   assert.equal(out.requiresGrad, false);
   *   return out.data;
   * });
   * assert.equal(y, 6);
   * assert.equal(tape.size, size);
   * ```
   */
  noGrad<T>(fn: () => T): T {
    const enabled = this.gradEnabled;
    this.gradEnabled = 0;
    try {
      return this.scope(fn, DROP_NO_GRAD, "noGrad");
    } finally {
      this.gradEnabled = enabled;
    }
  }

  /**
   * Why the handle `(index, generation)` is stale, as an error message
   * that says what to do.
   *
   * @param index The handle's node index.
   * @param generation The generation the handle was created in.
   * @returns The message (for a live handle, a message saying so).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape } from "@tapegrad/tapegrad";
   * const tape = new Tape();
   * const x = tape.leaf(1);
   * tape.rewind(0);
   * assert.match(tape.staleMessage(x, 0), /dropped by tape\.rewind\(\)/);
   * ```
   */
  staleMessage(index: number, generation: number): string {
    const node = `node ${index}`;
    if (this.isLive(index, generation)) return `Value ${node} is live`;
    let cause = -1;
    const oldest = this.generation - DROP_LOG + 1;
    if (generation + 1 >= oldest) {
      for (let g = generation + 1; g <= this.generation; g++) {
        const slot = g % DROP_LOG;
        if (this.dropMarks[slot] >= 0 && this.dropMarks[slot] <= index) {
          cause = this.dropCauses[slot];
          break;
        }
      }
    }
    switch (cause) {
      case DROP_BACKWARD:
        return `Released Value: ${node} belonged to a step whose graph backward() released when the next step started recording; keep loss.data (a number) instead of the Value, or call backward({ retainGraph: true })`;
      case DROP_STEP:
        return `Released Value: ${node} was made inside tape.step(), which releases its nodes on exit; return numbers (v.data) from the step instead`;
      case DROP_NO_GRAD:
        return `Released Value: ${node} was made inside noGrad(), which releases its nodes on exit; return numbers (v.data) from the scope instead`;
      case DROP_REWIND:
        return `Stale Value: ${node} was dropped by tape.rewind(); create values after the mark again`;
      default:
        return `Stale Value: ${node} was released after backward() or dropped by tape.rewind(); keep numbers (v.data) instead of Values, or call backward({ retainGraph: true })`;
    }
  }

  /** Runs a releasing scope (step or noGrad). */
  private scope<T>(fn: () => T, cause: number, name: string): T {
    if (typeof fn !== "function") {
      throw new TypeError(
        `${name}() needs a function, got ${fn === null ? "null" : typeof fn}`,
      );
    }
    const mark = this.mark();
    const stepStart = this.stepStart;
    this.scopeDepth++;
    let result: T;
    try {
      result = fn();
    } finally {
      this.scopeDepth--;
      if (mark <= this.size) {
        this.dropCause = cause;
        this.rewind(mark);
      }
      this.stepStart = stepStart;
    }
    if (result instanceof Promise) {
      throw new TypeError(
        `${name}() needs a synchronous function; its nodes were released when it returned a promise`,
      );
    }
    return result;
  }

  /** Called before recording an op: pending release, size warning. */
  private beginOp(): void {
    if (this.pendingRelease >= 0) this.applyRelease();
    if (this.size >= this.liveNodeWarning) this.warnLarge();
  }

  /** Drops the released step; the next step starts at the same mark. */
  private applyRelease(): void {
    const mark = this.pendingRelease;
    this.pendingRelease = -1;
    this.dropCause = DROP_BACKWARD;
    this.rewind(mark);
    this.stepStart = mark;
  }

  /** Bookkeeping after a rewind to `mark`: pending release, step, log. */
  private noteDrop(mark: number): void {
    if (this.pendingRelease >= mark) this.pendingRelease = -1;
    // Nodes recorded after a rewind into the current step start a new step
    // there (a manual mark/rewind loop's inputs belong to its steps).
    if (this.stepStart > mark) this.stepStart = mark;
    const slot = this.generation % DROP_LOG;
    this.dropMarks[slot] = mark;
    this.dropCauses[slot] = this.dropCause;
    this.dropCause = DROP_REWIND;
  }

  /** Warns once that the tape keeps growing without a release. */
  private warnLarge(): void {
    if (this.warned) return;
    this.warned = true;
    console.warn(
      `tapegrad: the tape holds ${this.size} live nodes and none was released; call loss.backward() once per step (it releases the step's graph), or wrap forward-only work in noGrad(() => …) or tape.step(() => …)`,
    );
  }

  // ------------------------------------------------------------------ replay

  /**
   * Recomputes the data of every node from `from` to the end, from each op
   * and the current data of its inputs. Leaves and constants keep the values
   * they hold, so set new inputs or parameters first. Creates no object.
   *
   * @param from The first node to recompute (usually a mark).
   * @param to One past the last node to recompute (default: the tape size).
   */
  replay(from = 0, to: number = this.size): void {
    this.#checkSpan(from, to);
    const data = this.data, opCodes = this.op, arg0 = this.arg0;
    const arg1 = this.arg1, pool = this.pool, n = to;
    const check = this.checkFinite;
    for (let i = from; i < n; i++) {
      const op = opCodes[i];
      const arity = ARITY[op];
      let value: number;
      if (arity === LEAF) continue;
      else if (arity === NARY) {
        value = naryForward(op, data, pool, arg0[i], arg1[i]);
      } else if (arity === UNARY) {
        value = unaryForward(op, data[arg0[i]]);
      } else {
        value = binaryForward(op, data[arg0[i]], data[arg1[i]]);
      }
      data[i] = value;
      if (check && !Number.isFinite(value)) {
        throw new NonFiniteError(this.describeNonFinite(i));
      }
    }
  }

  // ---------------------------------------------------------------- backward

  /**
   * Backpropagates from `root`: afterwards `grad[i]` holds d(root)/d(node i)
   * for every node that needs a gradient. Leaf gradients accumulate across
   * calls (reset them with {@linkcode Tape.zeroGrad}); interior gradients are
   * recomputed on every call.
   *
   * @param root The index of the output node.
   * @param stop The lowest node to propagate from (default 0). Nodes below it
   * receive gradient but pass none on: the caller handles them (a compiled
   * per-sample program does). Interior nodes below `stop` are not reset.
   *
   * @throws {RangeError} If `root` is not a node index or `stop` is out of range.
   */
  backward(root: number, stop = 0): void {
    this.#checkNode(root, "Root");
    if (!Number.isInteger(stop) || stop < 0 || stop > this.size) {
      throw new RangeError(
        `Stop must be an integer from 0 to the tape size ${this.size}, got ${stop}`,
      );
    }
    const data = this.data, grad = this.grad, opCodes = this.op;
    const arg0 = this.arg0, arg1 = this.arg1, pool = this.pool;
    const need = this.needsGrad;
    // Interior gradients left by an earlier pass are reset; nodes from
    // `gradsDirtyEnd` on have never had one (new nodes start at 0).
    const dirtyEnd = root < this.gradsDirtyEnd ? root : this.gradsDirtyEnd;
    // Below the first interior node there are only leaves: nothing to reset
    // and nothing to pass on.
    const low = stop > this.firstInterior ? stop : this.firstInterior;
    for (let i = low; i < dirtyEnd; i++) {
      if (ARITY[opCodes[i]] !== LEAF) grad[i] = 0;
    }
    if (root >= this.gradsDirtyEnd) this.gradsDirtyEnd = root + 1;
    if (ARITY[opCodes[root]] !== LEAF) grad[root] = 1;
    else grad[root] += need[root];
    for (let i = root; i >= low; i--) {
      const op = opCodes[i];
      const arity = ARITY[op];
      if (arity === LEAF || need[i] === 0) continue;
      const g = grad[i];
      // A DotRangeRelu at 0 passes nothing (its rule in naryBackward).
      if (g === 0 || (op === Op.DotRangeRelu && !(data[i] > 0))) continue;
      if (arity === NARY) {
        // A dense layer's neurons at once where they are (the same result
        // as one at a time).
        const start = denseBackward(
          i,
          low,
          opCodes,
          arg0,
          arg1,
          data,
          grad,
          need,
          pool,
        );
        if (start >= 0) {
          i = start;
          continue;
        }
        naryBackward(op, g, data, grad, need, pool, arg0[i], arg1[i], data[i]);
      } else if (arity === UNARY) {
        const a = arg0[i];
        if (need[a]) grad[a] += g * unaryDerivative(op, data[a], data[i]);
      } else {
        const a = arg0[i], b = arg1[i];
        const x = data[a], y = data[b], out = data[i];
        if (need[a]) grad[a] += g * binaryDerivativeA(op, x, y, out);
        if (need[b]) grad[b] += g * binaryDerivativeB(op, x, y, out);
      }
    }
  }

  /**
   * Sets the gradient of every node in `[from, to)` to 0.
   *
   * @param from First node (default 0).
   * @param to One past the last node (default: the tape size).
   */
  zeroGrad(from = 0, to: number = this.size): void {
    this.#checkSpan(from, to);
    this.grad.fill(0, from, to);
  }

  /**
   * Sets node `i`'s gradient. Write interior gradients through this method
   * (or `Value.grad`), not the `grad` array: backward resets only the
   * interior gradients it knows may be nonzero.
   *
   * @param i A node index.
   * @param value The gradient.
   */
  setGrad(i: number, value: number): void {
    this.#checkNode(i, "Node");
    this.grad[i] = value;
    if (i >= this.gradsDirtyEnd) this.gradsDirtyEnd = i + 1;
  }

  // ------------------------------------------------------------- inspection

  /**
   * The input indices of node `i`, in order (for n-ary ops, the bias first
   * when there is one, then weights, then inputs). Allocates: for display and
   * debugging, not for hot loops.
   *
   * @param i A node index.
   * @returns The input indices.
   */
  inputsOf(i: number): number[] {
    this.#checkNode(i, "Node");
    const op = this.op[i], a = this.arg0[i], b = this.arg1[i];
    switch (opArity(op)) {
      case Arity.Leaf:
        return [];
      case Arity.Unary:
        return [a];
      case Arity.Binary:
        return [a, b];
      default:
        return naryInputs(op, this.pool, a, b);
    }
  }

  /**
   * The local derivative d(node i)/d(input) for each entry of
   * {@linkcode Tape.inputsOf}, in the same order: what {@linkcode Tape.backward}
   * multiplies node i's gradient by before adding it to that input. For
   * graph views that show the chain rule step by step; allocates.
   *
   * @param i A node index.
   * @returns One local derivative per input slot (empty for leaves and constants).
   */
  localGradientsOf(i: number): number[] {
    const op = this.op[i], a = this.arg0[i], b = this.arg1[i];
    const data = this.data;
    switch (opArity(op)) {
      case Arity.Leaf:
        return [];
      case Arity.Unary:
        return [unaryDerivative(op, data[a], data[i])];
      case Arity.Binary:
        return [
          binaryDerivativeA(op, data[a], data[b], data[i]),
          binaryDerivativeB(op, data[a], data[b], data[i]),
        ];
      default:
        return naryLocalGradients(op, data, this.pool, a, b, data[i]);
    }
  }

  /**
   * Finds the first op (lowest index) among `root` and its ancestors whose
   * value is NaN or ±Infinity: the op that introduced it.
   *
   * @param root The output to search from: a Value on this tape or a node
   * index (default: the last node).
   * @returns A report, or `undefined` when every value is finite.
   * @throws {TypeError} If `root` is neither a Value nor an integer.
   * @throws {RangeError} If the index is not on the tape.
   * @throws {Error} If the Value is on another tape or stale.
   */
  findNonFinite(
    root: number | Value = this.size - 1,
  ): NonFiniteReport | undefined {
    root = this.rootIndex(root);
    if (root < 0) return undefined;
    const reachable = new Uint8Array(root + 1);
    reachable[root] = 1;
    for (let i = root; i >= 0; i--) {
      if (!reachable[i]) continue;
      for (const j of this.inputsOf(i)) reachable[j] = 1;
    }
    for (let i = 0; i <= root; i++) {
      if (reachable[i] && !Number.isFinite(this.data[i])) {
        return this.describeNonFinite(i);
      }
    }
    return undefined;
  }

  /** The node index of a `findNonFinite` root, checked. */
  private rootIndex(root: unknown): number {
    if (typeof root === "number") {
      if (
        Number.isInteger(root) && root >= (this.size === 0 ? -1 : 0) &&
        root < this.size
      ) return root;
      throw new RangeError(
        `findNonFinite() root must be a node index from 0 to ${
          this.size - 1
        }, got ${root}`,
      );
    }
    const value = root as Partial<Value> | null;
    if (
      typeof root === "object" && value !== null &&
      typeof value.index === "number" && typeof value.generation === "number"
    ) {
      if (value.tape !== this) {
        throw new Error(
          "findNonFinite() root is a Value on another tape; call it on v.tape",
        );
      }
      if (!this.isLive(value.index, value.generation)) {
        throw new Error(this.staleMessage(value.index, value.generation));
      }
      return value.index;
    }
    throw new TypeError(
      `findNonFinite() root must be a Value or a node index, got ${
        root === null ? "null" : typeof root
      }`,
    );
  }

  /**
   * A one-line summary, for `console.log(tape)`: `Tape(size=5, capacity=1024)`.
   *
   * @returns The text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tape } from "@tapegrad/tapegrad";
   * const tape = new Tape(16);
   * tape.leaf(1);
   * assert.equal(String(tape), "Tape(size=1, capacity=16)");
   * ```
   */
  toString(): string {
    return `Tape(size=${this.size}, capacity=${this.capacity})`;
  }

  /**
   * Deno's `console.log` / `Deno.inspect` hook: the one-line summary.
   *
   * @returns The text.
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /**
   * Node's `console.log` / `util.inspect` hook: the one-line summary.
   *
   * @returns The text.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** Index, op name and value of node `i`. */
  private summary(i: number): NodeSummary {
    return { index: i, op: opName(this.op[i]), data: this.data[i] };
  }

  /** The report on non-finite node `i`, with its inputs. */
  private describeNonFinite(i: number): NonFiniteReport {
    const node = this.summary(i);
    const inputs = this.inputsOf(i).map((j) => this.summary(j));
    const label = this.labels.get(i);
    const shown = inputs.slice(0, 8).map((x) => `${x.data} (node ${x.index})`);
    if (inputs.length > 8) shown.push(`… ${inputs.length - 8} more`);
    const what = node.op === "leaf" || node.op === "const"
      ? `${node.op} node ${i}${label ? ` "${label}"` : ""} holds ${node.data}`
      : `${node.op} produced ${node.data} at node ${i}${
        label ? ` "${label}"` : ""
      } from inputs [${shown.join(", ")}]`;
    return { ...node, inputs, message: `Non-finite value: ${what}` };
  }
}

function isRange(indices: ArrayLike<number>): boolean {
  const n = indices.length, first = indices[0];
  for (let k = 1; k < n; k++) if (indices[k] !== first + k) return false;
  return true;
}

function badOp(op: number, kind: string): RangeError {
  return new RangeError(`Op ${op} is not a ${kind} op code`);
}

function copyInto<
  T extends Float64Array | Int32Array | Uint8Array | Uint32Array,
>(
  target: T,
  source: T,
  n: number,
): T {
  target.set(source.subarray(0, n));
  return target;
}
