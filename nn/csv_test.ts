// Tests for parseCsv: headers, label columns and mappings, quoting, line endings and every error path.

import assert from "node:assert/strict";
import { parseCsv } from "./csv.ts";

Deno.test("parseCsv() detects a header and takes the last column as the label", () => {
  const ds = parseCsv("x1,x2,y\n0.5,1,0\n-2,3e2,1\n.25,+4,1\n");
  assert.deepEqual(ds.x, [[0.5, 1], [-2, 300], [0.25, 4]]);
  assert.deepEqual(ds.y, [0, 1, 1]);
  assert.equal(ds.classes, 2);
  assert.deepEqual(ds.featureNames, ["x1", "x2"]);
  assert.ok(!("labelNames" in ds), "labels 0..k-1 are kept as they are");
});

Deno.test("parseCsv() reads headerless data when the first row has a number", () => {
  const ds = parseCsv("1,2,2\n3,4,0\n5,6,1");
  assert.deepEqual(ds.x, [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(ds.y, [2, 0, 1]);
  assert.equal(ds.classes, 3);
  assert.ok(!("featureNames" in ds));
  // A string label in the first data row does not make it a header.
  const named = parseCsv("1.5,2,cat\n3,4,dog\n");
  assert.deepEqual(named.x, [[1.5, 2], [3, 4]]);
  assert.deepEqual(named.labelNames, ["cat", "dog"]);
});

Deno.test("parseCsv() picks the label column by name or zero-based index", () => {
  const text = "a,label,b\n1,1,2\n3,0,4\n";
  const byName = parseCsv(text, { label: "label" });
  const byIndex = parseCsv(text, { label: 1 });
  assert.deepEqual(byName, byIndex);
  assert.deepEqual(byName.x, [[1, 2], [3, 4]]);
  assert.deepEqual(byName.y, [1, 0]);
  assert.deepEqual(byName.featureNames, ["a", "b"]);
  assert.deepEqual(parseCsv("0,5,6\n1,7,8\n", { label: 0 }).x, [[5, 6], [
    7,
    8,
  ]]);
});

Deno.test("parseCsv() remaps numeric labels that are not 0..k-1, sorted ascending", () => {
  const signed = parseCsv("f,y\n1,+1\n2,-1\n3,1.0\n");
  assert.deepEqual(signed.y, [1, 0, 1]);
  assert.equal(signed.classes, 2);
  assert.deepEqual(signed.labelNames, ["-1", "1"]);

  const oneTwo = parseCsv("f,y\n1,2\n2,1\n");
  assert.deepEqual(oneTwo.y, [1, 0]);
  assert.deepEqual(oneTwo.labelNames, ["1", "2"]);

  const gappy = parseCsv("f,y\n1,0\n2,2\n3,10\n");
  assert.deepEqual(gappy.y, [0, 1, 2]);
  assert.deepEqual(
    gappy.labelNames,
    ["0", "2", "10"],
    "sorted numerically, not as text",
  );

  const single = parseCsv("f,y\n1,0\n2,0\n");
  assert.deepEqual(single.y, [0, 0]);
  assert.equal(single.classes, 1);
});

Deno.test("parseCsv() numbers string labels in sorted order, independent of row order", () => {
  const a = parseCsv(
    "petal,species\n5.1,virginica\n1.4,setosa\n4.5,versicolor\n1.3,setosa\n",
  );
  assert.deepEqual(a.y, [2, 0, 1, 0]);
  assert.equal(a.classes, 3);
  assert.deepEqual(a.labelNames, ["setosa", "versicolor", "virginica"]);
  const b = parseCsv(
    "petal,species\n1.4,setosa\n4.5,versicolor\n5.1,virginica\n",
  );
  assert.deepEqual(b.labelNames, a.labelNames);
  assert.deepEqual(b.y, [0, 1, 2]);
  // One non-numeric label makes all labels strings.
  const mixed = parseCsv("f,y\n1,10\n2,9\n3,n/a\n");
  assert.deepEqual(mixed.labelNames, ["10", "9", "n/a"]);
  assert.deepEqual(mixed.y, [0, 1, 2]);
});

Deno.test("parseCsv() skips blank lines and accepts \\r\\n, \\r and a byte order mark", () => {
  const expected = {
    x: [[1, 2], [3, 4]],
    y: [0, 1],
    classes: 2,
    featureNames: ["a", "b"],
  };
  assert.deepEqual(parseCsv("a,b,y\r\n1,2,0\r\n\r\n3,4,1\r\n"), expected);
  assert.deepEqual(parseCsv("a,b,y\r1,2,0\r3,4,1"), expected);
  assert.deepEqual(
    parseCsv("\uFEFFa,b,y\n\n   \n1,2,0\n\t\n3,4,1\n\n"),
    expected,
  );
  assert.deepEqual(parseCsv(" a , b , y \n 1 , 2 , 0\n3,4,1"), expected);
});

Deno.test("parseCsv() handles quoted fields with delimiters, doubled quotes and line breaks", () => {
  const ds = parseCsv(
    '"x, one","x ""two""",label\n"1.5", 2 ,"a, b"\n3,4,"say ""hi"""\n5,6,"two\nlines"\n',
  );
  assert.deepEqual(ds.featureNames, ["x, one", 'x "two"']);
  assert.deepEqual(ds.x, [[1.5, 2], [3, 4], [5, 6]]);
  assert.deepEqual(ds.labelNames, ["a, b", 'say "hi"', "two\nlines"]);
  assert.deepEqual(ds.y, [0, 1, 2]);
});

Deno.test("parseCsv() uses another delimiter", () => {
  assert.deepEqual(
    parseCsv("a;b;y\n1,5;2;0\n", { delimiter: ";", label: 0 }).featureNames,
    ["b", "y"],
  );
  const tabbed = parseCsv("a\tb\ty\n1\t2\t1\n3\t4\t0\n", { delimiter: "\t" });
  assert.deepEqual(tabbed.x, [[1, 2], [3, 4]]);
  assert.deepEqual(tabbed.y, [1, 0]);
  const spaced = parseCsv("1 2 0\n3 4 1\n", { delimiter: " " });
  assert.deepEqual(spaced.x, [[1, 2], [3, 4]]);
});

Deno.test("parseCsv() honours an explicit header option", () => {
  const numericNames = parseCsv("1,2,3\n4,5,0\n", { header: true });
  assert.deepEqual(numericNames.featureNames, ["1", "2"]);
  assert.deepEqual(numericNames.x, [[4, 5]]);
  const noHeader = parseCsv("4,5,0\n6,7,1\n", { header: false });
  assert.equal(noHeader.x.length, 2);
});

Deno.test("parseCsv() reports an empty CSV", () => {
  for (const text of ["", "\n\n", "  \r\n\t\n"]) {
    assert.throws(() => parseCsv(text), {
      name: "SyntaxError",
      message: "CSV is empty: no data rows",
    });
  }
  assert.throws(() => parseCsv("\na,b,y\n\n"), {
    name: "SyntaxError",
    message: "CSV is empty: no data rows (only a header on line 2)",
  });
});

Deno.test("parseCsv() reports a ragged row with its line number", () => {
  assert.throws(() => parseCsv("a,b,c,y\n1,2,3,0\n\n4,5,1\n"), {
    name: "SyntaxError",
    message: "Line 4 has 3 columns, expected 4 (ragged row)",
  });
  assert.throws(() => parseCsv("1,2,0\n3,4,5,1\n"), {
    name: "SyntaxError",
    message: "Line 2 has 4 columns, expected 3 (ragged row)",
  });
});

Deno.test("parseCsv() reports a non-numeric feature with line, column and header name", () => {
  const text = "id,x1,y\n1,2,0\n1,2,0\n1,2,0\n1,2,0\n1,2,0\n1,abc,0\n";
  assert.throws(() => parseCsv(text), {
    name: "SyntaxError",
    message: 'Line 7, column 2 ("x1"): "abc" is not a number',
  });
  assert.throws(() => parseCsv("1,2,0\nabc,2,1\n"), {
    name: "SyntaxError",
    message: 'Line 2, column 1: "abc" is not a number',
  });
  for (const bad of ["0x10", "Infinity", "NaN", "1,5", "1e", "--1", "1 2"]) {
    assert.throws(() => parseCsv(`a;b\n${bad};0\n`, { delimiter: ";" }), {
      name: "SyntaxError",
      message: `Line 2, column 1 ("a"): ${JSON.stringify(bad)} is not a number`,
    });
  }
  assert.throws(() => parseCsv("a,b\n1e999,0\n"), {
    name: "SyntaxError",
    message: 'Line 2, column 1 ("a"): "1e999" is not a finite number',
  });
});

Deno.test("parseCsv() reports missing values and labels", () => {
  assert.throws(() => parseCsv("a,b,y\n1,,0\n"), {
    name: "SyntaxError",
    message: 'Line 2, column 2 ("b"): missing value, expected a number',
  });
  assert.throws(() => parseCsv("a,b,y\n1,2,0\n1,2, \n"), {
    name: "SyntaxError",
    message: 'Line 3, column 3 ("y"): missing label',
  });
  assert.throws(() => parseCsv('1,2,0\n3,4,""\n'), {
    name: "SyntaxError",
    message: "Line 2, column 3: missing label",
  });
});

Deno.test("parseCsv() reports a single column", () => {
  assert.throws(() => parseCsv("y\n0\n1\n"), {
    name: "SyntaxError",
    message: "Line 1 has 1 column, need at least 2 (features and a label)",
  });
});

Deno.test("parseCsv() reports malformed quoted fields", () => {
  assert.throws(() => parseCsv('a,b,y\n1,2,"open\n3,4,0\n'), {
    name: "SyntaxError",
    message: "Line 2, column 3: quoted field is never closed",
  });
  assert.throws(() => parseCsv('a,b,y\n"1"x,2,0\n'), {
    name: "SyntaxError",
    message:
      'Line 2, column 1: unexpected "x" after a closing quote, expected a delimiter or the end of the line',
  });
  // Line numbers keep counting inside a quoted field that spans lines.
  assert.throws(() => parseCsv('a,y\n1,"x\ny"\n2,0,9\n'), {
    name: "SyntaxError",
    message: "Line 4 has 3 columns, expected 2 (ragged row)",
  });
});

Deno.test("parseCsv() rejects a label column name it cannot find, listing the columns", () => {
  assert.throws(() => parseCsv("x1,x2,species\n1,2,a\n", { label: "target" }), {
    name: "RangeError",
    message:
      'Label column "target" not found; available columns: "x1", "x2", "species"',
  });
  assert.throws(() => parseCsv("y,x,y\n1,2,0\n", { label: "y" }), {
    name: "RangeError",
    message:
      'Label column "y" is ambiguous: the header has it at columns 1 and 3',
  });
  assert.throws(() => parseCsv("a,y\n1,0\n", { label: "y", header: false }), {
    name: "RangeError",
    message:
      'Label column name "y" needs a header row, but header is false; pass a zero-based index instead',
  });
});

Deno.test("parseCsv() rejects a bad label index", () => {
  assert.throws(() => parseCsv("1,2,0\n", { label: 3 }), {
    name: "RangeError",
    message:
      "Label column index 3 is out of range: the CSV has 3 columns (0 to 2)",
  });
  for (
    const [bad, shown] of [[-1, "-1"], [1.5, "1.5"], [NaN, "NaN"]] as const
  ) {
    assert.throws(() => parseCsv("1,2,0\n", { label: bad }), {
      name: "RangeError",
      message:
        `Label must be a column name or a zero-based column index, got ${shown}`,
    });
  }
  assert.throws(
    () => parseCsv("1,2,0\n", { label: true as unknown as number }),
    {
      name: "TypeError",
      message:
        "Label must be a column name or a zero-based column index, got true",
    },
  );
});

Deno.test("parseCsv() rejects a bad delimiter or header option", () => {
  for (const bad of ["", ";;", '"', "\n", "\r"]) {
    assert.throws(() => parseCsv("1,0\n", { delimiter: bad }), {
      name: "RangeError",
      message:
        `Delimiter must be a single character other than a quote or a line break, got ${
          JSON.stringify(bad)
        }`,
    });
  }
  assert.throws(
    () => parseCsv("1,0\n", { delimiter: 44 as unknown as string }),
    {
      name: "TypeError",
      message:
        "Delimiter must be a single character other than a quote or a line break, got 44",
    },
  );
  assert.throws(
    () => parseCsv("1,0\n", { header: "yes" as unknown as boolean }),
    {
      name: "RangeError",
      message: 'Header must be true, false or "auto", got "yes"',
    },
  );
  assert.throws(() => parseCsv("1,0\n", { header: 1 as unknown as boolean }), {
    name: "TypeError",
    message: 'Header must be true, false or "auto", got 1',
  });
});

Deno.test("parseCsv() rejects non-string text and non-object options", () => {
  assert.throws(() => parseCsv(undefined as unknown as string), {
    name: "TypeError",
    message: "CSV text must be a string, got undefined",
  });
  assert.throws(() => parseCsv("1,0\n", null as unknown as object), {
    name: "TypeError",
    message: "Options must be an object, got null",
  });
});

Deno.test("parseCsv() suggests header: true when an auto-detected first row fails", () => {
  assert.throws(() => parseCsv("x1,2020,y\n1,2,0\n"), {
    name: "SyntaxError",
    message:
      'Line 1, column 1: "x1" is not a number; if line 1 is a header, pass header: true',
  });
});

Deno.test("parseCsv() with header: false reads a word row as data and rejects it", () => {
  assert.throws(() => parseCsv("a,b,y\n1,2,0\n", { header: false }), {
    name: "SyntaxError",
    message: 'Line 1, column 1: "a" is not a number',
  });
});
