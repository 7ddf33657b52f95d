/**
 * Weight initialisation: micrograd's uniform(-1, 1), Xavier and He, all drawn
 * from a seeded {@linkcode Rng} so that a seed fixes every parameter.
 *
 * @module
 */

import { Rng } from "./rng.ts";
import { checkPositiveInteger, show } from "./_show.ts";

/**
 * How a neuron's weights are drawn (biases always start at 0, as in
 * micrograd):
 *
 * - `"uniform"`: uniform in [-1, 1), micrograd's default;
 * - `"xavier"`: uniform in ±√(6 / (nin + nout)) (Glorot), for tanh and sigmoid;
 * - `"he"`: normal with mean 0 and standard deviation √(2 / nin), for ReLU.
 */
export type Init = "uniform" | "xavier" | "he";

/**
 * Every initialisation scheme, in a fixed order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { INITS } from "@tapegrad/tapegrad";
 * assert.deepEqual(INITS, ["uniform", "xavier", "he"]);
 * ```
 */
export const INITS: readonly Init[] = Object.freeze([
  "uniform",
  "xavier",
  "he",
]);

/**
 * The seed models use when given neither `rng` nor `seed`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SEED } from "@tapegrad/tapegrad/nn";
 * assert.equal(DEFAULT_SEED, 1337);
 * ```
 */
export const DEFAULT_SEED = 1337;

/**
 * Whether `value` is one of the {@linkcode INITS}.
 *
 * @param value Anything.
 * @returns `true` for `"uniform"`, `"xavier"` and `"he"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isInit } from "@tapegrad/tapegrad/nn";
 * assert.equal(isInit("he"), true);
 * assert.equal(isInit("zeros"), false);
 * ```
 */
export function isInit(value: unknown): value is Init {
  return typeof value === "string" &&
    (INITS as readonly string[]).includes(value);
}

/**
 * Checks a user-supplied initialisation name and returns it typed.
 *
 * @param value The name to check.
 * @param name What the value is, for the error message.
 * @returns `value`, as an {@linkcode Init}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseInit } from "@tapegrad/tapegrad/nn";
 * assert.equal(parseInit("xavier"), "xavier");
 * assert.throws(() => parseInit("zeros"), {
 *   name: "TypeError",
 *   message: 'Init must be one of "uniform", "xavier", "he", got "zeros"',
 * });
 * ```
 *
 * @throws {TypeError} If `value` is not an initialisation name.
 */
export function parseInit(value: unknown, name: string = "Init"): Init {
  if (isInit(value)) return value;
  const accepted = INITS.map((a) => `"${a}"`).join(", ");
  throw new TypeError(`${name} must be one of ${accepted}, got ${show(value)}`);
}

/**
 * Draws one initial weight of a neuron with `nin` inputs in a layer of
 * `nout` neurons.
 *
 * @param init The scheme.
 * @param rng The random source; one `uniform` or `normal` draw is taken.
 * @param nin Inputs per neuron (fan-in).
 * @param nout Neurons in the layer (fan-out, used by `"xavier"`).
 * @returns The weight.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialWeight } from "@tapegrad/tapegrad/nn";
 * import { Rng } from "@tapegrad/tapegrad";
 * const w = initialWeight("xavier", new Rng(1), 2, 4);
 * assert.ok(Math.abs(w) < Math.sqrt(6 / (2 + 4)));
 * assert.equal(initialWeight("uniform", new Rng(7), 2, 4), new Rng(7).uniform(-1, 1));
 * ```
 *
 * @throws {TypeError} If `init` is not a scheme or `rng` not an {@linkcode Rng}.
 * @throws {RangeError} If `nin` or `nout` is not a positive integer.
 */
export function initialWeight(
  init: Init,
  rng: Rng,
  nin: number,
  nout: number,
): number {
  parseInit(init);
  if (!(rng instanceof Rng)) {
    throw new TypeError(`Initial weight rng must be an Rng, got ${show(rng)}`);
  }
  checkPositiveInteger(nin, "Initial weight nin");
  checkPositiveInteger(nout, "Initial weight nout");
  switch (init) {
    case "uniform":
      return rng.uniform(-1, 1);
    case "xavier": {
      const limit = Math.sqrt(6 / (nin + nout));
      return rng.uniform(-limit, limit);
    }
    case "he":
      return rng.normal(0, Math.sqrt(2 / nin));
  }
}

/** The random-source options shared by `Neuron`, `Layer` and `MLP`. */
export interface RandomOptions {
  /** The generator to draw from (shared, so it advances). */
  rng?: Rng;
  /** A seed for a fresh generator (default {@linkcode DEFAULT_SEED}). */
  seed?: number;
}

/**
 * The generator a model draws its initial weights from: `options.rng`, or a
 * new `Rng(options.seed ?? DEFAULT_SEED)`.
 *
 * @param options `rng` or `seed` (not both).
 * @param name What the options belong to, for error messages.
 * @returns The generator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rngFrom } from "@tapegrad/tapegrad/nn";
 * import { Rng } from "@tapegrad/tapegrad";
 * const rng = new Rng(5);
 * assert.equal(rngFrom({ rng }), rng);
 * assert.equal(rngFrom({ seed: 5 }).next(), new Rng(5).next());
 * assert.equal(rngFrom({}).seed, 1337);
 * ```
 *
 * @throws {TypeError} If `rng` is not an {@linkcode Rng}, `seed` is not a
 * number, or both are given.
 * @throws {RangeError} If `seed` is not a safe integer.
 */
export function rngFrom(options: RandomOptions, name: string = "Model"): Rng {
  const { rng, seed } = options;
  if (rng !== undefined && seed !== undefined) {
    throw new TypeError(
      `${name} options take rng or seed, not both, got rng and seed ${
        show(seed)
      }`,
    );
  }
  if (rng !== undefined) {
    if (!(rng instanceof Rng)) {
      throw new TypeError(`${name} rng must be an Rng, got ${show(rng)}`);
    }
    return rng;
  }
  if (seed === undefined) return new Rng(DEFAULT_SEED);
  if (typeof seed !== "number") {
    throw new TypeError(
      `${name} seed must be a safe integer, got ${show(seed)}`,
    );
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(
      `${name} seed must be a safe integer, got ${show(seed)}`,
    );
  }
  return new Rng(seed);
}
