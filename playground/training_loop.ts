/**
 * The worker's side of training: answers the page's messages, trains in
 * short slices so that pause, step and reset are handled between them, and
 * reports progress with the decision surface. No worker API is used here
 * (messages go through `post`), so it runs under Deno's tests too.
 *
 * @module
 */

import type { TrainingError } from "../mod.ts";
import { scoreOutputs } from "../nn/mod.ts";
import type { BoundaryGrid } from "../mod.ts";
import type {
  FromWorker,
  GridMessage,
  NetworkMessage,
  ToWorker,
} from "./protocol.ts";
import { ConfigError, type SliceResult, TrainingSession } from "./session.ts";

/** Cells per side of the decision surface. */
export const GRID_SIZE = 72;

/** How long one slice of training may take, in milliseconds. */
const SLICE_MS = 25;

/** The least time between two decision-surface updates, in milliseconds. */
const GRID_EVERY_MS = 60;

/**
 * After sampling and sending the views (the surface and the network), the
 * next sampling waits at least this many times as long as that one took:
 * the views then take at most 1 / (1 + VIEW_SPACING) of the worker's time
 * (7.7%), which leaves room within 10% for what its clock does not see (the
 * garbage the sampling leaves, the page reading the messages). The page
 * spaces its drawing of the network view the same way. Measured in
 * `playground/view_cost.ts`.
 */
export const VIEW_SPACING = 12;

/** Cells per side for big models, whose surface takes longer to sample. */
const SMALL_GRID_SIZE = 40;

/** Cells per side of each neuron's picture in the network view. */
export const NETWORK_SIZE = 24;

/** Cells per side of the neuron pictures of big models. */
const SMALL_NETWORK_SIZE = 12;

/** Models with more parameters than this get the smaller grid. */
const BIG_MODEL = 3000;

/** Schedules the next slice; `setTimeout` in the worker. */
export type Scheduler = (callback: () => void, delayMs: number) => void;

/**
 * The training loop behind the worker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FromWorker } from "./protocol.ts";
 * import { TrainingLoop } from "./training_loop.ts";
 * import { DEFAULT_CONFIG } from "./session.ts";
 * const sent: FromWorker[] = [];
 * const loop = new TrainingLoop((m) => sent.push(m), () => {});
 * loop.handle({ type: "init", config: { ...DEFAULT_CONFIG, samples: 20 } });
 * loop.handle({ type: "step", count: 3 });
 * const last = sent.at(-1)!;
 * assert.equal(last.type === "progress" && last.step, 3);
 * ```
 */
export class TrainingLoop {
  #session: TrainingSession | undefined;
  #playing = false;
  #speed = 0;
  // Steps owed at a capped speed, carried between ticks (fractions too).
  #owed = 0;
  #lastTick = 0;
  #lastGrid = 0;
  // The least time between two samplings of the views (see VIEW_SPACING).
  #gridEvery = GRID_EVERY_MS;
  // When the last sampling of the views began.
  #viewStarted = 0;
  // Milliseconds spent training and on the views since init.
  #trainMs = 0;
  #viewMs = 0;
  #scheduled = false;
  // Step counts and times of recent reports, for the rate.
  #history: { step: number; time: number }[] = [];
  // Whether the network view and the surface are sampled while training.
  #network = true;
  #surface = true;
  // While workers start or step, later messages wait here, in order.
  #busy = false;
  #waiting: ToWorker[] = [];

  /**
   * Creates the loop.
   *
   * @param post Sends a message to the page.
   * @param schedule Runs a callback later (the worker's `setTimeout`).
   * @param now The clock, in milliseconds.
   */
  constructor(
    private readonly post: (message: FromWorker) => void,
    private readonly schedule: Scheduler,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether training is running. */
  get playing(): boolean {
    return this.#playing;
  }

  /**
   * Handles one message from the page. Errors become `error` messages.
   *
   * @param message The message.
   */
  handle(message: ToWorker): void {
    if (this.#busy) {
      this.#waiting.push(message);
      return;
    }
    try {
      this.#dispatch(message);
    } catch (error) {
      this.#fail(error);
    }
  }

  /**
   * Runs an asynchronous task (starting workers, a slice on workers) with
   * later messages held until it ends, then handles them in order.
   */
  #await(task: Promise<void>): void {
    this.#busy = true;
    task.catch((error) => this.#fail(error)).finally(() => {
      this.#busy = false;
      while (!this.#busy && this.#waiting.length > 0) {
        this.handle(this.#waiting.shift()!);
      }
      if (!this.#busy && this.#playing) this.#kick();
    });
  }

  #dispatch(message: ToWorker): void {
    switch (message.type) {
      case "init": {
        this.#setPlaying(false);
        this.#session?.close();
        this.#session = undefined;
        const session = new TrainingSession(message.config);
        this.#session = session;
        this.#history = [];
        this.#trainMs = this.#viewMs = 0;
        if (session.wantsWorkers) {
          this.#await(session.startWorkers().then(() => this.#ready()));
        } else this.#ready();
        return;
      }
      case "views":
        this.#network = message.network;
        this.#surface = message.surface ?? true;
        return;
      case "play":
        this.#speed = message.speed;
        if (!this.#session) return;
        this.#owed = 0;
        this.#lastTick = this.now();
        this.#setPlaying(true);
        this.#kick();
        return;
      case "pause":
        this.#setPlaying(false);
        return;
      case "speed":
        this.#speed = message.speed;
        this.#owed = 0;
        return;
      case "tune": {
        // The running model keeps its weights and its step count.
        const session = this.#session;
        if (!session) return;
        session.tune(message.settings);
        const told = () => this.post({ type: "backend", ...session.backend });
        if (session.wantsWorkers) {
          this.#await(session.startWorkers().then(told));
        } else told();
        return;
      }
      case "step": {
        if (!this.#session) return;
        this.#setPlaying(false);
        this.#train(Math.max(1, message.count), Infinity, true);
        return;
      }
      case "export": {
        const session = this.#session;
        if (!session) return;
        if (
          session.failed ||
          !session.model.toJSON().parameters.every(Number.isFinite)
        ) {
          this.post({
            type: "error",
            kind: "export",
            message:
              "This model cannot be exported: training diverged, so its outputs are not numbers. Lower the learning rate, press Reset and train again.",
          });
          return;
        }
        const c = session.config;
        this.post({
          type: "model",
          text: session.modelFile(),
          filename: `tapegrad-${c.dataset}-${session.model.architecture}.json`,
        });
        return;
      }
      case "predict": {
        const session = this.#session;
        if (!session) return;
        // A 1-D model reads x alone; a regression's score is its output.
        const outputs = session.model.predict(
          session.oneD ? [message.point[0]] : message.point,
        );
        const scored = session.train.classes === 0
          ? { cls: -1, score: outputs[0] }
          : scoreOutputs(outputs, session.config.loss);
        this.post({
          type: "prediction",
          id: message.id,
          point: message.point,
          outputs,
          cls: scored.cls,
          score: scored.score,
        });
        return;
      }
    }
  }

  #ready(): void {
    const t = this.#session!;
    // A 1-D problem's points are drawn as (x, target).
    const flat = (rows: number[][], y: number[]) =>
      rows.flatMap((r, i) => [r[0], t.oneD ? y[i] : r[1]]);
    const b = t.bounds;
    this.post({
      type: "ready",
      data: {
        train: flat(t.train.x, t.train.y),
        trainLabels: t.train.y.slice(),
        test: flat(t.test.x, t.test.y),
        testLabels: t.test.y.slice(),
        classes: t.train.classes,
        bounds: [b.xMin, b.xMax, b.yMin, b.yMax],
      },
      architecture: t.model.architecture,
      parameters: t.model.parameterCount,
      backend: t.backend,
      trainAccuracy: t.trainAccuracy(),
      testAccuracy: t.testAccuracy(),
      ...this.#sampleGrid(true),
    });
    this.#spaceViews();
  }

  /**
   * Samples the decision surface and the network view (those that are on,
   * or `all`); call `#spaceViews()` after posting them.
   */
  #sampleGrid(all: true): { grid: GridMessage; network?: NetworkMessage };
  #sampleGrid(all?: boolean): { grid?: GridMessage; network?: NetworkMessage };
  #sampleGrid(all = false): { grid?: GridMessage; network?: NetworkMessage } {
    const t = this.#session!;
    const started = this.now();
    const big = t.model.parameterCount > BIG_MODEL;
    const size = big ? SMALL_GRID_SIZE : GRID_SIZE;
    const grid = !all && !this.#surface
      ? undefined
      : t.train.classes === 0
      ? regressionGrid(t, size)
      : toGridMessage(t.grid(size));
    const network = all || this.#network
      ? t.network(big ? SMALL_NETWORK_SIZE : NETWORK_SIZE)
      : undefined;
    this.#viewStarted = started;
    return { ...(grid ? { grid } : {}), ...(network ? { network } : {}) };
  }

  /**
   * Spaces the next sampling of the views by what this one cost, sampling
   * and posting (copying the data to the page) together: at most
   * 1 / (1 + VIEW_SPACING) of the time goes to the views, so training runs
   * at least that much as fast as without them.
   */
  #spaceViews(): void {
    const end = this.now(), cost = end - this.#viewStarted;
    this.#viewMs += cost;
    this.#gridEvery = Math.max(GRID_EVERY_MS, VIEW_SPACING * cost);
    this.#lastGrid = end;
  }

  #setPlaying(playing: boolean): void {
    if (this.#playing === playing) return;
    this.#playing = playing;
    this.post({ type: "state", playing });
  }

  #kick(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.schedule(() => {
      this.#scheduled = false;
      this.#tick();
    }, this.#speed > 0 ? 16 : 0);
  }

  #tick(): void {
    if (!this.#playing || !this.#session || this.#busy) return;
    try {
      const now = this.now();
      let steps = Infinity;
      if (this.#speed > 0) {
        // Capped: pay the steps owed since the last tick, at most a second's worth.
        this.#owed = Math.min(
          this.#owed + ((now - this.#lastTick) * this.#speed) / 1000,
          this.#speed,
        );
        steps = Math.floor(this.#owed);
        this.#owed -= steps;
      }
      this.#lastTick = now;
      if (steps >= 1) {
        this.#train(steps === Infinity ? 1e9 : steps, SLICE_MS, false);
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (this.#playing && !this.#busy) this.#kick();
  }

  #train(steps: number, budgetMs: number, forceGrid: boolean): void {
    const t = this.#session!;
    if (t.failed) {
      // Diverged already: nothing more to train until a reset.
      this.#setPlaying(false);
      return;
    }
    const started = this.now();
    if (t.parallel) {
      // Each step waits for the workers: the slice ends in a later task.
      this.#await(
        t.runAsync(steps, budgetMs).then((slice) => {
          if (this.#session !== t) return;
          this.#trainMs += this.now() - started;
          this.#report(slice, forceGrid);
        }),
      );
      return;
    }
    const slice = t.run(steps, budgetMs);
    this.#trainMs += this.now() - started;
    this.#report(slice, forceGrid);
  }

  /** Reports a slice: its losses, the rate, and the views when due. */
  #report(slice: SliceResult, forceGrid: boolean): void {
    const t = this.#session!;
    if (slice.error) this.#setPlaying(false);
    const now = this.now();
    this.#history.push({ step: t.step, time: now });
    while (this.#history.length > 2 && now - this.#history[0].time > 1000) {
      this.#history.shift();
    }
    const first = this.#history[0];
    const rate = this.#playing && now > first.time
      ? ((t.step - first.step) * 1000) / (now - first.time)
      : 0;
    const gridDue = (this.#surface || this.#network) &&
      (forceGrid || now - this.#lastGrid >= this.#gridEvery);
    const views = gridDue || slice.error;
    this.post({
      type: "progress",
      step: t.step,
      losses: slice.losses,
      accuracies: slice.accuracies,
      trainAccuracy: t.trainAccuracy(),
      testAccuracy: t.testAccuracy(),
      rate,
      backend: t.backend,
      trainMs: this.#trainMs,
      viewMs: this.#viewMs,
      ...(views ? this.#sampleGrid() : {}),
    });
    if (views) this.#spaceViews();
    if (slice.error) {
      this.post({
        type: "error",
        kind: "diverged",
        step: slice.error.step,
        message: divergedMessage(slice.error, slice.error.step),
      });
    }
  }

  #fail(error: unknown): void {
    this.#setPlaying(false);
    if (error instanceof ConfigError) {
      this.post({
        type: "error",
        kind: "config",
        message: error.message,
        field: error.field,
      });
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.post({
      type: "error",
      kind: "internal",
      message: `Internal error in the training worker: ${message}`,
    });
  }
}

/** One readable line on a loss that stopped being a number. */
function divergedMessage(error: TrainingError, step: number): string {
  const loss = String(error.loss);
  const report = error.report;
  let where = "";
  if (report) {
    const largest = report.inputs.reduce(
      (m, x) => Math.max(m, Math.abs(x.data)),
      0,
    );
    where = ` (${report.op} produced ${report.data} at node ${report.index}${
      report.inputs.length > 0 && Number.isFinite(largest)
        ? `, from inputs as large as ${largest.toExponential(2)}`
        : ""
    })`;
  }
  return `Training diverged at step ${step}: the loss became ${loss}${where}. Lower the learning rate and press Reset.`;
}

/** A regression's fit: a curve (1-D) or a surface (2-D), no classes. */
function regressionGrid(t: TrainingSession, size: number): GridMessage {
  const fit = t.surface(t.oneD ? 4 * size : size);
  return {
    size,
    classes: new Int32Array(0),
    confidence: new Float64Array(0),
    ...(t.oneD ? { curve: fit } : { values: fit }),
  };
}

function toGridMessage(grid: BoundaryGrid): GridMessage {
  return {
    size: grid.cols,
    classes: grid.classes,
    confidence: grid.confidence,
  };
}
