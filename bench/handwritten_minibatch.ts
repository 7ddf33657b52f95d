/**
 * A hand-written mini-batch training step on Float64Arrays, no graph: the
 * speed limit for `minibatch_bench.ts`. An MLP with ReLU hidden layers and a
 * linear output, the mean hinge loss (one output, labels 0/1 as ±1) or the
 * mean softmax cross-entropy (one output per class), plus `alpha · Σ p²`,
 * and plain SGD. Batches are the same shuffled slices tapegrad's `Trainer`
 * takes (one `Rng.permutation` per epoch), so the two follow each other
 * within float64 rounding.
 *
 * @module
 */

import { Rng } from "../mod.ts";

/** A mini-batch MLP trainer on flat arrays. */
export class HandwrittenMiniBatch {
  readonly params: Float64Array;
  #sizes: number[];
  #offsets: number[];
  #grad: Float64Array;
  #x: Float64Array;
  #y: Int32Array;
  #n: number;
  #batch: number;
  #loss: "hinge" | "cross-entropy";
  #alpha: number;
  #rng: Rng;
  #order: number[] = [];
  #next = 0;
  #acts: Float64Array[];
  #deltas: Float64Array[];

  /**
   * @param sizes Layer sizes including the input.
   * @param params Initial parameters in micrograd order (copied).
   * @param x Inputs, row-major.
   * @param y Class indexes.
   * @param options Batch size, loss, L2 strength, shuffling seed.
   */
  constructor(
    sizes: number[],
    params: Float64Array,
    x: Float64Array,
    y: Int32Array,
    options: {
      batchSize: number;
      loss: "hinge" | "cross-entropy";
      alpha: number;
      seed: number;
    },
  ) {
    this.#sizes = sizes;
    this.params = params.slice();
    this.#grad = new Float64Array(params.length);
    this.#offsets = [0];
    for (let l = 0; l + 1 < sizes.length; l++) {
      this.#offsets.push(
        this.#offsets[l] + (sizes[l] + 1) * sizes[l + 1],
      );
    }
    this.#x = x;
    this.#y = y;
    this.#n = y.length;
    this.#batch = options.batchSize;
    this.#loss = options.loss;
    this.#alpha = options.alpha;
    this.#rng = new Rng(options.seed);
    this.#acts = sizes.map((s) => new Float64Array(s));
    this.#deltas = sizes.map((s) => new Float64Array(s));
  }

  /** One step on the next batch; returns its loss before the update. */
  step(lr: number): number {
    if (this.#next >= this.#order.length) {
      this.#order = this.#rng.permutation(this.#n);
      this.#next = 0;
    }
    const from = this.#next;
    const to = Math.min(from + this.#batch, this.#n);
    this.#next = to;
    const b = to - from;
    const p = this.params, g = this.#grad, sizes = this.#sizes;
    const offsets = this.#offsets, acts = this.#acts, deltas = this.#deltas;
    const layers = sizes.length - 1, nin0 = sizes[0];
    const alpha = this.#alpha;
    let squares = 0;
    for (let j = 0; j < p.length; j++) {
      squares += p[j] * p[j];
      g[j] = 2 * alpha * p[j];
    }
    let loss = 0;
    for (let s = from; s < to; s++) {
      const row = this.#order[s], label = this.#y[row];
      const a0 = acts[0];
      for (let i = 0; i < nin0; i++) a0[i] = this.#x[row * nin0 + i];
      for (let l = 0; l < layers; l++) {
        const nin = sizes[l], nout = sizes[l + 1];
        const inp = acts[l], out = acts[l + 1];
        for (let j = 0, o = offsets[l]; j < nout; j++, o += nin + 1) {
          let act = p[o + nin];
          for (let i = 0; i < nin; i++) act += p[o + i] * inp[i];
          out[j] = l < layers - 1 && act < 0 ? 0 : act;
        }
      }
      const z = acts[layers], dz = deltas[layers];
      if (this.#loss === "hinge") {
        const sign = label === 1 ? 1 : -1;
        const margin = 1 - sign * z[0];
        if (margin > 0) {
          loss += margin;
          dz[0] = -sign / b;
        } else dz[0] = 0;
      } else {
        let m = z[0];
        for (let k = 1; k < z.length; k++) if (z[k] > m) m = z[k];
        let sum = 0;
        for (let k = 0; k < z.length; k++) sum += Math.exp(z[k] - m);
        loss += m + Math.log(sum) - z[label];
        for (let k = 0; k < z.length; k++) {
          dz[k] = (Math.exp(z[k] - m) / sum - (k === label ? 1 : 0)) / b;
        }
      }
      for (let l = layers - 1; l >= 0; l--) {
        const nin = sizes[l], nout = sizes[l + 1];
        const inp = acts[l], d = deltas[l + 1], dIn = deltas[l];
        if (l > 0) dIn.fill(0);
        for (let j = 0, o = offsets[l]; j < nout; j++, o += nin + 1) {
          const dj = d[j];
          if (dj === 0) continue;
          g[o + nin] += dj;
          for (let i = 0; i < nin; i++) {
            g[o + i] += dj * inp[i];
            if (l > 0) dIn[i] += dj * p[o + i];
          }
        }
        if (l > 0) {
          for (let i = 0; i < nin; i++) if (inp[i] <= 0) dIn[i] = 0;
        }
      }
    }
    for (let j = 0; j < p.length; j++) p[j] -= lr * g[j];
    return loss / b + alpha * squares;
  }
}
