/**
 * The entry point of the data-parallel training workers in the browser: the
 * library's worker script (`nn/parallel_worker.ts`), bundled as
 * `dist/parallel_worker.js` beside `worker.js`, which is where
 * `ParallelTrainer` looks for it (its default worker URL is
 * `./parallel_worker.js` next to the bundle that holds it).
 *
 * @module
 */

import "../nn/parallel_worker.ts";
