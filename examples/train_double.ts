/**
 * The seed example: gradient descent teaches one weight w to double its
 * input. Loss (w·x − y)² with x = 2, y = 4, starting from w = 0.4.
 *
 * Run: deno run examples/train_double.ts
 * (`deno run cli.ts demo` does the same and also draws the graph.)
 *
 * @module
 */

import { Tape, Value } from "../mod.ts";

const tape = new Tape();
const w = new Value(0.4, { tape });
const x = new Value(2, { tape, requiresGrad: false });
const y = new Value(4, { tape, requiresGrad: false });
const mark = tape.mark(); // the loss graph is rebuilt after this each step
const lr = 0.1;
const round = (v: number) => Number(v.toPrecision(6));

for (let iter = 0; iter < 6; iter++) {
  tape.rewind(mark);
  const loss = w.mul(x).sub(y).pow(2);
  w.grad = 0;
  loss.backward();
  const before = loss.data;
  w.data -= lr * w.grad;
  console.log(
    `Iter: ${String(iter).padStart(2)}, Loss: ${round(before)}, w: ${
      round(w.data)
    }`,
  );
}
