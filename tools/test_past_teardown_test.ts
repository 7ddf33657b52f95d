import assert from "node:assert/strict";
import { exitCodeFor } from "./test_past_teardown.ts";

const ABORT = { success: false, code: 134, signal: "SIGABRT" };
const SUMMARY =
  "a ... ok (3ms)\n\n\x1b[32mok\x1b[0m | 6 passed | 0 failed (1s)\n\n";

Deno.test("exitCodeFor() forgives only an abort after a summary with no failures", () => {
  assert.equal(
    exitCodeFor(ABORT, SUMMARY + "corrupted size vs. prev_size\n"),
    0,
  );
  assert.equal(
    exitCodeFor(ABORT, "ok | 3 passed (2 steps) | 0 failed (1s)\n"),
    0,
  );
  // An abort before the summary, a failed test, no tests, another signal.
  assert.equal(exitCodeFor(ABORT, "a ... ok (3ms)\nb ..."), 134);
  assert.equal(
    exitCodeFor(ABORT, "FAILED | 5 passed | 1 failed (1s)\n"),
    134,
  );
  assert.equal(exitCodeFor(ABORT, "ok | 0 passed | 0 failed (1s)\n"), 134);
  assert.equal(
    exitCodeFor({ success: false, code: 139, signal: "SIGSEGV" }, SUMMARY),
    139,
  );
  assert.equal(
    exitCodeFor({ success: false, code: 1, signal: null }, SUMMARY),
    1,
  );
  assert.equal(exitCodeFor({ success: true, code: 0, signal: null }, ""), 0);
});

Deno.test("test_past_teardown passes deno test's code through for passing and failing files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tapegrad-teardown-" });
  try {
    await Deno.writeTextFile(
      `${dir}/pass_test.ts`,
      'Deno.test("p", () => {});\n',
    );
    await Deno.writeTextFile(
      `${dir}/fail_test.ts`,
      'Deno.test("f", () => { throw new Error("no"); });\n',
    );
    const tool = new URL("./test_past_teardown.ts", import.meta.url).pathname;
    const run = async (file: string) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-run", tool, "--no-check", file],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
    };
    const pass = await run("pass_test.ts");
    assert.equal(pass.code, 0);
    assert.match(pass.stdout, /p \.\.\. .*ok/);
    const fail = await run("fail_test.ts");
    assert.equal(fail.code, 1);
    assert.match(fail.stdout, /FAILED/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
