/**
 * Workload W and the single-sample workload (784-50-10, softmax
 * cross-entropy) on jax-js 0.1.25 (`@jax-js/jax`), on its WebAssembly device:
 * `jit(valueAndGrad(loss))` over the parameters, one matmul + bias (+ ReLU)
 * per layer, then a jitted SGD update, in float32 or float64. jax-js makes a
 * plain JavaScript number inside traced code a float32 constant, so `1/n`,
 * `alpha` and the learning rate are passed as arrays of the run's dtype.
 * Arrays are reference-counted: every use after the first takes `.ref`.
 *
 * @module
 */

import {
  defaultDevice,
  init,
  jit,
  lax,
  numpy as np,
  valueAndGrad,
} from "npm:@jax-js/jax@0.1.25";
import {
  ALPHA,
  type RunnerFactory,
  type SampleRunnerFactory,
  type SampleStepRunner,
  type StepRunner,
  validateWorkload,
} from "./workload.ts";

let ready: Promise<unknown> | undefined;

/** Weights `[nin, nout]` and biases `[nout]` per layer. */
type Params = { w: np.Array[]; b: np.Array[] };

function refs(p: Params): Params {
  return { w: p.w.map((a) => a.ref), b: p.b.map((a) => a.ref) };
}

/** Hinge loss of the scores plus `alpha` times the sum of squared parameters. */
function loss(
  p: Params,
  x: np.Array,
  y: np.Array,
  invn: np.Array,
  alpha: np.Array,
): np.Array {
  const layers = p.w.length;
  let h = x;
  let reg: np.Array | undefined;
  for (let l = 0; l < layers; l++) {
    const w = p.w[l], b = p.b[l];
    const r = np.square(w.ref).sum().add(np.square(b.ref).sum());
    reg = reg === undefined ? r : reg.add(r);
    h = np.matmul(h, w).add(b);
    if (l < layers - 1) h = np.maximum(h.ref, np.zerosLike(h));
  }
  const margins = np.onesLike(y.ref).sub(y.mul(h.reshape([-1])));
  const hinge = np.maximum(margins.ref, np.zerosLike(margins)).sum().mul(invn);
  return hinge.add(reg!.mul(alpha));
}

const valueAndGradStep = jit(valueAndGrad(loss));

/** `p - lr * g` for every parameter, compiled once like the gradient. */
const sgdUpdate = jit((p: Params, g: Params, lr: np.Array): Params => {
  const update = (a: np.Array, d: np.Array) => a.sub(d.mul(lr.ref));
  const next = {
    w: p.w.map((a, l) => update(a, g.w[l])),
    b: p.b.map((a, l) => update(a, g.b[l])),
  };
  lr.dispose();
  return next;
});

/**
 * The parameters in micrograd order (per neuron, its weights then its bias)
 * as jax-js arrays: weights `[nin, nout]` and biases `[nout]` per layer.
 */
function toParams(
  dtype: np.DType,
  sizes: readonly number[],
  initialParams: Float64Array,
): Params {
  const Arr = dtype === np.float64 ? Float64Array : Float32Array;
  const p: Params = { w: [], b: [] };
  let o = 0;
  for (let l = 1; l < sizes.length; l++) {
    const nin = sizes[l - 1], nout = sizes[l];
    const w = new Arr(nin * nout), b = new Arr(nout);
    for (let j = 0; j < nout; j++) {
      for (let i = 0; i < nin; i++) w[i * nout + j] = initialParams[o++];
      b[j] = initialParams[o++];
    }
    p.w.push(np.array(w, { dtype }).reshape([nin, nout]));
    p.b.push(np.array(b, { dtype }).reshape([nout]));
  }
  return p;
}

/** The parameters back in micrograd order, as float64. */
function fromParams(sizes: readonly number[], p: Params): Float64Array {
  const out: number[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const nin = sizes[l - 1], nout = sizes[l];
    const w = p.w[l - 1].ref.dataSync();
    const b = p.b[l - 1].ref.dataSync();
    for (let j = 0; j < nout; j++) {
      for (let i = 0; i < nin; i++) out.push(w[i * nout + j]);
      out.push(b[j]);
    }
  }
  return Float64Array.from(out);
}

/** A scalar of the run's dtype (a plain number would be a float32 constant). */
function scalar(dtype: np.DType, x: number): np.Array {
  return np.array(
    dtype === np.float64 ? new Float64Array([x]) : new Float32Array([x]),
    { dtype },
  ).reshape([]);
}

class JaxjsMlp implements StepRunner {
  #dtype: np.DType;
  #sizes: readonly number[];
  #p: Params;
  #x: np.Array;
  #y: np.Array;
  #invn: np.Array;
  #alpha: np.Array;

  constructor(
    dtype: np.DType,
    sizes: readonly number[],
    initialParams: Float64Array,
    x: Float64Array,
    y: Float64Array,
  ) {
    validateWorkload(sizes, initialParams, x, y);
    this.#dtype = dtype;
    this.#sizes = sizes;
    const Arr = dtype === np.float64 ? Float64Array : Float32Array;
    const array = (data: ArrayLike<number>, shape: number[]) =>
      np.array(Arr.from(data), { dtype }).reshape(shape);
    this.#p = toParams(dtype, sizes, initialParams);
    const n = y.length;
    this.#x = array(x, [n, sizes[0]]);
    this.#y = array(y, [n]);
    this.#invn = array([1 / n], []);
    this.#alpha = array([ALPHA], []);
  }

  step(lr: number): number {
    const [value, grads] = valueAndGradStep(
      refs(this.#p),
      this.#x.ref,
      this.#y.ref,
      this.#invn.ref,
      this.#alpha.ref,
    ) as [np.Array, Params];
    this.#p = sgdUpdate(this.#p, grads, scalar(this.#dtype, lr)) as Params;
    return value.dataSync()[0];
  }

  parameters(): Float64Array {
    return fromParams(this.#sizes, this.#p);
  }
}

/**
 * Softmax cross-entropy of one sample's logits (ReLU hidden layers): the
 * log-sum-exp of the logits minus the label's logit, picked by a one-hot
 * array of the run's dtype.
 */
function sampleLoss(p: Params, x: np.Array, oneHot: np.Array): np.Array {
  const layers = p.w.length;
  let h = x;
  for (let l = 0; l < layers; l++) {
    h = np.matmul(h, p.w[l]).add(p.b[l]);
    if (l < layers - 1) h = np.maximum(h.ref, np.zerosLike(h));
  }
  const z = h.reshape([-1]);
  // A stable log-sum-exp written out: nn.logsumexp rounds through float32
  // somewhere (3e-9 relative off in float64 runs).
  const m = lax.stopGradient(np.max(z.ref));
  const lse = np.log(np.exp(z.ref.sub(m.ref)).sum()).add(m);
  return lse.sub(z.mul(oneHot).sum());
}

const sampleValueAndGrad = jit(valueAndGrad(sampleLoss));

class JaxjsSampleMlp implements SampleStepRunner {
  #dtype: np.DType;
  #sizes: readonly number[];
  #p: Params;

  constructor(
    dtype: np.DType,
    sizes: readonly number[],
    initialParams: Float64Array,
  ) {
    validateWorkload(sizes, initialParams);
    this.#dtype = dtype;
    this.#sizes = [...sizes];
    this.#p = toParams(dtype, sizes, initialParams);
  }

  step(x: Float64Array, label: number, lr: number): number {
    // The sample comes as arrays each step, as TensorFlow.js's runner takes it.
    const dtype = this.#dtype, sizes = this.#sizes;
    const Arr = dtype === np.float64 ? Float64Array : Float32Array;
    const classes = sizes[sizes.length - 1];
    const hot = new Arr(classes);
    hot[label] = 1;
    const [value, grads] = sampleValueAndGrad(
      refs(this.#p),
      np.array(Arr.from(x), { dtype }).reshape([1, sizes[0]]),
      np.array(hot, { dtype }),
    ) as [np.Array, Params];
    this.#p = sgdUpdate(this.#p, grads, scalar(dtype, lr)) as Params;
    return value.dataSync()[0];
  }

  parameters(): Float64Array {
    return fromParams(this.#sizes, this.#p);
  }
}

/**
 * Workload W on jax-js's wasm device.
 *
 * @param dtype `"float32"` or `"float64"`.
 * @returns A runner factory.
 */
export function jaxjsRunner(dtype: "float32" | "float64"): RunnerFactory {
  return async (sizes, params, x, y) => {
    ready ??= init().then(() => defaultDevice("wasm"));
    await ready;
    return new JaxjsMlp(
      dtype === "float64" ? np.float64 : np.float32,
      sizes,
      params,
      x,
      y,
    );
  };
}

/**
 * The single-sample workload (784-50-10, softmax cross-entropy, SGD) on
 * jax-js's wasm device.
 *
 * @param dtype `"float32"` or `"float64"`.
 * @returns A runner factory.
 */
export function jaxjsSampleRunner(
  dtype: "float32" | "float64",
): SampleRunnerFactory {
  return async (sizes, params) => {
    ready ??= init().then(() => defaultDevice("wasm"));
    await ready;
    return new JaxjsSampleMlp(
      dtype === "float64" ? np.float64 : np.float32,
      sizes,
      params,
    );
  };
}
