// A training worker that fails at step 2, for the parallel trainer's tests:
// named "throw", it throws out of its loop (an uncaught error); named
// "reply", it reports an error the way the real worker does.

import { createWorkerHandler } from "../nn/parallel_worker.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
const how = scope.name;
const post = (reply: unknown) => scope.postMessage(reply);
const handle = createWorkerHandler(post, {
  beforeStep(step) {
    if (step !== 2) return true;
    if (how === "throw") throw new Error("boom in step 2");
    post({ type: "error", step: 2, message: "chunk failed: boom" });
    return false;
  },
});
if (typeof scope.WorkerGlobalScope !== "undefined") {
  scope.onmessage = (event: MessageEvent) => handle(event.data);
}
