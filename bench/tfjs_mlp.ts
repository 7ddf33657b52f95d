/**
 * Workload W and the single-sample workload (784-50-10, softmax
 * cross-entropy) on TensorFlow.js 4.22 (float32 only), on the pure-JavaScript
 * `cpu` backend and on the WebAssembly `wasm` backend: `tf.variable`s,
 * `tf.variableGrads` and one fused matMul + bias (+ ReLU) per layer.
 *
 * The wasm backend needs no network: under Deno, npm packages run with Node
 * semantics, so its Emscripten loader takes the Node path and reads
 * `tfjs-backend-wasm-simd.wasm` (or the plain one without SIMD) with
 * `fs.readFileSync` from the package's own `dist/` folder in Deno's npm cache
 * (or `node_modules/`). That needs only `--allow-read` (and `--allow-env`,
 * which TensorFlow.js reads for its flags).
 *
 * Both backends share TensorFlow.js's one global engine, so each runner
 * switches the engine to its own backend at the start of a step when another
 * runner has switched it away (the first step after a switch also moves the
 * variables' data over). Importing this module turns on TensorFlow.js's
 * production mode, which silences its "use tfjs-node" advice and skips its
 * leak bookkeeping.
 *
 * @module
 */

// The union package, not tfjs-core alone: tfjs-core's Node bundle ships no
// gradient functions (its ESM `register_all_gradients.js` uses extensionless
// imports that Deno cannot load); the union's Node bundle registers them. It
// also brings the cpu backend.
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import {
  ALPHA,
  type RunnerFactory,
  type SampleRunnerFactory,
  type SampleStepRunner,
  type StepRunner,
  validateWorkload,
} from "./workload.ts";

tf.enableProdMode();

/** Makes `backend` the engine's backend, initialising it on first use. */
async function useBackend(backend: string): Promise<void> {
  if (!(await tf.setBackend(backend))) {
    throw new Error(`Cannot initialise the TensorFlow.js backend "${backend}"`);
  }
  await tf.ready();
}

/**
 * Switches the engine back to `backend` if another runner has switched it
 * away. Synchronous for an initialised backend: the engine switches before
 * `setBackend`'s first await.
 */
function switchTo(backend: string): void {
  if (tf.getBackend() !== backend) void tf.setBackend(backend);
}

/** An MLP's parameters as TensorFlow.js variables, one weight and bias per layer. */
interface Layers {
  /**
   * `[nin, nout]` per layer, the transpose of micrograd's neuron-major order:
   * the wasm backend's fused matMul gives wrong results with `transposeB`
   * and a bias (seen with tfjs-backend-wasm 4.22.0).
   */
  weights: tf.Variable<tf.Rank.R2>[];
  biases: tf.Variable<tf.Rank.R1>[];
  /** Every weight and bias, for `tf.variableGrads`. */
  variables: tf.Variable[];
}

/** Loads parameters in micrograd order into float32 variables. */
function toVariables(
  sizes: readonly number[],
  initialParams: Float64Array,
): Layers {
  const layers: Layers = { weights: [], biases: [], variables: [] };
  let o = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const nin = sizes[l], nout = sizes[l + 1];
    const w = new Float32Array(nout * nin);
    const b = new Float32Array(nout);
    for (let j = 0; j < nout; j++) {
      for (let i = 0; i < nin; i++) w[i * nout + j] = initialParams[o++];
      b[j] = initialParams[o++];
    }
    layers.weights.push(tf.variable(tf.tensor2d(w, [nin, nout])));
    layers.biases.push(tf.variable(tf.tensor1d(b)));
    layers.variables.push(layers.weights[l], layers.biases[l]);
  }
  return layers;
}

/** Reads the variables back as parameters in micrograd order. */
function fromVariables(sizes: readonly number[], layers: Layers): Float64Array {
  const out: number[] = [];
  for (let l = 0; l < layers.weights.length; l++) {
    const nin = sizes[l], nout = sizes[l + 1];
    const w = layers.weights[l].dataSync(), b = layers.biases[l].dataSync();
    for (let j = 0; j < nout; j++) {
      for (let i = 0; i < nin; i++) out.push(w[i * nout + j]);
      out.push(b[j]);
    }
  }
  return Float64Array.from(out);
}

/** The MLP's output: fused matMul + bias per layer, ReLU on all but the last. */
function forward(layers: Layers, input: tf.Tensor2D): tf.Tensor {
  const count = layers.weights.length;
  let h: tf.Tensor = input;
  for (let l = 0; l < count; l++) {
    h = tf.fused.matMul({
      a: h,
      b: layers.weights[l],
      bias: layers.biases[l],
      activation: l < count - 1 ? "relu" : "linear",
    });
  }
  return h;
}

/** One SGD update, `v = v - lr * grad`, of every variable. */
function descend(
  variables: tf.Variable[],
  grads: tf.NamedTensorMap,
  lr: number,
): void {
  for (const v of variables) v.assign(tf.sub(v, tf.mul(grads[v.name], lr)));
}

/** Workload W as one fused matMul + bias (+ ReLU) per layer. */
class TfjsMlp implements StepRunner {
  #backend: string;
  #sizes: readonly number[];
  #layers: Layers;
  #x: tf.Tensor2D;
  #y: tf.Tensor2D;

  constructor(
    backend: string,
    sizes: readonly number[],
    initialParams: Float64Array,
    x: Float64Array,
    y: Float64Array,
  ) {
    this.#backend = backend;
    this.#sizes = [...sizes];
    this.#layers = toVariables(sizes, initialParams);
    this.#x = tf.tensor2d(Float32Array.from(x), [y.length, sizes[0]]);
    this.#y = tf.tensor2d(Float32Array.from(y), [y.length, 1]);
  }

  #loss(): tf.Scalar {
    const scores = forward(this.#layers, this.#x);
    const margins = tf.relu(tf.sub(1, tf.mul(this.#y, scores)));
    const dataLoss = tf.mean(margins);
    const sumSq = tf.addN(
      this.#layers.variables.map((v) => tf.sum(tf.square(v))),
    );
    return tf.add(dataLoss, tf.mul(sumSq, ALPHA));
  }

  step(lr: number): number {
    switchTo(this.#backend);
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => this.#loss(),
        this.#layers.variables,
      );
      descend(this.#layers.variables, grads, lr);
      return value.dataSync()[0];
    });
  }

  parameters(): Float64Array {
    return fromVariables(this.#sizes, this.#layers);
  }

  /** The backend this runner computes on. */
  get backend(): string {
    return this.#backend;
  }
}

/**
 * The single-sample workload: the MLP's logits for one sample, then
 * TensorFlow.js's softmax cross-entropy (a stable log-sum-exp minus the
 * label's logit, with its own fused gradient), then SGD.
 */
class TfjsSampleMlp implements SampleStepRunner {
  #backend: string;
  #sizes: readonly number[];
  #layers: Layers;

  constructor(
    backend: string,
    sizes: readonly number[],
    initialParams: Float64Array,
  ) {
    this.#backend = backend;
    this.#sizes = [...sizes];
    this.#layers = toVariables(sizes, initialParams);
  }

  step(x: Float64Array, label: number, lr: number): number {
    switchTo(this.#backend);
    const nin = this.#sizes[0];
    const classes = this.#sizes[this.#sizes.length - 1];
    const oneHot = new Float32Array(classes);
    oneHot[label] = 1;
    return tf.tidy(() => {
      const input = tf.tensor2d(Float32Array.from(x), [1, nin]);
      const target = tf.tensor2d(oneHot, [1, classes]);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(
            target,
            forward(this.#layers, input),
          ) as tf.Scalar,
        this.#layers.variables,
      );
      descend(this.#layers.variables, grads, lr);
      return value.dataSync()[0];
    });
  }

  parameters(): Float64Array {
    return fromVariables(this.#sizes, this.#layers);
  }
}

/** Workload W on TensorFlow.js's `cpu` backend (float32). */
export const tfjsCpuRunner: RunnerFactory = async (
  sizes,
  params,
  x,
  y,
): Promise<StepRunner> => {
  validateWorkload(sizes, params, x, y);
  await useBackend("cpu");
  return new TfjsMlp("cpu", sizes, params, x, y);
};

/** Workload W on TensorFlow.js's `wasm` backend (float32, SIMD when available). */
export const tfjsWasmRunner: RunnerFactory = async (
  sizes,
  params,
  x,
  y,
): Promise<StepRunner> => {
  validateWorkload(sizes, params, x, y);
  await useBackend("wasm");
  return new TfjsMlp("wasm", sizes, params, x, y);
};

/** The single-sample workload on TensorFlow.js's `cpu` backend (float32). */
export const tfjsCpuSampleRunner: SampleRunnerFactory = async (
  sizes,
  params,
): Promise<SampleStepRunner> => {
  validateWorkload(sizes, params);
  await useBackend("cpu");
  return new TfjsSampleMlp("cpu", sizes, params);
};

/**
 * The single-sample workload on TensorFlow.js's `wasm` backend (float32, SIMD
 * when available).
 */
export const tfjsWasmSampleRunner: SampleRunnerFactory = async (
  sizes,
  params,
): Promise<SampleStepRunner> => {
  validateWorkload(sizes, params);
  await useBackend("wasm");
  return new TfjsSampleMlp("wasm", sizes, params);
};
