// Tests for Rng: known-answer vectors, determinism, ranges, distributions and argument errors.

import assert from "node:assert/strict";
import { Rng } from "./rng.ts";

const MASK32 = 0xffffffffn;

/** An independent reference: xoshiro128** in BigInt arithmetic, after Vigna's C code. */
function referenceXoshiro(state: bigint[]): () => number {
  const s = state.map((w) => w & MASK32);
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & MASK32;
  return () => {
    const result = (rotl((s[1] * 5n) & MASK32, 7n) * 9n) & MASK32;
    const t = (s[1] << 9n) & MASK32;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11n);
    return Number(result);
  };
}

/** The documented seeding: splitmix32 from the low 32 bits, high bits xored into word 2. */
function referenceSeeded(seed: number): () => number {
  let sm = BigInt.asUintN(32, BigInt(seed));
  const high = BigInt.asUintN(32, BigInt(Math.floor(seed / 2 ** 32)));
  const splitmix32 = () => {
    sm = (sm + 0x9e3779b9n) & MASK32;
    let z = sm;
    z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & MASK32;
    z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & MASK32;
    return z ^ (z >> 16n);
  };
  const a = splitmix32();
  const b = splitmix32();
  const c = splitmix32() ^ high;
  const d = splitmix32();
  return referenceXoshiro([a, b, c, d]);
}

function take(count: number, draw: () => number): number[] {
  return Array.from({ length: count }, draw);
}

Deno.test("reference xoshiro128** matches the published vector for state {1, 2, 3, 4}", () => {
  // Vigna's xoshiro128starstar.c, as used in the rand_xoshiro crate's tests.
  assert.deepEqual(take(10, referenceXoshiro([1n, 2n, 3n, 4n])), [
    11520,
    0,
    5927040,
    70819200,
    2031721883,
    1637235492,
    1287239034,
    3734860849,
    3729100597,
    4258142804,
  ]);
});

Deno.test("Rng.uint32() matches the BigInt reference for many seeds", () => {
  const seeds = [
    0,
    1,
    42,
    -1,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    -(2 ** 40) + 3,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
  ];
  for (const seed of seeds) {
    const rng = new Rng(seed);
    assert.deepEqual(
      take(64, () => rng.uint32()),
      take(64, referenceSeeded(seed)),
      `seed ${seed}`,
    );
  }
});

Deno.test("Rng with the same seed gives a bit-identical sequence from every method", () => {
  const run = (rng: Rng) => [
    rng.uint32(),
    rng.next(),
    rng.uniform(-3, 7),
    rng.normal(),
    rng.normal(2, 0.5),
    rng.normal(),
    rng.int(1000),
    ...rng.permutation(10),
    ...rng.shuffle(["a", "b", "c"]).map((s) => s.charCodeAt(0)),
  ];
  const a = run(new Rng(2024));
  const b = run(new Rng(2024));
  assert.equal(a.length, b.length);
  a.forEach((v, i) =>
    assert.ok(Object.is(v, b[i]), `draw ${i}: ${v} vs ${b[i]}`)
  );
});

Deno.test("Rng with different seeds gives different sequences", () => {
  const first = (seed: number) =>
    take(
      4,
      (() => {
        const rng = new Rng(seed);
        return () => rng.uint32();
      })(),
    );
  assert.notDeepEqual(first(0), first(1));
  // Seeds that agree in their low 32 bits still differ.
  assert.notDeepEqual(first(-1), first(2 ** 32 - 1));
  assert.notDeepEqual(first(0), first(2 ** 32));
});

Deno.test("Rng() defaults to seed 0", () => {
  const rng = new Rng();
  assert.equal(rng.seed, 0);
  assert.equal(rng.next(), new Rng(0).next());
});

Deno.test("Rng.next() is in [0, 1), has more than 32 bits and a mean near 1/2", () => {
  const rng = new Rng(1);
  let sum = 0;
  let fine = 0;
  const count = 100_000;
  for (let i = 0; i < count; i++) {
    const u = rng.next();
    assert.ok(u >= 0 && u < 1, `got ${u}`);
    sum += u;
    if (!Number.isInteger(u * 2 ** 32)) fine++;
  }
  assert.ok(Math.abs(sum / count - 0.5) < 0.005, `mean ${sum / count}`);
  assert.ok(fine > count * 0.99, "values should use bits below 2^-32");
});

Deno.test("Rng.uniform() stays in [lo, hi) and returns lo when lo equals hi", () => {
  const rng = new Rng(2);
  for (let i = 0; i < 10_000; i++) {
    const x = rng.uniform(-2.5, 4);
    assert.ok(x >= -2.5 && x < 4, `got ${x}`);
    const d = rng.uniform();
    assert.ok(d >= 0 && d < 1, `got ${d}`);
  }
  assert.equal(rng.uniform(3, 3), 3);
});

Deno.test("Rng.normal() of 100k samples has mean 0 and variance 1 within tolerance", () => {
  const rng = new Rng(3);
  const count = 100_000;
  const xs = take(count, () => rng.normal());
  const mean = xs.reduce((s, x) => s + x, 0) / count;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (count - 1);
  // Standard errors are 0.003 for the mean and 0.0045 for the variance.
  assert.ok(Math.abs(mean) < 0.015, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.025, `variance ${variance}`);
  const within1 = xs.filter((x) => Math.abs(x) < 1).length / count;
  assert.ok(Math.abs(within1 - 0.6827) < 0.01, `P(|z| < 1) = ${within1}`);
});

Deno.test("Rng.normal(mean, std) shifts and scales", () => {
  const rng = new Rng(4);
  const count = 100_000;
  const xs = take(count, () => rng.normal(3, 2));
  const mean = xs.reduce((s, x) => s + x, 0) / count;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (count - 1);
  assert.ok(Math.abs(mean - 3) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(variance - 4) < 0.1, `variance ${variance}`);
  assert.equal(rng.normal(-1, 0), -1);
});

Deno.test("Rng.normal() caches the Box–Muller spare and scales it by the second call", () => {
  const a = new Rng(5);
  const b = new Rng(5);
  const [a1, a2] = [a.normal(), a.normal()];
  const [b1, b2] = [b.normal(), b.normal(10, 2)];
  assert.equal(b1, a1);
  assert.equal(b2, 10 + 2 * a2);
  // Both normals of a pair consumed the same generator draws.
  assert.equal(a.uint32(), b.uint32());
});

Deno.test("Rng.int() covers [0, n) evenly", () => {
  const rng = new Rng(6);
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 60_000; i++) {
    const k = rng.int(6);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 6, `got ${k}`);
    counts[k]++;
  }
  // Each count is 10000 ± 91 (one standard deviation).
  for (const c of counts) {
    assert.ok(Math.abs(c - 10_000) < 500, `counts ${counts}`);
  }
  assert.equal(rng.int(1), 0);
  const big = rng.int(2 ** 32);
  assert.ok(Number.isInteger(big) && big >= 0 && big < 2 ** 32);
});

Deno.test("Rng.shuffle() permutes in place and returns the same array", () => {
  for (let seed = 0; seed < 50; seed++) {
    const rng = new Rng(seed);
    for (let n = 0; n <= 20; n++) {
      const array = Array.from({ length: n }, (_, i) => i * 10);
      const result = rng.shuffle(array);
      assert.equal(result, array);
      assert.deepEqual(
        [...result].sort((p, q) => p - q),
        Array.from({ length: n }, (_, i) => i * 10),
      );
    }
  }
});

Deno.test("Rng.shuffle() makes all orders of three items about equally often", () => {
  const rng = new Rng(7);
  const counts = new Map<string, number>();
  for (let i = 0; i < 6000; i++) {
    const key = rng.shuffle(["a", "b", "c"]).join("");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  // Each count is 1000 ± 29 (one standard deviation).
  for (const [key, c] of counts) {
    assert.ok(Math.abs(c - 1000) < 150, `${key}: ${c}`);
  }
});

Deno.test("Rng.permutation() holds each of 0..n-1 once", () => {
  const rng = new Rng(8);
  assert.deepEqual(rng.permutation(0), []);
  assert.deepEqual(rng.permutation(1), [0]);
  const p = rng.permutation(100);
  assert.deepEqual(
    [...p].sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.notDeepEqual(p, Array.from({ length: 100 }, (_, i) => i));
});

Deno.test("Rng() rejects a seed that is not a safe integer", () => {
  assert.throws(() => new Rng("1" as unknown as number), {
    name: "TypeError",
    message: 'Seed must be a safe integer, got "1"',
  });
  for (
    const [bad, shown] of [[1.5, "1.5"], [NaN, "NaN"], [Infinity, "Infinity"], [
      2 ** 53,
      "9007199254740992",
    ]] as const
  ) {
    assert.throws(() => new Rng(bad), {
      name: "RangeError",
      message: `Seed must be a safe integer, got ${shown}`,
    });
  }
});

Deno.test("Rng.uniform() rejects bad bounds", () => {
  const rng = new Rng();
  assert.throws(() => rng.uniform("0" as unknown as number, 1), {
    name: "TypeError",
    message: 'Lower bound must be a finite number, got "0"',
  });
  assert.throws(() => rng.uniform(0, NaN), {
    name: "RangeError",
    message: "Upper bound must be a finite number, got NaN",
  });
  assert.throws(() => rng.uniform(2, 1), {
    name: "RangeError",
    message: "Lower bound must not exceed upper bound, got 2 > 1",
  });
  assert.throws(() => rng.uniform(-Number.MAX_VALUE, Number.MAX_VALUE), {
    name: "RangeError",
    message:
      /^Range width must be finite, got -1\.79\d*e\+308 to 1\.79\d*e\+308$/,
  });
});

Deno.test("Rng.normal() rejects a bad mean or standard deviation", () => {
  const rng = new Rng();
  assert.throws(() => rng.normal(Infinity), {
    name: "RangeError",
    message: "Mean must be a finite number, got Infinity",
  });
  assert.throws(() => rng.normal(0, -1), {
    name: "RangeError",
    message: "Standard deviation must be at least 0, got -1",
  });
  assert.throws(() => rng.normal(0, null as unknown as number), {
    name: "TypeError",
    message: "Standard deviation must be a finite number, got null",
  });
});

Deno.test("Rng.int() rejects a bound outside 1..2^32", () => {
  const rng = new Rng();
  for (
    const [bad, shown] of [[0, "0"], [-3, "-3"], [1.5, "1.5"], [
      2 ** 32 + 1,
      "4294967297",
    ], [NaN, "NaN"]] as const
  ) {
    assert.throws(() => rng.int(bad), {
      name: "RangeError",
      message: `Integer bound must be an integer from 1 to 2^32, got ${shown}`,
    });
  }
  assert.throws(() => rng.int("6" as unknown as number), {
    name: "TypeError",
    message: 'Integer bound must be an integer from 1 to 2^32, got "6"',
  });
});

Deno.test("Rng.shuffle() rejects a non-array", () => {
  assert.throws(() => new Rng().shuffle("abc" as unknown as string[]), {
    name: "TypeError",
    message: 'Shuffle needs an array, got "abc"',
  });
});

Deno.test("Rng.permutation() rejects a bad length", () => {
  const rng = new Rng();
  assert.throws(() => rng.permutation(-1), {
    name: "RangeError",
    message:
      "Permutation length must be a non-negative integer below 2^32, got -1",
  });
  assert.throws(() => rng.permutation(2.5), {
    name: "RangeError",
    message:
      "Permutation length must be a non-negative integer below 2^32, got 2.5",
  });
  assert.throws(() => rng.permutation(undefined as unknown as number), {
    name: "TypeError",
    message:
      "Permutation length must be a non-negative integer below 2^32, got undefined",
  });
});
