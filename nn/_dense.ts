// One home for recording a dense layer on the tape (internal: ContiguousModule.recordDense and MLP's forward share it).

import { Op, type Tape } from "../engine/mod.ts";

/**
 * Records `nout` dense neurons whose parameters start at `parameterStart`
 * (neuron by neuron, `nin` weights then a bias) on the `nin` consecutive
 * nodes from `inputStart`: `nout` dot nodes, then their activation `op`
 * (none when `op` is negative); with `fuse`, a ReLU neuron is one
 * `DotRangeRelu` node instead.
 *
 * @returns The first output's index; the `nout` outputs are consecutive.
 */
export function recordDenseLayer(
  tape: Tape,
  parameterStart: number,
  nin: number,
  inputStart: number,
  nout: number,
  op: number,
  fuse: boolean,
): number {
  const fused = fuse && op === Op.Relu;
  const first = tape.denseRange(
    parameterStart,
    nin + 1,
    inputStart,
    nin,
    nout,
    nin,
    op,
    fused,
  );
  return op < 0 || fused ? first : first + nout;
}
