/**
 * Workload W on TensorFlow.js 4.22 (float32 only), on the pure-JavaScript
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

/** Workload W as one fused matMul + bias (+ ReLU) per layer. */
class TfjsMlp implements StepRunner {
  #backend: string;
  #sizes: readonly number[];
  /**
   * `[nin, nout]` per layer, the transpose of micrograd's neuron-major order:
   * the wasm backend's fused matMul gives wrong results with `transposeB`
   * and a bias (seen with tfjs-backend-wasm 4.22.0).
   */
  #weights: tf.Variable<tf.Rank.R2>[] = [];
  #biases: tf.Variable<tf.Rank.R1>[] = [];
  #variables: tf.Variable[] = [];
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
    let o = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const nin = sizes[l], nout = sizes[l + 1];
      const w = new Float32Array(nout * nin);
      const b = new Float32Array(nout);
      for (let j = 0; j < nout; j++) {
        for (let i = 0; i < nin; i++) w[i * nout + j] = initialParams[o++];
        b[j] = initialParams[o++];
      }
      this.#weights.push(tf.variable(tf.tensor2d(w, [nin, nout])));
      this.#biases.push(tf.variable(tf.tensor1d(b)));
      this.#variables.push(this.#weights[l], this.#biases[l]);
    }
    this.#x = tf.tensor2d(Float32Array.from(x), [y.length, sizes[0]]);
    this.#y = tf.tensor2d(Float32Array.from(y), [y.length, 1]);
  }

  #loss(): tf.Scalar {
    const layers = this.#sizes.length - 1;
    let h: tf.Tensor = this.#x;
    for (let l = 0; l < layers; l++) {
      h = tf.fused.matMul({
        a: h,
        b: this.#weights[l],
        bias: this.#biases[l],
        activation: l < layers - 1 ? "relu" : "linear",
      });
    }
    const margins = tf.relu(tf.sub(1, tf.mul(this.#y, h)));
    const dataLoss = tf.mean(margins);
    const sumSq = tf.addN(this.#variables.map((v) => tf.sum(tf.square(v))));
    return tf.add(dataLoss, tf.mul(sumSq, ALPHA));
  }

  step(lr: number): number {
    if (tf.getBackend() !== this.#backend) {
      // Synchronous for an initialised backend: the engine switches before
      // setBackend's first await.
      void tf.setBackend(this.#backend);
    }
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => this.#loss(),
        this.#variables,
      );
      for (const v of this.#variables) {
        v.assign(tf.sub(v, tf.mul(grads[v.name], lr)));
      }
      return value.dataSync()[0];
    });
  }

  parameters(): Float64Array {
    const out: number[] = [];
    for (let l = 0; l < this.#weights.length; l++) {
      const nin = this.#sizes[l], nout = this.#sizes[l + 1];
      const w = this.#weights[l].dataSync(), b = this.#biases[l].dataSync();
      for (let j = 0; j < nout; j++) {
        for (let i = 0; i < nin; i++) out.push(w[i * nout + j]);
        out.push(b[j]);
      }
    }
    return Float64Array.from(out);
  }

  /** The backend this runner computes on. */
  get backend(): string {
    return this.#backend;
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
