// A training worker that fails at step 2, for the parallel trainer's tests:
// named "throw", it throws out of its loop (an uncaught error); named
// "reply", it reports an error the way the real worker does; named "slow",
// it does not fail but sleeps for a second before step 2's chunks.

import { createWorkerHandler } from "../nn/parallel_worker.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
const how = scope.name;
const post = (reply: unknown) => scope.postMessage(reply);
const handle = createWorkerHandler(post, {
  beforeStep(step) {
    if (step !== 2) return true;
    if (how === "slow") {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
      return true;
    }
    if (how === "throw") throw new Error("boom in step 2");
    post({ type: "error", step: 2, message: "chunk failed: boom" });
    return false;
  },
});
if (typeof scope.WorkerGlobalScope !== "undefined") {
  scope.onmessage = (event: MessageEvent) => handle(event.data);
}
