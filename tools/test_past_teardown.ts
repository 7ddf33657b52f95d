/**
 * Runs `deno test` with the given arguments and passes its output through.
 * When Deno then aborts while tearing down (SIGABRT, exit 134) after its
 * summary said every test passed, the run counts as passed, with a note:
 * jax-js, a rival the benches compare against, sometimes corrupts the heap
 * that Deno frees at exit (about 1 run in 20 of `bench/jaxjs_test.ts`,
 * always after the summary). Any other failure keeps its exit code.
 *
 * Run: `deno run --allow-run tools/test_past_teardown.ts --allow-read bench/jaxjs_test.ts`.
 *
 * @module
 */

const SIGABRT_EXIT = 134;

/**
 * The exit code for a `deno test` run that ended with `status` after
 * printing `output` (its last few KiB are enough): 0 for an abort after a
 * summary of no failures, else the run's own code.
 *
 * @param status How the run ended.
 * @param output What it printed (colours allowed).
 * @returns The exit code to report.
 */
export function exitCodeFor(
  status: { success: boolean; code: number; signal: string | null },
  output: string,
): number {
  if (status.success) return 0;
  const aborted = status.signal === "SIGABRT" || status.code === SIGABRT_EXIT;
  // Colour codes off, to read the summary line.
  // deno-lint-ignore no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const allPassed = /^ok \| [1-9]\d* passed(?: \(\d+ steps?\))? \| 0 failed/m
    .test(plain);
  return aborted && allPassed ? 0 : status.code;
}

if (import.meta.main) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", ...Deno.args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // Pass the output through as it comes, keeping its tail for the summary.
  let tail = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
  }
  const status = await child.status;
  const code = exitCodeFor(status, tail);
  if (code === 0 && !status.success) {
    console.error(
      "note: deno aborted while tearing down, after every test passed (jax-js corrupts the heap freed at exit); counted as passed",
    );
  }
  Deno.exit(code);
}
