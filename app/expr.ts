/**
 * A small expression language for the autograd calculator: a tokenizer and
 * recursive-descent parser that keep source positions, and an evaluator that
 * builds the expression on a tape with variables as labelled leaves.
 *
 * Runs anywhere (no Deno or Node APIs), so the browser playground can reuse it.
 *
 * Grammar, loosest binding first:
 * ```
 * expr    = term (("+" | "-") term)*
 * term    = unary (("*" | "/") unary)*
 * unary   = ("-" | "+") unary | power
 * power   = primary (("^" | "**") unary)?        right-associative
 * primary = number | name | name "(" expr ("," expr)* ")" | "(" expr ")"
 * ```
 * So `-x^2` is `-(x^2)`, `2^3^2` is `2^9` and `2^-1` is `0.5`.
 *
 * @module
 */

import { NonFiniteError, Tape, Value } from "../mod.ts";

/** A half-open range `[start, end)` of character offsets in the source. */
export interface Span {
  /** Offset of the first character. */
  start: number;
  /** Offset one past the last character. */
  end: number;
}

/** A binary operator; `**` is parsed as `^`. */
export type BinaryOperator = "+" | "-" | "*" | "/" | "^";

/** A node of the syntax tree; every node knows its source span. */
export type Expr =
  | { kind: "number"; value: number; span: Span }
  | { kind: "variable"; name: string; span: Span }
  | { kind: "negate"; operand: Expr; span: Span }
  | {
    kind: "binary";
    op: BinaryOperator;
    left: Expr;
    right: Expr;
    /** The operator's own span, for error markers. */
    opSpan: Span;
    span: Span;
  }
  | { kind: "call"; name: string; args: Expr[]; nameSpan: Span; span: Span };

/** What went wrong: bad syntax, an unknown name, or a non-finite value. */
export type ExprErrorKind = "syntax" | "name" | "value";

/**
 * An error in an expression, with the span it concerns so that a caret
 * marker can be drawn under it (see {@linkcode ExprError.marker}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExprError, parseExpression } from "./expr.ts";
 * try {
 *   parseExpression("x + * y");
 *   assert.fail("no error");
 * } catch (error) {
 *   assert.ok(error instanceof ExprError);
 *   assert.equal(error.kind, "syntax");
 *   assert.deepEqual(error.marker(), ["x + * y", "    ^"]);
 * }
 * ```
 */
export class ExprError extends Error {
  /** Syntax, name or value error. */
  readonly kind: ExprErrorKind;
  /** The whole expression text. */
  readonly source: string;
  /** The part of the source the error is about. */
  readonly span: Span;

  /**
   * Creates the error.
   *
   * @param kind What kind of error.
   * @param message One line without the position.
   * @param source The expression text.
   * @param span The part of the source the error is about.
   */
  constructor(
    kind: ExprErrorKind,
    message: string,
    source: string,
    span: Span,
  ) {
    super(message);
    this.name = "ExprError";
    this.kind = kind;
    this.source = source;
    this.span = span;
  }

  /** The 1-based column of the error's first character. */
  get column(): number {
    return this.span.start + 1;
  }

  /**
   * Two lines: the expression, and carets under the span.
   *
   * @returns The source line and the marker line.
   */
  marker(): string[] {
    const chars = [...this.source];
    const start = Math.min(this.span.start, chars.length);
    const width = Math.max(1, Math.min(this.span.end, chars.length) - start);
    const before = chars.slice(0, start).map((c) => (c === "\t" ? "\t" : " "));
    return [this.source, before.join("") + "^".repeat(width)];
  }
}

/** A function the language knows, with its arity. */
interface FunctionInfo {
  arity: number;
  apply: (args: Value[]) => Value;
}

const FUNCTIONS: Readonly<Record<string, FunctionInfo>> = {
  exp: { arity: 1, apply: ([x]) => x.exp() },
  log: { arity: 1, apply: ([x]) => x.log() },
  tanh: { arity: 1, apply: ([x]) => x.tanh() },
  relu: { arity: 1, apply: ([x]) => x.relu() },
  sigmoid: { arity: 1, apply: ([x]) => x.sigmoid() },
  sqrt: { arity: 1, apply: ([x]) => x.sqrt() },
  abs: { arity: 1, apply: ([x]) => x.abs() },
  softplus: { arity: 1, apply: ([x]) => x.softplus() },
  max: { arity: 2, apply: ([a, b]) => a.max(b) },
  min: { arity: 2, apply: ([a, b]) => a.min(b) },
};

/** The names of the functions expressions may call, in display order. */
export const FUNCTION_NAMES: readonly string[] = Object.keys(FUNCTIONS);

/**
 * The deepest nesting the parser accepts: parentheses, function calls,
 * signs and powers inside one another. Deeper input is a syntax error rather
 * than a stack overflow.
 */
export const MAX_NESTING = 250;

/**
 * The deepest expression tree accepted: a chain such as `a + b + c + …` is
 * one level deeper per operator, so this bounds terms in one sum or product.
 */
export const MAX_TREE_DEPTH = 1000;

/** Named constants, used when no variable of that name is bound. */
export const CONSTANTS: Readonly<Record<string, number>> = {
  pi: Math.PI,
  e: Math.E,
};

// ---------------------------------------------------------------- tokenizer

type TokenKind = "number" | "name" | "op" | "(" | ")" | "," | "end";

interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

// Typographic look-alikes pasted from papers and docs.
const ALIASES: Readonly<Record<string, string>> = {
  "−": "-",
  "×": "*",
  "·": "*",
};

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = source.slice(i);
    const number = NUMBER.exec(rest);
    if (number) {
      let end = i + number[0].length;
      // "1e" or "2.5e+" is a malformed exponent, not a number times e.
      const tail = /^[eE][+-]?/.exec(source.slice(end));
      if (tail && !/^[eE][+-]?\d/.test(source.slice(end))) {
        end += tail[0].length;
        throw new ExprError(
          "syntax",
          `Malformed number ${
            JSON.stringify(source.slice(i, end))
          }: the exponent needs digits, as in 1e-3`,
          source,
          { start: i, end },
        );
      }
      tokens.push({ kind: "number", text: number[0], start: i, end });
      i = end;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      tokens.push({
        kind: "name",
        text: name[0],
        start: i,
        end: i + name[0].length,
      });
      i += name[0].length;
      continue;
    }
    if (rest.startsWith("**")) {
      tokens.push({ kind: "op", text: "^", start: i, end: i + 2 });
      i += 2;
      continue;
    }
    const op = ALIASES[c] ?? c;
    if ("+-*/^".includes(op)) {
      tokens.push({ kind: "op", text: op, start: i, end: i + 1 });
    } else if (op === "(" || op === ")" || op === ",") {
      tokens.push({ kind: op, text: op, start: i, end: i + 1 });
    } else {
      throw new ExprError(
        "syntax",
        `Unexpected character ${
          JSON.stringify(c)
        }; expressions use numbers, names, + - * / ^ ** ( ) and commas`,
        source,
        { start: i, end: i + 1 },
      );
    }
    i++;
  }
  tokens.push({
    kind: "end",
    text: "",
    start: source.length,
    end: source.length,
  });
  return tokens;
}

// ------------------------------------------------------------------- parser

class Parser {
  private position = 0;
  private nesting = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parse(): Expr {
    if (this.peek().kind === "end") {
      throw this.error(
        'Empty expression: write one such as "x^2 + 1"',
        this.peek(),
      );
    }
    const expr = this.expression();
    const next = this.peek();
    if (next.kind !== "end") {
      if (next.kind === ")") {
        throw this.error('Unexpected ")" with no matching "("', next);
      }
      throw this.error(
        `Unexpected ${
          describeToken(next)
        }: an operator (+ - * / ^) is missing before it`,
        next,
      );
    }
    return expr;
  }

  private peek(): Token {
    return this.tokens[this.position];
  }

  private take(): Token {
    return this.tokens[this.position++];
  }

  private error(message: string, at: Span): ExprError {
    return new ExprError("syntax", message, this.source, {
      start: at.start,
      end: at.end,
    });
  }

  private expression(): Expr {
    let left = this.term();
    for (;;) {
      const token = this.peek();
      if (token.kind !== "op" || (token.text !== "+" && token.text !== "-")) {
        return left;
      }
      this.take();
      const right = this.term();
      left = binary(token, left, right);
    }
  }

  private term(): Expr {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      if (token.kind !== "op" || (token.text !== "*" && token.text !== "/")) {
        return left;
      }
      this.take();
      const right = this.unary();
      left = binary(token, left, right);
    }
  }

  private unary(): Expr {
    const token = this.peek();
    // Every nested construct passes through here: count, and stop well
    // before the call stack would.
    if (++this.nesting > MAX_NESTING) {
      throw this.error(
        `Expression is nested too deeply: more than ${MAX_NESTING} levels of parentheses, function calls, signs or powers`,
        token,
      );
    }
    try {
      return this.unaryInner(token);
    } finally {
      this.nesting--;
    }
  }

  private unaryInner(token: Token): Expr {
    if (token.kind === "op" && (token.text === "-" || token.text === "+")) {
      this.take();
      const operand = this.unary();
      if (token.text === "+") return operand;
      return {
        kind: "negate",
        operand,
        span: { start: token.start, end: operand.span.end },
      };
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.primary();
    const token = this.peek();
    if (token.kind === "op" && token.text === "^") {
      this.take();
      const exponent = this.unary();
      return binary(token, base, exponent);
    }
    return base;
  }

  private primary(): Expr {
    const token = this.take();
    switch (token.kind) {
      case "number": {
        const value = Number(token.text);
        if (!Number.isFinite(value)) {
          throw this.error(
            `Number ${token.text} is too large: numbers must be finite (at most about 1.8e308)`,
            token,
          );
        }
        return { kind: "number", value, span: spanOf(token) };
      }
      case "name":
        if (this.peek().kind === "(") return this.call(token);
        if (Object.hasOwn(FUNCTIONS, token.text)) {
          throw this.error(
            `${token.text} is a function: call it with parentheses, as in ${token.text}(x)`,
            token,
          );
        }
        return { kind: "variable", name: token.text, span: spanOf(token) };
      case "(": {
        const inner = this.expression();
        const close = this.closing(token);
        // The parentheses belong to the span, so markers cover them.
        return { ...inner, span: { start: token.start, end: close.end } };
      }
      default:
        throw this.error(
          token.kind === "end"
            ? `Expression ends too early: expected a number, a name or "(" ${
              afterWhat(this.tokens[this.position - 2])
            }`
            : `Unexpected ${
              describeToken(token)
            }: expected a number, a name or "("`,
          token,
        );
    }
  }

  private call(name: Token): Expr {
    const info = Object.hasOwn(FUNCTIONS, name.text)
      ? FUNCTIONS[name.text]
      : undefined;
    if (info === undefined) {
      throw new ExprError(
        "name",
        `Unknown function ${JSON.stringify(name.text)}; known functions: ${
          FUNCTION_NAMES.join(", ")
        }`,
        this.source,
        spanOf(name),
      );
    }
    const open = this.take();
    const args: Expr[] = [this.expression()];
    while (this.peek().kind === ",") {
      this.take();
      args.push(this.expression());
    }
    const close = this.closing(open);
    if (args.length !== info.arity) {
      throw new ExprError(
        "syntax",
        `${name.text}() takes ${info.arity} argument${
          info.arity === 1 ? "" : "s"
        }, got ${args.length}`,
        this.source,
        { start: name.start, end: close.end },
      );
    }
    return {
      kind: "call",
      name: name.text,
      args,
      nameSpan: spanOf(name),
      span: { start: name.start, end: close.end },
    };
  }

  private closing(open: Token): Token {
    const token = this.peek();
    if (token.kind === ")") return this.take();
    if (token.kind === "end") {
      throw new ExprError(
        "syntax",
        `Missing ")" to close the "(" at column ${open.start + 1}`,
        this.source,
        spanOf(open),
      );
    }
    throw this.error(
      `Unexpected ${
        describeToken(token)
      }: expected ")" to close the "(" at column ${open.start + 1}`,
      token,
    );
  }
}

function spanOf(token: Token): Span {
  return { start: token.start, end: token.end };
}

function binary(token: Token, left: Expr, right: Expr): Expr {
  return {
    kind: "binary",
    op: token.text as BinaryOperator,
    left,
    right,
    opSpan: spanOf(token),
    span: { start: left.span.start, end: right.span.end },
  };
}

function describeToken(token: Token): string {
  switch (token.kind) {
    case "number":
      return `number ${token.text}`;
    case "name":
      return `name ${JSON.stringify(token.text)}`;
    case "end":
      return "end of expression";
    default:
      return JSON.stringify(token.text);
  }
}

function afterWhat(token: Token | undefined): string {
  return token === undefined ? "" : `after ${JSON.stringify(token.text)}`;
}

/**
 * Parses an expression into a syntax tree.
 *
 * @param source The expression text, e.g. `"tanh(x1*w1 + x2*w2 + b)"`.
 * @returns The tree; every node carries its source span.
 * @throws {ExprError} On a syntax error or an unknown function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseExpression } from "./expr.ts";
 * const tree = parseExpression("-x^2");
 * assert.equal(tree.kind, "negate");
 * ```
 */
export function parseExpression(source: string): Expr {
  if (typeof source !== "string") {
    throw new TypeError(`Expression must be a string, got ${typeof source}`);
  }
  const tree = new Parser(source, tokenize(source)).parse();
  const deepest = deepestNode(tree);
  if (deepest !== undefined) {
    throw new ExprError(
      "syntax",
      `Expression is too long: its tree is more than ${MAX_TREE_DEPTH} operations deep (about ${MAX_TREE_DEPTH} terms in one sum or product); split it up`,
      source,
      deepest.span,
    );
  }
  return tree;
}

// The first node deeper than MAX_TREE_DEPTH, found without recursion (the
// tree may be far deeper than the call stack allows).
function deepestNode(tree: Expr): Expr | undefined {
  const stack: [Expr, number][] = [[tree, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_TREE_DEPTH) return node;
    if (node.kind === "negate") stack.push([node.operand, depth + 1]);
    else if (node.kind === "binary") {
      stack.push([node.right, depth + 1], [node.left, depth + 1]);
    } else if (node.kind === "call") {
      for (const arg of node.args) stack.push([arg, depth + 1]);
    }
  }
  return undefined;
}

/**
 * The names of the variables in an expression, in order of first appearance
 * (constants such as `pi` count as variables only when bound).
 *
 * @param expr A parsed expression.
 * @returns The distinct variable names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseExpression, variablesOf } from "./expr.ts";
 * assert.deepEqual(variablesOf(parseExpression("x*y + x")), ["x", "y"]);
 * ```
 */
export function variablesOf(expr: Expr): string[] {
  const names: string[] = [];
  const visit = (node: Expr): void => {
    switch (node.kind) {
      case "variable":
        if (!names.includes(node.name)) names.push(node.name);
        return;
      case "negate":
        return visit(node.operand);
      case "binary":
        visit(node.left);
        return visit(node.right);
      case "call":
        return node.args.forEach(visit);
      case "number":
        return;
    }
  };
  visit(expr);
  return names;
}

/**
 * Formats an expression tree back to text with minimal parentheses.
 *
 * @param expr A parsed expression.
 * @returns Canonical text, e.g. `"-(x ^ 2)"` becomes `"-x^2"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatExpression, parseExpression } from "./expr.ts";
 * assert.equal(formatExpression(parseExpression("(a+b)*c**2")), "(a + b)*c^2");
 * ```
 */
export function formatExpression(expr: Expr): string {
  return show(expr, 0);
}

const PRECEDENCE: Readonly<Record<BinaryOperator, number>> = {
  "+": 1,
  "-": 1,
  "*": 2,
  "/": 2,
  "^": 4,
};
const NEGATE_PRECEDENCE = 3;

function show(expr: Expr, context: number): string {
  switch (expr.kind) {
    case "number":
      return String(expr.value);
    case "variable":
      return expr.name;
    case "call":
      return `${expr.name}(${expr.args.map((a) => show(a, 0)).join(", ")})`;
    case "negate": {
      const text = `-${show(expr.operand, NEGATE_PRECEDENCE)}`;
      return context > NEGATE_PRECEDENCE ? `(${text})` : text;
    }
    case "binary": {
      const p = PRECEDENCE[expr.op];
      const rightAssoc = expr.op === "^";
      const left = show(expr.left, rightAssoc ? p + 1 : p);
      // Right operands of - and / need parentheses at equal precedence.
      const right = show(expr.right, rightAssoc ? p : p + 1);
      const text = expr.op === "+" || expr.op === "-"
        ? `${left} ${expr.op} ${right}`
        : `${left}${expr.op}${right}`;
      return p < context ? `(${text})` : text;
    }
  }
}

/** Options for {@linkcode evaluateExpression}. */
export interface EvaluateOptions {
  /** The tape to record on (default: a new tape). */
  tape?: Tape;
  /**
   * When `true` (the default), an op that produces NaN or ±Infinity throws
   * an {@linkcode ExprError} of kind `"value"` marking that sub-expression.
   */
  finite?: boolean;
}

/** The result of {@linkcode evaluateExpression}. */
export interface Evaluation {
  /** The expression's value, the root of its graph. */
  value: Value;
  /** The leaf of each variable, labelled with its name, in order of appearance. */
  variables: Map<string, Value>;
  /** The tape the graph was recorded on. */
  tape: Tape;
  /** The Value of every sub-expression (for locating bad gradients). */
  nodes: Map<Expr, Value>;
}

/**
 * Builds an expression on a tape: each variable becomes one leaf labelled
 * with its name (shared by all its uses), each number a constant. Call
 * `value.backward()` afterwards for the partial derivatives.
 *
 * @param source The expression text.
 * @param bindings A value for every variable.
 * @param options The tape, and whether non-finite values are errors.
 * @returns The root Value and the variable leaves.
 * @throws {ExprError} On a syntax error, an unbound variable, or (with
 * `finite`) an op whose result is not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluateExpression } from "./expr.ts";
 * const { value, variables } = evaluateExpression("x*y + x^2", { x: 3, y: -2 });
 * value.backward();
 * assert.equal(value.data, 3);
 * assert.equal(variables.get("x")!.grad, 4);
 * assert.equal(variables.get("y")!.grad, 3);
 * ```
 */
export function evaluateExpression(
  source: string,
  bindings: Readonly<Record<string, number>>,
  options: EvaluateOptions = {},
): Evaluation {
  const tree = parseExpression(source);
  const tape = options.tape ?? new Tape();
  const variables = new Map<string, Value>();
  const has = (name: string) =>
    Object.prototype.hasOwnProperty.call(bindings, name);
  // Leaves first, in order of appearance, so they get the lowest indices.
  for (const name of variablesOf(tree)) {
    if (has(name)) {
      const data = bindings[name];
      if (typeof data !== "number" || !Number.isFinite(data)) {
        throw new ExprError(
          "value",
          `Variable ${name} must be a finite number, got ${String(data)}`,
          source,
          findVariable(tree, name),
        );
      }
      variables.set(name, new Value(data, { tape, label: name }));
    } else if (!Object.hasOwn(CONSTANTS, name)) {
      throw new ExprError(
        "name",
        `Unknown variable ${
          JSON.stringify(name)
        }: give it a value, as in ${name}=1`,
        source,
        findVariable(tree, name),
      );
    }
  }
  const constant = (x: number) => Value.at(tape, tape.constant(x));
  const checkFinite = tape.checkFinite;
  tape.checkFinite = options.finite ?? true;
  const nodes = new Map<Expr, Value>();
  const build = (node: Expr): Value => {
    const value = buildNode(node);
    nodes.set(node, value);
    return value;
  };
  const buildNode = (node: Expr): Value => {
    switch (node.kind) {
      case "number":
        return constant(node.value);
      case "variable":
        return variables.get(node.name) ?? constant(CONSTANTS[node.name]);
      case "negate":
        if (node.operand.kind === "number") {
          return constant(-node.operand.value);
        }
        return guard(node, () => build(node.operand).neg());
      case "binary": {
        const left = build(node.left), right = build(node.right);
        return guard(node, () => applyBinary(node.op, left, right));
      }
      case "call": {
        const args = node.args.map(build);
        return guard(node, () => FUNCTIONS[node.name].apply(args));
      }
    }
  };
  const guard = (node: Expr, make: () => Value): Value => {
    try {
      return make();
    } catch (error) {
      if (!(error instanceof NonFiniteError)) throw error;
      throw new ExprError(
        "value",
        describeNonFinite(node, error),
        source,
        node.span,
      );
    }
  };
  try {
    return { value: build(tree), variables, tape, nodes };
  } finally {
    tape.checkFinite = checkFinite;
  }
}

function applyBinary(op: BinaryOperator, a: Value, b: Value): Value {
  switch (op) {
    case "+":
      return a.add(b);
    case "-":
      return a.sub(b);
    case "*":
      return a.mul(b);
    case "/":
      return a.div(b);
    case "^":
      return a.pow(b);
  }
}

function describeNonFinite(node: Expr, error: NonFiniteError): string {
  const inputs = error.report.inputs.map((x) => String(x.data));
  const result = String(error.report.data);
  if (node.kind === "binary") {
    return `${inputs[0]} ${node.op} ${
      inputs[1]
    } is ${result}, not a finite number`;
  }
  const name = node.kind === "call" ? node.name : "-";
  return `${name}(${inputs.join(", ")}) is ${result}, not a finite number`;
}

function findVariable(expr: Expr, name: string): Span {
  let found: Span | undefined;
  const visit = (node: Expr): void => {
    if (found) return;
    if (node.kind === "variable" && node.name === name) found = node.span;
    else if (node.kind === "negate") visit(node.operand);
    else if (node.kind === "binary") {
      visit(node.left);
      visit(node.right);
    } else if (node.kind === "call") node.args.forEach(visit);
  };
  visit(expr);
  return found ?? { start: 0, end: 0 };
}
