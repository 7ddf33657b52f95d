// Rng: a seedable, deterministic xoshiro128** generator for weights, data and shuffles.

import { show, type ShowOptions } from "./_show.ts";

/** This module's messages name an array without its length: `got an array`. */
const SHORT_ARRAYS: ShowOptions = { arrayLength: false };

/** 2^32, the number of distinct outputs of {@linkcode Rng.uint32}. */
const TWO_POW_32 = 4294967296;
/** 2^26, shifts the high 27 bits of a double above the low 26. */
const TWO_POW_26 = 67108864;
/** 2^53, scales a 53-bit integer into [0, 1). */
const TWO_POW_53 = 9007199254740992;
/** The golden-ratio increment of splitmix32. */
const GOLDEN = 0x9e3779b9;

/** Throws TypeError when `value` is not a number, RangeError when it is not finite. */
function checkFinite(what: string, value: unknown): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `${what} must be a finite number, got ${show(value, SHORT_ARRAYS)}`,
    );
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(
      `${what} must be a finite number, got ${show(value, SHORT_ARRAYS)}`,
    );
  }
}

/** Rotates a 32-bit word left by `k` bits. */
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seedable pseudo-random number generator: the same seed always gives the
 * bit-identical sequence, on every platform, so training runs and datasets can
 * be reproduced exactly.
 *
 * The core is xoshiro128** (Blackman and Vigna), whose 128-bit state is
 * expanded from the seed with splitmix32. It is fast and statistically strong,
 * but not cryptographically secure.
 *
 * @example Same seed, same numbers
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "@tapegrad/tapegrad";
 *
 * const a = new Rng(42);
 * const b = new Rng(42);
 * assert.equal(a.next(), b.next());
 * assert.deepEqual(a.permutation(5), b.permutation(5));
 * ```
 */
export class Rng {
  /** The seed this generator was created with. */
  readonly seed: number;
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  // Box–Muller makes normals in pairs; the second is kept for the next call.
  #spare = 0;
  #hasSpare = false;

  /**
   * Creates a generator from an integer seed.
   *
   * Every safe integer (negative ones included) gives its own sequence.
   *
   * @param seed A safe integer; defaults to 0.
   * @returns A new generator.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng } from "@tapegrad/tapegrad";
   *
   * const rng = new Rng(7);
   * assert.equal(rng.seed, 7);
   * assert.notEqual(new Rng(7).next(), new Rng(8).next());
   * ```
   *
   * @throws {TypeError} If `seed` is not a number.
   * @throws {RangeError} If `seed` is not a safe integer.
   */
  constructor(seed: number = 0) {
    if (typeof seed !== "number") {
      throw new TypeError(
        `Seed must be a safe integer, got ${show(seed, SHORT_ARRAYS)}`,
      );
    }
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(
        `Seed must be a safe integer, got ${show(seed, SHORT_ARRAYS)}`,
      );
    }
    this.seed = seed;
    const low = seed >>> 0;
    // The high bits go into one state word, so seeds that agree in their low
    // 32 bits (like -1 and 2^32 - 1) still give different sequences.
    const high = Math.floor(seed / TWO_POW_32) | 0;
    let sm = low;
    const splitmix32 = (): number => {
      sm = (sm + GOLDEN) | 0;
      let z = sm;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return z ^ (z >>> 16);
    };
    this.#s0 = splitmix32();
    this.#s1 = splitmix32();
    this.#s2 = splitmix32() ^ high;
    this.#s3 = splitmix32();
    // xoshiro's one forbidden state; unreachable in practice, guarded anyway.
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /**
   * Returns the next raw 32-bit output of the generator.
   *
   * @returns An integer in [0, 2^32).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng } from "@tapegrad/tapegrad";
   *
   * const word = new Rng(1).uint32();
   * assert.ok(Number.isInteger(word) && word >= 0 && word < 2 ** 32);
   * ```
   */
  uint32(): number {
    const s1 = this.#s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 = s1 ^ this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /**
   * Returns a uniform number in [0, 1) with the full 53-bit resolution of a
   * double (two 32-bit outputs per call).
   *
   * @returns A number `u` with `0 <= u < 1`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng } from "@tapegrad/tapegrad";
   *
   * const u = new Rng(3).next();
   * assert.ok(u >= 0 && u < 1);
   * ```
   */
  next(): number {
    const high = this.uint32() >>> 5;
    const low = this.uint32() >>> 6;
    return (high * TWO_POW_26 + low) / TWO_POW_53;
  }

  /**
   * Returns a uniform number in [lo, hi).
   *
   * When `lo === hi` the result is `lo`. Floating-point rounding can, very
   * rarely, give exactly `hi` when the range is wide compared with its ends.
   *
   * @param lo The lower bound (inclusive); defaults to 0.
   * @param hi The upper bound (exclusive); defaults to 1.
   * @returns A number `x` with `lo <= x < hi`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng } from "@tapegrad/tapegrad";
   *
   * const x = new Rng(5).uniform(-1, 1);
   * assert.ok(x >= -1 && x < 1);
   * ```
   *
   * @throws {TypeError} If a bound is not a number.
   * @throws {RangeError} If a bound is not finite, `lo > hi`, or `hi - lo` overflows.
   */
  uniform(lo: number = 0, hi: number = 1): number {
    checkFinite("Lower bound", lo);
    checkFinite("Upper bound", hi);
    if (lo > hi) {
      throw new RangeError(
        `Lower bound must not exceed upper bound, got ${
          show(lo, SHORT_ARRAYS)
        } > ${show(hi, SHORT_ARRAYS)}`,
      );
    }
    const width = hi - lo;
    if (!Number.isFinite(width)) {
      throw new RangeError(
        `Range width must be finite, got ${show(lo, SHORT_ARRAYS)} to ${
          show(hi, SHORT_ARRAYS)
        }`,
      );
    }
    return lo + width * this.next();
  }

  /**
   * Returns a normally distributed number (Box–Muller transform).
   *
   * Normals are made in pairs: every second call returns the cached partner
   * of the previous one, scaled by that call's `mean` and `std`.
   *
   * @param mean The mean; defaults to 0.
   * @param std The standard deviation, at least 0; defaults to 1.
   * @returns A sample from N(mean, std²).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng } from "@tapegrad/tapegrad";
   *
   * const rng = new Rng(11);
   * assert.equal(rng.normal(5, 0), 5);
   * assert.ok(Number.isFinite(rng.normal()));
   * ```
   *
   * @throws {TypeError} If `mean` or `std` is not a number.
   * @throws {RangeError} If `mean` is not finite or `std` is negative or not finite.
   */
  normal(mean: number = 0, std: number = 1): number {
    checkFinite("Mean", mean);
    checkFinite("Standard deviation", std);
    if (std < 0) {
      throw new RangeError(
        `Standard deviation must be at least 0, got ${show(std, SHORT_ARRAYS)}`,
      );
    }
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return mean + std * this.#spare;
    }
    // 1 - next() is in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.#spare = radius * Math.sin(angle);
    this.#hasSpare = true;
    return mean + std * radius * Math.cos(angle);
  }

  /**
   * Returns a uniform integer in [0, n), exactly uniform (rejection sampling).
   *
   * @param n The number of possible values, an integer from 1 to 2^32.
   * @returns An integer `k` with `0 <= k < n`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng } from "@tapegrad/tapegrad";
   *
   * const die = new Rng(9).int(6) + 1;
   * assert.ok([1, 2, 3, 4, 5, 6].includes(die));
   * ```
   *
   * @throws {TypeError} If `n` is not a number.
   * @throws {RangeError} If `n` is not an integer from 1 to 2^32.
   */
  int(n: number): number {
    if (typeof n !== "number") {
      throw new TypeError(
        `Integer bound must be an integer from 1 to 2^32, got ${
          show(n, SHORT_ARRAYS)
        }`,
      );
    }
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(
        `Integer bound must be an integer from 1 to 2^32, got ${
          show(n, SHORT_ARRAYS)
        }`,
      );
    }
    return this.#below(n);
  }

  /**
   * Shuffles an array in place (Fisher–Yates) and returns it.
   *
   * @typeParam T The element type.
   * @param array The array to shuffle; it is modified.
   * @returns The same array, now in a uniformly random order.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng } from "@tapegrad/tapegrad";
   *
   * const cards = ["a", "b", "c", "d"];
   * const same = new Rng(2).shuffle(cards);
   * assert.equal(same, cards);
   * assert.deepEqual([...cards].sort(), ["a", "b", "c", "d"]);
   * ```
   *
   * @throws {TypeError} If `array` is not an array.
   */
  shuffle<T>(array: T[]): T[] {
    if (!Array.isArray(array)) {
      throw new TypeError(
        `Shuffle needs an array, got ${show(array, SHORT_ARRAYS)}`,
      );
    }
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.#below(i + 1);
      const held = array[i];
      array[i] = array[j];
      array[j] = held;
    }
    return array;
  }

  /**
   * Returns a random permutation of the integers 0 to n - 1.
   *
   * @param n The length, a non-negative integer below 2^32.
   * @returns A new array holding 0, 1, …, n - 1 in random order.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng } from "@tapegrad/tapegrad";
   *
   * const order = new Rng(4).permutation(4);
   * assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
   * ```
   *
   * @throws {TypeError} If `n` is not a number.
   * @throws {RangeError} If `n` is not a non-negative integer below 2^32.
   */
  permutation(n: number): number[] {
    if (typeof n !== "number") {
      throw new TypeError(
        `Permutation length must be a non-negative integer below 2^32, got ${
          show(n, SHORT_ARRAYS)
        }`,
      );
    }
    if (!Number.isInteger(n) || n < 0 || n >= TWO_POW_32) {
      throw new RangeError(
        `Permutation length must be a non-negative integer below 2^32, got ${
          show(n, SHORT_ARRAYS)
        }`,
      );
    }
    const order = new Array<number>(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return this.shuffle(order);
  }

  /** Uniform integer in [0, n) for a trusted integer 1 <= n <= 2^32. */
  #below(n: number): number {
    // Reject the top partial block of 2^32 so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let r = this.uint32();
    while (r >= limit) r = this.uint32();
    return r % n;
  }
}
