/**
 * `train`'s progress display: a live line redrawn in place on a terminal,
 * a plain line every `--log-every` steps otherwise (or every epoch, with
 * `--epochs`), or JSON lines.
 *
 * @module
 */

import type { EpochInfo, StepInfo } from "../mod.ts";
import {
  formatDuration,
  formatNumber,
  formatPercent,
  formatRate,
} from "../app/format.ts";
import type { Io } from "./io.ts";
import type { TrainPlan } from "./train_plan.ts";
import { isRegression } from "./train_data.ts";

/** Writes progress: a live line on a terminal, plain lines or JSON otherwise. */
export class Progress {
  private lastDraw = 0;
  private firstStepSeconds = 0;
  private drawn = false;

  constructor(
    private readonly io: Io,
    private readonly plan: TrainPlan,
    private readonly live: boolean,
    private readonly every: number,
  ) {}

  step(info: StepInfo): void {
    const { plan, io } = this;
    // Trained by epochs, the log is one line per epoch unless asked otherwise.
    if (
      plan.epochs !== undefined && plan.logEvery === undefined && !this.live
    ) {
      return;
    }
    const logged = info.step % this.every === 0 || info.step === 1 ||
      info.step === info.steps;
    if (plan.json) {
      if (!logged) return;
      const record: Record<string, number> = {
        step: info.step,
        steps: info.steps,
        loss: info.loss,
        accuracy: info.accuracy,
        lr: info.lr,
      };
      if (info.valAccuracy !== undefined) record.valAccuracy = info.valAccuracy;
      record.seconds = info.seconds;
      io.out(JSON.stringify(record) + "\n");
      return;
    }
    if (plan.quiet) return;
    if (this.live) {
      // The first step includes recording or compiling the graph: measure
      // the rate from its end, or the ETA starts far too high.
      if (info.step === 1) this.firstStepSeconds = info.seconds;
      const now = performance.now();
      if (now - this.lastDraw < 80 && info.step !== info.steps) return;
      this.lastDraw = now;
      const rate = info.step === 1
        ? 1 / Math.max(info.seconds, 1e-9)
        : (info.step - 1) /
          Math.max(info.seconds - this.firstStepSeconds, 1e-9);
      const eta = (info.steps - info.step) / rate;
      const line = `${this.line(info, true)}  ${
        formatRate(rate)
      } steps/s  ETA ${formatDuration(eta)}`;
      io.out(`\r${line.slice(0, Math.max(20, io.columns - 1))}\x1b[K`);
      this.drawn = true;
      return;
    }
    if (logged) io.out(this.line(info) + "\n");
  }

  /** Writes the line (or JSON record) of a finished epoch. */
  epoch(info: EpochInfo): void {
    const { plan, io } = this;
    if (plan.json) {
      const record: Record<string, number> = {
        epoch: info.epoch,
        epochs: info.epochs,
        step: info.step,
        loss: info.loss,
        accuracy: info.accuracy,
      };
      if (info.valAccuracy !== undefined) record.valAccuracy = info.valAccuracy;
      record.seconds = info.seconds;
      io.out(JSON.stringify(record) + "\n");
      return;
    }
    if (plan.quiet) return;
    this.finish();
    const width = String(info.epochs).length;
    let text = `epoch ${
      String(info.epoch).padStart(width)
    }/${info.epochs}  loss ${formatNumber(info.loss, 4).padEnd(9)} accuracy ${
      formatPercent(info.accuracy).padStart(6)
    }`;
    if (info.valAccuracy !== undefined) {
      text += `  held out ${formatPercent(info.valAccuracy)}`;
    }
    io.out(`${text}  ${formatDuration(info.seconds)}\n`);
  }

  line(info: StepInfo, compact = false): string {
    const width = String(info.steps).length;
    const loss = formatNumber(info.loss, 4);
    // Regression data is scored by R², classification by accuracy.
    const regression = this.plan.datasetName !== undefined &&
      isRegression(this.plan.datasetName);
    const accuracy = regression
      ? formatNumber(info.accuracy, 3)
      : formatPercent(info.accuracy);
    const name = regression ? "R²" : compact ? "acc" : "accuracy";
    let text = `step ${String(info.step).padStart(width)}/${info.steps}  ` +
      (compact
        ? `loss ${loss}  ${name} ${accuracy}`
        : `loss ${loss.padEnd(9)} ${name} ${accuracy.padStart(6)}`) +
      `  lr ${formatNumber(info.lr, 3)}`;
    if (info.valAccuracy !== undefined) {
      text += `  val ${
        regression
          ? formatNumber(info.valAccuracy, 3)
          : formatPercent(info.valAccuracy)
      }`;
    }
    return text;
  }

  /** Ends the live line so later output starts on a fresh line. */
  finish(): void {
    if (this.drawn) this.io.out("\r\x1b[K");
    this.drawn = false;
  }
}
