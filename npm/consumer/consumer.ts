// A TypeScript project using the installed package: `tsc --noEmit` must
// accept the correct uses and reject the wrong ones marked @ts-expect-error,
// which shows the .d.ts types are real (not `any`).
import { fit, makeMoons, MLP, Value } from "@tapegrad/tapegrad";
import { Tape } from "@tapegrad/tapegrad/engine";
import { mse } from "@tapegrad/tapegrad/nn";

const tape = new Tape();
const x: Value = new Value(3, { tape });
const y: number = x.mul(x).add(1).data;
const accuracy: number = fit(new MLP(2, [4, 1]), makeMoons(10), { steps: 1 })
  .accuracy;
const loss: Value = mse([x], [y]);

// @ts-expect-error: data is a number, not a string
const wrong: string = x.data;
// @ts-expect-error: Value takes a number
new Value("3");
// @ts-expect-error: MLP's layer sizes are numbers
new MLP(2, ["16"]);

export { accuracy, loss, wrong };
