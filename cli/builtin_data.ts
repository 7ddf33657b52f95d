/**
 * Reads a shipped data set (`data/digits.csv.gz`, …) from disk for `train`:
 * the CLI reads the bytes, the library parses them.
 *
 * @module
 */

import {
  BUILTIN_DATASETS,
  type BuiltinDatasetName,
  type Dataset,
  parseBuiltinDataset,
} from "../mod.ts";
import { quote, RuntimeError } from "../app/errors.ts";
import { requireRead } from "./io.ts";

/** The repository's `data/` directory, where the shipped files live. */
export const DEFAULT_DATA_DIR: string = decodeURIComponent(
  new URL("../data", import.meta.url).pathname,
);

/**
 * The file that holds a shipped data set.
 *
 * @param name The data set.
 * @param dir The directory holding its file (default: the repository's `data/`).
 * @returns The file's path.
 */
export function builtinDatasetPath(
  name: BuiltinDatasetName,
  dir: string = DEFAULT_DATA_DIR,
): string {
  return `${dir.replace(/[\\/]$/, "")}/${BUILTIN_DATASETS[name].file}`;
}

/**
 * Reads and parses one shipped data set.
 *
 * @param name The data set.
 * @param dir The directory holding its file (default: the repository's `data/`).
 * @returns The data set.
 * @throws {RuntimeError} One line naming the file and the problem: missing,
 * unreadable, corrupt gzip, a wrong column count, a truncated file.
 */
export async function readBuiltinDataset(
  name: BuiltinDatasetName,
  dir: string = DEFAULT_DATA_DIR,
): Promise<Dataset> {
  const path = builtinDatasetPath(name, dir);
  requireRead(path);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new RuntimeError(`Cannot read data set file ${quote(path)}: ${why}`);
  }
  try {
    return await parseBuiltinDataset(name, bytes, path);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new RuntimeError(`Bad data set file ${error.message}`);
    }
    throw error;
  }
}
