// `train --mode` and `--precision`: the WebAssembly backend from the CLI.
import assert from "node:assert/strict";
import { runCli } from "./_testing.ts";

function run(args: string[]) {
  return runCli(["train", ...args]);
}

/** The final JSON record, and the mode the summary's "Done" line names. */
async function train(args: string[]) {
  const json = await run(["--json", ...args]);
  if (json.code !== 0) return { ...json, final: undefined, mode: undefined };
  const text = await run(args);
  return {
    ...json,
    final: JSON.parse(json.stdout.trim().split("\n").at(-1)!).final,
    mode: text.stdout.match(/^Done: .*steps\/s, (\w+)\)$/m)?.[1],
  };
}

Deno.test("train --mode wasm follows the compiled path's losses in float64 and float32", async () => {
  const common = ["--layers", "64,64", "--steps", "20"];
  const compiled = await train([...common, "--mode", "compiled"]);
  const wasm = await train([...common, "--mode", "wasm"]);
  const f32 = await train([
    ...common,
    "--mode",
    "wasm",
    "--precision",
    "float32",
  ]);
  assert.equal(compiled.mode, "compiled");
  assert.equal(wasm.mode, "wasm");
  assert.equal(f32.mode, "wasm");
  // SIMD sums in another order: float64 agrees to rounding, float32 to ~1e-5.
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  assert.ok(rel(wasm.final.loss, compiled.final.loss) < 1e-9);
  assert.ok(rel(f32.final.loss, compiled.final.loss) < 1e-4);
  assert.equal(wasm.final.accuracy, compiled.final.accuracy);
});

Deno.test("train --mode and --precision reject what they do not accept", async () => {
  const bad = await train(["--mode", "fast"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^error: --mode must be one of auto, record, replay, compiled, wasm; got "fast"/,
  );
  const workers = await train(["--workers", "2", "--mode", "wasm"]);
  assert.equal(workers.code, 2);
  assert.match(
    workers.stderr,
    /^error: --workers 2 runs float64 compiled steps on workers; it does not combine with --mode wasm/,
  );
  const f32 = await train(["--mode", "compiled", "--precision", "float32"]);
  assert.equal(f32.code, 2);
  assert.match(
    f32.stderr,
    /^error: --precision float32 needs --mode wasm or auto/,
  );
});
