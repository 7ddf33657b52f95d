// Command-line parsing: options, values starting with a minus, one-line usage errors.

import assert from "node:assert/strict";
import {
  choiceOption,
  integerOption,
  layersOption,
  numberList,
  numberOption,
  type OptionSpecs,
  parseCommandLine,
  parseNumber,
} from "./args.ts";
import { UsageError } from "../app/errors.ts";

const OPTIONS: OptionSpecs = {
  lr: { type: "string", value: "<x>", help: "" },
  json: { type: "boolean", help: "" },
  normalize: { type: "boolean", help: "" },
  quiet: { type: "boolean", short: "q", help: "" },
};

function usage(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("parseCommandLine() reads options, switches and positionals", () => {
  const parsed = parseCommandLine("x", OPTIONS, [
    "--lr",
    "0.1",
    "a",
    "--json",
    "-q",
    "b",
  ], true);
  assert.deepEqual({ ...parsed.values }, {
    lr: "0.1",
    json: true,
    quiet: true,
  });
  assert.deepEqual(parsed.positionals, ["a", "b"]);
  assert.deepEqual(parseCommandLine("x", OPTIONS, ["--lr=2"], false).values, {
    lr: "2",
  });
  assert.equal(
    parseCommandLine("x", OPTIONS, ["--no-normalize"], false).values.normalize,
    false,
  );
  assert.equal(
    parseCommandLine("x", OPTIONS, ["--no-color"], false).values.color,
    false,
  );
});

Deno.test("parseCommandLine() takes values and positionals that start with a minus", () => {
  const parsed = parseCommandLine("x", OPTIONS, [
    "--lr",
    "-0.5",
    "-1,2",
    "-x^2",
    "--",
    "--json",
  ], true);
  assert.equal(parsed.values.lr, "-0.5");
  assert.equal(parsed.values.json, undefined);
  assert.deepEqual(parsed.positionals, ["-1,2", "-x^2", "--json"]);
});

Deno.test("parseCommandLine() rejects unknown options, missing values and stray arguments", () => {
  usage(
    () => parseCommandLine("train", OPTIONS, ["--lrr", "1"], false),
    /^Unknown option "--lrr" for train; did you mean --lr\?/,
  );
  usage(
    () => parseCommandLine("train", OPTIONS, ["--zzz"], false),
    /^Unknown option "--zzz" for train \(see: /,
  );
  usage(
    () => parseCommandLine("train", OPTIONS, ["-z"], false),
    /^Unknown option "-z" for train/,
  );
  usage(
    () => parseCommandLine("train", OPTIONS, ["--lr"], false),
    /^Option --lr needs a value: --lr <x>$/,
  );
  usage(
    () => parseCommandLine("train", OPTIONS, ["--lr", "--json"], false),
    /^Option --lr needs a value/,
  );
  usage(
    () => parseCommandLine("train", OPTIONS, ["--json=no"], false),
    /^Option --json is a switch and takes no value, got "--json=no"$/,
  );
  usage(
    () => parseCommandLine("train", OPTIONS, ["stray"], false),
    /^train takes no positional arguments, got "stray"/,
  );
});

Deno.test("parseNumber() accepts decimal and exponent notation only", () => {
  assert.equal(parseNumber("42"), 42);
  assert.equal(parseNumber(" -.5 "), -0.5);
  assert.equal(parseNumber("+1e3"), 1000);
  for (
    const bad of [
      "",
      "abc",
      "0x10",
      "Infinity",
      "NaN",
      "1e999",
      "1,5",
      "1.2.3",
      "--1",
    ]
  ) {
    assert.equal(parseNumber(bad), undefined, bad);
  }
});

Deno.test("numberOption() and integerOption() check bounds", () => {
  assert.equal(numberOption("l2", "0", { min: 0 }), 0);
  usage(
    () => numberOption("l2", "-1", { min: 0 }),
    /^--l2 must be a non-negative number, got "-1"$/,
  );
  usage(
    () => numberOption("lr", "0", { min: 0, minExclusive: true }),
    /^--lr must be a positive number, got "0"$/,
  );
  usage(
    () =>
      numberOption("val-split", "1", { min: 0, max: 1, maxExclusive: true }),
    /^--val-split must be a number in \[0, 1\), got "1"$/,
  );
  assert.equal(integerOption("seed", "-7"), -7);
  usage(
    () => integerOption("steps", "0", { min: 1 }),
    /^--steps must be a positive integer, got "0"$/,
  );
  usage(
    () => integerOption("digits", "18", { min: 1, max: 17 }),
    /^--digits must be an integer from 1 to 17, got "18"$/,
  );
});

Deno.test("choiceOption() suggests the nearest choice", () => {
  usage(
    () => choiceOption("loss", "hinje", ["hinge", "mse"]),
    /^--loss must be one of hinge, mse; got "hinje" \(did you mean hinge\?\)$/,
  );
  usage(
    () => choiceOption("loss", "zzz", ["hinge", "mse"]),
    /^--loss must be one of hinge, mse; got "zzz"$/,
  );
});

Deno.test("layersOption() names the bad entry", () => {
  assert.deepEqual(layersOption("layers", "4"), [4]);
  usage(
    () => layersOption("layers", "16,,x"),
    /got "16,,x": entry 2 is empty$/,
  );
  usage(
    () => layersOption("layers", "16,-2"),
    /got "16,-2": "-2" is not a positive integer$/,
  );
  usage(() => layersOption("layers", " "), /it is empty$/);
});

Deno.test("numberList() names the bad entry", () => {
  assert.deepEqual(numberList("Point", "-1,2.5,3e-1"), [-1, 2.5, 0.3]);
  usage(
    () => numberList("Point", "1,"),
    /^Point "1," must be comma-separated numbers such as 0\.5,-1\.2; entry 2 is empty$/,
  );
});

Deno.test("layersOption() states the per-layer limit when a size exceeds it", () => {
  assert.deepEqual(layersOption("layers", "100000"), [100000]);
  assert.throws(
    () => layersOption("layers", "16,100001"),
    (error: unknown) =>
      error instanceof UsageError &&
      /got "16,100001": "100001" is larger than the limit of 100000 per layer$/
        .test(error.message),
  );
});
