import assert from "node:assert/strict";
import { defaultTape, Tape } from "../engine/mod.ts";
import { MLP } from "./mlp.ts";
import type { ModelJSON, ModelMeta } from "./model_file.ts";
import { parseModel, serializeModel } from "./model_io.ts";
import { throwsExactly } from "./_testing.ts";

/** A valid model file for 2-16-16-1, as a fresh plain object. */
function file337(): Record<string, unknown> {
  return new MLP(2, [16, 16, 1], { seed: 4, tape: new Tape() })
    .toJSON() as unknown as Record<string, unknown>;
}

function bits(xs: readonly number[]): string {
  return Array.from(new Uint32Array(Float64Array.from(xs).buffer)).join(",");
}

Deno.test("MLP.toJSON() returns the documented plain object", () => {
  const model = new MLP(2, [2, 1], {
    activation: "tanh",
    parameters: [1, 2, 3, 4, 5, 6, 7, 8, 9],
    tape: new Tape(),
  });
  const json: ModelJSON = model.toJSON();
  assert.deepEqual(json, {
    format: "tapegrad-mlp",
    version: 1,
    nin: 2,
    layers: [
      { nout: 2, activation: "tanh" },
      { nout: 1, activation: "linear" },
    ],
    parameters: [1, 2, 3, 4, 5, 6, 7, 8, 9],
  });
  assert.equal(Object.getPrototypeOf(json), Object.prototype);
  assert.ok(!("meta" in json));
  assert.equal(JSON.stringify(model), JSON.stringify(json));
  assert.equal(serializeModel(model), JSON.stringify(json));
  // A copy: changing it leaves the model alone.
  json.parameters[0] = 100;
  assert.equal(model.parameters()[0].data, 1);
});

Deno.test("serializeModel() and parseModel() round-trip every parameter bit for bit", () => {
  for (const init of ["uniform", "xavier", "he"] as const) {
    const model = new MLP(2, [16, 16, 1], { init, seed: 7, tape: new Tape() });
    const copy = parseModel(serializeModel(model), { tape: new Tape() });
    assert.equal(
      bits(copy.toJSON().parameters),
      bits(model.toJSON().parameters),
    );
    assert.equal(copy.architecture, "2-16-16-1");
    assert.equal(String(copy), String(model));
    assert.deepEqual(copy.predict([0.3, -1.7]), model.predict([0.3, -1.7]));
  }
});

Deno.test("MLP.fromJSON() keeps per-layer activations and uses the given tape", () => {
  const model = new MLP(3, [4, 2, 2], {
    activations: ["sigmoid", "tanh", "relu"],
    tape: new Tape(),
  });
  const tape = new Tape();
  tape.constant(1);
  const copy = MLP.fromJSON(model.toJSON(), { tape });
  assert.equal(copy.tape, tape);
  assert.equal(copy.parameterStart, 1);
  assert.deepEqual(copy.activations, ["sigmoid", "tanh", "relu"]);
  assert.deepEqual(copy.nouts, [4, 2, 2]);
  assert.equal(MLP.fromJSON(model.toJSON()).tape, defaultTape());
});

Deno.test("MLP.fromJSON() ignores unknown fields", () => {
  const json = file337();
  json.trainedOn = "moons";
  (json.layers as Record<string, unknown>[])[0].note = 1;
  const model = MLP.fromJSON(json, { tape: new Tape() });
  assert.equal(model.parameterCount, 337);
});

Deno.test("MLP.meta is carried through model files as a frozen deep copy", () => {
  const model = new MLP(2, [1], { tape: new Tape() });
  assert.equal(model.meta, undefined);
  const meta = {
    dataset: "moons",
    normalisation: { mean: [0.5, 0.25], std: [1, 2] },
    labelNames: ["outer", "inner"],
    shuffled: true,
    note: null,
  };
  model.meta = meta;
  meta.labelNames[0] = "changed";
  assert.deepEqual(model.meta?.labelNames, ["outer", "inner"]);
  assert.ok(Object.isFrozen(model.meta));
  assert.ok(Object.isFrozen(model.meta?.normalisation));
  const text = serializeModel(model);
  assert.deepEqual(JSON.parse(text).meta, model.meta);
  const copy = parseModel(text, { tape: new Tape() });
  assert.deepEqual(copy.meta, model.meta);
  // toJSON() hands out a copy.
  const json = model.toJSON();
  (json.meta as { dataset: string }).dataset = "xor";
  assert.equal(model.meta?.dataset, "moons");
  model.meta = undefined;
  assert.ok(!("meta" in model.toJSON()));
});

Deno.test("MLP.meta rejects anything that is not a JSON object", () => {
  const model = new MLP(1, [1], { tape: new Tape() });
  const accepted =
    "must be JSON data (null, a boolean, a finite number, a string, an array or a plain object)";
  throwsExactly(
    () => model.meta = [1] as unknown as ModelMeta,
    TypeError,
    "MLP meta must be a plain object, got an array of length 1",
  );
  throwsExactly(
    () => model.meta = "x" as unknown as ModelMeta,
    TypeError,
    'MLP meta must be a plain object, got "x"',
  );
  throwsExactly(
    () => model.meta = new Date(0) as unknown as ModelMeta,
    TypeError,
    "MLP meta must be a plain object, got an object",
  );
  throwsExactly(
    () => model.meta = { a: { b: [1, NaN] } },
    TypeError,
    `MLP meta.a.b[1] ${accepted}, got NaN`,
  );
  throwsExactly(
    () => model.meta = { "a b": undefined } as unknown as ModelMeta,
    TypeError,
    `MLP meta["a b"] ${accepted}, got undefined`,
  );
  throwsExactly(
    () => model.meta = { f: (() => 1) as unknown as number },
    TypeError,
    `MLP meta.f ${accepted}, got a function`,
  );
  throwsExactly(
    () => model.meta = { when: new Date(0) as unknown as string },
    TypeError,
    `MLP meta.when ${accepted}, got an object`,
  );
  const cyclic: Record<string, unknown> = {};
  cyclic.self = { back: cyclic };
  throwsExactly(
    () => model.meta = cyclic as ModelMeta,
    TypeError,
    "MLP meta.self.back must not contain itself (a cycle)",
  );
  assert.equal(model.meta, undefined);
  // The same object twice (not a cycle) is fine.
  const shared = { x: 1 };
  model.meta = { a: shared, b: shared };
  assert.deepEqual(model.meta, { a: { x: 1 }, b: { x: 1 } });
});

Deno.test("MLP.fromJSON() names the first problem of a bad file, and records nothing", () => {
  const tape = new Tape();
  const bad = (
    edit: (json: Record<string, unknown>) => unknown,
    errorClass: TypeErrorConstructor | RangeErrorConstructor,
    message: string,
  ): void => {
    const json = file337();
    const result = edit(json);
    const edited = result === undefined ? json : result;
    throwsExactly(() => MLP.fromJSON(edited, { tape }), errorClass, message);
    assert.equal(tape.size, 0, message);
  };
  bad(
    () => null,
    TypeError,
    "Not a tapegrad model file: expected an object, got null",
  );
  bad(
    () => [1, 2],
    TypeError,
    "Not a tapegrad model file: expected an object, got an array of length 2",
  );
  bad(
    () => "model",
    TypeError,
    'Not a tapegrad model file: expected an object, got "model"',
  );
  bad(
    (j) => void (j.format = "foo"),
    TypeError,
    'Not a tapegrad model file: format is "foo", expected "tapegrad-mlp"',
  );
  bad(
    (j) => void delete j.format,
    TypeError,
    'Not a tapegrad model file: format is undefined, expected "tapegrad-mlp"',
  );
  bad(
    (j) => void (j.version = "1"),
    TypeError,
    'Model file: version must be a number, got "1"',
  );
  bad(
    (j) => void (j.version = 2),
    RangeError,
    "Model file: version 2 is not supported, expected 1",
  );
  bad(
    (j) => void (j.nin = 0),
    RangeError,
    "Model file: nin must be a positive integer, got 0",
  );
  bad(
    (j) => void (j.nin = "2"),
    TypeError,
    'Model file: nin must be a positive integer, got "2"',
  );
  bad(
    (j) => void delete j.layers,
    TypeError,
    "Model file: layers must be a non-empty array, got undefined",
  );
  bad(
    (j) => void (j.layers = []),
    RangeError,
    "Model file: layers must be a non-empty array, got an empty array",
  );
  bad(
    (j) => void ((j.layers as unknown[])[1] = 16),
    TypeError,
    "Model file: layers[1] must be an object, got 16",
  );
  bad(
    (j) => void ((j.layers as { nout: unknown }[])[2].nout = 1.5),
    RangeError,
    "Model file: layers[2].nout must be a positive integer, got 1.5",
  );
  bad(
    (j) => void ((j.layers as { nout: unknown }[])[0].nout = null),
    TypeError,
    "Model file: layers[0].nout must be a positive integer, got null",
  );
  bad(
    (j) =>
      void ((j.layers as { activation: unknown }[])[1].activation = "gelu"),
    TypeError,
    'Model file: layers[1].activation must be one of "relu", "tanh", "sigmoid", "linear", got "gelu"',
  );
  bad(
    (j) => void (j.parameters = "1,2,3"),
    TypeError,
    'Model file: parameters must be an array of 337 numbers, got "1,2,3"',
  );
  bad(
    (j) => void (j.parameters as number[]).pop(),
    RangeError,
    "Model file: expected 337 parameters for 2-16-16-1, got 336",
  );
  bad(
    (j) => void ((j.parameters as unknown[])[12] = "abc"),
    TypeError,
    'Model file: parameters[12] must be a finite number, got "abc"',
  );
  bad(
    (j) => void ((j.parameters as unknown[])[336] = null),
    TypeError,
    "Model file: parameters[336] must be a finite number, got null",
  );
  bad(
    (j) => void ((j.parameters as unknown[])[0] = Infinity),
    TypeError,
    "Model file: parameters[0] must be a finite number, got Infinity",
  );
  bad(
    (j) => void (j.meta = "moons"),
    TypeError,
    'Model file: meta must be a plain object, got "moons"',
  );
  bad(
    (j) => void (j.meta = { labels: ["a", undefined] }),
    TypeError,
    "Model file: meta.labels[1] must be JSON data (null, a boolean, a finite number, a string, an array or a plain object), got undefined",
  );
  // The first problem wins.
  bad(
    (j) => {
      j.nin = -1;
      j.parameters = [];
    },
    RangeError,
    "Model file: nin must be a positive integer, got -1",
  );
});

Deno.test("MLP.fromJSON() rejects bad options", () => {
  throwsExactly(
    () => MLP.fromJSON(file337(), null as unknown as { tape?: Tape }),
    TypeError,
    "MLP.fromJSON() options must be an object, got null",
  );
  throwsExactly(
    () => MLP.fromJSON(file337(), { tape: 1 as unknown as Tape }),
    TypeError,
    "MLP tape must be a Tape, got 1",
  );
});

Deno.test("parseModel() reports text that is not JSON", () => {
  let reason = "";
  try {
    JSON.parse("{oops");
  } catch (error) {
    reason = (error as Error).message;
  }
  throwsExactly(
    () => parseModel("{oops"),
    SyntaxError,
    `Model file is not valid JSON: ${reason}`,
  );
  throwsExactly(
    () => parseModel(42 as unknown as string),
    TypeError,
    "parseModel() needs the model file text as a string, got 42",
  );
  throwsExactly(
    () => parseModel('{"format":"keras"}'),
    TypeError,
    'Not a tapegrad model file: format is "keras", expected "tapegrad-mlp"',
  );
});

Deno.test("serializeModel() rejects anything but an MLP", () => {
  throwsExactly(
    () => serializeModel({ toJSON: () => ({}) } as unknown as MLP),
    TypeError,
    "serializeModel() needs an MLP, got an object",
  );
});

Deno.test("parseModel() bounds how deeply meta nests, instead of overflowing the stack", () => {
  const text = (depth: number) => {
    const file = file337();
    return JSON.stringify(file).slice(0, -1) +
      `,"meta":{"deep":${"[".repeat(depth)}${"]".repeat(depth)}}}`;
  };
  // meta is level 1, so 63 nested arrays inside it are accepted.
  assert.equal(parseModel(text(63)).parameterCount, 337);
  for (const depth of [64, 100_000]) {
    throwsExactly(
      () => parseModel(text(depth)),
      RangeError,
      `Model file: meta.deep${"[0]".repeat(63)}`.slice(0, 80) +
        "… nests arrays and objects more than 64 levels deep; meta allows at most 64",
    );
  }
});

Deno.test("MLP.meta keeps a __proto__ key as data, through a model file and back", () => {
  // Node and browsers have the __proto__ accessor that Deno removes: put it
  // back for this test, so that an assignment would set the prototype.
  Object.defineProperty(Object.prototype, "__proto__", {
    get(this: object) {
      return Object.getPrototypeOf(this);
    },
    set(this: object, proto: object | null) {
      Object.setPrototypeOf(this, proto);
    },
    configurable: true,
  });
  try {
    metaKeepsProtoKey();
  } finally {
    delete (Object.prototype as { __proto__?: unknown }).__proto__;
  }
});

function metaKeepsProtoKey(): void {
  const model = new MLP(1, [1], { tape: new Tape(), parameters: [1, 0] });
  const meta = JSON.parse('{"__proto__": {"polluted": true}, "note": "x"}');
  model.meta = meta;
  const copy = model.meta as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  assert.equal((copy as { polluted?: boolean }).polluted, undefined);
  assert.deepEqual(Object.keys(copy), ["__proto__", "note"]);
  assert.deepEqual(
    Object.getOwnPropertyDescriptor(copy, "__proto__")?.value,
    { polluted: true },
  );
  const text = JSON.stringify(model);
  assert.match(text, /"__proto__":\{"polluted":true\}/);
  const back = MLP.fromJSON(JSON.parse(text), { tape: new Tape() });
  assert.deepEqual(
    Object.getOwnPropertyDescriptor(back.meta, "__proto__")?.value,
    { polluted: true },
  );
}
