/**
 * Hand-written forward and backward passes of an MLP on Float64Arrays, with no
 * graph at all: the speed limit the autograd engines are measured against.
 * The float64 operations and their order are exactly those documented in
 * `workload.ts`, so workload W matches the naive micrograd port bit for bit.
 *
 * @module
 */

import {
  ALPHA,
  type RunnerFactory,
  type SampleRunnerFactory,
  type SampleStepRunner,
  type StepRunner,
  validateWorkload,
} from "./workload.ts";

/** Per-layer offsets into the flat parameter array (micrograd order). */
function layerOffsets(sizes: readonly number[]): Int32Array {
  const offsets = new Int32Array(sizes.length);
  for (let l = 0; l + 1 < sizes.length; l++) {
    offsets[l + 1] = offsets[l] + (sizes[l] + 1) * sizes[l + 1];
  }
  return offsets;
}

/** One Float64Array per layer of neurons, sized `sizes[from + l]`. */
function buffers(sizes: readonly number[], from: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let l = from; l < sizes.length; l++) {
    out.push(new Float64Array(sizes[l]));
  }
  return out;
}

/**
 * Forward pass of one sample through every layer, reading the input from
 * `acts[0]` and writing each layer's output to `acts[l + 1]`.
 */
function forward(
  p: Float64Array,
  sizes: Int32Array,
  offsets: Int32Array,
  acts: Float64Array[],
): void {
  const layers = sizes.length - 1;
  for (let l = 0; l < layers; l++) {
    const nin = sizes[l], nout = sizes[l + 1];
    const inp = acts[l], out = acts[l + 1];
    const relu = l < layers - 1;
    for (let j = 0, o = offsets[l]; j < nout; j++, o += nin + 1) {
      let act = p[o + nin];
      for (let i = 0; i < nin; i++) act += p[o + i] * inp[i];
      out[j] = relu ? (act < 0 ? 0 : act) : act;
    }
  }
}

/**
 * Workload W with preallocated buffers and no graph. Exposes the gradient of
 * the last step for tests.
 */
export class HandwrittenMlp implements StepRunner {
  #sizes: Int32Array;
  #offsets: Int32Array;
  #params: Float64Array;
  #grad: Float64Array;
  #x: Float64Array;
  #y: Float64Array;
  /** `acts[0]` is the current input, `acts[l + 1]` layer `l`'s output. */
  #acts: Float64Array[];
  /** `deltas[l]`: d(loss)/d(pre-activation) of layer `l`'s neurons. */
  #deltas: Float64Array[];
  #losses: Float64Array;

  /**
   * Copies the parameters and preallocates every buffer.
   *
   * @param sizes Layer sizes including the input; the last must be 1.
   * @param initialParams Parameters in micrograd order (copied).
   * @param x Inputs, `n * sizes[0]`, row-major.
   * @param y Labels `±1`.
   * @throws {RangeError} On inconsistent arguments.
   */
  constructor(
    sizes: readonly number[],
    initialParams: Float64Array,
    x: Float64Array,
    y: Float64Array,
  ) {
    validateWorkload(sizes, initialParams, x, y);
    if (sizes[sizes.length - 1] !== 1) {
      throw new RangeError(
        `Cannot score with sizes "${sizes}": the last layer must have one neuron`,
      );
    }
    this.#sizes = Int32Array.from(sizes);
    this.#offsets = layerOffsets(sizes);
    this.#params = Float64Array.from(initialParams);
    this.#grad = new Float64Array(initialParams.length);
    this.#x = x;
    this.#y = y;
    this.#acts = buffers(sizes, 0);
    this.#deltas = buffers(sizes, 1);
    this.#losses = new Float64Array(y.length);
  }

  /** One full training step; returns the loss of its forward pass. */
  step(lr: number): number {
    const p = this.#params, g = this.#grad, x = this.#x, y = this.#y;
    const sizes = this.#sizes, offsets = this.#offsets;
    const acts = this.#acts, deltas = this.#deltas, losses = this.#losses;
    const layers = sizes.length - 1;
    const nin0 = sizes[0];
    const n = y.length;
    const invn = 1.0 / n;

    // Regularisation first: micrograd's reversed topological order visits the
    // p*p nodes before any sample's graph.
    let q = 0;
    for (let k = 0; k < p.length; k++) {
      const pk = p[k];
      q += pk * pk;
      const t = pk * ALPHA;
      let gk = 0;
      gk += t;
      gk += t;
      g[k] = gk;
    }

    // Samples in descending order, as micrograd's backward reaches them;
    // each sample's forward only feeds its own backward, so they are fused.
    const input = acts[0];
    for (let s = n - 1; s >= 0; s--) {
      for (let i = 0; i < nin0; i++) input[i] = x[s * nin0 + i];
      forward(p, sizes, offsets, acts);
      const a = acts[layers][0] * -y[s] + 1;
      const loss = a < 0 ? 0 : a;
      losses[s] = loss;
      deltas[layers - 1][0] = -y[s] * (loss > 0 ? invn : 0);

      for (let l = layers - 1; l >= 0; l--) {
        const nin = sizes[l], nout = sizes[l + 1];
        const inp = acts[l], d = deltas[l];
        const o0 = offsets[l];
        if (l > 0) {
          const dh = deltas[l - 1];
          dh.fill(0);
          // j descending: the order micrograd accumulates a hidden output's grad
          for (let j = nout - 1; j >= 0; j--) {
            const dj = d[j];
            const o = o0 + j * (nin + 1);
            for (let i = 0; i < nin; i++) {
              g[o + i] += inp[i] * dj;
              dh[i] += p[o + i] * dj;
            }
            g[o + nin] += dj;
          }
          for (let i = 0; i < nin; i++) if (!(inp[i] > 0)) dh[i] = 0;
        } else {
          for (let j = nout - 1; j >= 0; j--) {
            const dj = d[j];
            const o = o0 + j * (nin + 1);
            for (let i = 0; i < nin; i++) g[o + i] += inp[i] * dj;
            g[o + nin] += dj;
          }
        }
      }
    }

    let total = 0;
    for (let s = 0; s < n; s++) total += losses[s];
    const dataLoss = total * invn;
    const regLoss = q * ALPHA;

    for (let k = 0; k < p.length; k++) p[k] -= lr * g[k];
    return dataLoss + regLoss;
  }

  /** A copy of the current parameters in micrograd order. */
  parameters(): Float64Array {
    return this.#params.slice();
  }

  /**
   * A copy of the gradient computed by the last step (taken before that
   * step's update). `step(0)` computes it without changing the parameters.
   */
  gradient(): Float64Array {
    return this.#grad.slice();
  }
}

/** Workload W on {@linkcode HandwrittenMlp}. */
export const handwrittenRunner: RunnerFactory = (
  sizes,
  initialParams,
  x,
  y,
): HandwrittenMlp => new HandwrittenMlp(sizes, initialParams, x, y);

/**
 * The single-sample workload (`WorkloadMnist` in `workload.ts`): one sample
 * forward, softmax cross-entropy, backward and SGD update, with the update
 * fused into the backward pass. Exposes the gradient of the last step.
 */
export class HandwrittenSampleMlp implements SampleStepRunner {
  #sizes: Int32Array;
  #offsets: Int32Array;
  #params: Float64Array;
  #grad: Float64Array;
  #acts: Float64Array[];
  #deltas: Float64Array[];

  /**
   * Copies the parameters and preallocates every buffer.
   *
   * @param sizes Layer sizes including the input; the last is the number of
   * classes.
   * @param initialParams Parameters in micrograd order (copied).
   * @throws {RangeError} On inconsistent arguments.
   */
  constructor(sizes: readonly number[], initialParams: Float64Array) {
    validateWorkload(sizes, initialParams);
    this.#sizes = Int32Array.from(sizes);
    this.#offsets = layerOffsets(sizes);
    this.#params = Float64Array.from(initialParams);
    this.#grad = new Float64Array(initialParams.length);
    this.#acts = buffers(sizes, 0);
    this.#deltas = buffers(sizes, 1);
  }

  /**
   * Forward, backward and SGD update on one sample; returns the loss of the
   * forward pass.
   *
   * @param x The input, `sizes[0]` numbers.
   * @param label The class, in `[0, sizes[last])`.
   * @param lr The learning rate.
   */
  step(x: Float64Array, label: number, lr: number): number {
    const p = this.#params, g = this.#grad;
    const sizes = this.#sizes, offsets = this.#offsets;
    const acts = this.#acts, deltas = this.#deltas;
    const layers = sizes.length - 1;
    const nin0 = sizes[0];

    const input = acts[0];
    for (let i = 0; i < nin0; i++) input[i] = x[i];
    forward(p, sizes, offsets, acts);

    // Stable softmax cross-entropy; the exponentials go straight into the
    // output deltas and are normalised below.
    const z = acts[layers], dz = deltas[layers - 1];
    const classes = z.length;
    let m = z[0];
    for (let k = 1; k < classes; k++) if (z[k] > m) m = z[k];
    let s = 0;
    for (let k = 0; k < classes; k++) {
      const e = Math.exp(z[k] - m);
      dz[k] = e;
      s += e;
    }
    const loss = (m + Math.log(s)) - z[label];
    for (let k = 0; k < classes; k++) dz[k] = dz[k] / s - (k === label ? 1 : 0);

    for (let l = layers - 1; l >= 0; l--) {
      const nin = sizes[l], nout = sizes[l + 1];
      const inp = acts[l], d = deltas[l];
      const o0 = offsets[l];
      if (l > 0) {
        const dh = deltas[l - 1];
        dh.fill(0);
        for (let j = nout - 1; j >= 0; j--) {
          const dj = d[j];
          const o = o0 + j * (nin + 1);
          for (let i = 0; i < nin; i++) {
            const w = p[o + i];
            dh[i] += w * dj; // the weight before its update
            const gi = inp[i] * dj;
            g[o + i] = gi;
            p[o + i] = w - lr * gi;
          }
          g[o + nin] = dj;
          p[o + nin] -= lr * dj;
        }
        for (let i = 0; i < nin; i++) if (!(inp[i] > 0)) dh[i] = 0;
      } else {
        for (let j = nout - 1; j >= 0; j--) {
          const dj = d[j];
          const o = o0 + j * (nin + 1);
          for (let i = 0; i < nin; i++) {
            const gi = inp[i] * dj;
            g[o + i] = gi;
            p[o + i] -= lr * gi;
          }
          g[o + nin] = dj;
          p[o + nin] -= lr * dj;
        }
      }
    }
    return loss;
  }

  /** A copy of the current parameters in micrograd order. */
  parameters(): Float64Array {
    return this.#params.slice();
  }

  /**
   * A copy of the gradient computed by the last step (before its update).
   * A step with `lr = 0` computes it without changing the parameters.
   */
  gradient(): Float64Array {
    return this.#grad.slice();
  }
}

/** The single-sample workload on {@linkcode HandwrittenSampleMlp}. */
export const handwrittenSampleRunner: SampleRunnerFactory = (
  sizes,
  initialParams,
): HandwrittenSampleMlp => new HandwrittenSampleMlp(sizes, initialParams);
