// Test helper shared by the CLI's tests: runs cli.ts in a child Deno.

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

/** What a CLI run printed, and its exit code. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run cli.ts …args` with exactly the given Deno permissions
 * (none by default), no colours and no stdin.
 */
export async function runCli(
  args: string[],
  options: { permissions?: string[]; cwd?: string } = {},
): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...(options.permissions ?? []), CLI, ...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}
