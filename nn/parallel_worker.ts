// A data-parallel training worker: one of the threads of ParallelTrainer's steps besides the calling one (see _parallel_step.ts), woken through Atomics for each step.

import {
  ChunkRunner,
  Control,
  type InitMessage,
  SPIN_MS,
  spinUntil,
  spinWhile,
  type WorkerReply,
} from "./_parallel_step.ts";

export type { InitMessage, WorkerReply };

/** Hooks for tests: a faulty worker built on the real one. */
export interface WorkerHooks {
  /**
   * Called when the worker joins a step, before it takes any chunk; a
   * throw escapes the worker as an uncaught error.
   */
  beforeStep?(step: number): void;
  /**
   * Called after the worker takes a chunk, before it runs it; a throw is
   * reported as the chunk's error.
   */
  onChunk?(step: number): void;
}

/**
 * The worker's message handler, apart from the transport so Deno, browsers
 * and Node's worker_threads (and tests) can wire it up. After `init` it
 * replies `ready` and then stays in a loop, woken by `Atomics` for each
 * step, until the calling thread stops or terminates it. It joins each
 * step it is awake for (see {@linkcode Control}): it runs chunks while
 * there are any to take, waits for the others' chunks while they make
 * progress, takes blocks of the reduction, and leaves.
 *
 * @param post Sends a reply to the calling thread.
 * @param hooks For tests: see {@linkcode WorkerHooks}.
 * @returns The handler for the `init` message.
 */
export function createWorkerHandler(
  post: (reply: WorkerReply) => void,
  hooks: WorkerHooks = {},
): (message: InitMessage) => void {
  return (message) => {
    let runner: ChunkRunner;
    try {
      runner = new ChunkRunner(message);
    } catch (error) {
      post({ type: "error", step: 0, message: errorText(error) });
      return;
    }
    post({ type: "ready" });
    const control = runner.control;
    const { spin, postWake } = message;
    let step = 0, last = 0;
    if (hooks.onChunk) runner.onChunk = () => hooks.onChunk?.(step);
    for (;;) {
      waitWhile(control, Control.Step, last, spin);
      if (Atomics.load(control, Control.Stop) !== 0) return;
      Atomics.add(control, Control.Inside, 1);
      step = Atomics.load(control, Control.Step);
      if (Atomics.load(control, Control.Preparing) !== 0) {
        // The step is over and the next one not ready: wait for it.
        leave(control, postWake, step, post);
        last = step;
        continue;
      }
      hooks.beforeStep?.(step);
      let wake: boolean;
      try {
        wake = runner.runChunks();
      } catch (error) {
        // The calling thread ends every worker.
        post({ type: "error", step, message: errorText(error) });
        return;
      }
      if (wake && postWake) post({ type: "wake", step });
      // The reduction reads every chunk's sums: wait for them while the
      // threads running them make progress, else leave it to them.
      if (
        runner.finished() ||
        (spin &&
          spinUntil(runner.finished.bind(runner), runner.patience, control))
      ) {
        if (runner.reduce() && postWake) post({ type: "wake", step });
      }
      leave(control, postWake, step, post);
      last = step;
    }
  };
}

/**
 * Counts this worker out of the step, notifying at every change (a thread
 * waiting for another value would sleep on otherwise); the last one out
 * posts a `wake` where that is how the calling thread is woken.
 */
function leave(
  control: Int32Array,
  postWake: boolean,
  step: number,
  post: (reply: WorkerReply) => void,
): void {
  const last = Atomics.sub(control, Control.Inside, 1) === 1;
  Atomics.notify(control, Control.Inside);
  if (last && postWake) post({ type: "wake", step });
}

/**
 * Waits while `control[index]` is `value`: spinning for a while first, if
 * `spin` (see {@linkcode spinWhile}), then asleep.
 */
function waitWhile(
  control: Int32Array,
  index: number,
  value: number,
  spin: boolean,
): void {
  if (spin && spinWhile(control, index, value, SPIN_MS)) return;
  while (Atomics.load(control, index) === value) {
    Atomics.wait(control, index, value);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The part of Node's `worker_threads` module the entry point uses. */
interface NodeWorkerThreads {
  parentPort: {
    postMessage(message: unknown): void;
    on(event: "message", listener: (message: InitMessage) => void): void;
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
