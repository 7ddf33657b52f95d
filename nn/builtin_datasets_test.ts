// The shipped data sets (digits, iris, wine, breast cancer): exact shapes and checksums of data/, and the parser's errors.

import assert from "node:assert/strict";
import {
  BUILTIN_DATASET_NAMES,
  BUILTIN_DATASETS,
  builtinDatasetInfo,
  gunzip,
  parseBuiltinDataset,
} from "./builtin_datasets.ts";

const DATA = new URL("../data/", import.meta.url);
const read = (file: string) => Deno.readFile(new URL(file, DATA));

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

// SHA-256 of Debian python3-sklearn 1.2.1+dfsg-1's files; row counts, class
// counts and feature sums computed independently (Python, exact decimals).
const EXPECTED = {
  digits: {
    sha256: "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a",
    classCounts: [178, 182, 177, 183, 181, 182, 181, 179, 174, 180],
    featureSum: 561718,
  },
  iris: {
    sha256: "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449",
    classCounts: [50, 50, 50],
    featureSum: 2078.7,
  },
  wine: {
    sha256: "10e8a802908b34f86e5da8ce962f3c806694bc98450a18f61851af59f324bede",
    classCounts: [59, 71, 48],
    featureSum: 159975.295999,
  },
  "breast-cancer": {
    sha256: "fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed",
    classCounts: [212, 357],
    featureSum: 1056474.4596356,
  },
} as const;

for (const name of BUILTIN_DATASET_NAMES) {
  Deno.test(`parseBuiltinDataset() reads data/${BUILTIN_DATASETS[name].file} exactly`, async () => {
    const info = BUILTIN_DATASETS[name];
    const bytes = await read(info.file);
    assert.equal(await sha256(bytes), EXPECTED[name].sha256);
    const ds = await parseBuiltinDataset(name, bytes);
    assert.equal(ds.x.length, info.rows);
    assert.equal(ds.y.length, info.rows);
    assert.equal(ds.classes, info.classes);
    assert.ok(ds.x.every((row) => row.length === info.features));
    const counts = new Array<number>(ds.classes).fill(0);
    for (const y of ds.y) counts[y]++;
    assert.deepEqual(counts, EXPECTED[name].classCounts);
    let sum = 0;
    for (const row of ds.x) for (const v of row) sum += v;
    assert.ok(
      Math.abs(sum - EXPECTED[name].featureSum) < 1e-6,
      `feature sum ${sum}`,
    );
    assert.deepEqual(ds.labelNames, info.labelNames);
  });
}

Deno.test("parseBuiltinDataset() reads digits' first row as the 8x8 pixels of a 0", async () => {
  const ds = await parseBuiltinDataset("digits", await read("digits.csv.gz"));
  assert.deepEqual(ds.x[0].slice(0, 8), [0, 0, 5, 13, 9, 1, 0, 0]);
  assert.equal(ds.y[0], 0);
});

Deno.test("parseBuiltinDataset() names the file for a corrupt gzip", async () => {
  const bytes = (await read("digits.csv.gz")).slice();
  bytes[5000] ^= 0xff;
  await assert.rejects(
    () => parseBuiltinDataset("digits", bytes, "data/digits.csv.gz"),
    (error: Error) => {
      assert.ok(error instanceof SyntaxError);
      assert.match(
        error.message,
        /^data\/digits\.csv\.gz: corrupt or truncated gzip data \(.+\)$/,
      );
      return true;
    },
  );
});

Deno.test("parseBuiltinDataset() names the file for a truncated gzip", async () => {
  const bytes = await read("digits.csv.gz");
  await assert.rejects(
    () => parseBuiltinDataset("digits", bytes.slice(0, bytes.length >> 1)),
    SyntaxError,
    "digits.csv.gz: corrupt or truncated gzip data",
  );
  await assert.rejects(
    () => parseBuiltinDataset("digits", new TextEncoder().encode("plain text")),
    SyntaxError,
    "digits.csv.gz: corrupt or truncated gzip data",
  );
});

Deno.test("parseBuiltinDataset() names the file and line for a wrong column count", async () => {
  const text = new TextDecoder().decode(await read("iris.csv"));
  const lines = text.split("\n");
  lines[2] = "4.9,3.0,1.4,0"; // 3 features and a class: one column short
  await assert.rejects(
    () =>
      parseBuiltinDataset("iris", new TextEncoder().encode(lines.join("\n"))),
    (error: Error) => {
      assert.ok(error instanceof SyntaxError);
      assert.equal(
        error.message,
        "iris.csv: line 3 has 4 columns, expected 5 (4 features and the class)",
      );
      return true;
    },
  );
});

Deno.test("parseBuiltinDataset() rejects a truncated CSV, a bad number, a bad class and a wrong header", async () => {
  const text = new TextDecoder().decode(await read("wine_data.csv"));
  const lines = text.trimEnd().split("\n");
  const bytes = (rows: string[]) => new TextEncoder().encode(rows.join("\n"));
  await assert.rejects(
    () => parseBuiltinDataset("wine", bytes(lines.slice(0, 100)), "w.csv"),
    SyntaxError,
    "w.csv: has 99 data rows, expected 178 (truncated or wrong file?)",
  );
  const badNumber = lines.slice();
  badNumber[1] = badNumber[1].replace(/^[^,]+/, "abc");
  await assert.rejects(
    () => parseBuiltinDataset("wine", bytes(badNumber)),
    SyntaxError,
    'wine_data.csv: line 2 column 1 is not a number: "abc"',
  );
  const badClass = lines.slice();
  badClass[1] = badClass[1].replace(/,0$/, ",7");
  await assert.rejects(
    () => parseBuiltinDataset("wine", bytes(badClass)),
    SyntaxError,
    'wine_data.csv: line 2 has class "7", expected an integer from 0 to 2',
  );
  await assert.rejects(
    () => parseBuiltinDataset("iris", bytes(lines)),
    SyntaxError,
    'iris.csv: line 1 should start with "150,4," (rows, features), got "178,13,class_0,class_1,class_2"',
  );
  await assert.rejects(
    () => parseBuiltinDataset("iris", new Uint8Array([0xff, 0xfe, 0x00])),
    SyntaxError,
    "iris.csv: not UTF-8 text",
  );
});

Deno.test("parseBuiltinDataset() rejects an unknown name and non-bytes", async () => {
  await assert.rejects(
    () => parseBuiltinDataset("mnist" as "iris", new Uint8Array()),
    RangeError,
    'Unknown data set "mnist"; expected one of digits, iris, wine, breast-cancer',
  );
  await assert.rejects(
    () => parseBuiltinDataset("iris", "5.1,3.5" as unknown as Uint8Array),
    TypeError,
    "iris.csv: bytes must be a Uint8Array",
  );
  await assert.rejects(
    () => gunzip([1, 2] as unknown as Uint8Array, "x.gz"),
    TypeError,
    "x.gz: bytes must be a Uint8Array",
  );
  assert.equal(builtinDatasetInfo("breast-cancer").classes, 2);
});
