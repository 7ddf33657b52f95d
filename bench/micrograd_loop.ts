/**
 * micrograd's demo training loop written the natural way with the Value
 * façade, line for line as the README's first training example (a test
 * checks that the README holds these lines): inputs as `new Value(x)`,
 * `model.forward`, the hinge loss and L2 built from Value ops,
 * `model.zeroGrad()`, `loss.backward()` (which releases the step's graph)
 * and `p.data -= lr * p.grad`. Also the same loop with a manual
 * `mark()`/`rewind()`, as it had to be written before the release.
 *
 * @module
 */

import { dot, MLP, sum, Value } from "../mod.ts";
import { ALPHA, type RunnerFactory, type StepRunner } from "./workload.ts";

/**
 * One step of the natural loop, on the default tape; returns the step's
 * loss. `1e-4` is workload W's `ALPHA`.
 */
export function naturalStep(
  model: MLP,
  X: number[][],
  y: number[],
  lr: number,
): number {
  // forward
  const inputs = X.map((row) => row.map((x) => new Value(x)));
  const scores = inputs.map((x) => model.forward(x)[0]);
  // svm "max-margin" loss + L2 regularization
  const losses = scores.map((s, i) => s.mul(-y[i]).add(1).relu());
  const dataLoss = sum(losses).mul(1 / losses.length);
  const regLoss = sum(model.parameters().map((p) => p.mul(p))).mul(1e-4);
  const loss = dataLoss.add(regLoss);
  // backward
  model.zeroGrad();
  loss.backward();
  // update (sgd)
  for (const p of model.parameters()) p.data -= lr * p.grad;
  return loss.data;
}

/** The README's lines, in order, that {@linkcode naturalStep} runs. */
export const NATURAL_LOOP_LINES: readonly string[] = [
  "const inputs = X.map((row) => row.map((x) => new Value(x)));",
  "const scores = inputs.map((x) => model.forward(x)[0]);",
  "const losses = scores.map((s, i) => s.mul(-y[i]).add(1).relu());",
  "const dataLoss = sum(losses).mul(1 / losses.length);",
  "const regLoss = sum(model.parameters().map((p) => p.mul(p))).mul(1e-4);",
  "const loss = dataLoss.add(regLoss);",
  "model.zeroGrad();",
  "loss.backward();",
  "for (const p of model.parameters()) p.data -= lr * p.grad;",
];

/**
 * {@linkcode naturalStep} with the L2 term as one `dot` node, the same
 * numbers bit for bit (`0 + p₀·p₀ + p₁·p₁ + …` either way).
 */
export function naturalDotStep(
  model: MLP,
  X: number[][],
  y: number[],
  lr: number,
): number {
  const inputs = X.map((row) => row.map((x) => new Value(x)));
  const scores = inputs.map((x) => model.forward(x)[0]);
  const losses = scores.map((s, i) => s.mul(-y[i]).add(1).relu());
  const dataLoss = sum(losses).mul(1 / losses.length);
  const params = model.parameters();
  const regLoss = dot(params, params).mul(1e-4);
  const loss = dataLoss.add(regLoss);
  model.zeroGrad();
  loss.backward();
  for (const p of params) p.data -= lr * p.grad;
  return loss.data;
}

/** How {@linkcode naturalRunner} runs the loop. */
export type NaturalKind = "natural" | "manual" | "dot";

/**
 * Workload W on the natural loop. The model lives on the default tape, as
 * in the README.
 *
 * @param kind `"natural"`: the README's loop; `"manual"`: the same, keeping
 * the graph (`backward({ retainGraph: true })`) and dropping it with
 * `mark()`/`rewind()` as before the automatic release; `"dot"`: the L2
 * term as one `dot` node ({@linkcode naturalDotStep}).
 * @returns A runner factory.
 */
export function naturalRunner(kind: NaturalKind = "natural"): RunnerFactory {
  return (sizes, initialParams, x, y) => {
    const model = new MLP(sizes[0], sizes.slice(1), {
      parameters: Array.from(initialParams),
    });
    const nin = sizes[0];
    const X = Array.from(
      y,
      (_, s) => Array.from(x.subarray(s * nin, (s + 1) * nin)),
    );
    const labels = Array.from(y);
    const tape = model.tape;
    // One function per kind: a step that branched on the kind was shared
    // by the runners of every kind, and V8 kept deoptimizing it (its type
    // feedback came from the other kinds), which charged the natural loop
    // for a bench artifact.
    const step = kind === "natural"
      ? (lr: number) => naturalStep(model, X, labels, lr)
      : kind === "dot"
      ? (lr: number) => naturalDotStep(model, X, labels, lr)
      : (lr: number) => {
        const mark = tape.mark();
        const loss = manualStep(model, X, labels, lr);
        tape.rewind(mark);
        return loss;
      };
    const runner: StepRunner = {
      step,
      parameters: () => Float64Array.from(model.parameters(), (p) => p.data),
    };
    return runner;
  };
}

/** {@linkcode naturalStep} keeping its graph (for a manual rewind). */
function manualStep(
  model: MLP,
  X: number[][],
  y: number[],
  lr: number,
): number {
  const inputs = X.map((row) => row.map((x) => new Value(x)));
  const scores = inputs.map((x) => model.forward(x)[0]);
  const losses = scores.map((s, i) => s.mul(-y[i]).add(1).relu());
  const dataLoss = sum(losses).mul(1 / losses.length);
  const regLoss = sum(model.parameters().map((p) => p.mul(p))).mul(ALPHA);
  const loss = dataLoss.add(regLoss);
  model.zeroGrad();
  loss.backward({ retainGraph: true });
  for (const p of model.parameters()) p.data -= lr * p.grad;
  return loss.data;
}
