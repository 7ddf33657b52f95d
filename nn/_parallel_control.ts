// The slots through which the parallel trainer and its workers meet each step, apart from the worker's entry point so that importing them starts nothing.

/**
 * Slots of the control array (an `Int32Array` over the init message's
 * `control`), through which the main thread and the workers meet each step
 * with `Atomics` instead of messages.
 */
export const Control = {
  /** The step to run: the main thread raises it and notifies the workers. */
  Step: 0,
  /** Set to 1 (then `Step` raised) to end the workers' loops. */
  Stop: 1,
  /** Samples in this step's batch. */
  Batch: 2,
  /** Chunks this step's batch is cut into. */
  Chunks: 3,
  /** Workers done with their chunks this step (the barrier's count). */
  Arrived: 4,
  /** Raised when every worker has done its chunks. */
  Barrier: 5,
  /** Workers done with their slice of the reduction this step. */
  Reduced: 6,
  /** Set to the step when every worker is done: the main thread waits on it. */
  Done: 7,
  /** Number of slots. */
  Size: 8,
} as const;
