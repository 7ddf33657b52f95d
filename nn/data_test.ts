// Tests for the dataset generators and helpers: shapes, balance, geometry, determinism and every error path.

import assert from "node:assert/strict";
import {
  batches,
  type Dataset,
  oneHot,
  shuffleDataset,
  toSigned,
  trainValSplit,
} from "./data.ts";
import {
  DATASET_NAMES,
  DEFAULT_NOISE,
  makeBlobs,
  makeCircles,
  makeDataset,
  makeMoons,
  makeSpirals,
  makeXor,
} from "./datasets.ts";
import { Rng } from "./rng.ts";

/** A dataset whose samples are told apart by their single feature, `x[i] = [i]`. */
function numbered(n: number): Dataset {
  return {
    x: Array.from({ length: n }, (_, i) => [i]),
    y: Array.from({ length: n }, (_, i) => i % 2),
    classes: 2,
    featureNames: ["id"],
  };
}

function countLabels(y: readonly number[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const label of y) counts[label]++;
  return counts;
}

function ids(ds: Dataset): number[] {
  return ds.x.map(([id]) => id);
}

const sortNumbers = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

const generators = {
  makeMoons: (n: number, options?: object) => makeMoons(n, options),
  makeCircles: (n: number, options?: object) => makeCircles(n, options),
  makeSpirals: (n: number, options?: object) => makeSpirals(n, options),
  makeXor: (n: number, options?: object) => makeXor(n, options),
  makeBlobs: (n: number, options?: object) => makeBlobs(n, options),
};

Deno.test("makeMoons() makes n 2-feature samples split floor(n/2) outer, the rest inner", () => {
  for (const n of [1, 2, 7, 100, 101]) {
    const ds = makeMoons(n, { noise: 0.1 });
    assert.equal(ds.x.length, n);
    assert.equal(ds.y.length, n);
    assert.ok(ds.x.every((row) => row.length === 2));
    assert.equal(ds.classes, 2);
    assert.deepEqual(ds.featureNames, ["x1", "x2"]);
    assert.deepEqual(countLabels(ds.y, 2), [
      Math.floor(n / 2),
      n - Math.floor(n / 2),
    ]);
  }
});

Deno.test("makeMoons() without noise puts points exactly on the two unit half circles", () => {
  const ds = makeMoons(200, { seed: 9 });
  ds.x.forEach(([a, b], i) => {
    if (ds.y[i] === 0) {
      assert.ok(Math.abs(Math.hypot(a, b) - 1) < 1e-12, `outer ${a}, ${b}`);
      assert.ok(b >= -1e-15, `outer moon is the upper half, got ${b}`);
    } else {
      assert.ok(
        Math.abs(Math.hypot(a - 1, b - 0.5) - 1) < 1e-12,
        `inner ${a}, ${b}`,
      );
      assert.ok(b <= 0.5 + 1e-15, `inner moon is the lower half, got ${b}`);
    }
  });
});

Deno.test("makeMoons() matches scikit-learn's points for n = 4 without noise", () => {
  // make_moons(4, shuffle=False): outer t = 0, π and inner t = 0, π.
  const expected = [[1, 0], [-1, Math.sin(Math.PI)], [0, 0.5], [
    2,
    0.5 - Math.sin(Math.PI),
  ]];
  const ds = makeMoons(4);
  const byKey = (p: number[], q: number[]) => p[0] - q[0];
  assert.deepEqual([...ds.x].sort(byKey), [...expected].sort(byKey));
});

Deno.test("makeMoons() shuffles: labels are not in generation order", () => {
  const ds = makeMoons(100);
  assert.notDeepEqual(ds.y, [...ds.y].sort());
});

Deno.test("generators are bit-identical for a seed and differ across seeds", () => {
  for (const [name, make] of Object.entries(generators)) {
    const a = make(60, { noise: 0.2, seed: 11 });
    const b = make(60, { noise: 0.2, seed: 11 });
    assert.deepEqual(a, b, name);
    const c = make(60, { noise: 0.2, seed: 12 });
    assert.notDeepEqual(a.x, c.x, name);
    assert.deepEqual(
      make(60),
      make(60, { seed: 0 }),
      `${name} defaults to seed 0`,
    );
  }
});

Deno.test("makeMoons() and makeCircles() keep the sample order of a seed at every noise level", () => {
  assert.deepEqual(
    makeMoons(50, { seed: 4 }).y,
    makeMoons(50, { seed: 4, noise: 0.3 }).y,
  );
  assert.deepEqual(
    makeCircles(50, { seed: 4 }).y,
    makeCircles(50, { seed: 4, noise: 0.3 }).y,
  );
});

Deno.test("makeCircles() without noise puts classes on radius 1 and radius factor", () => {
  for (const factor of [0, 0.5, 0.8]) {
    const ds = makeCircles(101, { factor, seed: 1 });
    assert.deepEqual(countLabels(ds.y, 2), [50, 51]);
    ds.x.forEach(([a, b], i) => {
      const radius = ds.y[i] === 0 ? 1 : factor;
      assert.ok(Math.abs(Math.hypot(a, b) - radius) < 1e-12, `${a}, ${b}`);
    });
  }
  const defaultFactor = makeCircles(10);
  const inner = defaultFactor.x.filter((_, i) => defaultFactor.y[i] === 1);
  assert.ok(inner.every(([a, b]) => Math.abs(Math.hypot(a, b) - 0.5) < 1e-12));
});

Deno.test("makeSpirals() splits n over the classes as evenly as possible", () => {
  const ds = makeSpirals(10, { classes: 4, noise: 0.2 });
  assert.equal(ds.classes, 4);
  assert.deepEqual(countLabels(ds.y, 4), [3, 3, 2, 2]);
  const three = makeSpirals(300);
  assert.equal(three.classes, 3);
  assert.deepEqual(countLabels(three.y, 3), [100, 100, 100]);
  assert.deepEqual(countLabels(makeSpirals(2, { classes: 2 }).y, 2), [1, 1]);
});

Deno.test("makeSpirals() without noise follows r = linspace(0, 1), t = linspace(4k, 4k + 4)", () => {
  const m = 50;
  const ds = makeSpirals(3 * m);
  for (let k = 0; k < 3; k++) {
    const arm = ds.x.filter((_, i) => ds.y[i] === k);
    const radii = sortNumbers(arm.map(([a, b]) => Math.hypot(a, b)));
    radii.forEach((r, i) =>
      assert.ok(Math.abs(r - i / (m - 1)) < 1e-12, `r ${r}`)
    );
    for (const [a, b] of arm) {
      const r = Math.hypot(a, b);
      if (r === 0) continue;
      // r grows linearly with t along the arm: t = 4k + 4r.
      const t = 4 * k + 4 * r;
      assert.ok(
        Math.abs(a - r * Math.sin(t)) < 1e-12 &&
          Math.abs(b - r * Math.cos(t)) < 1e-12,
      );
    }
  }
});

Deno.test("makeXor() labels by quadrant and keeps points in the square", () => {
  const ds = makeXor(2000, { seed: 2 });
  ds.x.forEach(([a, b], i) => {
    assert.ok(a >= -1 && a < 1 && b >= -1 && b < 1);
    assert.equal(ds.y[i], a * b > 0 ? 0 : 1);
  });
  const [zeros, ones] = countLabels(ds.y, 2);
  // Balanced in expectation: 1000 ± 22 each.
  assert.ok(Math.abs(zeros - ones) < 200, `${zeros} vs ${ones}`);
});

Deno.test("makeXor() with noise labels the clean point, so jitter moves some across the axes", () => {
  const ds = makeXor(2000, { noise: 0.2, seed: 2 });
  const clean = makeXor(2000, { seed: 2 });
  assert.deepEqual(ds.y, clean.y);
  const crossed =
    ds.x.filter(([a, b], i) => (a * b > 0 ? 0 : 1) !== ds.y[i]).length;
  assert.ok(crossed > 0 && crossed < 600, `${crossed} crossed`);
});

Deno.test("makeBlobs() defaults to 3 blobs on a circle with neighbours 3 apart", () => {
  const ds = makeBlobs(30, { std: 0 });
  assert.equal(ds.classes, 3);
  assert.deepEqual(countLabels(ds.y, 3), [10, 10, 10]);
  const centers = [0, 1, 2].map((k) => ds.x[ds.y.indexOf(k)]);
  ds.x.forEach((row, i) => assert.deepEqual(row, centers[ds.y[i]]));
  for (let k = 0; k < 3; k++) {
    const [p, q] = [centers[k], centers[(k + 1) % 3]];
    assert.ok(Math.abs(Math.hypot(p[0] - q[0], p[1] - q[1]) - 3) < 1e-12);
  }
  assert.equal(makeBlobs(50, { classes: 5 }).classes, 5);
});

Deno.test("makeBlobs() uses given centers, their dimension and std", () => {
  const centers = [[0, 0, 0], [10, 10, 10]];
  const ds = makeBlobs(4000, { centers, std: 2, seed: 3 });
  assert.equal(ds.classes, 2);
  assert.deepEqual(ds.featureNames, ["x1", "x2", "x3"]);
  for (let k = 0; k < 2; k++) {
    const values = ds.x.filter((_, i) => ds.y[i] === k).flat();
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(
      values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length,
    );
    assert.ok(Math.abs(mean - centers[k][0]) < 0.1, `mean ${mean}`);
    assert.ok(Math.abs(sd - 2) < 0.1, `sd ${sd}`);
  }
  assert.equal(makeBlobs(10, { centers, classes: 2 }).classes, 2);
});

Deno.test("toSigned() maps 0 to -1 and 1 to +1", () => {
  assert.deepEqual(toSigned([0, 1, 0]), [-1, 1, -1]);
  assert.deepEqual(toSigned([]), []);
});

Deno.test("oneHot() puts a 1 at each label", () => {
  assert.deepEqual(oneHot([0, 2, 1], 3), [[1, 0, 0], [0, 0, 1], [0, 1, 0]]);
  assert.deepEqual(oneHot([0], 1), [[1]]);
});

Deno.test("shuffleDataset() returns a shuffled copy with x and y moved together", () => {
  const ds = numbered(50);
  const before = structuredClone(ds);
  const shuffled = shuffleDataset(ds, new Rng(1));
  assert.deepEqual(ds, before, "input is not modified");
  assert.notDeepEqual(ids(shuffled), ids(ds));
  assert.deepEqual(sortNumbers(ids(shuffled)), ids(ds));
  shuffled.x.forEach(([id], i) => assert.equal(shuffled.y[i], id % 2));
  assert.deepEqual(shuffled.featureNames, ["id"]);
  assert.equal(shuffled.classes, 2);
  shuffled.x[0][0] = -1;
  assert.ok(ds.x.every(([id]) => id >= 0), "rows are copied");
  assert.ok(!("labelNames" in shuffled), "absent metadata stays absent");
  const named = shuffleDataset(
    { ...numbered(3), labelNames: ["no", "yes"] },
    new Rng(2),
  );
  assert.deepEqual(named.labelNames, ["no", "yes"]);
});

Deno.test("trainValSplit() sizes the parts and uses every sample once", () => {
  const ds = numbered(100);
  const { train, val } = trainValSplit(ds, 0.2, { seed: 5 });
  assert.equal(train.x.length, 80);
  assert.equal(val.x.length, 20);
  assert.deepEqual(sortNumbers([...ids(train), ...ids(val)]), ids(ds));
  train.x.forEach(([id], i) => assert.equal(train.y[i], id % 2));
  assert.deepEqual(train.featureNames, ["id"]);

  assert.equal(trainValSplit(ds, 0.29).val.x.length, 29);
  assert.equal(
    trainValSplit(numbered(10), 0.25).val.x.length,
    3,
    "round(2.5) = 3",
  );
  assert.equal(trainValSplit(ds, 0).val.x.length, 0);
  const one = trainValSplit(numbered(1), 0.9);
  assert.equal(one.train.x.length, 1, "train keeps at least one sample");
  assert.equal(one.val.x.length, 0);
  const empty = trainValSplit(numbered(0), 0.5);
  assert.equal(empty.train.x.length + empty.val.x.length, 0);
});

Deno.test("trainValSplit() is deterministic per seed", () => {
  const ds = numbered(40);
  assert.deepEqual(
    trainValSplit(ds, 0.25, { seed: 1 }),
    trainValSplit(ds, 0.25, { seed: 1 }),
  );
  assert.deepEqual(
    trainValSplit(ds, 0.25),
    trainValSplit(ds, 0.25, { seed: 0 }),
  );
  assert.notDeepEqual(
    ids(trainValSplit(ds, 0.25, { seed: 1 }).val),
    ids(trainValSplit(ds, 0.25, { seed: 2 }).val),
  );
});

Deno.test("batches() covers every sample exactly once, the last batch smaller", () => {
  const ds = numbered(10);
  const inOrder = batches(ds, 4);
  assert.deepEqual(inOrder.map(ids), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.ok(
    inOrder.every((b) => b.classes === 2 && b.featureNames?.[0] === "id"),
  );

  const rng = new Rng(3);
  const epoch1 = batches(ds, 3, { rng });
  const epoch2 = batches(ds, 3, { rng });
  assert.deepEqual(epoch1.map((b) => b.x.length), [3, 3, 3, 1]);
  assert.deepEqual(sortNumbers(epoch1.flatMap(ids)), ids(ds));
  assert.deepEqual(sortNumbers(epoch2.flatMap(ids)), ids(ds));
  assert.notDeepEqual(
    epoch1.flatMap(ids),
    epoch2.flatMap(ids),
    "the rng advances",
  );
  epoch1.forEach((b) => b.x.forEach(([id], i) => assert.equal(b.y[i], id % 2)));

  assert.deepEqual(batches(ds, 10).map(ids), [ids(ds)]);
  assert.deepEqual(batches(ds, 99).map(ids), [ids(ds)]);
  assert.deepEqual(batches(numbered(0), 4), []);
});

Deno.test("generators reject a sample count that is not a positive integer", () => {
  for (const [name, make] of Object.entries(generators)) {
    for (
      const [bad, shown] of [[0, "0"], [-3, "-3"], [1.5, "1.5"], [
        NaN,
        "NaN",
      ]] as const
    ) {
      assert.throws(() => make(bad), {
        name: "RangeError",
        message: `Sample count must be a positive integer, got ${shown}`,
      }, name);
    }
    assert.throws(() => make("10" as unknown as number), {
      name: "TypeError",
      message: 'Sample count must be a positive integer, got "10"',
    }, name);
  }
});

Deno.test("generators reject bad options objects, noise and seeds", () => {
  for (const [name, make] of Object.entries(generators)) {
    assert.throws(() => make(10, null as unknown as object), {
      name: "TypeError",
      message: "Options must be an object, got null",
    }, name);
    assert.throws(() => make(10, 0.1 as unknown as object), {
      name: "TypeError",
      message: "Options must be an object, got 0.1",
    }, name);
    assert.throws(() => make(10, { seed: 1.5 }), {
      name: "RangeError",
      message: "Seed must be a safe integer, got 1.5",
    }, name);
  }
  for (const make of [makeMoons, makeCircles, makeSpirals, makeXor]) {
    assert.throws(() => make(10, { noise: -0.1 }), {
      name: "RangeError",
      message: "Noise must be a finite number of at least 0, got -0.1",
    });
    assert.throws(() => make(10, { noise: Infinity }), {
      name: "RangeError",
      message: "Noise must be a finite number of at least 0, got Infinity",
    });
    assert.throws(() => make(10, { noise: "0.1" as unknown as number }), {
      name: "TypeError",
      message: 'Noise must be a finite number of at least 0, got "0.1"',
    });
  }
});

Deno.test("makeCircles() rejects a factor outside [0, 1)", () => {
  for (
    const [bad, shown] of [[1, "1"], [-0.1, "-0.1"], [NaN, "NaN"]] as const
  ) {
    assert.throws(() => makeCircles(10, { factor: bad }), {
      name: "RangeError",
      message: `Circle factor must be a number in [0, 1), got ${shown}`,
    });
  }
  assert.throws(() => makeCircles(10, { factor: "0.5" as unknown as number }), {
    name: "TypeError",
    message: 'Circle factor must be a number in [0, 1), got "0.5"',
  });
});

Deno.test("makeSpirals() and makeBlobs() reject a bad class count or too few samples", () => {
  for (const make of [makeSpirals, makeBlobs]) {
    assert.throws(() => make(10, { classes: 1 }), {
      name: "RangeError",
      message: "Class count must be an integer of at least 2, got 1",
    });
    assert.throws(() => make(10, { classes: 2.5 }), {
      name: "RangeError",
      message: "Class count must be an integer of at least 2, got 2.5",
    });
    assert.throws(() => make(10, { classes: "3" as unknown as number }), {
      name: "TypeError",
      message: 'Class count must be an integer of at least 2, got "3"',
    });
    assert.throws(() => make(2, { classes: 3 }), {
      name: "RangeError",
      message: "Sample count must be at least the class count (3), got 2",
    });
  }
});

Deno.test("makeBlobs() rejects bad centers and std", () => {
  const cases: [unknown, string, RegExp | string][] = [
    [
      "abc",
      "TypeError",
      'Centers must be an array of coordinate arrays, got "abc"',
    ],
    [[[0, 0]], "RangeError", "Centers must hold at least 2 points, got 1"],
    [
      [[0, 0], 5],
      "TypeError",
      "Center 1 must be a non-empty array of finite numbers, got 5",
    ],
    [
      [[], []],
      "TypeError",
      "Center 0 must be a non-empty array of finite numbers, got an array",
    ],
    [
      [[0, 0], [1, 2, 3]],
      "RangeError",
      "Center 1 has 3 coordinates, expected 2 like center 0",
    ],
    [
      [[0, 0], [1, NaN]],
      "RangeError",
      "Center 1, coordinate 1 must be a finite number, got NaN",
    ],
    [
      [[0, "x"], [1, 2]],
      "TypeError",
      'Center 0, coordinate 1 must be a finite number, got "x"',
    ],
  ];
  for (const [centers, name, message] of cases) {
    assert.throws(() => makeBlobs(10, { centers: centers as number[][] }), {
      name,
      message,
    });
  }
  assert.throws(() => makeBlobs(10, { centers: [[0], [1]], classes: 3 }), {
    name: "RangeError",
    message:
      "Class count 3 does not match the 2 centers given; pass one or the other",
  });
  assert.throws(() => makeBlobs(10, { std: -1 }), {
    name: "RangeError",
    message: "Standard deviation must be a finite number of at least 0, got -1",
  });
});

Deno.test("toSigned() rejects labels other than 0 and 1", () => {
  assert.throws(() => toSigned([0, 1, 2]), {
    name: "RangeError",
    message: "Label at index 2 must be 0 or 1, got 2",
  });
  assert.throws(() => toSigned([-1]), {
    name: "RangeError",
    message: "Label at index 0 must be 0 or 1, got -1",
  });
  assert.throws(() => toSigned("01" as unknown as number[]), {
    name: "TypeError",
    message: 'Labels must be an array, got "01"',
  });
});

Deno.test("oneHot() rejects a bad class count or out-of-range label", () => {
  assert.throws(() => oneHot([0, 3], 3), {
    name: "RangeError",
    message: "Label at index 1 must be an integer from 0 to 2, got 3",
  });
  assert.throws(() => oneHot([0.5], 3), {
    name: "RangeError",
    message: "Label at index 0 must be an integer from 0 to 2, got 0.5",
  });
  assert.throws(() => oneHot([0], 0), {
    name: "RangeError",
    message: "Class count must be a positive integer, got 0",
  });
  assert.throws(() => oneHot(null as unknown as number[], 2), {
    name: "TypeError",
    message: "Labels must be an array, got null",
  });
});

Deno.test("dataset helpers reject malformed datasets", () => {
  const ragged = { x: [[0], [1]], y: [0], classes: 2 };
  const helpers = {
    shuffleDataset: (ds: Dataset) => shuffleDataset(ds, new Rng()),
    trainValSplit: (ds: Dataset) => trainValSplit(ds, 0.5),
    batches: (ds: Dataset) => batches(ds, 1),
  };
  for (const [name, helper] of Object.entries(helpers)) {
    assert.throws(() => helper(ragged), {
      name: "RangeError",
      message: "Dataset x and y must have the same length, got 2 and 1",
    }, name);
    assert.throws(() => helper([] as unknown as Dataset), {
      name: "TypeError",
      message: "Dataset must be an object with x, y and classes, got an array",
    }, name);
    assert.throws(
      () => helper({ x: [[0]], classes: 2 } as unknown as Dataset),
      {
        name: "TypeError",
        message: "Dataset x and y must be arrays, got an array and undefined",
      },
      name,
    );
  }
});

Deno.test("shuffleDataset() and batches() reject an rng that is not an Rng", () => {
  const fake = {
    permutation: (n: number) => [...Array(n).keys()],
  } as unknown as Rng;
  assert.throws(() => shuffleDataset(numbered(3), fake), {
    name: "TypeError",
    message: "Shuffle needs an Rng, got an object",
  });
  assert.throws(() => batches(numbered(3), 2, { rng: fake }), {
    name: "TypeError",
    message: "Batch rng must be an Rng, got an object",
  });
});

Deno.test("trainValSplit() rejects a fraction outside [0, 1)", () => {
  for (
    const [bad, shown] of [[1, "1"], [-0.1, "-0.1"], [NaN, "NaN"]] as const
  ) {
    assert.throws(() => trainValSplit(numbered(10), bad), {
      name: "RangeError",
      message: `Validation fraction must be a number in [0, 1), got ${shown}`,
    });
  }
  assert.throws(() => trainValSplit(numbered(10), "0.2" as unknown as number), {
    name: "TypeError",
    message: 'Validation fraction must be a number in [0, 1), got "0.2"',
  });
  assert.throws(() => trainValSplit(numbered(10), 0.2, { seed: -0.5 }), {
    name: "RangeError",
    message: "Seed must be a safe integer, got -0.5",
  });
});

Deno.test("batches() rejects a batch size that is not a positive integer", () => {
  for (const [bad, shown] of [[0, "0"], [2.5, "2.5"], [-1, "-1"]] as const) {
    assert.throws(() => batches(numbered(10), bad), {
      name: "RangeError",
      message: `Batch size must be a positive integer, got ${shown}`,
    });
  }
  assert.throws(() => batches(numbered(10), "2" as unknown as number), {
    name: "TypeError",
    message: 'Batch size must be a positive integer, got "2"',
  });
});

Deno.test("makeDataset() generates each dataset by name, with the default noise", () => {
  for (const name of DATASET_NAMES) {
    const byName = makeDataset(name, 60, { seed: 4, classes: 3 });
    const direct = name === "moons"
      ? makeMoons(60, { noise: DEFAULT_NOISE.moons, seed: 4 })
      : name === "circles"
      ? makeCircles(60, { noise: DEFAULT_NOISE.circles, seed: 4 })
      : name === "spirals"
      ? makeSpirals(60, { noise: DEFAULT_NOISE.spirals, seed: 4, classes: 3 })
      : name === "xor"
      ? makeXor(60, { noise: DEFAULT_NOISE.xor, seed: 4 })
      : makeBlobs(60, { std: DEFAULT_NOISE.blobs, seed: 4, classes: 3 });
    assert.deepEqual(byName, direct, name);
  }
  assert.throws(() => makeDataset("rings" as "moons", 10), {
    name: "RangeError",
    message:
      'Unknown dataset "rings"; expected one of moons, circles, spirals, xor, blobs',
  });
});
