// The bookkeeping of a training loop that fit() and fitParallel() share: each step's loss and accuracy, the epoch's running means, the onStep and onEpoch callbacks, and the result. Internal.

import type { Dataset } from "./data.ts";
import type { EpochInfo, FitOptions, FitResult, StepInfo } from "./fit.ts";
import type { LossName } from "./loss.ts";
import { evaluate } from "./metrics.ts";
import type { MLP } from "./mlp.ts";

/** What a training loop has done so far, and what it reports. */
export class FitLog {
  /** Each step's loss, in order. */
  readonly losses: number[] = [];
  /** Each step's batch accuracy, in order. */
  readonly accuracies: number[] = [];
  private readonly epochs: number;
  private readonly evalEvery: number;
  private epochLoss = 0;
  private epochCorrect = 0;
  private epochSeen = 0;

  /**
   * @param model The model being trained (evaluated on `options.val`).
   * @param options The callbacks, `val` and `evalEvery`.
   * @param loss The loss the model is trained with.
   * @param steps The planned number of steps.
   * @param perEpoch Steps per epoch.
   * @param started When training started (`performance.now()`).
   */
  constructor(
    private readonly model: MLP,
    private readonly options: FitOptions,
    private readonly loss: LossName,
    private readonly steps: number,
    private readonly perEpoch: number,
    private readonly started: number,
  ) {
    this.epochs = Math.ceil(steps / perEpoch);
    this.evalEvery = options.evalEvery ?? 10;
  }

  /**
   * Records step `step` (from 1): its loss, its batch's accuracy and size,
   * and the learning rate it ran with; calls `onStep`, and `onEpoch` at the
   * end of an epoch (or of training).
   *
   * @returns `false` when a callback asks to stop.
   */
  record(
    step: number,
    loss: number,
    accuracy: number,
    batch: number,
    lr: number,
  ): boolean {
    const { options, model, perEpoch } = this;
    this.losses.push(loss);
    this.accuracies.push(accuracy);
    const epoch = Math.ceil(step / perEpoch);
    this.epochLoss += loss;
    this.epochCorrect += accuracy * batch;
    this.epochSeen += batch;
    if (options.onStep !== undefined) {
      const info: StepInfo = {
        step,
        steps: this.steps,
        loss,
        accuracy,
        lr,
        seconds: this.seconds(),
        epoch,
      };
      if (
        options.val && (step % this.evalEvery === 0 || step === this.steps)
      ) {
        info.valAccuracy = evaluate(model, options.val, this.loss);
      }
      if (options.onStep(info) === false) return false;
    }
    const endOfEpoch = step % perEpoch === 0 || step === this.steps;
    if (options.onEpoch !== undefined && endOfEpoch) {
      const info: EpochInfo = {
        epoch,
        epochs: this.epochs,
        loss: this.epochLoss / (step - (epoch - 1) * perEpoch),
        accuracy: this.epochCorrect / this.epochSeen,
        step,
        seconds: this.seconds(),
      };
      if (options.val) {
        info.valAccuracy = evaluate(model, options.val, this.loss);
      }
      if (options.onEpoch(info) === false) return false;
    }
    if (endOfEpoch) this.epochLoss = this.epochCorrect = this.epochSeen = 0;
    return true;
  }

  /** The result of training on `data` with the steps recorded. */
  result(data: Dataset, mode: FitResult["mode"]): FitResult {
    const { model, options, losses } = this;
    return {
      losses,
      accuracies: this.accuracies,
      loss: losses[losses.length - 1],
      accuracy: evaluate(model, data, this.loss),
      valAccuracy: options.val
        ? evaluate(model, options.val, this.loss)
        : undefined,
      steps: losses.length,
      seconds: this.seconds(),
      mode,
    };
  }

  private seconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}
