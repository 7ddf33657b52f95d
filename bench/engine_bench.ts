/**
 * Engine throughput: build a 10,000-node expression graph and backpropagate
 * through it, tapegrad's tape against micrograd's object graph.
 *
 * Run: `deno task bench` (or `deno bench bench/engine_bench.ts`).
 *
 * @module
 */

import { Tape, Value } from "../mod.ts";
import { Op } from "../engine/mod.ts";
import { Value as NaiveValue } from "./naive_micrograd.ts";
import { mulberry32 } from "./workload.ts";

// The expression: 200 inputs, then 50 layers of 200 nodes; node j of a layer
// combines two random nodes of the layer below: x*y, (x+y)/2 or relu(x+y)/2.
// Shared nodes everywhere, depth 50 (so the naive recursive sort survives).
const WIDTH = 200;
const DEPTH = 50;
const random = mulberry32(7);
const inputs = Array.from({ length: WIDTH }, () => random() * 2 - 1);
const plan = Array.from({ length: DEPTH * WIDTH }, () => ({
  a: Math.floor(random() * WIDTH),
  b: Math.floor(random() * WIDTH),
  kind: Math.floor(random() * 3),
}));

/** micrograd's design: one object and one closure per node. */
function naive(): number {
  let layer = inputs.map((x) => new NaiveValue(x));
  const leaves = layer;
  for (let d = 0; d < DEPTH; d++) {
    const next: NaiveValue[] = [];
    for (let j = 0; j < WIDTH; j++) {
      const { a, b, kind } = plan[d * WIDTH + j];
      const x = layer[a], y = layer[b];
      next.push(
        kind === 0
          ? x.mul(y)
          : kind === 1
          ? x.add(y).mul(0.5)
          : x.add(y).relu().mul(0.5),
      );
    }
    layer = next;
  }
  let out = layer[0];
  for (let j = 1; j < WIDTH; j++) out = out.add(layer[j]);
  out.backward();
  return leaves.reduce((total, x) => total + x.grad, 0);
}

const valueTape = new Tape(1 << 16);
const valueMark = valueTape.mark();
/** tapegrad's Value façade: a handle per node, nodes on the tape. */
function facade(): number {
  const tape = valueTape;
  let layer = inputs.map((x) => new Value(x, { tape }));
  const leaves = layer;
  for (let d = 0; d < DEPTH; d++) {
    const next: Value[] = [];
    for (let j = 0; j < WIDTH; j++) {
      const { a, b, kind } = plan[d * WIDTH + j];
      const x = layer[a], y = layer[b];
      next.push(
        kind === 0
          ? x.mul(y)
          : kind === 1
          ? x.add(y).mul(0.5)
          : x.add(y).relu().mul(0.5),
      );
    }
    layer = next;
  }
  let out = layer[0];
  for (let j = 1; j < WIDTH; j++) out = out.add(layer[j]);
  out.backward();
  const grad = leaves.reduce((total, x) => total + x.grad, 0);
  tape.rewind(valueMark);
  return grad;
}

const rawTape = new Tape(1 << 16);
const previous = new Int32Array(WIDTH);
const current = new Int32Array(WIDTH);
const half = () => rawTape.constant(0.5);
/** tapegrad's index API: no object per node at all. */
function raw(): number {
  const tape = rawTape;
  tape.rewind(0);
  for (let j = 0; j < WIDTH; j++) previous[j] = tape.leaf(inputs[j]);
  for (let d = 0; d < DEPTH; d++) {
    for (let j = 0; j < WIDTH; j++) {
      const { a, b, kind } = plan[d * WIDTH + j];
      const x = previous[a], y = previous[b];
      current[j] = kind === 0
        ? tape.binary(Op.Mul, x, y)
        : kind === 1
        ? tape.binary(Op.Mul, tape.binary(Op.Add, x, y), half())
        : tape.binary(
          Op.Mul,
          tape.unary(Op.Relu, tape.binary(Op.Add, x, y)),
          half(),
        );
    }
    previous.set(current);
  }
  let out = previous[0];
  for (let j = 1; j < WIDTH; j++) out = tape.binary(Op.Add, out, previous[j]);
  tape.backward(out);
  let total = 0;
  for (let j = 0; j < WIDTH; j++) total += tape.grad[j];
  return total;
}

// The three must agree before their speed means anything.
const expected = naive();
for (const [name, fn] of [["facade", facade], ["raw", raw]] as const) {
  const got = fn();
  if (got !== expected) {
    throw new Error(
      `engine_bench: ${name} gradient ${got} != naive ${expected}`,
    );
  }
}

const group = "engine: build + backward, 10k-node expression";
Deno.bench(
  "micrograd object graph (naive port)",
  { group, baseline: true },
  () => {
    naive();
  },
);
Deno.bench("tapegrad Value façade", { group }, () => {
  facade();
});
Deno.bench("tapegrad tape index API", { group }, () => {
  raw();
});
