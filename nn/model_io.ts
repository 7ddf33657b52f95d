/**
 * Model files as text: an MLP to JSON text and back, with every field
 * checked on the way in (the JSON form itself is {@linkcode MLP.toJSON}).
 *
 * @module
 */

import { MLP, type ModelLoadOptions } from "./mlp.ts";
import { show } from "./_show.ts";

/**
 * The model file text of an MLP: its {@linkcode MLP.toJSON} form as JSON.
 * Numbers are written in their shortest round-trip form, so
 * {@linkcode parseModel} restores every parameter bit for bit.
 *
 * @param model The model to save.
 * @returns JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MLP } from "@tapegrad/tapegrad";
 * import { parseModel, serializeModel } from "@tapegrad/tapegrad";
 * const model = new MLP(2, [4, 1], { seed: 42 });
 * const text = serializeModel(model);
 * assert.equal(JSON.parse(text).format, "tapegrad-mlp");
 * assert.deepEqual(parseModel(text).toJSON(), model.toJSON());
 * ```
 *
 * @throws {TypeError} If `model` is not an MLP.
 * @throws {Error} If the model's parameters were dropped by `tape.rewind()`.
 */
export function serializeModel(model: MLP): string {
  if (!(model instanceof MLP)) {
    throw new TypeError(`serializeModel() needs an MLP, got ${show(model)}`);
  }
  return JSON.stringify(model.toJSON());
}

/**
 * Reads model file text back into an MLP (see {@linkcode MLP.fromJSON} for
 * what is checked). Nothing is recorded on the tape unless the whole file is
 * valid.
 *
 * @param text Model file text, as written by {@linkcode serializeModel}.
 * @param options The tape to build the model on.
 * @returns The model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseModel } from "@tapegrad/tapegrad";
 * const model = parseModel(
 *   '{"format":"tapegrad-mlp","version":1,"nin":1,' +
 *     '"layers":[{"nout":1,"activation":"linear"}],"parameters":[2,1]}',
 * );
 * assert.deepEqual(model.predict([3]), [7]);
 * assert.throws(() => parseModel("{oops"), SyntaxError);
 * ```
 *
 * @throws {TypeError} If `text` is not a string, or the file is not a model
 * file or has a field of the wrong type.
 * @throws {SyntaxError} If `text` is not valid JSON.
 * @throws {RangeError} If the version is not supported, a size is not a
 * positive integer, or the parameter count does not match the architecture.
 */
export function parseModel(text: string, options: ModelLoadOptions = {}): MLP {
  if (typeof text !== "string") {
    throw new TypeError(
      `parseModel() needs the model file text as a string, got ${show(text)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(`Model file is not valid JSON: ${reason}`);
  }
  return MLP.fromJSON(json, options);
}
