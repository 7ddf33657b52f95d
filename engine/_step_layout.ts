// The layout check shared by the per-sample step builders (CompiledStep and
// WasmStep): both read the same StepLayout off the same tape.

import { sameStructure } from "./compile.ts";
import type { StepLayout } from "./compiled_step.ts";
import type { Tape } from "./tape.ts";

/**
 * Throws a RangeError unless `layout` describes a recorded step on `tape`
 * whose samples all have sample 0's structure.
 */
export function checkStepLayout(tape: Tape, layout: StepLayout): void {
  const { firstSample, sampleSize, samples, root } = layout;
  for (const [name, x] of Object.entries(layout)) {
    if (!Number.isInteger(x) || x < 0) {
      throw new RangeError(
        `Step layout ${name} must be a non-negative integer, got ${x}`,
      );
    }
  }
  const end = firstSample + samples * sampleSize;
  if (samples < 1 || sampleSize < 1 || end > tape.size || root >= tape.size) {
    throw new RangeError(
      `Step layout does not fit the tape: samples end at ${end}, root ${root}, tape size ${tape.size}`,
    );
  }
  if (root < end - 1) {
    throw new RangeError(
      `Step layout root ${root} must be the last sample node or come after the samples (from ${end})`,
    );
  }
  for (let k = 1; k < samples; k++) {
    if (
      !sameStructure(
        tape,
        firstSample,
        firstSample + sampleSize,
        k * sampleSize,
      )
    ) {
      throw new RangeError(
        `Sample ${k} differs in structure from sample 0; compile needs identical per-sample graphs`,
      );
    }
  }
}
