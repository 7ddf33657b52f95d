/**
 * The benchmarks' `baseline`: the workloads of `workload.ts` run on the
 * literal micrograd port (`testing/naive_micrograd.ts`), each step rebuilding
 * the whole graph as micrograd's `demo.ipynb` does. {@linkcode naiveWorkerRunner}
 * runs the port in a worker thread whose heap may grow past the main
 * isolate's limit (about 4.4 GB): one step of a `[2, 256, 256, 1]` network on
 * 100 points builds some 13 million nodes (about 8 GB).
 *
 * @module
 */

import {
  isMainThread,
  parentPort,
  Worker,
  workerData,
} from "node:worker_threads";
import { MLP, sum, Value } from "../testing/naive_micrograd.ts";
import {
  ALPHA,
  paramCount,
  type RunnerFactory,
  type SampleRunnerFactory,
  type SampleStepRunner,
  type StepRunner,
  validateWorkload,
} from "./workload.ts";

export { Value };

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
