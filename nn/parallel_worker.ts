// A data-parallel training worker: computes the gradient of its chunks of each step's batch into shared memory.

import { Tape } from "../engine/mod.ts";
import { lossKind } from "./_loss_kind.ts";
import type { LossName } from "./loss.ts";
import { MiniBatchStep } from "./minibatch.ts";
import { MLP } from "./mlp.ts";
import type { ModelJSON } from "./model_file.ts";

/** The first message: the model, the loss and the shared buffers. */
export interface InitMessage {
  type: "init";
  model: ModelJSON;
  loss: LossName;
  classes: number;
  /** Most samples in one chunk. */
  chunkCapacity: number;
  /** Features, `samples × nin`, row-major. */
  x: SharedArrayBuffer;
  /** Labels, one Int32 per sample. */
  y: SharedArrayBuffer;
  /** The model's parameters, written by the main thread before each step. */
  params: SharedArrayBuffer;
  /** Per chunk, its gradient (`chunks × parameters`). */
  partials: SharedArrayBuffer;
  /** Per chunk, its loss share and its count of correct predictions. */
  stats: SharedArrayBuffer;
  /** The step's sample indices, in batch order. */
  indices: SharedArrayBuffer;
}

/** One step: run chunks `first, first + stride, …` of `chunks` over `batch` samples. */
export interface StepMessage {
  type: "step";
  step: number;
  batch: number;
  chunks: number;
  first: number;
  stride: number;
}

/** What a worker posts back. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "done"; step: number }
  | { type: "error"; step: number; message: string };

/** Where chunk `c` of `chunks` starts in a batch of `batch` samples. */
export function chunkStart(c: number, chunks: number, batch: number): number {
  return Math.floor((c * batch) / chunks);
}

/**
 * The worker's message handler, apart from the transport so Deno, browsers
 * and Node's worker_threads (and tests) can wire it up.
 *
 * @param post Sends a reply to the main thread.
 * @returns The handler for each incoming message.
 */
export function createWorkerHandler(
  post: (reply: WorkerReply) => void,
): (message: InitMessage | StepMessage) => void {
  let state: {
    step: MiniBatchStep;
    model: MLP;
    classify: (x: ArrayLike<number>, o: number) => number;
    rows: Float64Array[];
    y: Int32Array;
    params: Float64Array;
    partials: Float64Array;
    stats: Float64Array;
    indices: Int32Array;
    scale: number;
  } | undefined;
  return (message) => {
    if (message.type === "init") {
      const tape = new Tape();
      const model = MLP.fromJSON(message.model, { tape });
      const kind = lossKind(message.loss, message.classes);
      const x = new Float64Array(message.x);
      const nin = model.nin;
      const rows: Float64Array[] = [];
      for (let i = 0; i < x.length / nin; i++) {
        rows.push(x.subarray(i * nin, (i + 1) * nin));
      }
      const s = {
        model,
        classify: kind.classify,
        rows,
        y: new Int32Array(message.y),
        params: new Float64Array(message.params),
        partials: new Float64Array(message.partials),
        stats: new Float64Array(message.stats),
        indices: new Int32Array(message.indices),
        scale: 1,
        step: undefined as unknown as MiniBatchStep,
      };
      s.step = new MiniBatchStep(
        model,
        message.chunkCapacity,
        kind.outputs,
        (out, labels) => kind.loss(out, labels),
        undefined,
        message.classes,
      );
      state = s;
      post({ type: "ready" });
      return;
    }
    const { step, batch, chunks, first, stride } = message;
    try {
      if (state === undefined) throw new Error("Worker was not initialised");
      const s = state;
      const tape = s.model.parameters()[0].tape;
      const start = s.model.parameterStart, count = s.model.parameterCount;
      const data = tape.data, grad = tape.grad;
      data.set(s.params, start);
      for (let c = first; c < chunks; c += stride) {
        const from = chunkStart(c, chunks, batch);
        const to = chunkStart(c + 1, chunks, batch);
        s.scale = (to - from) / batch;
        grad.fill(0, start, start + count);
        const graph = s.step.forward(
          s.rows,
          s.y,
          s.indices.subarray(from, to),
        );
        s.step.backward();
        // The chunk's share of the batch mean: its mean loss, and gradient,
        // times its fraction of the batch; the shares add up to the batch's.
        const partials = s.partials, scale = s.scale, partial = c * count;
        for (let j = 0; j < count; j++) {
          partials[partial + j] = grad[start + j] * scale;
        }
        let correct = 0;
        for (let k = 0; k < graph.outputs.length; k++) {
          if (s.classify(data, graph.outputs[k]) === graph.labels[k]) correct++;
        }
        s.stats[2 * c] = data[graph.root] * s.scale;
        s.stats[2 * c + 1] = correct;
      }
      post({ type: "done", step });
    } catch (error) {
      post({
        type: "error",
        step,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  };
}

/** The part of Node's `worker_threads` module the entry point uses. */
interface NodeWorkerThreads {
  parentPort: {
    postMessage(message: unknown): void;
    on(
      event: "message",
      listener: (message: InitMessage | StepMessage) => void,
    ): void;
  } | null;
}

// As a worker's entry point: wire the handler to the worker's messages.
// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (
  typeof scope.WorkerGlobalScope !== "undefined" &&
  scope instanceof scope.WorkerGlobalScope
) {
  const handle = createWorkerHandler((reply) => scope.postMessage(reply));
  scope.onmessage = (event: MessageEvent) => handle(event.data);
} else if (typeof scope.process?.versions?.node === "string") {
  // Node's worker_threads: the same handler on parentPort, when there is one.
  // A computed specifier: browsers and the npm build's type check never see it.
  const nodeModule = "node:worker_threads";
  import(nodeModule).then((mod: NodeWorkerThreads) => {
    const port = mod.parentPort;
    if (port === null) return;
    const handle = createWorkerHandler((reply) => port.postMessage(reply));
    port.on("message", (message) => handle(message));
  });
}
