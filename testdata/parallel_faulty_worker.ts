// A training worker that fails in the first step from step 2 on that it
// joins (the calling thread runs a step alone when no worker has begun it),
// for the parallel trainer's tests: named "throw", it throws out of its
// loop (an uncaught error); named "reply", it reports an error the way the
// real worker does; named "slow", it does not fail but sleeps for a second
// before that step's chunks; named "late", it does not fail but sleeps for
// 3 ms before it tries to join each step.

import { createWorkerHandler } from "../nn/parallel_worker.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
const how = scope.name;
const post = (reply: unknown) => scope.postMessage(reply);
let done = false;
const handle = createWorkerHandler(post, {
  beforeJoin() {
    if (how === "late") {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3);
    }
  },
  beforeStep(step) {
    if (step < 2 || done || how === "late") return true;
    done = true;
    if (how === "slow") {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
      return true;
    }
    if (how === "throw") throw new Error(`boom in step ${step}`);
    post({ type: "error", step, message: "chunk failed: boom" });
    return false;
  },
});
if (typeof scope.WorkerGlobalScope !== "undefined") {
  scope.onmessage = (event: MessageEvent) => handle(event.data);
}
