/**
 * The CLI's contact with the outside world: output streams, terminal
 * detection, reading input files and checking output files' directories
 * and permissions, each with a clear message when a file or a permission is
 * missing (writing is in `safe_write.ts`).
 *
 * @module
 */

import { quote, RuntimeError } from "../app/errors.ts";

/** Where a command writes, and what kind of terminal it writes to. */
export interface Io {
  /** Writes text to stdout as is (add your own newlines). */
  out(text: string): void;
  /** Writes text to stderr as is. */
  err(text: string): void;
  /** Whether stdout is an interactive terminal. */
  readonly isTerminal: boolean;
  /** Whether stderr is an interactive terminal (for live progress). */
  readonly errIsTerminal: boolean;
  /** Whether to use ANSI colours on stdout. */
  readonly color: boolean;
  /** Terminal width in columns (80 when unknown). */
  readonly columns: number;
}

const encoder = new TextEncoder();

function writeAll(
  stream: { writeSync(p: Uint8Array): number },
  text: string,
): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

/**
 * The process's real stdout and stderr.
 *
 * @param noColor Whether `--no-color` was given.
 * @returns An {@linkcode Io} for the running process.
 */
export function processIo(noColor: boolean): Io {
  const isTerminal = Deno.stdout.isTerminal();
  let columns = 80;
  if (isTerminal) {
    try {
      columns = Deno.consoleSize().columns || 80;
    } catch {
      // Not a console after all; keep the default.
    }
  }
  return {
    out: (text) => writeAll(Deno.stdout, text),
    err: (text) => writeAll(Deno.stderr, text),
    isTerminal,
    errIsTerminal: Deno.stderr.isTerminal(),
    color: isTerminal && !Deno.noColor && !noColor,
    columns,
  };
}

/**
 * Makes sure read permission for `path` is granted, prompting on a terminal
 * like Deno does, so that a run fails before doing work rather than after.
 *
 * @param path The file to read.
 * @throws {RuntimeError} If the permission is not granted.
 */
export function requireRead(path: string): void {
  requirePermission(
    { name: "read", path },
    `read ${quote(path)}`,
    `--allow-read=${path}`,
  );
}

/**
 * Makes sure an output file can be written: its directory exists and write
 * permission is granted (for the directory, so the file can be written to a
 * temporary name and renamed; or at least for the file itself).
 *
 * @param path The file to write.
 * @throws {RuntimeError} If the directory is missing or permission is denied.
 */
export function requireWrite(path: string): void {
  const dir = dirname(path);
  if (
    Deno.permissions.querySync({ name: "write", path: dir }).state === "granted"
  ) {
    checkDirectory(dir, path);
    return;
  }
  requirePermission(
    { name: "write", path },
    `write ${quote(path)}`,
    `--allow-write=${path}`,
  );
  checkDirectory(dir, path);
}

function checkDirectory(dir: string, path: string): void {
  try {
    const info = Deno.statSync(dir);
    if (!info.isDirectory) {
      throw new RuntimeError(
        `Cannot write ${quote(path)}: ${quote(dir)} is not a directory`,
      );
    }
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    if (error instanceof Deno.errors.NotFound) {
      throw new RuntimeError(
        `Cannot write ${quote(path)}: directory ${quote(dir)} does not exist`,
      );
    }
    // Without read permission we cannot stat; the write itself will tell.
  }
}

function requirePermission(
  descriptor: Deno.PermissionDescriptor,
  what: string,
  flag: string,
): void {
  let state = Deno.permissions.querySync(descriptor).state;
  if (state === "prompt") {
    state = Deno.permissions.requestSync(descriptor).state;
  }
  if (state !== "granted") {
    throw new RuntimeError(
      `Permission to ${what} was not granted; run deno with ${flag}`,
    );
  }
}

/**
 * Reads a text file, with one-line messages for the usual failures.
 *
 * @param path The file.
 * @param what What the file is, for messages (e.g. `"model file"`).
 * @returns The file's text.
 * @throws {RuntimeError} If the file is missing, a directory, unreadable or not permitted.
 */
export function readText(path: string, what: string): string {
  requireRead(path);
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new RuntimeError(
        `Cannot read ${what} ${quote(path)}: no such file`,
      );
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new RuntimeError(
        `Cannot read ${what} ${quote(path)}: it is a directory`,
      );
    }
    if (error instanceof Deno.errors.NotCapable) {
      throw new RuntimeError(
        `Cannot read ${what} ${
          quote(path)
        }: permission denied (deno needs --allow-read=${path})`,
      );
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      // The operating system refused, not Deno: no flag would help.
      throw new RuntimeError(
        `Cannot read ${what} ${quote(path)}: the operating system refused: ${
          error.message.replace(/,?\s*open\s+'[^']*'.*$/, "")
        }`,
      );
    }
    if (
      error instanceof TypeError && /utf-8|invalid data/i.test(error.message)
    ) {
      throw new RuntimeError(
        `Cannot read ${what} ${quote(path)}: it is not UTF-8 text`,
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new RuntimeError(`Cannot read ${what} ${quote(path)}: ${reason}`, {
      cause: error,
    });
  }
}

/**
 * The directory part of a path (`"."` for a bare file name).
 *
 * @param path A file path.
 * @returns Its directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dirname } from "./io.ts";
 * assert.equal(dirname("out/model.json"), "out");
 * assert.equal(dirname("model.json"), ".");
 * ```
 */
export function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (i < 0) return ".";
  if (i === 0) return path[0];
  return path.slice(0, i);
}
