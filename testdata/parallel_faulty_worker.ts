// A training worker that fails from step 2 on, for the parallel trainer's
// tests: named "throw", it throws out of its loop (an uncaught error) when
// it joins a step; named "reply", a chunk it has taken fails (reported the
// way the real worker reports one); named "slow", it does not fail but
// holds the first chunk it takes for a second.

import { createWorkerHandler } from "../nn/parallel_worker.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
const how = scope.name;
const post = (reply: unknown) => scope.postMessage(reply);
let slept = false;
const handle = createWorkerHandler(post, {
  beforeStep(step) {
    if (how === "throw" && step >= 2) throw new Error(`boom in step ${step}`);
  },
  onChunk(step) {
    if (step < 2) return;
    if (how === "slow" && !slept) {
      slept = true;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
    if (how === "reply") throw new Error("chunk failed: boom");
  },
});
if (typeof scope.WorkerGlobalScope !== "undefined") {
  scope.onmessage = (event: MessageEvent) => handle(event.data);
}
