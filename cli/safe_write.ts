/**
 * Output files that never destroy data: every target is checked before any
 * work (same file as an input or as another output, by identity rather than
 * spelling; not a regular file), and all outputs are written to temporary
 * files, flushed to disk, and renamed over their targets only when every one
 * is complete. An interrupt (SIGINT, SIGTERM) while writing removes the
 * temporary files and renames nothing.
 *
 * @module
 */

import { quote, RuntimeError, UsageError } from "../app/errors.ts";
import { dirname, requireWrite } from "./io.ts";

/** An output or input file named by an option, e.g. `--save m.json`. */
export interface NamedFile {
  /** The option that named it, without dashes (`"save"`). */
  flag: string;
  /** The path as given. */
  path: string;
}

/** One output file's complete contents. */
export interface OutputFile {
  /** The target path. */
  path: string;
  /** The complete contents. */
  text: string;
}

/** Hooks for tests: called after every temporary file is written. */
export interface WriteHooks {
  /** Runs after all temporary files are complete, before any rename. */
  afterTemps?: () => void | Promise<void>;
}

/**
 * An interrupt (SIGINT or SIGTERM) arrived while outputs were being written;
 * nothing was renamed and the temporary files are gone. Exits with 128 plus
 * the signal number, as shells do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InterruptedError } from "./safe_write.ts";
 * assert.equal(new InterruptedError("SIGINT").exitCode, 130);
 * ```
 */
export class InterruptedError extends RuntimeError {
  override readonly exitCode: number;

  /**
   * Creates the error.
   *
   * @param signal The signal that arrived.
   */
  constructor(signal: "SIGINT" | "SIGTERM") {
    super(`Interrupted by ${signal} while writing; no output file was written`);
    this.name = "InterruptedError";
    this.exitCode = signal === "SIGINT" ? 130 : 143;
  }
}

const granted = (descriptor: Deno.PermissionDescriptor) =>
  Deno.permissions.querySync(descriptor).state === "granted";

/**
 * Collapses `.` and `..` segments of a path without touching the disk, for
 * comparisons when the file system may not be read.
 *
 * @param path A path.
 * @returns The same path, normalised.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lexicalPath } from "./safe_write.ts";
 * assert.equal(lexicalPath("out/../out/./data.csv"), "out/data.csv");
 * assert.equal(lexicalPath("./a.json"), "a.json");
 * ```
 */
export function lexicalPath(path: string): string {
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split(/[\\/]+/)) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length > 0 && parts.at(-1) !== "..") {
      parts.pop();
    } else if (!(part === ".." && absolute)) parts.push(part);
  }
  return (absolute ? "/" : "") + parts.join("/");
}

function basename(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return path.slice(i + 1);
}

/** What a path refers to: its real location, and the file's identity if it exists. */
interface Identity {
  key: string;
  inode?: string;
  info?: Deno.FileInfo;
}

function identify(path: string): Identity {
  let key = lexicalPath(path);
  try {
    key = `${Deno.realPathSync(dirname(path))}/${basename(path)}`;
  } catch {
    // No read permission or no directory: compare by spelling; the write
    // checks report a missing directory.
  }
  try {
    const info = Deno.lstatSync(path);
    let inode: string | undefined;
    if (info.ino !== null) {
      const target = info.isSymlink ? Deno.statSync(path) : info;
      inode = `${target.dev}:${target.ino}`;
    }
    return { key, inode, info };
  } catch {
    return { key };
  }
}

function same(a: Identity, b: Identity): boolean {
  return a.key === b.key ||
    (a.inode !== undefined && a.inode === b.inode);
}

/**
 * Checks output targets before any work is done: each is a file name (not
 * `-`), its directory exists and may be written, it is not an existing
 * directory, device, FIFO, socket or symbolic link, and no two outputs, and
 * no output and input, are the same file (compared by real path and by file
 * identity, so `out/../out/a.csv` and `./a.json` are caught).
 *
 * @param outputs The files the run will write.
 * @param inputs The files the run reads.
 * @throws {UsageError} If two names refer to one file, or a name is `-`.
 * @throws {RuntimeError} If a target cannot be written or is not a regular file.
 */
export function checkOutputs(
  outputs: readonly NamedFile[],
  inputs: readonly NamedFile[] = [],
): void {
  for (const { flag, path } of outputs) {
    if (path === "-") {
      throw new UsageError(
        `--${flag} needs a file name; "-" (standard output) is not supported`,
      );
    }
  }
  for (const { path } of outputs) requireWrite(path);
  const seen: { file: NamedFile; id: Identity }[] = [];
  for (const file of inputs) seen.push({ file, id: identify(file.path) });
  for (const file of outputs) {
    const id = identify(file.path);
    const info = id.info;
    if (info !== undefined && !info.isFile) {
      const what = info.isDirectory
        ? "it is a directory"
        : info.isSymlink
        ? "it is a symbolic link (give the file it points to)"
        : "it is not a regular file (a device, FIFO or socket)";
      throw new RuntimeError(`Cannot write ${quote(file.path)}: ${what}`);
    }
    const clash = seen.find((s) => same(s.id, id));
    if (clash !== undefined) {
      const isInput = inputs.includes(clash.file);
      throw new UsageError(
        isInput
          ? `--${file.flag} ${
            quote(file.path)
          } would overwrite the ${clash.file.flag} ${
            quote(clash.file.path)
          }: they are the same file`
          : `--${clash.file.flag} ${
            quote(clash.file.path)
          } and --${file.flag} ${quote(file.path)} name the same file`,
      );
    }
    seen.push({ file, id });
  }
}

/**
 * Describes an error from the operating system truthfully: Deno's own
 * permission check (`NotCapable`) asks for a flag; the OS's refusals
 * (permission, read-only or full file system) are named as such.
 *
 * @param error The error thrown by a file operation.
 * @param path The file, for the flag hint.
 * @returns A short reason for a message.
 */
export function describeWriteError(error: unknown, path: string): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `permission denied (deno needs --allow-write=${path})`;
  }
  const raw = error instanceof Error ? error.message : String(error);
  // Deno appends the operation and the (temporary) path: keep the OS's words.
  const os = raw.replace(/[,:]?\s*(open|rename|write|remove)\s+'.*$/, "");
  if (error instanceof Deno.errors.PermissionDenied) {
    return `the operating system refused: ${os}`;
  }
  if (error instanceof Deno.errors.NotFound && !isDirectory(dirname(path))) {
    return `directory ${quote(dirname(path))} does not exist`;
  }
  return os;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Writes every output atomically as one set: each to a short temporary name
 * in its target's directory, flushed (`fsync`), then all renamed over their
 * targets, then each directory flushed. On any failure, or on SIGINT or
 * SIGTERM before the renames, the temporary files are removed and no target
 * changes. With write permission for a file but not its directory, that file
 * is written in place (Deno cannot create the temporary file).
 *
 * @param files The outputs.
 * @param hooks Test hooks.
 * @throws {RuntimeError} If a file cannot be written.
 * @throws {InterruptedError} If interrupted before the renames.
 */
export async function writeOutputs(
  files: readonly OutputFile[],
  hooks: WriteHooks = {},
): Promise<void> {
  let interrupted: "SIGINT" | "SIGTERM" | undefined;
  const listeners = SIGNALS.map((signal) => {
    const listener = () => interrupted ??= signal;
    try {
      Deno.addSignalListener(signal, listener);
    } catch {
      // Not supported here (Windows has no SIGTERM listener).
    }
    return [signal, listener] as const;
  });
  const temps: string[] = [];
  const inPlace: OutputFile[] = [];
  let current = "";
  const check = async () => {
    // Let a pending signal's listener run.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (interrupted) throw new InterruptedError(interrupted);
  };
  try {
    for (const file of files) {
      current = file.path;
      const dir = dirname(file.path);
      if (
        !granted({ name: "write", path: dir }) ||
        !granted({ name: "read", path: dir })
      ) {
        inPlace.push(file);
        temps.push("");
        continue;
      }
      // Short, so a 250-character target name still fits in 255 bytes.
      const temp = `${dir}/.tg${crypto.randomUUID().slice(0, 8)}.tmp`;
      const handle = await Deno.open(temp, { write: true, createNew: true });
      temps.push(temp);
      try {
        await writeAll(handle, file.text);
        await handle.sync();
      } finally {
        handle.close();
      }
      await check();
    }
    await hooks.afterTemps?.();
    await check();
    for (const file of inPlace) {
      current = file.path;
      await Deno.writeTextFile(file.path, file.text);
    }
    const dirs = new Set<string>();
    for (let i = 0; i < files.length; i++) {
      if (temps[i] === "") continue;
      current = files[i].path;
      await Deno.rename(temps[i], files[i].path);
      temps[i] = "";
      dirs.add(dirname(files[i].path));
    }
    for (const dir of dirs) await syncDirectory(dir);
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    throw new RuntimeError(
      `Cannot write ${quote(current)}: ${describeWriteError(error, current)}`,
      { cause: error },
    );
  } finally {
    for (const temp of temps) {
      if (temp === "") continue;
      try {
        Deno.removeSync(temp);
      } catch {
        // Already gone.
      }
    }
    for (const [signal, listener] of listeners) {
      try {
        Deno.removeSignalListener(signal, listener);
      } catch {
        // Was never added.
      }
    }
  }
}

const encoder = new TextEncoder();

async function writeAll(file: Deno.FsFile, text: string): Promise<void> {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(await file.write(bytes));
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Not supported for directories here (Windows); the rename is done.
  }
}
