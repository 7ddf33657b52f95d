// Releasing step graphs: backward()'s release (PyTorch's contract),
// retainGraph, noGrad, tape.step, keep, the size warning, and printing.

import assert from "node:assert/strict";
import { assertThrows } from "./_testing.ts";
import { inspect } from "node:util";
import { Tape } from "./tape.ts";
import { defaultTape, noGrad, setDefaultTape, sum, Value } from "./value.ts";

const RELEASED =
  /^Released Value: node \d+ belonged to a step whose graph backward\(\) released when the next step started recording; keep loss\.data \(a number\) instead of the Value, or call backward\(\{ retainGraph: true \}\)$/;

/** The seed's double(x): w learns to double x = 2 by SGD on (w·x − 4)². */
function doubleLoop(
  tape: Tape,
  steps: number,
  manual: boolean,
): { losses: number[]; sizes: number[]; w: number } {
  const w = new Value(0.4, { tape });
  const mark = tape.mark();
  const losses: number[] = [], sizes: number[] = [];
  for (let step = 0; step < steps; step++) {
    const x = new Value(2, { tape, requiresGrad: false });
    const loss = w.mul(x).sub(4).pow(2);
    w.grad = 0;
    loss.backward();
    w.data -= 0.01 * w.grad;
    losses.push(loss.data);
    sizes.push(tape.size);
    if (manual) tape.rewind(mark);
  }
  return { losses, sizes, w: w.data };
}

Deno.test("double(x) loop: backward() releases each step, same numbers as mark/rewind", () => {
  const auto = doubleLoop(new Tape(), 2_000, false);
  const manual = doubleLoop(new Tape(), 2_000, true);
  assert.deepEqual(auto.losses, manual.losses);
  assert.deepEqual(auto.w, manual.w);
  assert.ok(Math.abs(auto.w - 2) < 1e-12, `w = ${auto.w}`);
  // w, then one step's nodes (x, the constant 4, w*x, -, the constant 2, pow)
  // Step 1 keeps its x (made before its first op, like a parameter); from
  // then on every step reuses the same slots.
  assert.deepEqual(auto.sizes[0], 7);
  assert.ok(auto.sizes.slice(1).every((size) => size === 8));
});

Deno.test("double(x) loop on the default tape after other work keeps w", () => {
  const previous = setDefaultTape(new Tape());
  try {
    // An earlier example in the same script leaves a pending release.
    const a = new Value(2), b = new Value(-3);
    const d = a.mul(b).add(10);
    d.backward();
    assert.deepEqual(d.data, 4);
    // w is made after that backward(): the next step uses it, so it is kept.
    const w = new Value(0.4);
    let size = -1;
    for (let step = 0; step < 100; step++) {
      const loss = w.mul(2).sub(4).pow(2);
      w.grad = 0;
      loss.backward();
      w.data -= 0.05 * w.grad;
      if (step === 1) size = defaultTape().size;
      if (step > 1) assert.deepEqual(defaultTape().size, size);
    }
    assert.ok(Math.abs(w.data - 2) < 1e-9);
    // Released 100 steps ago: older than the tape's memory of releases.
    assertThrows(
      () => d.data,
      Error,
      `Stale Value: node ${d.index} was released after backward() or dropped by tape.rewind(); keep numbers (v.data) instead of Values, or call backward({ retainGraph: true })`,
    );
  } finally {
    setDefaultTape(previous);
  }
});

Deno.test("Value.backward() keeps the step readable until the next op", () => {
  const tape = new Tape();
  const w = new Value(3, { tape });
  const h = w.mul(w);
  const loss = h.add(1);
  loss.backward();
  // Nothing recorded yet: the whole step is still there.
  assert.deepEqual(loss.data, 10);
  assert.deepEqual(h.grad, 1);
  assert.deepEqual(w.grad, 6);
  assert.deepEqual(String(loss), "Value(data=10, grad=1)");
  const size = tape.size;
  new Value(1, { tape }); // the next step starts: the graph is released
  assert.deepEqual(tape.size, size - 2); // w, then the new leaf
  assertThrows(() => loss.data, Error, /^Released Value: node \d+ belonged/);
  assertThrows(() => h.grad, Error, /^Released Value/);
  assertThrows(() => loss.add(1), Error, /^Released Value/);
  assertThrows(() => loss.data, Error, RELEASED);
  // Parameters made before the step stay.
  assert.deepEqual(w.data, 3);
  assert.deepEqual(w.grad, 6);
});

Deno.test("a released node is never read as another step's node", () => {
  const tape = new Tape();
  const w = new Value(1, { tape });
  const old = w.mul(5);
  old.backward();
  const fresh = w.mul(7); // same slot as `old`
  assert.deepEqual(fresh.index, old.index);
  assert.deepEqual(fresh.data, 7);
  assertThrows(() => old.data, Error, /^Released Value/);
  assertThrows(() => fresh.add(old), Error, /^Released Value/);
});

Deno.test("backward({ retainGraph: true }) allows a second backward through shared nodes", () => {
  const tape = new Tape();
  const x = new Value(3, { tape });
  const h = x.mul(x); // shared: h = x²
  const y1 = h.mul(2);
  y1.backward({ retainGraph: true });
  assert.deepEqual(x.grad, 12); // d(2x²)/dx
  const y2 = h.add(h.tanh()); // records on h: the graph is still there
  y2.backward();
  // Leaf gradients accumulate: 12 + d(x² + tanh x²)/dx = 12 + 2x(1 + 1 - tanh²(x²))
  const t = Math.tanh(9);
  assert.deepEqual(x.grad, 12 + 6 * (2 - t * t));
  assert.deepEqual(h.data, 9);
  // Without retainGraph the first graph is gone at the next op.
  const z = x.mul(2);
  assertThrows(() => h.mul(2), Error, /^Released Value/);
  assert.deepEqual(z.data, 6);
});

Deno.test("without retainGraph, a second backward after recording throws", () => {
  const tape = new Tape();
  const x = new Value(3, { tape });
  const h = x.mul(x);
  h.mul(2).backward();
  assertThrows(() => h.add(1).backward(), Error, /^Released Value/);
});

Deno.test("Value.backward() rejects bad options", () => {
  const x = new Value(1, { tape: new Tape() });
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => x.backward(3),
    TypeError,
    "backward() options must be an object, got 3",
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => x.backward({ retainGraph: "yes" }),
    TypeError,
    'backward() retainGraph must be a boolean, got "yes"',
  );
});

Deno.test("keep() makes later Values persistent", () => {
  const tape = new Tape();
  new Value(1, { tape }).mul(2).backward();
  const w = new Value(3, { tape });
  const x0 = new Value(5, { tape }); // made before the first op, after a release
  tape.keep();
  for (let step = 0; step < 3; step++) {
    new Value(2, { tape }).mul(w).add(x0).backward();
  }
  assert.deepEqual(w.data, 3);
  assert.deepEqual(x0.data, 5);
  assert.deepEqual(w.grad, 6);
});

Deno.test("a Value made after a release and unused by the next step is released with it", () => {
  const tape = new Tape();
  new Value(1, { tape }).mul(2).backward();
  const w = new Value(0.4, { tape }); // belongs to the next step
  w.mul(2).backward();
  new Value(2, { tape }); // the next step starts with a leaf, not with w
  assertThrows(() => w.data, Error, /^Released Value/);
});

Deno.test("noGrad() records nothing to free and no gradient", () => {
  const tape = new Tape();
  const w = new Value(0.5, { tape });
  const size = tape.size;
  const ys = tape.noGrad(() => {
    const y = w.mul(4).tanh();
    assert.deepEqual(y.requiresGrad, false);
    y.backward(); // no gradient reaches w
    return y.data;
  });
  assert.deepEqual(ys, Math.tanh(2));
  assert.deepEqual(tape.size, size);
  assert.deepEqual(w.grad, 0);
  // The free function, on the default tape and on a given one.
  const v = new Value(2);
  const before = defaultTape().size;
  assert.deepEqual(noGrad(() => v.mul(v).data), 4);
  assert.deepEqual(defaultTape().size, before);
  assert.deepEqual(noGrad(() => w.add(1).data, tape), 1.5);
  assert.deepEqual(tape.size, size);
});

Deno.test("noGrad() and step() release what they record, even on a throw", () => {
  const tape = new Tape();
  const w = new Value(1, { tape });
  let inner: Value | undefined;
  assertThrows(
    () =>
      tape.step(() => {
        inner = w.mul(2);
        throw new Error("boom");
      }),
    Error,
    "boom",
  );
  assert.deepEqual(tape.size, 1);
  assertThrows(
    () => inner!.data,
    Error,
    `Released Value: node ${
      inner!.index
    } was made inside tape.step(), which releases its nodes on exit; return numbers (v.data) from the step instead`,
  );
  const kept = tape.noGrad(() => w.exp());
  assertThrows(
    () => kept.data,
    Error,
    `Released Value: node ${kept.index} was made inside noGrad(), which releases its nodes on exit; return numbers (v.data) from the scope instead`,
  );
  assert.deepEqual(tape.size, 1);
});

Deno.test("tape.step() releases on exit; backward inside schedules nothing", () => {
  const tape = new Tape();
  const w = new Value(3, { tape });
  for (let k = 0; k < 5; k++) {
    const loss = tape.step(() => {
      const x = new Value(k, { tape });
      const l = w.mul(x).add(1);
      l.backward();
      // Still recording in the same scope after backward.
      assert.deepEqual(l.mul(2).data, 2 * (3 * k + 1));
      return l.data;
    });
    assert.deepEqual(loss, 3 * k + 1);
    assert.deepEqual(tape.size, 1);
  }
  assert.deepEqual(w.grad, 0 + 1 + 2 + 3 + 4);
});

Deno.test("step() and noGrad() reject bad arguments", () => {
  const tape = new Tape();
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => tape.step(3),
    TypeError,
    "step() needs a function, got number",
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => tape.noGrad(null),
    TypeError,
    "noGrad() needs a function, got null",
  );
  assertThrows(
    () => tape.step(() => Promise.resolve(1)),
    TypeError,
    "step() needs a synchronous function; its nodes were released when it returned a promise",
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => noGrad(() => 1, {}),
    TypeError,
    "noGrad() tape must be a Tape, got an object (Object)",
  );
});

Deno.test("mark() applies a pending release first", () => {
  const tape = new Tape();
  const w = new Value(2, { tape });
  w.mul(3).backward();
  assert.deepEqual(tape.size, 3);
  const mark = tape.mark();
  assert.deepEqual(mark, 1);
  // A manual mark/rewind loop keeps working with backward's release.
  for (let k = 0; k < 3; k++) {
    w.mul(k).backward();
    tape.rewind(mark);
    assert.deepEqual(tape.size, 1);
  }
});

Deno.test("a rewound Value keeps the rewind message", () => {
  const tape = new Tape();
  const mark = tape.mark();
  const x = new Value(1, { tape });
  tape.rewind(mark);
  assertThrows(
    () => x.data,
    Error,
    `Stale Value: node ${x.index} was dropped by tape.rewind(); create values after the mark again`,
  );
  const y = new Value(2, { tape });
  assert.deepEqual(
    tape.staleMessage(y.index, y.generation),
    "Value node 0 is live",
  );
});

Deno.test("a tape warns once past liveNodeWarning nodes without a release", () => {
  const tape = new Tape();
  tape.liveNodeWarning = 100;
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    const x = new Value(1, { tape });
    let y = x;
    for (let k = 0; k < 99; k++) y = y.add(x);
    assert.deepEqual(warnings.length, 0);
    for (let k = 0; k < 500; k++) y = y.add(x);
    assert.deepEqual(warnings.length, 1);
    assert.deepEqual(
      warnings[0],
      "tapegrad: the tape holds 100 live nodes and none was released; call loss.backward() once per step (it releases the step's graph), or wrap forward-only work in noGrad(() => …) or tape.step(() => …)",
    );
    assert.deepEqual(y.data, 600);
  } finally {
    console.warn = warn;
  }
});

Deno.test("findNonFinite() takes a Value or an index, nothing else", () => {
  const tape = new Tape();
  const x = new Value(0, { tape });
  const root = x.log().mul(2);
  assert.deepEqual(tape.findNonFinite(root)?.op, "log");
  assert.deepEqual(tape.findNonFinite(root.index)?.op, "log");
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => tape.findNonFinite("3"),
    TypeError,
    "findNonFinite() root must be a Value or a node index, got string",
  );
  assertThrows(
    // @ts-expect-error: checking the run-time guard
    () => tape.findNonFinite(null),
    TypeError,
    "findNonFinite() root must be a Value or a node index, got null",
  );
  assertThrows(
    () => tape.findNonFinite(99),
    RangeError,
    "findNonFinite() root must be a node index from 0 to 3, got 99",
  );
  assertThrows(
    () => tape.findNonFinite(1.5),
    RangeError,
    "findNonFinite() root must be a node index from 0 to 3, got 1.5",
  );
  assertThrows(
    () => tape.findNonFinite(new Value(1, { tape: new Tape() })),
    Error,
    "findNonFinite() root is a Value on another tape; call it on v.tape",
  );
  root.backward();
  new Value(1, { tape });
  assertThrows(() => tape.findNonFinite(root), Error, /^Released Value/);
});

Deno.test("Value.grad rejects NaN and ±Infinity like data", () => {
  const w = new Value(1, { tape: new Tape() });
  for (const bad of [NaN, Infinity, -Infinity]) {
    assertThrows(
      () => (w.grad = bad),
      TypeError,
      `Value grad must be a finite number, got ${bad}`,
    );
  }
  assert.deepEqual(w.grad, 0);
});

Deno.test("Value and Tape print like micrograd in Deno and through node:util", () => {
  const tape = new Tape(16);
  const a = new Value(2, { tape }), b = new Value(-3, { tape });
  const d = a.mul(b).add(10);
  d.label = "d";
  d.backward();
  for (const show of [Deno.inspect, inspect]) {
    assert.deepEqual(show(a), "Value(data=2, grad=-3)");
    assert.deepEqual(show(d), 'Value(data=4, grad=1, label="d")');
    assert.deepEqual(
      show([a, b]),
      "[ Value(data=2, grad=-3), Value(data=-3, grad=2) ]",
    );
    assert.deepEqual(show(tape), "Tape(size=5, capacity=16)");
  }
  assert.deepEqual(`${a}`, "Value(data=2, grad=-3)");
  new Value(0, { tape }); // releases d's step
  assert.deepEqual(Deno.inspect(d), `Value(released: node ${d.index})`);
  assert.deepEqual(inspect(d), `Value(released: node ${d.index})`);
  assert.deepEqual(Deno.inspect(tape), "Tape(size=3, capacity=16)");
});

Deno.test("Value's Jupyter display gives text and an HTML card", () => {
  const tape = new Tape();
  const v = new Value(2, { tape, label: "w" });
  v.mul(3).backward();
  type Displayable = Record<symbol, () => Record<string, string>>;
  const show = (x: Value) =>
    (x as unknown as Displayable)[Symbol.for("Jupyter.display")].call(x);
  const shown = show(v);
  assert.deepEqual(shown["text/plain"], 'Value(data=2, grad=3, label="w")');
  assert.match(shown["text/html"], /<b><\/b> w<\/td>/);
  assert.match(shown["text/html"], /<b>data<\/b> 2<\/td>/);
  assert.match(shown["text/html"], /<b>grad<\/b> 3<\/td>/);
  const stale = v.mul(2);
  tape.rewind(1);
  assert.deepEqual(show(stale)["text/plain"], `Value(released: node 2)`);
});

Deno.test("sum() over a released step's values throws the release error", () => {
  const tape = new Tape();
  const w = new Value(1, { tape });
  const parts = [w.mul(2), w.mul(3)];
  sum(parts).backward();
  new Value(1, { tape });
  assertThrows(() => sum(parts), Error, /^Released Value/);
});
