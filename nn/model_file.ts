/**
 * The model file format: its JSON types, format name and version, and the
 * complete check of a parsed file that `MLP.fromJSON()` runs (the
 * text side is `model_io.ts`; the JSON form is `MLP.toJSON()`).
 *
 * @module
 */

import { type Activation, parseActivation } from "./activation.ts";
import { checkNormalization } from "./normalization.ts";
import { checkFeatures } from "./features.ts";
import { show } from "./_show.ts";

/** A JSON value: what `JSON.parse` can return. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * Metadata a model file carries: a JSON object. It is free-form (the CLI
 * stores the dataset, label names…) but for one key the library reads:
 * `normalization`, a `Normalization` (`{ mean, std }`) that `MLP.predict()` applies
 * to raw inputs, and `features`, the input features (`FEATURE_NAMES`) the
 * model computes from a raw point `[x, y]` before normalising.
 */
export type ModelMeta = { readonly [key: string]: JsonValue };

/**
 * The `format` field of a model file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MLP } from "@tapegrad/tapegrad";
 * import { MODEL_FORMAT } from "@tapegrad/tapegrad";
 * assert.equal(new MLP(1, [1]).toJSON().format, MODEL_FORMAT);
 * ```
 */
export const MODEL_FORMAT = "tapegrad-mlp";

/**
 * The model file version this code writes (and the only one it reads).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MLP } from "@tapegrad/tapegrad";
 * import { MODEL_VERSION } from "@tapegrad/tapegrad";
 * assert.equal(new MLP(1, [1]).toJSON().version, MODEL_VERSION);
 * ```
 */
export const MODEL_VERSION = 1;

/** One layer of a model file. */
export interface ModelLayerJSON {
  /** Number of neurons. */
  nout: number;
  /** The neurons' non-linearity. */
  activation: Activation;
}

/**
 * A model file: what `MLP.toJSON()` returns and
 * `MLP.fromJSON()` reads. Unknown fields are ignored.
 */
export interface ModelJSON {
  /** Always `"tapegrad-mlp"`. */
  format: typeof MODEL_FORMAT;
  /** The format version, 1. */
  version: typeof MODEL_VERSION;
  /** Number of inputs. */
  nin: number;
  /** The layers, first to last. */
  layers: ModelLayerJSON[];
  /**
   * Every parameter in micrograd's order: layer by layer, neuron by neuron,
   * each neuron's weights then its bias.
   */
  parameters: number[];
  /** The model's `MLP.meta`, when it has any. */
  meta?: ModelMeta;
}

/**
 * Checks an array of `count` finite parameters; `where` starts the messages
 * (`"Model file"` or `"MLP options"`).
 */
export function checkParameters(
  parameters: unknown,
  count: number,
  architecture: string,
  where: string,
): asserts parameters is readonly number[] {
  const name = `${where}: parameters`;
  if (!Array.isArray(parameters)) {
    throw new TypeError(
      `${name} must be an array of ${count} numbers, got ${show(parameters)}`,
    );
  }
  if (parameters.length !== count) {
    throw new RangeError(
      `${where}: expected ${count} parameters for ${architecture}, got ${parameters.length}`,
    );
  }
  for (let k = 0; k < count; k++) {
    const p: unknown = parameters[k];
    if (typeof p !== "number" || !Number.isFinite(p)) {
      throw new TypeError(
        `${name}[${k}] must be a finite number, got ${show(p)}`,
      );
    }
  }
}

/**
 * Checks a parsed model file completely (shape, format name, version, sizes,
 * activations, parameter count and values, `meta` and its `normalization`)
 * and returns a typed copy; the error names the first problem. This is what
 * `MLP.fromJSON()` runs before building anything.
 *
 * @param json A parsed model file.
 * @returns The file, typed, with `meta` as a frozen deep copy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateModelFile } from "@tapegrad/tapegrad/nn";
 * const file = validateModelFile({
 *   format: "tapegrad-mlp",
 *   version: 1,
 *   nin: 1,
 *   layers: [{ nout: 1, activation: "linear" }],
 *   parameters: [2, 1],
 * });
 * assert.equal(file.layers[0].nout, 1);
 * assert.throws(() => validateModelFile({ ...file, parameters: [2] }), {
 *   name: "RangeError",
 *   message: "Model file: expected 2 parameters for 1-1, got 1",
 * });
 * ```
 *
 * @throws {TypeError} If `json` is not a model file or a field has the
 * wrong type.
 * @throws {RangeError} If the version is not supported, a size is not a
 * positive integer, the parameter count does not match the architecture,
 * or `meta` nests more than 64 levels deep.
 */
export function validateModelFile(json: unknown): ModelJSON {
  if (!isPlainObject(json)) {
    throw new TypeError(
      `Not a tapegrad model file: expected an object, got ${show(json)}`,
    );
  }
  if (json.format !== MODEL_FORMAT) {
    throw new TypeError(
      `Not a tapegrad model file: format is ${
        show(json.format)
      }, expected "${MODEL_FORMAT}"`,
    );
  }
  const { version, nin, layers, parameters, meta } = json;
  if (typeof version !== "number") {
    throw new TypeError(
      `Model file: version must be a number, got ${show(version)}`,
    );
  }
  if (version !== MODEL_VERSION) {
    throw new RangeError(
      `Model file: version ${
        show(version)
      } is not supported, expected ${MODEL_VERSION}`,
    );
  }
  checkSize(nin, "Model file: nin");
  if (!Array.isArray(layers)) {
    throw new TypeError(
      `Model file: layers must be a non-empty array, got ${show(layers)}`,
    );
  }
  if (layers.length === 0) {
    throw new RangeError(
      "Model file: layers must be a non-empty array, got an empty array",
    );
  }
  const checked: ModelLayerJSON[] = Array.from(
    { length: layers.length },
    (_, l) => {
      const layer: unknown = layers[l];
      if (!isPlainObject(layer)) {
        throw new TypeError(
          `Model file: layers[${l}] must be an object, got ${show(layer)}`,
        );
      }
      checkSize(layer.nout, `Model file: layers[${l}].nout`);
      const activation = parseActivation(
        layer.activation,
        `Model file: layers[${l}].activation`,
      );
      return { nout: layer.nout as number, activation };
    },
  );
  const sizes = [nin as number, ...checked.map((l) => l.nout)];
  let count = 0;
  for (let l = 0; l < checked.length; l++) {
    count += (sizes[l] + 1) * sizes[l + 1];
  }
  checkParameters(parameters, count, sizes.join("-"), "Model file");
  const file: ModelJSON = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    nin: nin as number,
    layers: checked,
    parameters: parameters.slice(),
  };
  if (meta !== undefined) {
    file.meta = copyMeta(meta, "Model file: meta", nin as number);
  }
  return file;
}

/** Throws unless `x` is a positive integer. */
function checkSize(x: unknown, name: string): void {
  if (typeof x !== "number") {
    throw new TypeError(`${name} must be a positive integer, got ${show(x)}`);
  }
  if (!Number.isInteger(x) || x < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${show(x)}`);
  }
}

/**
 * A frozen deep copy of a JSON object, checked on the way, with its
 * `normalization` (if any) checked against the model's `nin` inputs.
 */
export function copyMeta(meta: unknown, name: string, nin: number): ModelMeta {
  if (!isPlainObject(meta)) {
    throw new TypeError(`${name} must be a plain object, got ${show(meta)}`);
  }
  const copy = copyJson(meta, name, new Set()) as ModelMeta;
  if (copy.normalization !== undefined) {
    checkNormalization(copy.normalization, nin, `${name}.normalization`);
  }
  if (copy.features !== undefined) {
    checkFeatures(copy.features, nin, `${name}.features`);
  }
  return copy;
}

/** How deeply arrays and objects may nest in `meta` (the copy recurses). */
const MAX_META_DEPTH = 64;

function copyJson(x: unknown, path: string, ancestors: Set<object>): JsonValue {
  if (
    x === null || typeof x === "boolean" || typeof x === "string" ||
    (typeof x === "number" && Number.isFinite(x))
  ) {
    return x;
  }
  if (Array.isArray(x) || isPlainObject(x)) {
    if (ancestors.has(x)) {
      throw new TypeError(`${path} must not contain itself (a cycle)`);
    }
    if (ancestors.size >= MAX_META_DEPTH) {
      throw new RangeError(
        `${
          path.slice(0, 80)
        }… nests arrays and objects more than ${MAX_META_DEPTH} levels deep; meta allows at most ${MAX_META_DEPTH}`,
      );
    }
    ancestors.add(x);
    let copy: JsonValue;
    if (Array.isArray(x)) {
      copy = Array.from(
        { length: x.length },
        (_, k) => copyJson(x[k], `${path}[${k}]`, ancestors),
      );
    } else {
      const out: { [key: string]: JsonValue } = {};
      for (const key of Object.keys(x)) {
        // Defined, not assigned: a "__proto__" key (JSON.parse makes one)
        // stays data instead of setting the copy's prototype.
        Object.defineProperty(out, key, {
          value: copyJson(x[key], `${path}${keyPath(key)}`, ancestors),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      copy = out;
    }
    ancestors.delete(x);
    return Object.freeze(copy);
  }
  throw new TypeError(
    `${path} must be JSON data (null, a boolean, a finite number, a string, an array or a plain object), got ${
      show(x)
    }`,
  );
}

/** `.key` for identifiers, `["key"]` otherwise. */
function keyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key)
    ? `.${key}`
    : `[${JSON.stringify(key)}]`;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object" || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}
