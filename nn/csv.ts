// parseCsv: turns the user's own numeric CSV text into a classification Dataset.

import type { Dataset } from "./data.ts";
import { show, type ShowOptions } from "./_show.ts";

/** This module's messages name an array without its length: `got an array`. */
const SHORT_ARRAYS: ShowOptions = { arrayLength: false };

/**
 * Options of {@linkcode parseCsv}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CsvOptions, parseCsv } from "@tapegrad/tapegrad";
 *
 * const options: CsvOptions = { label: "kind", header: true, delimiter: "\t" };
 * assert.deepEqual(parseCsv("kind\tw\nb\t2\na\t1\n", options).y, [1, 0]);
 * ```
 */
export interface CsvOptions {
  /**
   * The label column: its header name, or its zero-based index. Defaults to
   * the last column. A name requires a header row.
   */
  label?: string | number;
  /**
   * Whether the first row holds column names. `"auto"` (the default) treats
   * the first row as a header when none of its fields is a number, or when
   * `label` is a name.
   */
  header?: boolean | "auto";
  /** The field separator, one character other than a quote or a line break; defaults to `","`. */
  delimiter?: string;
}

/** One parsed CSV record and the 1-based line it starts on. */
interface CsvRecord {
  line: number;
  fields: string[];
}

/** {@linkcode CsvOptions} after validation, defaults filled in. */
interface ResolvedCsvOptions {
  label: string | number | undefined;
  header: boolean | "auto";
  delimiter: string;
}

/** A decimal number: optional sign, digits with an optional point, optional exponent. */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The finite number `text` spells in plain decimal or exponent notation
 * (optional sign, digits with an optional point, optional exponent): the
 * one number grammar of CSV fields, the CLI and the playground. Unlike
 * `Number()`, it rejects `""`, `" 1"`, `"0x10"`, `"Infinity"` and `"1e999"`.
 *
 * @param text The text, without surrounding spaces.
 * @returns The number, or `undefined` if the text spells none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDecimal } from "@tapegrad/tapegrad/nn";
 * assert.equal(parseDecimal("-1.5e-3"), -0.0015);
 * assert.equal(parseDecimal(".5"), 0.5);
 * assert.equal(parseDecimal("1.2.3"), undefined);
 * assert.equal(parseDecimal("1e999"), undefined);
 * ```
 */
export function parseDecimal(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** True for the whitespace trimmed around fields, unless it is the delimiter itself. */
function isPadding(c: string, delimiter: string): boolean {
  return (c === " " || c === "\t") && c !== delimiter;
}

/**
 * Splits CSV text into records, skipping blank lines. Fields are trimmed
 * unless quoted; a quoted field may hold delimiters, line breaks and `""`
 * (one literal quote).
 */
function tokenize(text: string, delimiter: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let blank = true;
    for (;;) {
      let j = i;
      while (j < n && isPadding(text[j], delimiter)) j++;
      if (text[j] === '"') {
        const column = fields.length + 1;
        let value = "";
        j++;
        for (;;) {
          if (j >= n) {
            throw new SyntaxError(
              `Line ${start}, column ${column}: quoted field is never closed`,
            );
          }
          const c = text[j];
          if (c === '"') {
            if (text[j + 1] !== '"') break;
            value += '"';
            j += 2;
            continue;
          }
          if (c === "\n" || (c === "\r" && text[j + 1] !== "\n")) line++;
          value += c;
          j++;
        }
        j++;
        while (j < n && isPadding(text[j], delimiter)) j++;
        const next = text[j];
        if (j < n && next !== delimiter && next !== "\n" && next !== "\r") {
          throw new SyntaxError(
            `Line ${line}, column ${column}: unexpected ${
              show(next, SHORT_ARRAYS)
            } after a closing quote, expected a delimiter or the end of the line`,
          );
        }
        fields.push(value);
        blank = false;
        i = j;
      } else {
        let k = i;
        while (
          k < n && text[k] !== delimiter && text[k] !== "\n" && text[k] !== "\r"
        ) k++;
        const value = text.slice(i, k).trim();
        if (value !== "") blank = false;
        fields.push(value);
        i = k;
      }
      if (i < n && text[i] === delimiter) {
        blank = false;
        i++;
        continue;
      }
      break;
    }
    if (i < n) {
      i += text[i] === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
    }
    if (!blank) records.push({ line: start, fields });
  }
  return records;
}

/** Checks the options and returns them with defaults filled in. */
function readOptions(options: unknown): ResolvedCsvOptions {
  if (
    options !== undefined &&
    (typeof options !== "object" || options === null || Array.isArray(options))
  ) {
    throw new TypeError(
      `Options must be an object, got ${show(options, SHORT_ARRAYS)}`,
    );
  }
  const { label, header = "auto", delimiter = "," } =
    (options ?? {}) as CsvOptions;
  const delimiterRule = "a single character other than a quote or a line break";
  if (typeof delimiter !== "string") {
    throw new TypeError(
      `Delimiter must be ${delimiterRule}, got ${
        show(delimiter, SHORT_ARRAYS)
      }`,
    );
  }
  if (
    delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" ||
    delimiter === "\r"
  ) {
    throw new RangeError(
      `Delimiter must be ${delimiterRule}, got ${
        show(delimiter, SHORT_ARRAYS)
      }`,
    );
  }
  if (typeof header !== "boolean" && header !== "auto") {
    const Err = typeof header === "string" ? RangeError : TypeError;
    throw new Err(
      `Header must be true, false or "auto", got ${show(header, SHORT_ARRAYS)}`,
    );
  }
  const labelRule = "a column name or a zero-based column index";
  if (
    label !== undefined && typeof label !== "string" &&
    typeof label !== "number"
  ) {
    throw new TypeError(
      `Label must be ${labelRule}, got ${show(label, SHORT_ARRAYS)}`,
    );
  }
  if (
    typeof label === "number" && !(Number.isSafeInteger(label) && label >= 0)
  ) {
    throw new RangeError(
      `Label must be ${labelRule}, got ${show(label, SHORT_ARRAYS)}`,
    );
  }
  if (typeof label === "string" && header === false) {
    throw new RangeError(
      `Label column name ${
        show(label, SHORT_ARRAYS)
      } needs a header row, but header is false; pass a zero-based index instead`,
    );
  }
  return { label, header, delimiter };
}

/**
 * Parses CSV text of numeric features and one label column into a
 * {@linkcode Dataset}, for training on your own data.
 *
 * Every column but the label column is a feature and must hold a finite
 * decimal number in every row. Labels become class indexes:
 * - if the distinct labels are exactly the integers 0 to k - 1, they are used
 *   as they are and `classes` is k;
 * - otherwise, if they are all numbers (like -1/+1 or 1/2), the distinct
 *   values are sorted ascending and numbered 0, 1, …;
 * - otherwise (names like "setosa"), the distinct strings are sorted in code
 *   unit order and numbered 0, 1, ….
 *
 * In the last two cases `labelNames[i]` records the original label of class
 * `i`. Sorting (rather than first-seen order) makes two files with the same
 * label set, such as a training and a test file, map labels identically.
 *
 * Blank lines are skipped; `\n`, `\r\n` and `\r` line breaks are accepted;
 * unquoted fields are trimmed; a field in double quotes may hold delimiters
 * and line breaks, with `""` standing for one quote. A leading byte order mark
 * is ignored. Header names become `featureNames`.
 *
 * @param text The CSV content.
 * @param options Label column, header and delimiter; see {@linkcode CsvOptions}.
 * @returns The dataset, rows in file order.
 *
 * @example Iris-style string labels, picked by header name
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCsv } from "@tapegrad/tapegrad";
 *
 * const ds = parseCsv("species,petal\nsetosa,1.4\nvirginica,5.1\n", { label: "species" });
 * assert.deepEqual(ds.x, [[1.4], [5.1]]);
 * assert.deepEqual(ds.y, [0, 1]);
 * assert.deepEqual(ds.labelNames, ["setosa", "virginica"]);
 * assert.deepEqual(ds.featureNames, ["petal"]);
 * ```
 *
 * @example Headerless data, label in the last column
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCsv } from "@tapegrad/tapegrad";
 *
 * const ds = parseCsv("0.5;1.5;1\r\n2;3;0\r\n", { delimiter: ";" });
 * assert.deepEqual(ds.x, [[0.5, 1.5], [2, 3]]);
 * assert.deepEqual(ds.y, [1, 0]);
 * assert.equal(ds.classes, 2);
 * ```
 *
 * @throws {TypeError} If `text` is not a string or an option has the wrong type.
 * @throws {RangeError} If an option value is not accepted: a delimiter that is not one plain character, a label index past the last column, a label name that is not in the header (the message lists the columns), or a label name with `header: false`.
 * @throws {SyntaxError} If the content is malformed: no data rows, fewer than 2 columns, a ragged row, a missing or non-numeric feature, a missing label, or a bad quoted field. The message gives the 1-based line and column.
 */
export function parseCsv(text: string, options: CsvOptions = {}): Dataset {
  if (typeof text !== "string") {
    throw new TypeError(
      `CSV text must be a string, got ${show(text, SHORT_ARRAYS)}`,
    );
  }
  const { label, header, delimiter } = readOptions(options);
  const records = tokenize(text, delimiter);
  if (records.length === 0) {
    throw new SyntaxError("CSV is empty: no data rows");
  }
  const first = records[0];
  const hasHeader = header === "auto"
    ? typeof label === "string" ||
      first.fields.every((field) => parseDecimal(field) === undefined)
    : header;
  const width = first.fields.length;
  if (width < 2) {
    throw new SyntaxError(
      `Line ${first.line} has 1 column, need at least 2 (features and a label)`,
    );
  }
  const names = hasHeader ? first.fields : undefined;
  const rows = hasHeader ? records.slice(1) : records;
  let labelColumn = width - 1;
  if (typeof label === "number") {
    if (label >= width) {
      throw new RangeError(
        `Label column index ${label} is out of range: the CSV has ${width} columns (0 to ${
          width - 1
        })`,
      );
    }
    labelColumn = label;
  } else if (typeof label === "string" && names !== undefined) {
    const matches = names.flatMap((name, j) => (name === label ? [j] : []));
    if (matches.length === 0) {
      throw new RangeError(
        `Label column ${
          show(label, SHORT_ARRAYS)
        } not found; available columns: ${
          names.map((name) => show(name, SHORT_ARRAYS)).join(", ")
        }`,
      );
    }
    if (matches.length > 1) {
      throw new RangeError(
        `Label column ${
          show(label, SHORT_ARRAYS)
        } is ambiguous: the header has it at columns ${
          matches.map((j) => j + 1).join(" and ")
        }`,
      );
    }
    labelColumn = matches[0];
  }
  if (rows.length === 0) {
    throw new SyntaxError(
      `CSV is empty: no data rows (only a header on line ${first.line})`,
    );
  }

  const where = (line: number, column: number): string =>
    names === undefined
      ? `Line ${line}, column ${column + 1}`
      : `Line ${line}, column ${column + 1} (${
        show(names[column], SHORT_ARRAYS)
      })`;
  const x: number[][] = [];
  const rawLabels: string[] = [];
  for (const { line, fields } of rows) {
    if (fields.length !== width) {
      throw new SyntaxError(
        `Line ${line} has ${fields.length} columns, expected ${width} (ragged row)`,
      );
    }
    const row: number[] = [];
    for (let j = 0; j < width; j++) {
      const field = fields[j];
      if (j === labelColumn) {
        if (field === "") {
          throw new SyntaxError(`${where(line, j)}: missing label`);
        }
        rawLabels.push(field);
        continue;
      }
      const trimmed = field.trim();
      if (trimmed === "") {
        throw new SyntaxError(
          `${where(line, j)}: missing value, expected a number`,
        );
      }
      const value = parseDecimal(trimmed);
      if (value === undefined) {
        const what = NUMBER.test(trimmed) ? "a finite number" : "a number";
        // A header with a numeric name defeats the "auto" detection; say how to fix it.
        const hint = header === "auto" && line === first.line
          ? `; if line ${line} is a header, pass header: true`
          : "";
        throw new SyntaxError(
          `${where(line, j)}: ${
            show(field, SHORT_ARRAYS)
          } is not ${what}${hint}`,
        );
      }
      row.push(value);
    }
    x.push(row);
  }

  const dataset: Dataset = { x, ...labelsToClasses(rawLabels) };
  if (names !== undefined) {
    dataset.featureNames = names.filter((_, j) => j !== labelColumn);
  }
  return dataset;
}

/** Maps label strings to class indexes as described on {@linkcode parseCsv}. */
function labelsToClasses(
  raw: readonly string[],
): Pick<Dataset, "y" | "classes" | "labelNames"> {
  const numbers = raw.map(parseDecimal);
  if (numbers.every((v) => v !== undefined)) {
    // `+ 0` turns a "-0" label into 0.
    const values = (numbers as number[]).map((v) => v + 0);
    const distinct = [...new Set(values)].sort((a, b) => a - b);
    if (distinct.every((v, i) => v === i)) {
      return { y: values, classes: distinct.length };
    }
    const index = new Map(distinct.map((v, i) => [v, i]));
    return {
      y: values.map((v) => index.get(v)!),
      classes: distinct.length,
      labelNames: distinct.map(String),
    };
  }
  const distinct = [...new Set(raw)].sort();
  const index = new Map(distinct.map((v, i) => [v, i]));
  return {
    y: raw.map((v) => index.get(v)!),
    classes: distinct.length,
    labelNames: distinct,
  };
}
