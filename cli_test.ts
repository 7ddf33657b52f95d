// The CLI, run as a subprocess: output, exit codes, JSON shapes, bad input.

import assert from "node:assert/strict";
import config from "./deno.json" with { type: "json" };
import {
  type Activation,
  type DatasetName,
  defaultLoss,
  fit,
  type Init,
  type LossName,
  makeDataset,
  makeMoons,
  MLP,
  type OptimizerName,
  parseModel,
  predictClasses,
  type ScheduleName,
  Tape,
} from "./mod.ts";
import { DEFAULT_NOISE, outputsForLoss } from "./nn/mod.ts";
import { demoCommand } from "./cli/demo.ts";
import { gradCommand } from "./cli/grad.ts";
import { graphCommand } from "./cli/graph.ts";
import { predictCommand } from "./cli/predict.ts";
import { trainCommand } from "./cli/train.ts";
import { elements, parseSvg } from "./viz/_testing.ts";
import { type Run, runCli } from "./cli/_testing.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;

/** Runs the CLI with exactly the given Deno permissions (none by default). */
const cli = runCli;

const READ = ["--allow-read"];

/** Checks a failed run: exit code, one clear line on stderr, no stack trace. */
function assertFails(
  run: Run,
  code: number,
  message: RegExp,
  extraLines = 0,
): void {
  assert.equal(run.code, code, `exit code (stderr: ${run.stderr})`);
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1 + extraLines, `stderr lines: ${run.stderr}`);
  assert.match(lines[0], /^error: \S/);
  assert.match(lines[0], message);
  assert.doesNotMatch(run.stderr, /^\s+at /m);
  assert.equal(run.stdout, "");
}

function parseLines(text: string): Record<string, unknown>[] {
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tapegrad_cli_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function near(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${actual} is not within ${tolerance} of ${expected}`,
  );
}

// ------------------------------------------------------------------- help

Deno.test("cli with no arguments prints usage with every command, flag and default", async () => {
  const run = await cli([]);
  assert.equal(run.code, 0);
  assert.equal(run.stderr, "");
  assert.match(run.stdout, /^tapegrad \d+\.\d+\.\d+: /);
  for (
    const command of [
      trainCommand,
      predictCommand,
      gradCommand,
      graphCommand,
      demoCommand,
    ]
  ) {
    assert.match(
      run.stdout,
      new RegExp(`^  ${command.name} +${command.summary}`, "m"),
    );
    for (const [name, spec] of Object.entries(command.options)) {
      assert.ok(
        run.stdout.includes(`--${name}`),
        `--${name} of ${command.name}`,
      );
      if (spec.default !== undefined) {
        const words = `(default: ${spec.default})`.split(" ");
        // Help text wraps, so compare word by word.
        const flat = run.stdout.replace(/\s+/g, " ");
        assert.ok(
          flat.includes(words.join(" ")),
          `default of --${name}: ${spec.default}`,
        );
      }
    }
  }
  assert.equal((await cli(["--help"])).stdout, run.stdout);
  assert.equal((await cli(["-h"])).stdout, run.stdout);
});

Deno.test("cli <command> --help prints that command's help", async () => {
  const run = await cli(["train", "--help"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Train an MLP/);
  assert.match(run.stdout, /deno run cli\.ts train \[options\]/);
  assert.match(run.stdout, /--layers <n,n,…> +Hidden layer sizes/);
  assert.match(run.stdout, /Permissions: /);
  assert.equal((await cli(["help", "train"])).stdout, run.stdout);
  assert.match(
    (await cli(["grad", "-h"])).stdout,
    /exp, log, tanh, relu, sigmoid, sqrt, abs/,
  );
});

Deno.test("cli --version prints the version from deno.json", async () => {
  const run = await cli(["--version"]);
  assert.equal(run.code, 0);
  assert.equal(run.stdout, `tapegrad ${config.version}\n`);
});

// ------------------------------------------------------------------- demo

const DEMO_LINES = [
  "Iter:  0, Loss: 10.24, w: 1.68",
  "Iter:  1, Loss: 0.4096, w: 1.936",
  "Iter:  2, Loss: 0.016384, w: 1.9872",
  "Iter:  3, Loss: 0.00065536, w: 1.99744",
  "Iter:  4, Loss: 2.62144e-5, w: 1.99949",
  "Iter:  5, Loss: 1.04858e-6, w: 1.9999",
];

Deno.test("cli demo prints six losses and weights, then the last step's graph", async () => {
  const run = await cli(["demo"]);
  assert.equal(run.code, 0);
  assert.equal(run.stderr, "");
  const lines = run.stdout.split("\n");
  assert.deepEqual(lines.slice(0, 6), DEMO_LINES);
  assert.equal(lines[6], "");
  assert.equal(lines[7], "Graph of the last step (before its update):");
  const graph = lines.slice(8).join("\n");
  assert.match(
    graph,
    /^level 0\n#6 loss +data 0\.000001 \| grad 1\.000000 \| prev \{ \^ \[#4 w\*x - y, #5\] \}/,
  );
  assert.match(
    graph,
    /#0 w +data 1\.999488 \| grad -0\.004096 \| prev \{ leaf \[\] \}/,
  );
  assert.match(
    graph,
    /#1 x +data 2\.000000 \| grad 0\.000000 \| prev \{ leaf \[\] \}/,
  );
});

Deno.test("cli demo --json gives one object per iteration", async () => {
  const run = await cli(["demo", "--json"]);
  assert.equal(run.code, 0);
  const steps = parseLines(run.stdout) as {
    iter: number;
    loss: number;
    w: number;
  }[];
  assert.deepEqual(
    steps.map((s) => Object.keys(s)),
    Array(6).fill(["iter", "loss", "w"]),
  );
  const losses = [
    10.24,
    0.4096,
    0.016384,
    0.00065536,
    0.0000262144,
    0.000001048576,
  ];
  const ws = [1.68, 1.936, 1.9872, 1.99744, 1.999488, 1.9998976];
  steps.forEach((s, k) => {
    assert.equal(s.iter, k);
    near(s.loss, losses[k], 1e-12);
    near(s.w, ws[k], 1e-12);
  });
});

Deno.test("cli demo takes --steps, --lr and --format", async () => {
  const run = await cli([
    "demo",
    "--steps",
    "3",
    "--lr",
    "0.05",
    "--format",
    "dot",
  ]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Iter: {2}0, Loss: 10\.24, w: 1\.04\nIter: {2}1, /);
  assert.match(run.stdout, /^Iter: {2}2, /m);
  assert.doesNotMatch(run.stdout, /^Iter: {2}3/m);
  assert.match(run.stdout, /digraph tapegrad \{/);
});

// ------------------------------------------------------------------- grad

const NEURON = [
  "tanh(x1*w1 + x2*w2 + b)",
  "x1=2",
  "x2=0",
  "w1=-3",
  "w2=1",
  "b=6.8813735870195432",
];

Deno.test("cli grad prints the value and every partial derivative", async () => {
  const run = await cli(["grad", ...NEURON]);
  assert.equal(run.code, 0);
  assert.equal(run.stderr, "");
  assert.equal(
    run.stdout,
    [
      "tanh(x1*w1 + x2*w2 + b) = 0.707107",
      "",
      "  name  value    grad",
      "  x1    2        -1.5",
      "  w1    -3       1",
      "  x2    0        0.5",
      "  w2    1        0",
      "  b     6.88137  0.5",
      "",
    ].join("\n"),
  );
});

Deno.test("cli grad --json gives the value and the gradient by name", async () => {
  const run = await cli(["grad", ...NEURON, "--json"]);
  assert.equal(run.code, 0);
  const out = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(out), ["value", "grad"]);
  assert.deepEqual(Object.keys(out.grad), ["x1", "w1", "x2", "w2", "b"]);
  near(out.value, Math.SQRT1_2, 1e-12);
  const expected = { x1: -1.5, w1: 1, x2: 0.5, w2: 0, b: 0.5 };
  for (const [name, g] of Object.entries(expected)) {
    near(out.grad[name], g, 1e-12);
  }
});

Deno.test("cli grad reads expressions and values that start with a minus", async () => {
  const run = await cli(["grad", "-x^2 + 2**-1", "x=-3", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { value: -8.5, grad: { x: 6 } });
});

// Issue 15: a non-finite gradient is an error, like a non-finite value
// (this test used to expect Infinity in text and null in JSON, exit 0).
Deno.test("cli grad and graph report non-finite gradients like non-finite values", async () => {
  for (const json of [[], ["--json"]]) {
    assertFails(
      await cli(["grad", "sqrt(x)", "x=0", ...json]),
      1,
      /^error: The gradient of x is Infinity, not a finite number: the derivative of sqrt\(0\) is not finite$/,
      2,
    );
  }
  const run = await cli(["graph", "2*y + sqrt(x) - sqrt(x)", "x=0", "y=1"]);
  assertFails(
    run,
    1,
    /^error: The gradient of x is NaN, not a finite number: the derivative of sqrt\(0\) is not finite$/,
    2,
  );
  assert.equal(
    run.stderr.split("\n")[2],
    "        ^^^^^^^",
  );
});

Deno.test("cli grad takes --digits and warns about unused values", async () => {
  const run = await cli(["grad", "x / 3", "x=1", "y=2", "--digits", "3"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^x \/ 3 = 0\.333\n/);
  assert.equal(run.stderr, "warning: y is not used in the expression\n");
});

// ------------------------------------------------------------------ graph

Deno.test("cli graph prints the level-by-level text view with named leaves", async () => {
  const run = await cli(["graph", "a*b + c", "a=2", "b=-3", "c=10"]);
  assert.equal(run.code, 0);
  assert.match(
    run.stdout,
    /^level 0\n#4 +data 4\.0000 \| grad 1\.0000 \| prev \{ \+ \[#3, #2 c\] \}/,
  );
  assert.match(
    run.stdout,
    /#0 a +data 2\.0000 \| grad -3\.0000 \| prev \{ leaf \[\] \}/,
  );
  assert.match(
    run.stdout,
    /#1 b +data -3\.0000 \| grad 2\.0000 \| prev \{ leaf \[\] \}/,
  );
  assert.match(run.stdout, /#2 c +data 10\.0000 \| grad 1\.0000/);
});

Deno.test("cli graph --format dot and mermaid use the engine's views", async () => {
  const dot = await cli(["graph", "x*x", "x=3", "--format", "dot"]);
  assert.equal(dot.code, 0);
  assert.match(dot.stdout, /^digraph tapegrad \{/);
  assert.match(
    dot.stdout,
    /n0 \[label="\{ x \| data 3\.0000 \| grad 6\.0000 \}"\]/,
  );
  const mermaid = await cli([
    "graph",
    "tanh(x)",
    "x=0",
    "--format=mermaid",
    "--digits",
    "1",
  ]);
  assert.equal(mermaid.code, 0);
  assert.match(mermaid.stdout, /^flowchart LR\n/);
  assert.match(mermaid.stdout, /n0\["x \| data 0\.0 \| grad 1\.0"\]/);
});

Deno.test("cli graph --format svg draws the library's picture, to stdout or --output", async () => {
  const run = await cli([
    "graph",
    "a*b + c",
    "a=2",
    "b=-3",
    "c=10",
    "--format",
    "svg",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg /);
  const root = parseSvg(run.stdout);
  const groups = elements(root, "g");
  const values = groups.filter((g) => g.getAttribute("class") === "value");
  const ops = groups.filter((g) => g.getAttribute("class") === "op");
  assert.equal(values.length, 5); // a, b, c, a*b, a*b + c
  assert.deepEqual(ops.map((g) => g.textContent!.trim()), ["*", "+"]);
  assert.ok(
    values.some((g) =>
      elements(g, "text").map((t) => t.textContent).join("|") ===
        "a|data 2.0000|grad -3.0000"
    ),
  );
  await withTempDir(async (dir) => {
    const file = `${dir}/graph.svg`;
    const saved = await cli(
      [
        "graph",
        "a*b + c",
        "a=2",
        "b=-3",
        "c=10",
        "--format=svg",
        "--output",
        file,
      ],
      { permissions: [`--allow-write=${dir}`] },
    );
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(saved.stdout, `Saved the graph to ${JSON.stringify(file)}\n`);
    assert.equal(await Deno.readTextFile(file), run.stdout);
    const text = await cli(
      ["graph", "x*x", "x=3", "--output", `${dir}/graph.txt`],
      { permissions: [`--allow-write=${dir}`] },
    );
    assert.equal(text.code, 0, text.stderr);
    assert.match(await Deno.readTextFile(`${dir}/graph.txt`), /^level 0\n/);
  });
});

Deno.test("cli graph --format svg refuses a graph too big to read, and --output without permission", async () => {
  const big = Array.from({ length: 250 }, () => "x*x").join(" + ");
  assertFails(
    await cli(["graph", big, "x=1", "--format", "svg"]),
    1,
    /^error: The graph has more than 400 nodes, too many for a readable picture; use --format text \(or dot\)$/,
  );
  assertFails(
    await cli(["graph", "x", "x=1", "--format", "svg", "--output", "g.svg"]),
    1,
    /Permission to write "g\.svg" was not granted; run deno with --allow-write=g\.svg/,
  );
});

// ------------------------------------------------------------------ train

Deno.test("cli train defaults reproduce micrograd's demo at >= 97% accuracy", async () => {
  const run = await cli(["train", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const lines = parseLines(run.stdout);
  const final = (lines.at(-1) as { final: Record<string, number> }).final;
  assert.ok(final.accuracy >= 0.97, `accuracy ${final.accuracy}`);
  assert.equal(final.steps, 100);
  assert.equal(final.parameters, 337);
});

Deno.test("cli train --json writes logged steps then a final object", async () => {
  const run = await cli([
    "train",
    "--json",
    "--steps",
    "20",
    "--log-every",
    "5",
    "--val-split",
    "0.2",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const lines = parseLines(run.stdout);
  const steps = lines.slice(0, -1);
  assert.deepEqual(steps.map((s) => s.step), [1, 5, 10, 15, 20]);
  for (const s of steps) {
    for (const key of ["step", "steps", "loss", "accuracy", "lr", "seconds"]) {
      assert.equal(typeof s[key], "number", key);
    }
    assert.equal(s.steps, 20);
  }
  assert.equal(typeof steps.at(-1)!.valAccuracy, "number");
  const final = lines.at(-1)!.final as Record<string, unknown>;
  assert.deepEqual(Object.keys(lines.at(-1)!), ["final"]);
  assert.deepEqual(Object.keys(final), [
    "loss",
    "accuracy",
    "valAccuracy",
    "steps",
    "parameters",
    "seconds",
  ]);
  assert.equal(typeof final.valAccuracy, "number");
  // Without a validation split, valAccuracy is null.
  const plain = parseLines(
    (await cli(["train", "--json", "--steps", "2"])).stdout,
  );
  assert.equal(
    (plain.at(-1)!.final as Record<string, unknown>).valAccuracy,
    null,
  );
});

Deno.test("cli train prints progress lines, a summary and a plain boundary picture", async () => {
  const run = await cli(["train", "--steps", "30"]);
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout;
  assert.match(
    out,
    /^Training MLP 2-16-16-1 \(relu, 337 parameters\) on moons \(100 samples, noise 0\.1\)\n/,
  );
  assert.match(
    out,
    /^step {2}1\/30 {2}loss [\d.]+ +accuracy +[\d.]+% {2}lr 1$/m,
  );
  assert.match(out, /^step {2}3\/30 /m);
  assert.match(out, /^step 30\/30 /m);
  assert.match(out, /^Done: 30 steps in /m);
  assert.match(out, /^ {2}accuracy {4}\d+\.\d% train$/m);
  assert.match(out, /^ {2}model {7}MLP 2-16-16-1, relu, 337 parameters$/m);
  assert.match(
    out,
    /^ {2}optimizer {3}sgd, lr 1 → 0\.1 \(linear\), full batch$/m,
  );
  assert.match(out, /^\+-{72}\+$/m);
  assert.match(out, /^\|[.ox ]{72}\|$/m);
  assert.match(
    out,
    /^o class 0 \(region "\."\) {3}x class 1 \(region blank\)$/m,
  );
  assert.ok(!out.includes("\x1b"), "no escape codes");
});

Deno.test("cli train --quiet prints one summary line", async () => {
  const run = await cli([
    "train",
    "--quiet",
    "--steps",
    "5",
    "--dataset",
    "xor",
    "--samples",
    "40",
  ]);
  assert.equal(run.code, 0);
  assert.match(
    run.stdout,
    /^loss [\d.e+-]+ {2}accuracy [\d.]+% train {2}steps 5 {2}parameters 337 {2}time [\d.]+s\n$/,
  );
});

Deno.test("cli train handles every generated dataset and the optimizers", async () => {
  const cases = [
    ["--dataset", "circles", "--optimizer", "adam", "--loss", "bce"],
    [
      "--dataset",
      "spirals",
      "--classes",
      "4",
      "--optimizer",
      "adamw",
      "--batch-size",
      "16",
    ],
    [
      "--dataset",
      "blobs",
      "--loss",
      "mse",
      "--lr",
      "0.1",
      "--schedule",
      "cosine",
    ],
    [
      "--dataset",
      "xor",
      "--activation",
      "tanh",
      "--init",
      "xavier",
      "--schedule",
      "constant",
      "--lr",
      "0.1",
    ],
  ];
  for (const extra of cases) {
    const run = await cli([
      "train",
      "--json",
      "--steps",
      "10",
      "--samples",
      "60",
      ...extra,
    ]);
    assert.equal(run.code, 0, `${extra.join(" ")}: ${run.stderr}`);
    const final = parseLines(run.stdout).at(-1)!.final as Record<
      string,
      number
    >;
    assert.ok(final.accuracy >= 0 && final.accuracy <= 1);
    // The same run through the library gives the same numbers, bit for bit.
    const expected = trainLikeCli(extra);
    assert.equal(final.loss, expected.loss, extra.join(" "));
    assert.equal(final.accuracy, expected.accuracy, extra.join(" "));
    assert.equal(final.parameters, expected.parameters, extra.join(" "));
  }
});

/** What `train --steps 10 --samples 60 …extra` computes, through the library. */
function trainLikeCli(extra: string[]) {
  const option = (name: string) => {
    const at = extra.indexOf(`--${name}`);
    return at < 0 ? undefined : extra[at + 1];
  };
  const dataset = option("dataset") as DatasetName;
  const classes = Number(option("classes") ?? 3);
  const data = makeDataset(dataset, 60, {
    noise: DEFAULT_NOISE[dataset],
    seed: 1337,
    classes,
  });
  const loss = (option("loss") ??
    defaultLoss(data.classes)) as LossName;
  const model = new MLP(2, [16, 16, outputsForLoss(loss, data.classes)], {
    activation: (option("activation") ?? "relu") as Activation,
    init: (option("init") ?? "uniform") as Init,
    seed: 1337,
    tape: new Tape(),
  });
  const lr = option("lr");
  const batch = option("batch-size");
  const result = fit(model, data, {
    loss,
    optimizer: (option("optimizer") ?? "sgd") as OptimizerName,
    lr: lr === undefined ? undefined : Number(lr),
    schedule: (option("schedule") ?? "linear") as ScheduleName,
    steps: 10,
    batchSize: batch === undefined ? undefined : Number(batch),
    l2: 1e-4,
    seed: 1337,
  });
  return { ...result, parameters: model.parameterCount };
}

Deno.test("cli train --save writes a model that predict reproduces exactly", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/model.json`;
    const run = await cli(
      ["train", "--steps", "40", "--save", model, "--json"],
      {
        permissions: [`--allow-write=${dir}`, `--allow-read=${dir}`],
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const text = await Deno.readTextFile(model);
    const saved = JSON.parse(text);
    assert.equal(saved.format, "tapegrad-mlp");
    assert.equal(saved.nin, 2);
    assert.deepEqual(saved.layers.map((l: { nout: number }) => l.nout), [
      16,
      16,
      1,
    ]);
    assert.equal(saved.meta.loss, "hinge");
    assert.equal(saved.meta.dataset, "moons");
    assert.equal(saved.meta.classes, 2);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir), (e) => e.name), [
      "model.json",
    ]);

    // The same training in memory gives the same model, bit for bit…
    const data = makeMoons(100, { noise: 0.1, seed: 1337 });
    const mine = new MLP(2, [16, 16, 1], { seed: 1337, tape: new Tape() });
    const result = fit(mine, data, {
      loss: "hinge",
      steps: 40,
      seed: 1337,
      evalEvery: 4,
    });
    const final = parseLines(run.stdout).at(-1)!.final as Record<
      string,
      number
    >;
    assert.equal(final.accuracy, result.accuracy);
    assert.deepEqual(
      parseModel(text).toJSON().parameters,
      mine.toJSON().parameters,
    );

    // …and predict, from the file, agrees with the in-memory model.
    const points = [[0.5, -0.25], [-1, 0.5], [1.5, -0.4], [0, 1], [2, 0.5]];
    const predicted = await cli(
      [
        "predict",
        "--model",
        model,
        "--json",
        ...points.map((p) => p.join(",")),
      ],
      { permissions: [`--allow-read=${model}`] },
    );
    assert.equal(predicted.code, 0, predicted.stderr);
    const out = JSON.parse(predicted.stdout);
    assert.deepEqual(Object.keys(out), ["predictions"]);
    const classes = predictClasses(mine, points, "hinge");
    out.predictions.forEach((p: Record<string, unknown>, i: number) => {
      assert.deepEqual(p.input, points[i]);
      assert.deepEqual(p.outputs, mine.predict(points[i]));
      assert.equal(p.score, mine.predict(points[i])[0]);
      assert.equal(p.class, classes[i]);
    });
  });
});

Deno.test("cli train on a CSV file normalises inputs, and predict uses labels", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/flowers.json`;
    const run = await cli(
      [
        "train",
        "--dataset",
        `${TESTDATA}flowers.csv`,
        "--label",
        "species",
        "--val-split",
        "0.25",
        "--save",
        model,
      ],
      { permissions: [`--allow-read`, `--allow-write=${dir}`] },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /on .*flowers\.csv \(60 rows, 3 features, 3 classes, standardised\)/,
    );
    assert.match(
      run.stdout,
      /\(No boundary picture: the data has 3 features, not 2\.\)/,
    );
    assert.match(run.stdout, /accuracy {4}\d+\.\d% train · \d+\.\d% val/);
    const meta = JSON.parse(await Deno.readTextFile(model)).meta;
    assert.deepEqual(meta.labelNames, ["setosa", "versicolor", "virginica"]);
    assert.deepEqual(meta.featureNames, [
      "petal_length",
      "petal_width",
      "sepal_ratio",
    ]);
    assert.equal(meta.loss, "cross-entropy");
    assert.equal(meta.normalization.mean.length, 3);

    const labelled = await cli([
      "predict",
      "--model",
      model,
      "--csv",
      `${TESTDATA}flowers_test.csv`,
    ], {
      permissions: READ,
    });
    assert.equal(labelled.code, 0, labelled.stderr);
    assert.match(labelled.stdout, /^input +class +score +actual\n/);
    assert.match(
      labelled.stdout,
      /^1\.1, 0\.4, 0\.3 +setosa +[\d.]+ +setosa$/m,
    );
    assert.match(labelled.stdout, /^accuracy 100\.0% \(2\/2\)$/m);

    const json = await cli([
      "predict",
      "--model",
      model,
      "--csv",
      `${TESTDATA}flowers_points.csv`,
      "--json",
    ], {
      permissions: READ,
    });
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout);
    assert.deepEqual(out.predictions.map((p: { label: string }) => p.label), [
      "setosa",
      "versicolor",
      "virginica",
    ]);
    for (const p of out.predictions) {
      assert.equal(p.probabilities.length, 3);
      near(
        p.probabilities.reduce((a: number, b: number) => a + b, 0),
        1,
        1e-12,
      );
      assert.equal(p.score, Math.max(...p.probabilities));
    }
  });
});

Deno.test("cli train --plot writes a standalone SVG of the boundary and loss curve", async () => {
  await withTempDir(async (dir) => {
    const plot = `${dir}/boundary.svg`;
    const run = await cli([
      "train",
      "--steps",
      "10",
      "--samples",
      "50",
      "--plot",
      plot,
      "--quiet",
    ], {
      permissions: [`--allow-write=${plot}`],
    });
    assert.equal(run.code, 0, run.stderr);
    const svg = await Deno.readTextFile(plot);
    assert.match(
      svg,
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/,
    );
    assert.match(svg, /<\/svg>\n$/);
    assert.equal(
      svg.match(/<circle cx=/g)!.length,
      50 + 2 + (svg.includes("misclassified") ? 1 : 0),
    );
    assert.match(
      svg,
      /<polyline points="[\d., ]+" fill="none" stroke="#0072b2"/,
    );
    assert.match(svg, /<path d="M/);
  });
});

// -------------------------------------------------------------- bad input

Deno.test("cli rejects unknown commands and options with exit code 2", async () => {
  assertFails(
    await cli(["trian"]),
    2,
    /Unknown command "trian"; did you mean train\? \(commands: train, predict, grad, graph, demo/,
  );
  assertFails(await cli(["--frobnicate"]), 2, /Unknown option "--frobnicate"/);
  assertFails(
    await cli(["train", "--lyers", "16"]),
    2,
    /Unknown option "--lyers" for train; did you mean --layers\?/,
  );
  assertFails(await cli(["demo", "-z"]), 2, /Unknown option "-z" for demo/);
  assertFails(
    await cli(["train", "extra"]),
    2,
    /train takes no positional arguments, got "extra"/,
  );
  assertFails(
    await cli(["train", "--json=yes"]),
    2,
    /Option --json is a switch and takes no value/,
  );
});

Deno.test("cli rejects flags without values and malformed values", async () => {
  assertFails(
    await cli(["train", "--steps"]),
    2,
    /Option --steps needs a value: --steps <n>/,
  );
  assertFails(
    await cli(["train", "--lr", "--json"]),
    2,
    /Option --lr needs a value/,
  );
  assertFails(
    await cli(["train", "--steps", "ten"]),
    2,
    /--steps must be an integer from 1 to 10000000, got "ten"/,
  );
  assertFails(
    await cli(["train", "--steps", "2.5"]),
    2,
    /--steps must be an integer/,
  );
  assertFails(
    await cli(["train", "--lr", "-0.5"]),
    2,
    /--lr must be a positive number, got "-0\.5"/,
  );
  assertFails(
    await cli(["train", "--lr", "1e999"]),
    2,
    /--lr must be a positive number, got "1e999"/,
  );
  assertFails(
    await cli(["train", "--val-split", "1"]),
    2,
    /--val-split must be a number in \[0, 1\), got "1"/,
  );
  assertFails(
    await cli(["train", "--layers", "16,,x"]),
    2,
    /--layers must be comma-separated positive integers such as 16,16 .*got "16,,x": entry 2 is empty/,
  );
  assertFails(
    await cli(["train", "--layers", "16,x"]),
    2,
    /"x" is not a positive integer/,
  );
  assertFails(await cli(["train", "--layers", "0"]), 2, /--layers must be/);
  assertFails(
    await cli(["train", "--optimizer", "adma"]),
    2,
    /--optimizer must be one of sgd, adam, adamw; got "adma" \(did you mean adam\?\)/,
  );
  assertFails(
    await cli(["train", "--dataset", "mons"]),
    2,
    /--dataset must be one of moons, circles, spirals, xor, blobs, digits, iris, wine, breast-cancer or a path to a \.csv file; got "mons" \(did you mean moons\?\)/,
  );
  assertFails(
    await cli(["train", "--classes", "3"]),
    2,
    /--classes applies to spirals and blobs/,
  );
  assertFails(
    await cli(["train", "--no-normalize"]),
    2,
    /--no-normalize applies to CSV files only/,
  );
  assertFails(
    await cli(["train", "--dataset", "x.csv", "--samples", "5"]),
    2,
    /--samples applies to generated datasets/,
  );
  assertFails(
    await cli(["train", "--dataset", "spirals", "--loss", "hinge"]),
    2,
    /--loss hinge is for 2 classes and the data has 3/,
  );
  assertFails(
    await cli(["graph", "x", "x=1", "--format", "png"]),
    2,
    /--format must be one of text, dot, mermaid, svg; got "png"/,
  );
});

Deno.test("cli reports missing, unreadable and malformed files with exit code 1", async () => {
  assertFails(
    await cli(["train", "--dataset", "missing.csv"], { permissions: READ }),
    1,
    /Cannot read CSV file "missing\.csv": no such file/,
  );
  assertFails(
    await cli(["train", "--dataset", TESTDATA], { permissions: READ }),
    1,
    /Cannot read CSV file ".*testdata\/": it is a directory/,
  );
  assertFails(
    await cli(["train", "--dataset", `${TESTDATA}ragged.csv`], {
      permissions: READ,
    }),
    1,
    /Bad CSV file ".*ragged\.csv": Line 3 has 2 columns, expected 3/,
  );
  assertFails(
    await cli(["predict", "--model", "missing.json", "1,2"], {
      permissions: READ,
    }),
    1,
    /Cannot read model file "missing\.json": no such file/,
  );
  assertFails(
    await cli(["predict", "--model", `${TESTDATA}not_json.txt`, "1,2"], {
      permissions: READ,
    }),
    1,
    /Model file ".*not_json\.txt" is not JSON/,
  );
  assertFails(
    await cli(["predict", "--model", `${TESTDATA}not_model.json`, "1,2"], {
      permissions: READ,
    }),
    1,
    /".*not_model\.json" is not a tapegrad model: format is undefined, expected "tapegrad-mlp"/,
  );
});

Deno.test("cli predict rejects inputs of the wrong size", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/m.json`;
    const trained = await cli([
      "train",
      "--steps",
      "5",
      "--quiet",
      "--save",
      model,
    ], {
      permissions: [`--allow-write=${dir}`, `--allow-read=${dir}`],
    });
    assert.equal(trained.code, 0, trained.stderr);
    const perms = { permissions: READ };
    assertFails(
      await cli(["predict", "--model", model, "1,2,3"], perms),
      2,
      /Point "1,2,3" has 3 values; the model takes 2 \(x1, x2\)/,
    );
    assertFails(
      await cli(["predict", "--model", model, "1,abc"], perms),
      2,
      /Point "1,abc" must be comma-separated numbers .*entry 2 \("abc"\) is not a number/,
    );
    assertFails(
      await cli([
        "predict",
        "--model",
        model,
        "--csv",
        `${TESTDATA}flowers.csv`,
      ], perms),
      1,
      /has 4 columns; the model takes 2 features \(x1, x2\)/,
    );
    assertFails(
      await cli(
        ["predict", "--model", model, "--csv", `${TESTDATA}ragged.csv`],
        perms,
      ),
      1,
      /line 3 has 2 fields, expected 3|Line 3 has 2 columns/,
    );
    assertFails(
      await cli(["predict", "--model", model], perms),
      2,
      /predict needs points such as 0\.5,-1\.2/,
    );
    assertFails(
      await cli(["predict", "1,2"], perms),
      2,
      /predict needs --model <model\.json>/,
    );
    const negative = await cli([
      "predict",
      "--model",
      model,
      "-0.5,1",
      "2,-0.5",
    ], perms);
    assert.equal(negative.code, 0, negative.stderr);
    assert.match(negative.stdout, /^-0\.5, 1 +[01] +/m);
  });
});

Deno.test("cli grad and graph show expression errors with a caret", async () => {
  assertFails(
    await cli(["grad", "x * (y + ", "x=1", "y=2"]),
    2,
    /^error: Syntax error at column 10: Expression ends too early/,
    2,
  );
  const syntax = await cli(["grad", "2x + 1", "x=1"]);
  assert.deepEqual(syntax.stderr.split("\n"), [
    'error: Syntax error at column 2: Unexpected name "x": an operator (+ - * / ^) is missing before it',
    "  2x + 1",
    "   ^",
    "",
  ]);
  const unknown = await cli(["graph", "x * yy", "x=1"]);
  assert.equal(unknown.code, 2);
  assert.deepEqual(unknown.stderr.split("\n"), [
    'error: Unknown variable "yy": give it a value, as in yy=1',
    "  x * yy",
    "      ^^",
    "",
  ]);
  assertFails(
    await cli(["grad", "foo(x)", "x=1"]),
    2,
    /Unknown function "foo"; known functions: exp, log, tanh, relu, sigmoid, sqrt, abs/,
    2,
  );
  assertFails(
    await cli(["grad", "1 + log(x)", "x=0"]),
    1,
    /log\(0\) is -Infinity, not a finite number/,
    2,
  );
  assertFails(
    await cli(["grad"]),
    2,
    /grad needs an expression, as in: grad "x\^2 \+ 1" x=3/,
  );
  assertFails(
    await cli(["grad", "x", "x"]),
    2,
    /Expected name=value after the expression, got "x"/,
  );
  assertFails(
    await cli(["grad", "x", "x=abc"]),
    2,
    /Value of x must be a number, got "abc"/,
  );
  assertFails(
    await cli(["grad", "x", "x=1", "x=2"]),
    2,
    /Variable x is given twice/,
  );
});

Deno.test("cli train names the step and op when the loss goes non-finite, and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const run = await cli(
      [
        "train",
        "--lr",
        "1e6",
        "--steps",
        "20",
        "--quiet",
        "--save",
        `${dir}/m.json`,
        "--plot",
        `${dir}/p.svg`,
      ],
      { permissions: [`--allow-write=${dir}`, `--allow-read=${dir}`] },
    );
    assertFails(
      run,
      1,
      /^error: Training diverged at step \d+: the loss became (-?Infinity|NaN); it first appeared in op \S+ \(node \d+\), which produced \S+; try a smaller --lr/,
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  });
});

Deno.test("cli fails with a clear message when a permission is missing", async () => {
  await withTempDir(async (dir) => {
    const save = `${dir}/m.json`;
    assertFails(
      await cli(["train", "--steps", "2", "--save", save]),
      1,
      /Permission to write ".*m\.json" was not granted; run deno with --allow-write=.*m\.json/,
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
    assertFails(
      await cli(["train", "--dataset", `${TESTDATA}flowers.csv`]),
      1,
      /Permission to read ".*flowers\.csv" was not granted; run deno with --allow-read=/,
    );
  });
});

Deno.test("cli --debug adds the stack trace", async () => {
  const run = await cli(["train", "--steps", "x", "--debug"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^error: --steps must be/);
  assert.match(run.stderr, /^UsageError: --steps must be/m);
  assert.match(run.stderr, /^\s+at /m);
});

Deno.test("cli train --features saves the features, and predict computes them from a point", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/circles.json`;
    const run = await cli(
      [
        "train",
        "--dataset",
        "circles",
        "--features",
        "x2,y2,xy",
        "--layers",
        "4",
        "--steps",
        "150",
        "--quiet",
        "--save",
        model,
      ],
      { permissions: [`--allow-write=${dir}`] },
    );
    assert.equal(run.code, 0, run.stderr);
    const saved = parseModel(await Deno.readTextFile(model));
    assert.equal(saved.nin, 3);
    assert.deepEqual(saved.features, ["x2", "y2", "xy"]);
    // The file's model on the features computed by hand, through forward().
    const points = [[0.1, -0.2], [1, 0.3]];
    const predicted = await cli(
      [
        "predict",
        "--model",
        model,
        "--json",
        ...points.map((p) => p.join(",")),
      ],
      { permissions: [`--allow-read=${model}`] },
    );
    assert.equal(predicted.code, 0, predicted.stderr);
    const out = JSON.parse(predicted.stdout).predictions;
    points.forEach(([x, y], i) => {
      const direct = saved.forward([x * x, y * y, x * y])[0].data;
      assert.deepEqual(out[i].input, [x, y]);
      assert.equal(out[i].outputs[0], direct);
    });
    // Circles: the inner point is class 1, the outer one class 0.
    assert.equal(out[0].class, 1);
    assert.equal(out[1].class, 0);
    assertFails(
      await cli(["predict", "--model", model, "1,2,3"], {
        permissions: [`--allow-read=${model}`],
      }),
      2,
      /^error: Point "1,2,3" has 3 values; the model takes 2 \(x, y\)$/,
    );
  });
  assertFails(
    await cli(["train", "--features", "x,q"]),
    2,
    /^error: --features: unknown feature "q"; expected some of x, y, x2, y2, xy, sinx, siny$/,
  );
  assertFails(
    await cli(["train", "--dataset", "a.csv", "--features", "x"], {
      permissions: READ,
    }),
    2,
    /^error: --features applies to generated datasets/,
  );
});

Deno.test("cli train --dataset sine fits a regression with mse, and predict prints values", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/sine.json`;
    const run = await cli(
      [
        "train",
        "--dataset",
        "sine",
        "--layers",
        "16,16",
        "--activation",
        "tanh",
        "--optimizer",
        "adam",
        "--lr",
        "0.02",
        "--steps",
        "300",
        "--json",
        "--save",
        model,
      ],
      { permissions: [`--allow-write=${dir}`] },
    );
    assert.equal(run.code, 0, run.stderr);
    const final = parseLines(run.stdout).at(-1)!.final as Record<
      string,
      number
    >;
    // Noise 0.1 on sin x: a good fit leaves an mse near 0.01 and R² near 1.
    assert.ok((final.loss as number) < 0.03, `loss ${final.loss}`);
    assert.ok((final.accuracy as number) > 0.95, `R² ${final.accuracy}`);
    const saved = parseModel(await Deno.readTextFile(model));
    assert.equal(saved.nin, 1);
    assert.equal((saved.meta as Record<string, unknown>).classes, 0);
    const predicted = await cli(
      ["predict", "--model", model, "--json", "1.5708", "-1.5708"],
      { permissions: [`--allow-read=${model}`] },
    );
    assert.equal(predicted.code, 0, predicted.stderr);
    const out = JSON.parse(predicted.stdout).predictions;
    assert.equal(out[0].value, saved.predict([1.5708])[0]);
    assert.ok(Math.abs(out[0].value - 1) < 0.15, `sin(π/2) ≈ ${out[0].value}`);
    assert.ok(Math.abs(out[1].value + 1) < 0.15, `sin(-π/2) ≈ ${out[1].value}`);
    const text = await cli(["predict", "--model", model, "0"], {
      permissions: [`--allow-read=${model}`],
    });
    assert.match(text.stdout, /^input\s+value\n0\s+-?\d/);
  });
  assertFails(
    await cli(["train", "--dataset", "sine", "--loss", "hinge"]),
    2,
    /^error: --loss hinge is for classes; sine is a regression problem, trained with mse$/,
  );
  assertFails(
    await cli(["train", "--dataset", "abs", "--features", "x2"]),
    2,
    /^error: --features applies to 2-D data; abs has one input$/,
  );
  const plane = await cli([
    "train",
    "--dataset",
    "plane",
    "--quiet",
    "--optimizer",
    "adam",
    "--lr",
    "0.02",
    "--steps",
    "200",
  ]);
  assert.equal(plane.code, 0, plane.stderr);
  assert.match(plane.stdout, /^loss \S+ {2}R² 0\.9\d+ train/);
});
