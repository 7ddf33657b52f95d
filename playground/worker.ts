/**
 * The training worker's entry point: wires the {@linkcode TrainingLoop} to
 * the worker's messages so that training never blocks the page.
 *
 * @module
 */

import type { FromWorker, ToWorker } from "./protocol.ts";
import { TrainingLoop } from "./training_loop.ts";

// The few worker globals used, typed here so the file also checks under Deno.
interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;

const loop = new TrainingLoop(
  (message) => scope.postMessage(message),
  (callback, delayMs) => setTimeout(callback, delayMs),
);

scope.onmessage = (event) => loop.handle(event.data);
