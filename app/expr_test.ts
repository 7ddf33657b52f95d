// The expression language: precedence, functions, gradients, error positions.

import assert from "node:assert/strict";
import {
  evaluateExpression,
  ExprError,
  formatExpression,
  MAX_NESTING,
  MAX_TREE_DEPTH,
  parseExpression,
  variablesOf,
} from "./expr.ts";

function value(source: string, bindings: Record<string, number> = {}): number {
  return evaluateExpression(source, bindings).value.data;
}

function grads(
  source: string,
  bindings: Record<string, number>,
): Record<string, number> {
  const { value, variables } = evaluateExpression(source, bindings);
  value.backward();
  return Object.fromEntries([...variables].map(([k, v]) => [k, v.grad]));
}

function near(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${actual} is not within ${tolerance} of ${expected}`,
  );
}

function throwsExpr(
  source: string,
  bindings: Record<string, number>,
  kind: string,
  message: RegExp,
  caret: string,
): void {
  try {
    evaluateExpression(source, bindings);
  } catch (error) {
    assert.ok(error instanceof ExprError, `${error}`);
    assert.equal(error.kind, kind);
    assert.match(error.message, message);
    assert.deepEqual(error.marker(), [source, caret]);
    return;
  }
  assert.fail(`${JSON.stringify(source)} did not throw`);
}

Deno.test("evaluateExpression() follows precedence and associativity", () => {
  assert.equal(value("1 + 2 * 3"), 7);
  assert.equal(value("(1 + 2) * 3"), 9);
  assert.equal(value("8 / 4 / 2"), 1);
  assert.equal(value("10 - 4 - 3"), 3);
  assert.equal(value("2 ^ 3 ^ 2"), 512);
  assert.equal(value("2 ** 3 ** 2"), 512);
  assert.equal(value("-x^2", { x: 3 }), -9);
  assert.equal(value("(-x)^2", { x: 3 }), 9);
  assert.equal(value("2^-1"), 0.5);
  assert.equal(value("-2^2"), -4);
  assert.equal(value("--x", { x: 3 }), 3);
  assert.equal(value("+x", { x: 3 }), 3);
  assert.equal(value("3 * -x", { x: 2 }), -6);
  assert.equal(value("1.5e1 + .5"), 15.5);
  assert.equal(value("2 × 3 − 1"), 5);
});

Deno.test("evaluateExpression() knows the functions and constants", () => {
  near(value("exp(1)"), Math.E);
  near(value("log(e)"), 1);
  near(value("tanh(0.5)"), Math.tanh(0.5));
  assert.equal(value("relu(-2) + relu(3)"), 3);
  near(value("sigmoid(0)"), 0.5);
  assert.equal(value("sqrt(16)"), 4);
  assert.equal(value("abs(-2.5)"), 2.5);
  near(value("softplus(0)"), Math.log(2));
  assert.equal(value("max(2, 3) + min(2, 3)"), 5);
  near(value("pi"), Math.PI);
  assert.equal(value("pi", { pi: 3 }), 3);
});

Deno.test("evaluateExpression() gives the micrograd lecture's neuron gradients", () => {
  const g = grads("tanh(x1*w1 + x2*w2 + b)", {
    x1: 2,
    x2: 0,
    w1: -3,
    w2: 1,
    b: 6.8813735870195432,
  });
  assert.deepEqual(Object.keys(g), ["x1", "w1", "x2", "w2", "b"]);
  near(g.x1, -1.5, 1e-12);
  near(g.w1, 1, 1e-12);
  near(g.x2, 0.5, 1e-12);
  near(g.w2, 0, 1e-12);
  near(g.b, 0.5, 1e-12);
});

Deno.test("evaluateExpression() gradients match central differences", () => {
  const cases: [string, Record<string, number>][] = [
    ["x*y + x^2 / y - exp(-x)", { x: 0.7, y: -1.3 }],
    ["sigmoid(a*b) * log(abs(a) + 1) + sqrt(b^2 + 1)", { a: 1.1, b: 0.4 }],
    ["(x + 2)^y - tanh(x * y)", { x: 0.5, y: 1.7 }],
    ["softplus(x - y) + max(x, y) * min(x, 2)", { x: 0.3, y: -0.2 }],
  ];
  for (const [source, bindings] of cases) {
    const g = grads(source, bindings);
    for (const name of Object.keys(bindings)) {
      const h = 1e-6;
      const plus = value(source, { ...bindings, [name]: bindings[name] + h });
      const minus = value(source, { ...bindings, [name]: bindings[name] - h });
      near(g[name], (plus - minus) / (2 * h), 1e-6);
    }
  }
});

Deno.test("evaluateExpression() makes one labelled leaf per variable", () => {
  const { value, variables, tape } = evaluateExpression("x*x + x", { x: 3 });
  value.backward();
  assert.equal(variables.size, 1);
  const x = variables.get("x")!;
  assert.equal(x.label, "x");
  assert.equal(x.index, 0);
  assert.equal(x.grad, 7);
  assert.equal(tape.labels.size, 1);
});

Deno.test("variablesOf() lists names in order of first appearance", () => {
  assert.deepEqual(variablesOf(parseExpression("b*a + max(c, a) - b")), [
    "b",
    "a",
    "c",
  ]);
});

Deno.test("formatExpression() prints minimal parentheses that reparse alike", () => {
  const cases: [string, string][] = [
    ["-x^2", "-x^2"],
    ["(-x)^2", "(-x)^2"],
    ["a-(b-c)", "a - (b - c)"],
    ["(a-b)-c", "a - b - c"],
    ["a/(b/c)", "a/(b/c)"],
    ["(a^b)^c", "(a^b)^c"],
    ["a^b^c", "a^b^c"],
    ["tanh(x*w+b)", "tanh(x*w + b)"],
  ];
  for (const [source, expected] of cases) {
    const text = formatExpression(parseExpression(source));
    assert.equal(text, expected);
    const env = { a: 1.5, b: 0.5, c: 2, x: 3, w: -1 };
    near(value(text, env), value(source, env));
  }
});

Deno.test("parseExpression() reports syntax errors with a caret", () => {
  throwsExpr("", {}, "syntax", /Empty expression/, "^");
  throwsExpr("x +", { x: 1 }, "syntax", /ends too early.*after "\+"/, "   ^");
  throwsExpr(
    "(x",
    { x: 1 },
    "syntax",
    /Missing "\)" to close the "\(" at column 1/,
    "^",
  );
  throwsExpr(
    "x)",
    { x: 1 },
    "syntax",
    /Unexpected "\)" with no matching "\("/,
    " ^",
  );
  throwsExpr(
    "2x",
    { x: 1 },
    "syntax",
    /Unexpected name "x": an operator/,
    " ^",
  );
  throwsExpr("x + * y", { x: 1, y: 1 }, "syntax", /Unexpected "\*"/, "    ^");
  throwsExpr(
    "x @ y",
    { x: 1, y: 1 },
    "syntax",
    /Unexpected character "@"/,
    "  ^",
  );
  throwsExpr("1e + x", { x: 1 }, "syntax", /Malformed number "1e"/, "^^");
  throwsExpr("exp x", { x: 1 }, "syntax", /exp is a function/, "^^^");
  throwsExpr(
    "max(x)",
    { x: 1 },
    "syntax",
    /max\(\) takes 2 arguments, got 1/,
    "^^^^^^",
  );
  throwsExpr(
    "tanh(x, x)",
    { x: 1 },
    "syntax",
    /tanh\(\) takes 1 argument, got 2/,
    "^^^^^^^^^^",
  );
  throwsExpr("f(x", { x: 1 }, "name", /Unknown function "f"/, "^");
});

Deno.test("evaluateExpression() reports unknown names and functions", () => {
  throwsExpr(
    "x + foo(y)",
    { x: 1, y: 1 },
    "name",
    /Unknown function "foo"; known functions: exp, log/,
    "    ^^^",
  );
  throwsExpr(
    "x * yy",
    { x: 1 },
    "name",
    /Unknown variable "yy": give it a value, as in yy=1/,
    "    ^^",
  );
});

Deno.test("evaluateExpression() marks the sub-expression that is not finite", () => {
  throwsExpr(
    "1 + log(x - 2)",
    { x: 2 },
    "value",
    /log\(0\) is -Infinity/,
    "    ^^^^^^^^^^",
  );
  throwsExpr(
    "x / (x - x)",
    { x: 1 },
    "value",
    /1 \/ 0 is Infinity/,
    "^^^^^^^^^^^",
  );
  throwsExpr(
    "sqrt(-x) * 2",
    { x: 1 },
    "value",
    /sqrt\(-1\) is NaN/,
    "^^^^^^^^",
  );
  // With finite: false the value is just computed.
  const { value } = evaluateExpression("log(x)", { x: 0 }, { finite: false });
  assert.equal(value.data, -Infinity);
});

Deno.test("evaluateExpression() leaves the tape's checkFinite as it found it", () => {
  const { tape } = evaluateExpression("x", { x: 1 });
  assert.equal(tape.checkFinite, false);
});

Deno.test("parseExpression() rejects nesting past MAX_NESTING with a syntax error, not a stack overflow", () => {
  const nested = (open: string, close: string, n: number) =>
    open.repeat(n) + "x" + close.repeat(n);
  // At the limit every form evaluates and differentiates.
  assert.equal(value(nested("(", ")", MAX_NESTING - 1), { x: 3 }), 3);
  assert.equal(value(nested("-", "", MAX_NESTING - 1), { x: 3 }), -3);
  assert.equal(value(nested("abs(", ")", MAX_NESTING - 1), { x: -3 }), 3);
  assert.equal(value("1^".repeat(MAX_NESTING - 1) + "x", { x: 3 }), 1);
  for (
    const source of [
      nested("(", ")", 2000),
      nested("-", "", 2000),
      nested("exp(", ")", 1000),
      "x^".repeat(3000) + "x",
      nested("(", ")", MAX_NESTING + 1),
    ]
  ) {
    assert.throws(
      () => parseExpression(source),
      (error: unknown) =>
        error instanceof ExprError && error.kind === "syntax" &&
        error.message ===
          `Expression is nested too deeply: more than ${MAX_NESTING} levels of parentheses, function calls, signs or powers`,
    );
  }
});

Deno.test("parseExpression() rejects chains deeper than MAX_TREE_DEPTH; shorter ones differentiate", () => {
  const chain = (n: number) => Array(n).fill("x").join(" + ");
  const { value: sum, variables } = evaluateExpression(
    chain(MAX_TREE_DEPTH),
    { x: 2 },
  );
  sum.backward();
  assert.equal(sum.data, 2 * MAX_TREE_DEPTH);
  assert.equal(variables.get("x")!.grad, MAX_TREE_DEPTH);
  for (const n of [MAX_TREE_DEPTH + 1, 8000, 30000]) {
    assert.throws(
      () => parseExpression(chain(n)),
      (error: unknown) =>
        error instanceof ExprError && error.kind === "syntax" &&
        /^Expression is too long: its tree is more than 1000 operations deep/
          .test(error.message),
    );
  }
});

Deno.test("evaluateExpression() treats Object.prototype names as ordinary names", () => {
  const bindings: Record<string, number> = { constructor: 2, toString: 3 };
  Object.defineProperty(bindings, "__proto__", {
    value: 4,
    enumerable: true,
  });
  assert.equal(value("constructor*toString + __proto__", bindings), 10);
  throwsExpr(
    "valueOf + 1",
    {},
    "name",
    /^Unknown variable "valueOf": give it a value, as in valueOf=1$/,
    "^^^^^^^",
  );
  throwsExpr(
    "toString(1)",
    {},
    "name",
    /^Unknown function "toString"; known functions: exp, /,
    "^^^^^^^^",
  );
});

Deno.test("parseExpression() rejects a literal that overflows to Infinity", () => {
  throwsExpr(
    "2*1e400",
    {},
    "syntax",
    /^Number 1e400 is too large: numbers must be finite \(at most about 1\.8e308\)$/,
    "  ^^^^^",
  );
  assert.equal(value("1.5e308"), 1.5e308);
});
