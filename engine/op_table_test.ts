/**
 * The op table's promise: an op appended at the end of the table, plus its
 * math, works everywhere. Appends `atan` to a copy of the engine, exactly as
 * the "Adding an op" paragraph in ops.ts says, and runs it recorded, replayed
 * and compiled, backward included, in a subprocess.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ENGINE = dirname(fileURLToPath(import.meta.url));

/** Inserts `line` after the one line of `source` that contains `anchor`. */
function insertAfter(source: string, anchor: string, line: string): string {
  const at = source.indexOf(anchor);
  assert.ok(at >= 0, `anchor ${JSON.stringify(anchor)} not found in ops.ts`);
  assert.equal(source.indexOf(anchor, at + 1), -1, `anchor ${anchor} twice`);
  const end = source.indexOf("\n", at) + 1;
  return source.slice(0, end) + line + "\n" + source.slice(end);
}

// Runs in the copy: prints what each mode computed, as JSON.
const SCRIPT = `
import { CompiledStep, compileRange, Op, opName, Tape } from "./mod.ts";
const out = {};
const tape = new Tape();
const x = tape.leaf(0.5), w = tape.leaf(-1.5), c = tape.leaf(2, false);
// A live gathered dot recorded before the mark: its pool record must survive.
const dot = tape.dot([w, c], [x, w], -1);
const dotInputs = tape.inputsOf(dot);
const mark = tape.mark();
const a = tape.unary(Op.Atan, x);
const y = tape.binary(Op.Mul, a, w);
out.name = opName(Op.Atan);
out.recorded = tape.data[a];
tape.backward(y);
out.gradX = tape.grad[x];
tape.data[x] = -2;
tape.replay(mark);
out.replayed = tape.data[a];
tape.zeroGrad(0, mark);
tape.backward(y);
out.replayGradX = tape.grad[x];
// Compiled: one program over the atan node and its user.
const program = compileRange(tape, mark, tape.size);
out.namesOp = program.source.includes("U(/* Op.Atan */ 21, ");
tape.data[x] = 1;
program.forward(0);
out.compiled = tape.data[a];
out.compiledY = tape.data[y];
tape.zeroGrad(0, mark);
tape.setGrad(y, 1);
program.backward(0);
out.compiledGradX = tape.grad[x];
const step = new CompiledStep(tape, { firstSample: mark, sampleSize: 2, samples: 1, root: y });
tape.data[x] = 3;
step.forward();
tape.zeroGrad(0, mark);
step.backward();
out.stepY = tape.data[y];
out.stepGradX = tape.grad[x];
// Rewind past the atan node, record another dot: the live dot keeps its pool.
tape.rewind(mark);
tape.dot([c, x], [c, c], w);
out.dotInputsKept = JSON.stringify(tape.inputsOf(dot)) === JSON.stringify(dotInputs);
tape.data[x] = 0.5;
tape.replay(0);
out.dotValue = tape.data[dot];
// An n-ary op without a code generator: the compiler says so.
const s = tape.sum([x, w]);
tape.op[s] = Op.Prod;
try {
  compileRange(tape, s, s + 1);
} catch (error) {
  out.compileError = \`\${error.name}: \${error.message}\`;
}
console.log(JSON.stringify(out));
`;

Deno.test("An op appended at the end of the op table works recorded, replayed and compiled", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tapegrad_op_" });
  try {
    for (const sub of ["", "wasm"]) {
      await Deno.mkdir(join(dir, sub), { recursive: true });
      for await (const entry of Deno.readDir(join(ENGINE, sub))) {
        if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
          await Deno.copyFile(
            join(ENGINE, sub, entry.name),
            join(dir, sub, entry.name),
          );
        }
      }
    }
    let ops = await Deno.readTextFile(join(dir, "ops.ts"));
    ops = insertAfter(
      ops,
      '["DotRange",',
      '  ["Atan", "atan", Arity.Unary],\n  ["Prod", "prod", Arity.Nary],',
    );
    ops = insertAfter(
      ops,
      "case Op.Softplus: return softplus(x);",
      "    case Op.Atan: return Math.atan(x);",
    );
    ops = insertAfter(
      ops,
      "case Op.Softplus: return sigmoid(x);",
      "    case Op.Atan: return 1 / (1 + x * x);",
    );
    await Deno.writeTextFile(join(dir, "ops.ts"), ops);
    await Deno.writeTextFile(join(dir, "atan_check.ts"), SCRIPT);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--quiet", join(dir, "atan_check.ts")],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const out = JSON.parse(text);
    const slope = (x: number) => 1 / (1 + x * x);
    assert.equal(out.name, "atan");
    assert.equal(out.recorded, Math.atan(0.5));
    assert.equal(out.gradX, slope(0.5) * -1.5);
    assert.equal(out.replayed, Math.atan(-2));
    assert.equal(out.replayGradX, slope(-2) * -1.5);
    assert.equal(out.namesOp, true);
    assert.equal(out.compiled, Math.atan(1));
    assert.equal(out.compiledY, Math.atan(1) * -1.5);
    assert.equal(out.compiledGradX, slope(1) * -1.5);
    assert.equal(out.stepY, Math.atan(3) * -1.5);
    assert.equal(out.stepGradX, slope(3) * -1.5);
    assert.equal(out.dotInputsKept, true);
    assert.equal(out.dotValue, -1.5 * 0.5 + 2 * -1.5);
    assert.equal(
      out.compileError,
      "RangeError: Cannot compile op prod (code 22): compile.ts has no code generator for it; use tape.replay() and tape.backward()",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
