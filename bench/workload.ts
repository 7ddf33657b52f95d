/**
 * The benchmark workloads and the interface every rival implementation
 * (naive micrograd port, hand-written typed arrays, TensorFlow.js, tapegrad)
 * implements, plus the deterministic data that feeds them.
 *
 * ## Workload W: micrograd's demo training step
 *
 * `n` two-moons points (2-D inputs, labels `y ∈ {-1, +1}`), an MLP with layer
 * sizes `nin → hidden… → 1`, ReLU on every layer but the last (linear), full
 * batch. One step is forward, backward and an SGD update. The float64 order of
 * operations below is micrograd's own (the literal port in
 * `naive_micrograd.ts` performs exactly these operations), and every float64
 * implementation must keep it so results match bit for bit:
 *
 * Forward, per sample `s = 0 … n-1`, per layer, per neuron `j`:
 * - `act = b_j; act += w_j0 * x_0; act += w_j1 * x_1; …` (input index
 *   ascending, starting from the bias: micrograd's `sum(wi*xi …, self.b)`);
 * - hidden layers: `out = act < 0 ? 0 : act` (micrograd's `relu`); last layer:
 *   `score = act`.
 *
 * Loss (micrograd's `loss()` in `demo.ipynb`):
 * - `L_s = relu(score_s * (-y_s) + 1)` (`(1 + -yi*scorei).relu()`);
 * - `S = 0; S += L_0; S += L_1; …` (sample index ascending);
 *   `data = S * (1 / n)` (a multiplication by the rounded `1/n`, not a
 *   division);
 * - `Q = 0; Q += p_0 * p_0; Q += p_1 * p_1; …` (parameter order);
 *   `reg = Q * alpha` with `alpha = 1e-4`;
 * - `loss = data + reg`.
 *
 * Backward (the order micrograd's reversed topological sort produces with
 * JavaScript's insertion-ordered `Set`):
 * - every parameter first gets the regularisation term twice:
 *   `grad = 0; grad += p * alpha; grad += p * alpha`;
 * - then samples are processed in descending order `s = n-1 … 0`, each adding
 *   its contribution to every parameter: `dL_s = L_s > 0 ? 1/n : 0`,
 *   `dscore = (-y_s) * dL_s`; for a neuron with pre-activation gradient `d`,
 *   `grad(w_ji) += x_i * d` and `grad(b_j) += d`;
 * - the gradient reaching a hidden output `h_i` sums over the next layer's
 *   neurons in descending order: `dh = 0; dh += w_(J-1)i * d_(J-1); …;
 *   dh += w_0i * d_0`, then the ReLU passes it iff `h_i > 0`.
 *
 * Update: `p = p - lr * grad`, for every parameter.
 *
 * Parameters are in micrograd order: layer by layer, neuron by neuron, each
 * neuron's `nin` weights then its bias.
 *
 * ## Workload MNIST: one sample of a 784-50-10 classifier
 *
 * See {@linkcode WorkloadMnist}.
 *
 * @module
 */

/** One rival implementation of workload W, set up on its data and weights. */
export interface StepRunner {
  /** One full training step; returns the loss computed in that step's forward pass. */
  step(lr: number): number;
  /** Current parameters in micrograd order. */
  parameters(): Float64Array;
}

/**
 * Builds a {@linkcode StepRunner} for workload W.
 *
 * @param sizes Layer sizes including the input, e.g. `[2, 16, 16, 1]`.
 * @param initialParams Parameters in micrograd order, `paramCount(sizes)` of them.
 * @param x Inputs, `n * nin` numbers, row-major.
 * @param y Labels, `n` numbers, each `-1` or `+1`.
 */
export type RunnerFactory = (
  sizes: number[],
  initialParams: Float64Array,
  x: Float64Array,
  y: Float64Array,
) => StepRunner | Promise<StepRunner>;

/** One rival implementation of the single-sample workload {@linkcode WorkloadMnist}. */
export interface SampleStepRunner {
  /**
   * Forward, backward and SGD update on one sample; returns the loss computed
   * in the forward pass.
   */
  step(x: Float64Array, label: number, lr: number): number;
  /** Current parameters in micrograd order. */
  parameters(): Float64Array;
}

/** Builds a {@linkcode SampleStepRunner} from layer sizes and initial parameters. */
export type SampleRunnerFactory = (
  sizes: number[],
  initialParams: Float64Array,
) => SampleStepRunner | Promise<SampleStepRunner>;

/** The L2 regularisation strength of workload W (micrograd's `alpha`). */
export const ALPHA = 1e-4;

/** The shape and seeds of a workload-W instance. */
export interface WorkloadSpec {
  /** Layer sizes including the input. */
  sizes: number[];
  /** Number of two-moons points. */
  n: number;
  /** Standard deviation of the Gaussian noise added to the moons. */
  noise: number;
  /** Seed for the data set. */
  dataSeed: number;
  /** Seed for the initial parameters. */
  paramSeed: number;
}

/** Workload W: micrograd's demo network `[2, 16, 16, 1]` on 100 points. */
export const W: WorkloadSpec = {
  sizes: [2, 16, 16, 1],
  n: 100,
  noise: 0.1,
  dataSeed: 42,
  paramSeed: 1337,
};

/** Workload W2: as {@linkcode W} with two 64-wide hidden layers. */
export const W2: WorkloadSpec = { ...W, sizes: [2, 64, 64, 1] };

/**
 * The single-sample workload: a `784 → 50 → 10` MLP, ReLU hidden layer, linear
 * output, on one random sample `x ∈ [0, 1)^784` with class `label`.
 *
 * One step, in this float64 order:
 * - forward as in workload W (`act = b; act += w_i * x_i` ascending; ReLU
 *   hidden, linear output giving logits `z`);
 * - `m = max(z)` (scan ascending); `e_k = exp(z_k - m)`;
 *   `s = 0; s += e_0; s += e_1; …`; `loss = (m + log(s)) - z_label`
 *   (softmax cross-entropy with a stable log-sum-exp, no regularisation);
 * - `dz_k = e_k / s - (k === label ? 1 : 0)`; parameter gradients
 *   `grad(w_ji) = x_i * d_j`, `grad(b_j) = d_j`; hidden gradients summed over
 *   the next layer's neurons in descending order, passed by the ReLU iff the
 *   output is `> 0`;
 * - `p = p - lr * grad` with `lr = 0.01`.
 *
 * Initial parameters are uniform(-1, 1) from `paramSeed`; the sample comes
 * from {@linkcode makeMnistSample}.
 */
export const WorkloadMnist: {
  sizes: number[];
  classes: number;
  lr: number;
  paramSeed: number;
  sampleSeed: number;
} = {
  sizes: [784, 50, 10],
  classes: 10,
  lr: 0.01,
  paramSeed: 7,
  sampleSeed: 8,
};

/**
 * A deterministic PRNG (mulberry32) returning numbers uniform in `[0, 1)`.
 *
 * @param seed Any 32-bit integer.
 * @returns A function that yields the next number on each call.
 */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The number of parameters (weights and biases) of an MLP.
 *
 * @param sizes Layer sizes including the input, e.g. `[2, 16, 16, 1]`.
 * @returns `Σ (sizes[l] + 1) * sizes[l + 1]`.
 */
export function paramCount(sizes: readonly number[]): number {
  let count = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    count += (sizes[l] + 1) * sizes[l + 1];
  }
  return count;
}

/**
 * Initial parameters uniform in `(-1, 1)`, in micrograd order (biases too,
 * unlike micrograd's zero biases, so that every path is exercised).
 *
 * @param sizes Layer sizes including the input.
 * @param seed PRNG seed.
 * @returns `paramCount(sizes)` numbers.
 */
export function initialParams(
  sizes: readonly number[],
  seed: number,
): Float64Array {
  const rand = mulberry32(seed);
  const params = new Float64Array(paramCount(sizes));
  for (let k = 0; k < params.length; k++) params[k] = -1 + 2 * rand();
  return params;
}

/**
 * A two-moons data set in the manner of scikit-learn's `make_moons`:
 * `floor(n/2)` points on the outer half circle (label `-1`), the rest on the
 * inner one (label `+1`), shuffled, plus Gaussian noise of standard deviation
 * `noise` on both coordinates.
 *
 * @param n Number of points.
 * @param noise Noise standard deviation.
 * @param seed PRNG seed.
 * @returns `x` (`n * 2`, row-major) and `y` (`n` labels `±1`).
 */
export function makeMoons(
  n: number,
  noise: number,
  seed: number,
): { x: Float64Array; y: Float64Array } {
  const rand = mulberry32(seed);
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const x = new Float64Array(2 * n);
  const y = new Float64Array(n);
  for (let k = 0; k < nOut; k++) {
    const t = nOut > 1 ? (Math.PI * k) / (nOut - 1) : 0;
    x[2 * k] = Math.cos(t);
    x[2 * k + 1] = Math.sin(t);
    y[k] = -1;
  }
  for (let k = 0; k < nIn; k++) {
    const t = nIn > 1 ? (Math.PI * k) / (nIn - 1) : 0;
    x[2 * (nOut + k)] = 1 - Math.cos(t);
    x[2 * (nOut + k) + 1] = 1 - Math.sin(t) - 0.5;
    y[nOut + k] = 1;
  }
  for (let k = n - 1; k > 0; k--) {
    const r = Math.floor(rand() * (k + 1));
    const x0 = x[2 * k], x1 = x[2 * k + 1], yk = y[k];
    x[2 * k] = x[2 * r];
    x[2 * k + 1] = x[2 * r + 1];
    y[k] = y[r];
    x[2 * r] = x0;
    x[2 * r + 1] = x1;
    y[r] = yk;
  }
  for (let k = 0; k < 2 * n; k++) x[k] += noise * gaussian(rand);
  return { x, y };
}

/** A standard normal draw by the Box-Muller transform. */
function gaussian(rand: () => number): number {
  const u = 1 - rand(); // in (0, 1], so the log is finite
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Everything a {@linkcode RunnerFactory} needs for one workload-W instance. */
export interface WorkloadInstance {
  /** Layer sizes including the input. */
  sizes: number[];
  /** Initial parameters in micrograd order. */
  params: Float64Array;
  /** Inputs, `n * sizes[0]`, row-major. */
  x: Float64Array;
  /** Labels `±1`. */
  y: Float64Array;
}

/**
 * Builds the data and initial parameters of a workload-W instance.
 *
 * @param spec The workload, e.g. {@linkcode W} or {@linkcode W2}.
 * @returns Fresh arrays; runners may keep them but must not modify them.
 */
export function makeWorkload(spec: WorkloadSpec): WorkloadInstance {
  const { x, y } = makeMoons(spec.n, spec.noise, spec.dataSeed);
  return {
    sizes: [...spec.sizes],
    params: initialParams(spec.sizes, spec.paramSeed),
    x,
    y,
  };
}

/**
 * micrograd's demo learning-rate schedule, `1.0 - 0.9 * k / 100`.
 *
 * @param k Step index from 0.
 * @returns The learning rate of step `k`.
 */
export function demoLearningRate(k: number): number {
  return 1.0 - 0.9 * k / 100;
}

/**
 * A random sample for {@linkcode WorkloadMnist}.
 *
 * @param seed PRNG seed.
 * @param nin Input size (784 for MNIST).
 * @param classes Number of classes (10 for MNIST).
 * @returns `x` uniform in `[0, 1)^nin` and a class `label` in `[0, classes)`.
 */
export function makeMnistSample(
  seed: number,
  nin = 784,
  classes = 10,
): { x: Float64Array; label: number } {
  const rand = mulberry32(seed);
  const x = new Float64Array(nin);
  for (let i = 0; i < nin; i++) x[i] = rand();
  return { x, label: Math.floor(rand() * classes) };
}

/**
 * Checks the arguments of a {@linkcode RunnerFactory} (or, with `x` and `y`
 * omitted, of a {@linkcode SampleRunnerFactory}).
 *
 * @param sizes Layer sizes including the input.
 * @param params Initial parameters.
 * @param x Inputs, if any.
 * @param y Labels `±1`, if any.
 * @throws {RangeError} If a size is not a positive integer, fewer than two
 * sizes are given, or an array has the wrong length.
 */
export function validateWorkload(
  sizes: readonly number[],
  params: Float64Array,
  x?: Float64Array,
  y?: Float64Array,
): void {
  if (sizes.length < 2) {
    throw new RangeError(
      `Cannot build an MLP from sizes "${sizes}": need at least two`,
    );
  }
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(
        `Cannot build an MLP from sizes "${sizes}": "${size}" is not a positive integer`,
      );
    }
  }
  if (params.length !== paramCount(sizes)) {
    throw new RangeError(
      `Expected ${
        paramCount(sizes)
      } parameters for sizes "${sizes}": got "${params.length}"`,
    );
  }
  if (x !== undefined && y !== undefined) {
    if (x.length !== y.length * sizes[0]) {
      throw new RangeError(
        `Expected ${
          y.length * sizes[0]
        } inputs for ${y.length} samples: got "${x.length}"`,
      );
    }
    for (const label of y) {
      if (label !== 1 && label !== -1) {
        throw new RangeError(`Expected labels -1 or +1: got "${label}"`);
      }
    }
  }
}
