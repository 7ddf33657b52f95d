import assert from "node:assert/strict";
import { Tape, Value } from "../engine/mod.ts";
import { SGD } from "./optim.ts";
import {
  constantLr,
  cosineDecay,
  linearDecay,
  type Schedule,
  SCHEDULE_NAMES,
  scheduleByName,
} from "./schedule.ts";
import { assertClose, assertThrowsWith } from "./_testing.ts";

/** The schedule's rates for steps 0 … totalSteps. */
function rates(schedule: Schedule, totalSteps: number): number[] {
  const out: number[] = [];
  for (let k = 0; k <= totalSteps; k++) out.push(schedule(k, totalSteps));
  return out;
}

Deno.test("constantLr() returns the same rate at every step", () => {
  assert.deepEqual(rates(constantLr(0.05), 4), [0.05, 0.05, 0.05, 0.05, 0.05]);
  assert.deepEqual(rates(constantLr(0), 1), [0, 0]);
});

Deno.test("linearDecay(1.0, 0.1) is micrograd's demo schedule, bit for bit", () => {
  const schedule = linearDecay(1.0, 0.1);
  // micrograd: for k in range(100): learning_rate = 1.0 - 0.9*k/100
  for (let k = 0; k < 100; k++) {
    assert.equal(schedule(k, 100), 1.0 - 0.9 * k / 100);
  }
  assert.equal(schedule(0, 100), 1.0);
  assert.equal(schedule(50, 100), 0.55);
  assertClose(schedule(99, 100), 0.109);
  assertClose(schedule(100, 100), 0.1);
});

Deno.test("linearDecay() moves in equal steps from start to end", () => {
  const down = rates(linearDecay(0.5, 0.1), 4);
  [0.5, 0.4, 0.3, 0.2, 0.1].forEach((x, k) => assertClose(down[k], x));
  // Rising is allowed too: a linear warm-up.
  assert.deepEqual(rates(linearDecay(0, 1), 4), [0, 0.25, 0.5, 0.75, 1]);
});

Deno.test("cosineDecay() follows half a cosine from start to end", () => {
  const values = rates(cosineDecay(1, 0.1), 4);
  // end + (start - end)·(1 + cos(πk/4))/2, with cos(π/4) = √½.
  assert.equal(values[0], 1);
  assertClose(values[1], 0.1 + 0.9 * (1 + Math.SQRT1_2) / 2); // ≈ 0.8682
  assertClose(values[2], 0.1 + 0.9 * (1 + 0) / 2); // 0.55
  assertClose(values[3], 0.1 + 0.9 * (1 - Math.SQRT1_2) / 2); // ≈ 0.2318
  assertClose(values[4], 0.1);
  // end defaults to 0.
  const toZero = rates(cosineDecay(0.2), 2);
  assert.equal(toZero[0], 0.2);
  assertClose(toZero[1], 0.1);
  assertClose(toZero[2], 0);
});

Deno.test("cosineDecay() never increases when start >= end", () => {
  const values = rates(cosineDecay(0.3, 0.01), 50);
  for (let k = 1; k < values.length; k++) {
    assert.ok(values[k] <= values[k - 1], `step ${k} rose`);
  }
});

Deno.test("scheduleByName() picks the schedule by name", () => {
  assert.deepEqual(SCHEDULE_NAMES, ["constant", "linear", "cosine"]);
  assert.deepEqual(
    rates(scheduleByName("constant", 0.3), 5),
    rates(constantLr(0.3), 5),
  );
  assert.deepEqual(
    rates(scheduleByName("linear", 1.0, 0.1), 100),
    rates(linearDecay(1.0, 0.1), 100),
  );
  assert.deepEqual(
    rates(scheduleByName("cosine", 0.3, 0.05), 7),
    rates(cosineDecay(0.3, 0.05), 7),
  );
  // Without an end, linear and cosine decay to 0.
  assert.deepEqual(
    rates(scheduleByName("linear", 0.4), 4),
    rates(linearDecay(0.4, 0), 4),
  );
  assert.deepEqual(
    rates(scheduleByName("cosine", 0.4), 4),
    rates(cosineDecay(0.4, 0), 4),
  );
});

Deno.test("a schedule drives an optimizer's learning rate", () => {
  const w = new Value(1, { tape: new Tape() });
  const opt = new SGD([w]);
  const schedule = linearDecay(0.1, 0.01);
  for (let k = 0; k < 10; k++) {
    opt.lr = schedule(k, 10);
    opt.zeroGrad();
    w.mul(w).backward();
    opt.step();
  }
  // On f(w) = w², each step multiplies w by (1 - 2·lr_k), lr_k = 0.1 - 0.009k.
  let expected = 1;
  for (let k = 0; k < 10; k++) expected *= 1 - 2 * (0.1 - 0.009 * k);
  assertClose(w.data, expected);
});

// ------------------------------------------------------------------- errors

Deno.test("schedule factories reject bad learning rates", () => {
  assertThrowsWith(
    () => constantLr(-1),
    RangeError,
    "constantLr lr must be a finite number >= 0, got -1",
  );
  assertThrowsWith(
    () => linearDecay("1" as unknown as number, 0.1),
    TypeError,
    'linearDecay start must be a finite number >= 0, got "1"',
  );
  assertThrowsWith(
    () => linearDecay(1, NaN),
    RangeError,
    "linearDecay end must be a finite number >= 0, got NaN",
  );
  assertThrowsWith(
    () => cosineDecay(Infinity),
    RangeError,
    "cosineDecay start must be a finite number >= 0, got Infinity",
  );
  assertThrowsWith(
    () => cosineDecay(1, -0.1),
    RangeError,
    "cosineDecay end must be a finite number >= 0, got -0.1",
  );
});

Deno.test("schedules reject bad steps and step counts", () => {
  for (const schedule of [constantLr(1), linearDecay(1, 0), cosineDecay(1)]) {
    assertThrowsWith(
      () => schedule(0, 0),
      RangeError,
      "Schedule totalSteps must be a positive integer, got 0",
    );
    assertThrowsWith(
      () => schedule(0, 2.5),
      RangeError,
      "Schedule totalSteps must be a positive integer, got 2.5",
    );
    assertThrowsWith(
      () => schedule(0, "100" as unknown as number),
      TypeError,
      'Schedule totalSteps must be a positive integer, got "100"',
    );
    assertThrowsWith(
      () => schedule(-1, 100),
      RangeError,
      "Schedule step must be an integer from 0 to totalSteps 100, got -1",
    );
    assertThrowsWith(
      () => schedule(101, 100),
      RangeError,
      "Schedule step must be an integer from 0 to totalSteps 100, got 101",
    );
    assertThrowsWith(
      () => schedule(1.5, 100),
      RangeError,
      "Schedule step must be an integer from 0 to totalSteps 100, got 1.5",
    );
    assertThrowsWith(
      () => schedule(undefined as unknown as number, 100),
      TypeError,
      "Schedule step must be an integer from 0 to totalSteps 100, got undefined",
    );
  }
});

Deno.test("scheduleByName() rejects bad names and arguments", () => {
  assertThrowsWith(
    () => scheduleByName("step" as "linear", 0.1),
    RangeError,
    'Schedule name must be "constant", "linear" or "cosine", got "step"',
  );
  assertThrowsWith(
    () => scheduleByName(5 as unknown as "linear", 0.1),
    TypeError,
    'Schedule name must be "constant", "linear" or "cosine", got 5',
  );
  assertThrowsWith(
    () => scheduleByName("constant", 0.1, 0.01),
    RangeError,
    'A "constant" schedule takes no end learning rate, got 0.01',
  );
  assertThrowsWith(
    () => scheduleByName("cosine", -1),
    RangeError,
    "Schedule lr must be a finite number >= 0, got -1",
  );
  assertThrowsWith(
    () => scheduleByName("linear", 1, "0" as unknown as number),
    TypeError,
    'Schedule end must be a finite number >= 0, got "0"',
  );
});
