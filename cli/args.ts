/**
 * Command-line parsing on top of `parseArgs` from `node:util`: option specs
 * that also drive the help text, one-line usage errors, and typed readers
 * for numbers, integers, lists and choices.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseDecimal } from "../nn/mod.ts";
import { quote, UsageError } from "../app/errors.ts";

/** One option of a command. */
export interface OptionSpec {
  /** `"string"` options take a value, `"boolean"` ones are switches. */
  type: "string" | "boolean";
  /** A one-letter alias, e.g. `"h"` for `-h`. */
  short?: string;
  /** The value placeholder shown in help, e.g. `"<n>"`. */
  value?: string;
  /**
   * The value a string option takes when it is not given: the parser fills
   * it in, and help shows it. The one place a literal default is written.
   */
  default?: string;
  /**
   * The default as help describes it when it depends on other options
   * (`"1.0 for sgd, 0.01 for adam"`); the command works it out.
   */
  defaultText?: string;
  /** One line of help. */
  help: string;
}

/** The options of a command, by long name (without `--`). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The result of {@linkcode parseCommandLine}. */
export interface ParsedArgs {
  /** Option values: strings for string options, booleans for switches. */
  values: Record<string, string | boolean | undefined>;
  /** Positional arguments, in order. */
  positionals: string[];
  /** The options given on the command line (not filled in from defaults). */
  given: string[];
}

/** How the CLI is invoked, as shown in usage lines and hints. */
export const PROGRAM = "deno run cli.ts";

/** Options every command accepts. */
export const COMMON_OPTIONS: OptionSpecs = {
  help: { type: "boolean", short: "h", help: "Show help for this command" },
  debug: {
    type: "boolean",
    help: "Show stack traces for errors",
  },
  // A switch named "color" so that parseArgs' --no-color negation finds it.
  color: {
    type: "boolean",
    defaultText: "on for terminals unless NO_COLOR is set",
    help: "ANSI colours; --no-color for plain output",
  },
};

// Arguments such as "-0.5,1" or "-x^2" are values, not options.
function looksLikeOption(arg: string, shorts: ReadonlySet<string>): boolean {
  if (/^--[A-Za-z]/.test(arg)) return true;
  return /^-[A-Za-z]$/.test(arg) && shorts.has(arg.slice(1));
}

/**
 * Parses `args` against `options`. Option values may start with `-`
 * (`--lr -0.5` is read as `--lr=-0.5`), and when `positionals` is allowed,
 * arguments like `-1,2` or `"-x^2"` are positionals rather than options.
 *
 * @param command The command's name, for messages.
 * @param options The command's options (common ones are added).
 * @param args The arguments after the command name.
 * @param allowPositionals Whether positionals are accepted.
 * @returns The values and positionals.
 * @throws {UsageError} For unknown options, missing values, stray positionals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommandLine } from "./args.ts";
 * const parsed = parseCommandLine("grad", { json: { type: "boolean", help: "" } }, ["-x^2", "x=3", "--json"], true);
 * assert.deepEqual(parsed.positionals, ["-x^2", "x=3"]);
 * assert.equal(parsed.values.json, true);
 *
 * // An option not given takes its default from the table.
 * const steps = { steps: { type: "string", default: "100", help: "" } } as const;
 * assert.equal(parseCommandLine("train", steps, [], false).values.steps, "100");
 * assert.deepEqual(parseCommandLine("train", steps, [], false).given, []);
 * ```
 */
export function parseCommandLine(
  command: string,
  options: OptionSpecs,
  args: readonly string[],
  allowPositionals: boolean,
): ParsedArgs {
  const specs: Record<string, OptionSpec> = { ...options, ...COMMON_OPTIONS };
  const shorts = new Set(
    Object.values(specs).flatMap((s) => (s.short ? [s.short] : [])),
  );
  const rewritten: string[] = [];
  const hidden = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rewritten.push(...args.slice(i));
      break;
    }
    if (arg.startsWith("--")) {
      const [name] = arg.slice(2).split("=", 1);
      const spec = specs[name];
      if (
        spec === undefined &&
        !(name.startsWith("no-") && specs[name.slice(3)]?.type === "boolean")
      ) {
        throw unknownOption(command, arg.split("=", 1)[0], specs);
      }
      if (spec?.type === "string" && !arg.includes("=")) {
        const next = args[i + 1];
        if (
          next === undefined || looksLikeOption(next, shorts) || next === "--"
        ) {
          throw new UsageError(
            `Option --${name} needs a value${
              spec.value ? `: --${name} ${spec.value}` : ""
            }`,
          );
        }
        rewritten.push(`--${name}=${next}`);
        i++;
        continue;
      }
      if (spec?.type === "boolean" && arg.includes("=")) {
        throw new UsageError(
          `Option --${name} is a switch and takes no value, got ${quote(arg)}`,
        );
      }
      rewritten.push(arg);
      continue;
    }
    if (
      arg.startsWith("-") && arg.length > 1 && !looksLikeOption(arg, shorts)
    ) {
      if (!allowPositionals) {
        throw unknownOption(command, arg, specs);
      }
      // Hide it from parseArgs behind a placeholder that is not an option.
      const key = `\u0000${hidden.size}`;
      hidden.set(key, arg);
      rewritten.push(key);
      continue;
    }
    rewritten.push(arg);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rewritten,
      options: Object.fromEntries(
        Object.entries(specs).map(([name, spec]) => [
          name,
          spec.short
            ? { type: spec.type, short: spec.short }
            : { type: spec.type },
        ]),
      ),
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(
      `${
        error instanceof Error ? error.message.split("\n")[0] : String(error)
      }`,
    );
  }
  const positionals = parsed.positionals.map((p) => hidden.get(p) ?? p);
  if (!allowPositionals && positionals.length > 0) {
    throw new UsageError(
      `${command} takes no positional arguments, got ${
        quote(positionals[0])
      }; options start with --`,
    );
  }
  const values = { ...parsed.values } as Record<
    string,
    string | boolean | undefined
  >;
  const given = Object.keys(values);
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.default !== undefined && values[name] === undefined) {
      values[name] = spec.default;
    }
  }
  return { values, positionals, given };
}

function unknownOption(
  command: string,
  arg: string,
  specs: OptionSpecs,
): UsageError {
  const name = arg.replace(/^-+/, "");
  const names = Object.keys(specs);
  const best = closest(name, names);
  const hint = best === undefined ? "" : `; did you mean --${best}?`;
  return new UsageError(
    `Unknown option ${
      quote(arg)
    } for ${command}${hint} (see: ${command} --help)`,
  );
}

/**
 * The candidate nearest to `word` by edit distance, if it is close enough to
 * be a plausible typo.
 *
 * @param word What the user typed.
 * @param candidates The accepted words.
 * @returns The closest candidate, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closest } from "./args.ts";
 * assert.equal(closest("lyers", ["layers", "loss"]), "layers");
 * assert.equal(closest("adma", ["sgd", "adam"]), "adam");
 * assert.equal(closest("zzz", ["layers", "loss"]), undefined);
 * ```
 */
export function closest(
  word: string,
  candidates: readonly string[],
): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

// Optimal string alignment: insertions, deletions, substitutions and
// swaps of neighbours ("adma" → "adam") each cost 1.
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from(
    { length: a.length + 1 },
    (_, i) =>
      Array.from(
        { length: b.length + 1 },
        (_, j) => (i === 0 ? j : j === 0 ? i : 0),
      ),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * Reads a number written in plain decimal or exponent notation. Unlike
 * `Number()`, rejects `""`, `"0x10"`, `"Infinity"` and stray characters.
 *
 * @param text The text.
 * @returns The number, or `undefined` if the text is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNumber } from "./args.ts";
 * assert.equal(parseNumber("-1.5e-3"), -0.0015);
 * assert.equal(parseNumber("1.2.3"), undefined);
 * ```
 */
export function parseNumber(text: string): number | undefined {
  return parseDecimal(text.trim());
}

/** Bounds for {@linkcode numberOption} and {@linkcode integerOption}. */
export interface Bounds {
  /** Smallest accepted value. */
  min?: number;
  /** Largest accepted value. */
  max?: number;
  /** Whether `min` itself is excluded. */
  minExclusive?: boolean;
  /** Whether `max` itself is excluded. */
  maxExclusive?: boolean;
}

function describeBounds(kind: string, bounds: Bounds): string {
  const { min, max } = bounds;
  if (min !== undefined && max !== undefined) {
    const open = bounds.minExclusive ? "(" : "[",
      close = bounds.maxExclusive ? ")" : "]";
    if (kind === "integer") return `an integer from ${min} to ${max}`;
    return `a number in ${open}${min}, ${max}${close}`;
  }
  if (min !== undefined) {
    if (min === 0 && bounds.minExclusive) return `a positive ${kind}`;
    if (min === 1 && kind === "integer") return "a positive integer";
    if (min === 0) return `a non-negative ${kind}`;
    return `${kind} ${bounds.minExclusive ? ">" : ">="} ${min}`;
  }
  if (max !== undefined) {
    return `${kind} ${bounds.maxExclusive ? "<" : "<="} ${max}`;
  }
  return `a ${kind}`;
}

function inBounds(x: number, bounds: Bounds): boolean {
  const { min, max } = bounds;
  if (min !== undefined && (bounds.minExclusive ? x <= min : x < min)) {
    return false;
  }
  if (max !== undefined && (bounds.maxExclusive ? x >= max : x > max)) {
    return false;
  }
  return true;
}

function article(text: string): string {
  return /^(a |an |[<>[(])/.test(text) ? text : `a ${text}`;
}

/**
 * Reads a number from option text, checking bounds.
 *
 * @param name The option's name, for messages (without `--`).
 * @param text The option's text.
 * @param bounds Accepted range.
 * @returns The number.
 * @throws {UsageError} If the text is not a number in range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberOption } from "./args.ts";
 * assert.equal(numberOption("lr", "0.05", { min: 0, minExclusive: true }), 0.05);
 * assert.throws(() => numberOption("lr", "fast"), /--lr must be a number, got "fast"/);
 * ```
 */
export function numberOption(
  name: string,
  text: string,
  bounds: Bounds = {},
): number {
  const x = parseNumber(text);
  if (x === undefined || !inBounds(x, bounds)) {
    const what = describeBounds("number", bounds);
    throw new UsageError(
      `--${name} must be ${article(what)}, got ${quote(text)}`,
    );
  }
  return x;
}

/**
 * Reads an integer from option text, checking bounds.
 *
 * @param name The option's name, for messages (without `--`).
 * @param text The option's text.
 * @param bounds Accepted range.
 * @returns The integer.
 * @throws {UsageError} If the text is not an integer in range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { integerOption } from "./args.ts";
 * assert.equal(integerOption("steps", "1e3", { min: 1 }), 1000);
 * assert.throws(() => integerOption("steps", "2.5", { min: 1 }), /--steps must be a positive integer, got "2.5"/);
 * ```
 */
export function integerOption(
  name: string,
  text: string,
  bounds: Bounds = {},
): number {
  const x = parseNumber(text);
  if (x === undefined || !Number.isSafeInteger(x) || !inBounds(x, bounds)) {
    const what = describeBounds("integer", bounds);
    throw new UsageError(
      `--${name} must be ${article(what)}, got ${quote(text)}`,
    );
  }
  return x;
}

/**
 * Reads one of a fixed set of words.
 *
 * @param name The option's name, for messages (without `--`).
 * @param text The option's text.
 * @param choices The accepted words.
 * @returns The chosen word.
 * @throws {UsageError} If the text is not one of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { choiceOption } from "./args.ts";
 * assert.equal(choiceOption("format", "dot", ["text", "dot"] as const), "dot");
 * assert.throws(() => choiceOption("format", "png", ["text", "dot"]), /--format must be one of text, dot; got "png"/);
 * ```
 */
export function choiceOption<T extends string>(
  name: string,
  text: string,
  choices: readonly T[],
): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  const best = closest(text, choices);
  throw new UsageError(
    `--${name} must be one of ${choices.join(", ")}; got ${quote(text)}${
      best ? ` (did you mean ${best}?)` : ""
    }`,
  );
}

/**
 * Reads a comma-separated list of layer sizes such as `16,16`.
 *
 * @param name The option's name, for messages (without `--`).
 * @param text The option's text.
 * @returns The sizes, each a positive integer.
 * @throws {UsageError} For empty entries, non-integers or sizes below 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layersOption } from "./args.ts";
 * assert.deepEqual(layersOption("layers", "16, 8"), [16, 8]);
 * assert.throws(() => layersOption("layers", "16,,x"), /--layers must be/);
 * ```
 */
export function layersOption(name: string, text: string): number[] {
  const parts = text.split(",").map((p) => p.trim());
  const sizes = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  const bad = sizes.findIndex((n) => !(n >= 1 && n <= 100_000));
  if (text.trim() === "" || bad >= 0) {
    const detail = text.trim() === ""
      ? "it is empty"
      : parts[bad] === ""
      ? `entry ${bad + 1} is empty`
      : sizes[bad] > 100_000
      ? `${quote(parts[bad])} is larger than the limit of 100000 per layer`
      : `${quote(parts[bad])} is not a positive integer`;
    throw new UsageError(
      `--${name} must be comma-separated positive integers such as 16,16 (hidden layer sizes); got ${
        quote(text)
      }: ${detail}`,
    );
  }
  return sizes;
}

/**
 * Reads a comma-separated list of numbers, such as a point `0.5,-1.2`.
 *
 * @param what What the list is, for messages (e.g. `"point"`).
 * @param text The text.
 * @returns The numbers.
 * @throws {UsageError} If an entry is not a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberList } from "./args.ts";
 * assert.deepEqual(numberList("point", "0.5,-1.2"), [0.5, -1.2]);
 * ```
 */
export function numberList(what: string, text: string): number[] {
  const parts = text.split(",");
  return parts.map((part, k) => {
    const x = parseNumber(part);
    if (x === undefined) {
      throw new UsageError(
        `${what} ${
          quote(text)
        } must be comma-separated numbers such as 0.5,-1.2; entry ${k + 1} ${
          part.trim() === ""
            ? "is empty"
            : `(${quote(part.trim())}) is not a number`
        }`,
      );
    }
    return x;
  });
}
