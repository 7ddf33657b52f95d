// A data-parallel training worker: one of the threads of ParallelTrainer's steps besides the calling one (see _parallel_step.ts), woken through Atomics for each step.

import {
  arrive,
  ChunkRunner,
  Control,
  type InitMessage,
  join,
  SPIN_MS,
  spinWhile,
  type WorkerReply,
} from "./_parallel_step.ts";

export type { InitMessage, WorkerReply };

/** Hooks for tests: a faulty worker built on the real one. */
export interface WorkerHooks {
  /** Called before the worker tries to join each step (it may be late). */
  beforeJoin?(step: number): void;
  /**
   * Called before each step; `false` skips it (the hook has reported an
   * error), and a throw escapes the worker as an uncaught error.
   */
  beforeStep?(step: number): boolean;
}

/**
 * The worker's message handler, apart from the transport so Deno, browsers
 * and Node's worker_threads (and tests) can wire it up. After `init` it
 * replies `ready` and then stays in a loop, woken by `Atomics` for each
 * step, until the calling thread stops or terminates it.
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
    const control = runner.control, threads = message.workers;
    const { spin, postWake } = message;
    let step = 0;
    for (;;) {
      waitWhile(control, Control.Step, step, spin, SPIN_MS);
      step = Atomics.load(control, Control.Step);
      if (Atomics.load(control, Control.Stop) !== 0) return;
      hooks.beforeJoin?.(step);
      // A step the calling thread has run alone (it began none of it).
      if (!join(control, step)) continue;
      if (hooks.beforeStep?.(step) === false) return;
      try {
        runner.runChunks();
      } catch (error) {
        // The calling thread ends every worker, the others waiting below too.
        post({ type: "error", step, message: errorText(error) });
        return;
      }
      // Every chunk must be done before any slice is added up.
      const barrier = Atomics.load(control, Control.Barrier);
      if (
        arrive(control, Control.Arrived, Control.Barrier, threads, barrier + 1)
      ) {
        if (postWake) post({ type: "wake", step });
      } else {
        waitWhile(control, Control.Barrier, barrier, spin, runner.patience);
      }
      runner.reduce();
      if (arrive(control, Control.Reduced, Control.Done, threads, step)) {
        if (postWake) post({ type: "wake", step });
      }
    }
  };
}

/**
 * Waits while `control[index]` is `value`: spinning for a while first, if
 * `spin` (see {@linkcode spinWhile}).
 */
function waitWhile(
  control: Int32Array,
  index: number,
  value: number,
  spin: boolean,
  patience: number,
): void {
  if (spin && spinWhile(control, index, value, patience)) return;
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
