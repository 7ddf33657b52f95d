/**
 * Workload W on convnetjs 0.3.0 (float64, one sample at a time, the way the
 * library works): its fully connected and ReLU layers compute the forward
 * and backward passes; the hinge loss's gradient is set on the last layer's
 * output, and the L2 term and the SGD update are applied to its parameter
 * arrays, as micrograd's demo does.
 *
 * @module
 */

import convnetjs from "npm:convnetjs@0.3.0";
import {
  ALPHA,
  type RunnerFactory,
  type StepRunner,
  validateWorkload,
} from "./workload.ts";

/** The parts of convnetjs's layer objects this runner touches. */
interface Vol {
  w: Float64Array;
  dw: Float64Array;
}
interface ConvLayer {
  layer_type: string;
  filters?: Vol[];
  biases?: Vol;
  out_act: Vol;
  forward(v: Vol, training: boolean): Vol;
  backward(): void;
}

/** Workload W on a convnetjs `Net` of fc + relu layers (no loss layer). */
class ConvnetjsMlp implements StepRunner {
  #layers: ConvLayer[];
  #fc: ConvLayer[];
  #inputs: Vol[];
  #y: Float64Array;

  constructor(
    sizes: readonly number[],
    initialParams: Float64Array,
    x: Float64Array,
    y: Float64Array,
  ) {
    validateWorkload(sizes, initialParams, x, y);
    const net = new convnetjs.Net();
    const defs: Record<string, unknown>[] = [
      { type: "input", out_sx: 1, out_sy: 1, out_depth: sizes[0] },
    ];
    for (let l = 1; l < sizes.length; l++) {
      defs.push({
        type: "fc",
        num_neurons: sizes[l],
        ...(l < sizes.length - 1 ? { activation: "relu" } : {}),
      });
    }
    net.makeLayers(defs);
    this.#layers = net.layers as ConvLayer[];
    this.#fc = this.#layers.filter((layer) => layer.layer_type === "fc");
    let o = 0;
    for (const layer of this.#fc) {
      layer.filters!.forEach((f, j) => {
        for (let k = 0; k < f.w.length; k++) f.w[k] = initialParams[o++];
        layer.biases!.w[j] = initialParams[o++];
      });
    }
    const nin = sizes[0];
    this.#inputs = Array.from(y, (_, s) => {
      const v = new convnetjs.Vol(1, 1, nin, 0) as Vol;
      for (let k = 0; k < nin; k++) v.w[k] = x[s * nin + k];
      return v;
    });
    this.#y = y;
  }

  /** Every parameter array with its gradient, micrograd order. */
  *#vols(): Generator<Vol> {
    for (const layer of this.#fc) {
      yield* layer.filters!;
      yield layer.biases!;
    }
  }

  step(lr: number): number {
    const layers = this.#layers, y = this.#y, n = y.length;
    let q = 0;
    for (const v of this.#vols()) {
      for (let k = 0; k < v.w.length; k++) {
        q += v.w[k] * v.w[k];
        v.dw[k] = 2 * ALPHA * v.w[k];
      }
    }
    let total = 0;
    for (let s = 0; s < n; s++) {
      let act = this.#inputs[s];
      for (const layer of layers) act = layer.forward(act, true);
      const margin = 1 - y[s] * act.w[0];
      if (margin > 0) total += margin;
      act.dw[0] = margin > 0 ? -y[s] / n : 0;
      for (let l = layers.length - 1; l > 0; l--) layers[l].backward();
    }
    for (const v of this.#vols()) {
      for (let k = 0; k < v.w.length; k++) v.w[k] -= lr * v.dw[k];
    }
    return total * (1 / n) + q * ALPHA;
  }

  parameters(): Float64Array {
    const out: number[] = [];
    for (const layer of this.#fc) {
      layer.filters!.forEach((f, j) => {
        out.push(...f.w);
        out.push(layer.biases!.w[j]);
      });
    }
    return Float64Array.from(out);
  }
}

/** Workload W on convnetjs (float64). */
export const convnetjsRunner: RunnerFactory = (sizes, params, x, y) =>
  new ConvnetjsMlp(sizes, params, x, y);
