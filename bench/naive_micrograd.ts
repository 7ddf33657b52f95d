/**
 * A literal TypeScript port of Karpathy's micrograd (`engine.py`, `nn.py` and
 * the training step of `demo.ipynb`): one object per node, a closure per
 * node for its backward step, a recursive topological sort. It is the
 * `baseline` of the benchmarks, so it keeps micrograd's design on purpose,
 * slow parts included.
 *
 * Python's operator overloads become methods: `a + b` is `a.add(b)`,
 * `2 + a` is `a.radd(2)`, `-a` is `a.neg()`, and so on, each built exactly as
 * micrograd builds it (`sub` is `add(neg)`, `div` is `mul(pow(-1))`). `exp`
 * is the one from micrograd's lecture version; `log`, which the softmax
 * cross-entropy of the MNIST-sized workload needs, is written the same way.
 *
 * Two departures, neither of which changes a single float64 operation:
 * - `backward()` runs micrograd's recursive `build_topo`, and only when that
 *   overflows JavaScript's call stack (about 10,000 such frames) walks again
 *   with the recursion on an explicit stack (same visiting order, same
 *   list). The regularisation sum of a `[2, 256, 256, 1]` network is a chain
 *   of 66,561 additions; Python's micrograd would need
 *   `sys.setrecursionlimit` there too.
 * - {@linkcode naiveWorkerRunner} runs the port in a worker thread whose heap
 *   may grow past the main isolate's limit (about 4.4 GB): one step of that
 *   network on 100 points builds some 13 million nodes (about 8 GB).
 *
 * @module
 */

import {
  isMainThread,
  parentPort,
  Worker,
  workerData,
} from "node:worker_threads";
import {
  ALPHA,
  paramCount,
  type RunnerFactory,
  type SampleRunnerFactory,
  type SampleStepRunner,
  type StepRunner,
  validateWorkload,
} from "./workload.ts";

/** Stores a single scalar value and its gradient (micrograd's `Value`). */
export class Value {
  /** The value computed in the forward pass. */
  data: number;
  /** d(output)/d(this), filled in by {@linkcode Value.backward}. */
  grad: number;
  /** Adds this node's contribution to its children's gradients. */
  _backward: () => void;
  /** The nodes this one was computed from. */
  _prev: Set<Value>;
  /** The op that produced this node, for graph display. */
  _op: string;

  /**
   * Creates a node.
   *
   * @param data The value.
   * @param children The operands this value was computed from.
   * @param op The op's name.
   */
  constructor(data: number, children: Value[] = [], op = "") {
    this.data = data;
    this.grad = 0;
    this._backward = () => {};
    this._prev = new Set(children);
    this._op = op;
  }

  /** `self + other` */
  add(other: Value | number): Value {
    const o = other instanceof Value ? other : new Value(other);
    const out = new Value(this.data + o.data, [this, o], "+");
    out._backward = () => {
      this.grad += out.grad;
      o.grad += out.grad;
    };
    return out;
  }

  /** `self * other` */
  mul(other: Value | number): Value {
    const o = other instanceof Value ? other : new Value(other);
    const out = new Value(this.data * o.data, [this, o], "*");
    out._backward = () => {
      this.grad += o.data * out.grad;
      o.grad += this.data * out.grad;
    };
    return out;
  }

  /** `self ** other`, for a constant exponent. */
  pow(other: number): Value {
    const out = new Value(this.data ** other, [this], `**${other}`);
    out._backward = () => {
      this.grad += (other * this.data ** (other - 1)) * out.grad;
    };
    return out;
  }

  /** `max(0, self)`, micrograd style: `0 if self.data < 0 else self.data`. */
  relu(): Value {
    const out = new Value(this.data < 0 ? 0 : this.data, [this], "ReLU");
    out._backward = () => {
      this.grad += Number(out.data > 0) * out.grad;
    };
    return out;
  }

  /** `e ** self` (micrograd's lecture version) */
  exp(): Value {
    const out = new Value(Math.exp(this.data), [this], "exp");
    out._backward = () => {
      this.grad += out.data * out.grad;
    };
    return out;
  }

  /** `ln(self)`, the natural logarithm */
  log(): Value {
    const out = new Value(Math.log(this.data), [this], "log");
    out._backward = () => {
      this.grad += (1 / this.data) * out.grad;
    };
    return out;
  }

  /** Sets `grad` on every node that this one depends on (chain rule). */
  backward(): void {
    // topological order all of the children in the graph
    let topo: Value[];
    try {
      topo = buildTopo(this);
    } catch (error) {
      // Deeper than JavaScript's call stack (see the module doc): the same
      // walk, with its recursion on an explicit stack.
      if (!(error instanceof RangeError)) throw error;
      topo = buildTopoWithStack(this);
    }
    // go one variable at a time and apply the chain rule to get its gradient
    this.grad = 1;
    for (const v of topo.reverse()) v._backward();
  }

  /** `-self` */
  neg(): Value {
    return this.mul(-1);
  }

  /** `other + self` */
  radd(other: Value | number): Value {
    return this.add(other);
  }

  /** `self - other` */
  sub(other: Value | number): Value {
    return this.add(other instanceof Value ? other.neg() : -other);
  }

  /** `other - self` */
  rsub(other: Value | number): Value {
    return this.neg().radd(other);
  }

  /** `other * self` */
  rmul(other: Value | number): Value {
    return this.mul(other);
  }

  /** `self / other` */
  div(other: Value | number): Value {
    return this.mul(other instanceof Value ? other.pow(-1) : other ** -1);
  }

  /** `other / self` */
  rdiv(other: Value | number): Value {
    return this.pow(-1).rmul(other);
  }

  /** `Value(data=…, grad=…)` */
  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}

/** micrograd's `build_topo`: a recursive depth-first walk of `_prev`. */
function buildTopo(root: Value): Value[] {
  const topo: Value[] = [];
  const visited = new Set<Value>();
  const build = (v: Value): void => {
    if (!visited.has(v)) {
      visited.add(v);
      for (const child of v._prev) build(child);
      topo.push(v);
    }
  };
  build(root);
  return topo;
}

/** {@linkcode buildTopo} with its recursion on an explicit stack: same order. */
function buildTopoWithStack(root: Value): Value[] {
  const topo: Value[] = [];
  const visited = new Set<Value>([root]);
  const path: Value[] = [root];
  const pending: Iterator<Value>[] = [root._prev.values()];
  while (path.length > 0) {
    const next = pending[pending.length - 1].next();
    if (next.done) {
      pending.pop();
      topo.push(path.pop()!);
    } else if (!visited.has(next.value)) {
      visited.add(next.value);
      path.push(next.value);
      pending.push(next.value._prev.values());
    }
  }
  return topo;
}

/**
 * Python's built-in `sum(iterable, start)`: `start + v0`, then `+ v1`, ….
 *
 * @param values The addends, in order.
 * @param start The initial value (Python's default, `0`).
 * @returns The sum as a graph node.
 */
export function sum(
  values: Iterable<Value>,
  start: Value | number = 0,
): Value {
  let acc: Value | number = start;
  for (const v of values) {
    acc = typeof acc === "number" ? v.radd(acc) : acc.add(v);
  }
  return typeof acc === "number" ? new Value(acc) : acc;
}

/** micrograd's `Module`: something with parameters. */
export class Module {
  /** Sets every parameter's gradient to zero. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = 0;
  }

  /** The trainable values, in micrograd order. */
  parameters(): Value[] {
    return [];
  }
}

/** One neuron: `relu(b + Σ wᵢxᵢ)`, or linear when `nonlin` is false. */
export class Neuron extends Module {
  /** The weights, one per input. */
  w: Value[];
  /** The bias. */
  b: Value;
  /** Whether a ReLU follows the weighted sum. */
  nonlin: boolean;

  /**
   * Creates a neuron with weights uniform in (-1, 1) and a zero bias.
   *
   * @param nin Number of inputs.
   * @param options `nonlin`: apply a ReLU (default `true`).
   */
  constructor(nin: number, { nonlin = true }: { nonlin?: boolean } = {}) {
    super();
    this.w = Array.from(
      { length: nin },
      () => new Value(Math.random() * 2 - 1),
    );
    this.b = new Value(0);
    this.nonlin = nonlin;
  }

  /** The neuron's output for inputs `x`. */
  call(x: Value[]): Value {
    const act = sum(this.w.map((wi, i) => wi.mul(x[i])), this.b);
    return this.nonlin ? act.relu() : act;
  }

  /** The weights, then the bias. */
  override parameters(): Value[] {
    return [...this.w, this.b];
  }

  /** `ReLUNeuron(nin)` or `LinearNeuron(nin)` */
  override toString(): string {
    return `${this.nonlin ? "ReLU" : "Linear"}Neuron(${this.w.length})`;
  }
}

/** A layer of `nout` neurons on the same `nin` inputs. */
export class Layer extends Module {
  /** The neurons. */
  neurons: Neuron[];

  /**
   * Creates a layer of fresh neurons.
   *
   * @param nin Number of inputs.
   * @param nout Number of neurons.
   * @param options Passed to every {@linkcode Neuron}.
   */
  constructor(nin: number, nout: number, options: { nonlin?: boolean } = {}) {
    super();
    this.neurons = Array.from({ length: nout }, () => new Neuron(nin, options));
  }

  /** The layer's outputs; a single `Value` when it has one neuron. */
  call(x: Value[]): Value | Value[] {
    const out = this.neurons.map((n) => n.call(x));
    return out.length === 1 ? out[0] : out;
  }

  /** Every neuron's parameters, neuron by neuron. */
  override parameters(): Value[] {
    return this.neurons.flatMap((n) => n.parameters());
  }

  /** `Layer of [ReLUNeuron(2), …]` */
  override toString(): string {
    return `Layer of [${this.neurons.join(", ")}]`;
  }
}

/** A multi-layer perceptron: ReLU layers and a linear last layer. */
export class MLP extends Module {
  /** The layers, input side first. */
  layers: Layer[];

  /**
   * Creates the layers; all but the last have a ReLU.
   *
   * @param nin Number of inputs.
   * @param nouts Size of each layer.
   */
  constructor(nin: number, nouts: number[]) {
    super();
    const sz = [nin, ...nouts];
    this.layers = nouts.map((_, i) =>
      new Layer(sz[i], sz[i + 1], { nonlin: i !== nouts.length - 1 })
    );
  }

  /** The network's output for inputs `x`. */
  call(x: Value[]): Value | Value[] {
    let out: Value | Value[] = x;
    for (const layer of this.layers) {
      out = layer.call(Array.isArray(out) ? out : [out]);
    }
    return out;
  }

  /** Every layer's parameters, layer by layer. */
  override parameters(): Value[] {
    return this.layers.flatMap((layer) => layer.parameters());
  }

  /** `MLP of [Layer of […], …]` */
  override toString(): string {
    return `MLP of [${this.layers.join(", ")}]`;
  }
}

/**
 * Workload W on the literal micrograd port: each step rebuilds the whole
 * graph exactly like micrograd's demo `loss()` and training loop.
 */
export const naiveRunner: RunnerFactory = (
  sizes,
  initialParams,
  x,
  y,
): StepRunner => {
  validateWorkload(sizes, initialParams, x, y);
  const [nin, ...nouts] = sizes;
  const model = new MLP(nin, nouts);
  model.parameters().forEach((p, k) => p.data = initialParams[k]);
  const xs: number[][] = [];
  for (let s = 0; s < y.length; s++) {
    xs.push(Array.from(x.subarray(s * nin, (s + 1) * nin)));
  }
  const ys = Array.from(y);
  const runner: StepRunner = {
    step(lr: number): number {
      const inputs = xs.map((xrow) => xrow.map((v) => new Value(v)));
      // forward the model to get scores
      const scores = inputs.map((input) => model.call(input) as Value);
      // svm "max-margin" loss: (1 + -yi*scorei).relu()
      const losses = scores.map((scorei, i) =>
        scorei.rmul(-ys[i]).radd(1).relu()
      );
      const dataLoss = sum(losses).mul(1.0 / losses.length);
      // L2 regularization: alpha * sum(p*p for p in model.parameters())
      const regLoss = sum(model.parameters().map((p) => p.mul(p))).rmul(ALPHA);
      const totalLoss = dataLoss.add(regLoss);
      // backward
      model.zeroGrad();
      totalLoss.backward();
      // update (sgd)
      for (const p of model.parameters()) p.data -= lr * p.grad;
      return totalLoss.data;
    },
    parameters(): Float64Array {
      return Float64Array.from(model.parameters(), (p) => p.data);
    },
  };
  return runner;
};

/**
 * The single-sample workload (`WorkloadMnist` in `workload.ts`) on the
 * literal port: each step builds the graph of one sample's forward pass and
 * its softmax cross-entropy, `(m + log(Σ exp(z_k - m))) - z_label` with the
 * largest logit `m` taken as a plain number (a constant), as one would write
 * it with micrograd.
 *
 * Every float64 operation of the forward pass, and so the loss of the first
 * step, is the one `workload.ts` documents. The backward pass differs in one
 * rounding: the gradient reaching logit `k` is `exp(z_k - m) * (1 / s)`
 * (`exp`'s rule after `log`'s), where the documented order computes
 * `exp(z_k - m) / s`. The trajectory therefore follows the hand-written code
 * to about 1e-15 relative, not bit for bit.
 */
export const naiveSampleRunner: SampleRunnerFactory = (
  sizes,
  initialParams,
): SampleStepRunner => {
  validateWorkload(sizes, initialParams);
  const [nin, ...nouts] = sizes;
  const model = new MLP(nin, nouts);
  model.parameters().forEach((p, k) => p.data = initialParams[k]);
  const runner: SampleStepRunner = {
    step(x: Float64Array, label: number, lr: number): number {
      const input = Array.from(x, (v) => new Value(v));
      // forward the model to get the logits
      const out = model.call(input);
      const logits = Array.isArray(out) ? out : [out];
      // softmax cross-entropy with a stable log-sum-exp
      const m = Math.max(...logits.map((z) => z.data));
      const s = sum(logits.map((z) => z.sub(m).exp()));
      const loss = s.log().radd(m).sub(logits[label]);
      // backward
      model.zeroGrad();
      loss.backward();
      // update (sgd)
      for (const p of model.parameters()) p.data -= lr * p.grad;
      return loss.data;
    },
    parameters(): Float64Array {
      return Float64Array.from(model.parameters(), (p) => p.data);
    },
  };
  return runner;
};

/** Tells a {@linkcode naiveWorkerRunner} thread by its `workerData`. */
const WORKER_TAG = "tapegrad/bench/naive_micrograd.ts worker";
/** Slots of the shared control array. */
const REQUEST = 0, STATUS = 1;
/** Requests (slot `REQUEST`; 0 is none). */
const STEP = 1, PARAMETERS = 2, QUIT = 3;
/** Statuses (slot `STATUS`; 0 is busy). */
const DONE = 1, FAILED = 2;
/** Room for a failed request's error message, in UTF-8 bytes. */
const ERROR_BYTES = 4096;
/** How long a request may take before the worker is presumed dead. */
const REQUEST_TIMEOUT_MS = 30 * 60 * 1000;

/** What a {@linkcode naiveWorkerRunner} thread is started with. */
interface WorkerSetup {
  tag: typeof WORKER_TAG;
  sizes: number[];
  params: Float64Array;
  x: Float64Array;
  y: Float64Array;
  /** `Int32Array` of two slots: `REQUEST` and `STATUS`. */
  control: SharedArrayBuffer;
  /** `Float64Array`: `[0]` the learning rate in, the loss out; `[1…]` the parameters. */
  numbers: SharedArrayBuffer;
  /** `Uint8Array`: a failed request's message, NUL-padded. */
  error: SharedArrayBuffer;
}

/**
 * Workload W on the literal port, run synchronously in a worker thread:
 * {@linkcode naiveRunner} itself, in an isolate whose heap may grow to
 * `heapMb` megabytes. Each call blocks (`Atomics.wait`) until the worker has
 * answered, so a step's time is the port's plus a few microseconds of
 * hand-over. Call {@linkcode NaiveWorkerRunner.close} when done; an idle
 * worker does not keep the process alive.
 */
export class NaiveWorkerRunner implements StepRunner {
  #worker: Worker;
  #control: Int32Array;
  #numbers: Float64Array;
  #error: Uint8Array;
  #closed = false;

  /** Use {@linkcode naiveWorkerRunner}, which waits for the worker to start. */
  constructor(worker: Worker, setup: WorkerSetup) {
    this.#worker = worker;
    this.#control = new Int32Array(setup.control);
    this.#numbers = new Float64Array(setup.numbers);
    this.#error = new Uint8Array(setup.error);
  }

  /** One full training step; returns the loss of its forward pass. */
  step(lr: number): number {
    this.#numbers[0] = lr;
    this.#request(STEP);
    return this.#numbers[0];
  }

  /** Current parameters in micrograd order. */
  parameters(): Float64Array {
    this.#request(PARAMETERS);
    return this.#numbers.slice(1);
  }

  /** Stops the worker thread; the runner cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const exited = new Promise((resolve) => this.#worker.once("exit", resolve));
    this.#worker.ref(); // so that the event loop waits for the exit
    Atomics.store(this.#control, REQUEST, QUIT);
    Atomics.notify(this.#control, REQUEST);
    this.#closed = true;
    await exited;
  }

  #request(request: number): void {
    if (this.#closed) throw new Error("Cannot use a closed NaiveWorkerRunner");
    const control = this.#control;
    Atomics.store(control, STATUS, 0);
    Atomics.store(control, REQUEST, request);
    Atomics.notify(control, REQUEST);
    if (Atomics.wait(control, STATUS, 0, REQUEST_TIMEOUT_MS) === "timed-out") {
      throw new Error(
        `The naive micrograd worker did not answer within ${REQUEST_TIMEOUT_MS} ms`,
      );
    }
    if (Atomics.load(control, STATUS) === FAILED) {
      const bytes = this.#error;
      const end = bytes.indexOf(0);
      throw new Error(
        new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end)),
      );
    }
  }
}

/**
 * A {@linkcode RunnerFactory} for workload W that runs {@linkcode naiveRunner}
 * in a worker thread with a heap of up to `heapMb` megabytes.
 *
 * @param heapMb The worker's old-generation heap limit, in megabytes.
 * @returns A factory whose runners must be closed after use.
 */
export function naiveWorkerRunner(
  heapMb: number,
): (
  sizes: number[],
  initialParams: Float64Array,
  x: Float64Array,
  y: Float64Array,
) => Promise<NaiveWorkerRunner> {
  return async (sizes, initialParams, x, y) => {
    validateWorkload(sizes, initialParams, x, y);
    const setup: WorkerSetup = {
      tag: WORKER_TAG,
      sizes: [...sizes],
      params: initialParams,
      x,
      y,
      control: new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT),
      numbers: new SharedArrayBuffer(
        (1 + paramCount(sizes)) * Float64Array.BYTES_PER_ELEMENT,
      ),
      error: new SharedArrayBuffer(ERROR_BYTES),
    };
    const worker = new Worker(new URL(import.meta.url), {
      workerData: setup,
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
    });
    worker.unref();
    return new NaiveWorkerRunner(worker, setup);
  };
}

/** The worker thread's side: builds the runner, then answers requests. */
function serveRequests(setup: WorkerSetup): void {
  // naiveRunner builds its runner synchronously
  const runner = naiveRunner(
    setup.sizes,
    setup.params,
    setup.x,
    setup.y,
  ) as StepRunner;
  const control = new Int32Array(setup.control);
  const numbers = new Float64Array(setup.numbers);
  const error = new Uint8Array(setup.error);
  parentPort!.postMessage("ready");
  for (;;) {
    Atomics.wait(control, REQUEST, 0);
    const request = Atomics.exchange(control, REQUEST, 0);
    if (request === QUIT) return;
    try {
      if (request === STEP) numbers[0] = runner.step(numbers[0]);
      else numbers.set(runner.parameters(), 1);
      Atomics.store(control, STATUS, DONE);
    } catch (e) {
      error.fill(0);
      new TextEncoder().encodeInto(String(e).slice(0, ERROR_BYTES / 4), error);
      Atomics.store(control, STATUS, FAILED);
    }
    Atomics.notify(control, STATUS);
  }
}

if (!isMainThread && workerData?.tag === WORKER_TAG) {
  serveRequests(workerData as WorkerSetup);
}
