/**
 * Executes the notebooks headless with Jupyter (`jupyter nbconvert --to
 * notebook` with `--execute`'s preprocessor, made patient with Deno's kernel
 * in `deno_execute.py`) and writes them back with their outputs, minus what
 * changes from run to run (timings, the checkout's path).
 * The test beside it runs them again and compares.
 *
 * Run: `deno run -A notebooks/execute.ts` (or `deno task notebooks`); needs
 * `jupyter-nbconvert` and `deno jupyter --install`.
 *
 * @module
 */

/** The notebooks, in `notebooks/`. */
export const NOTEBOOKS = ["engine.ipynb", "micrograd_demo.ipynb"] as const;

/** This directory. */
export const NOTEBOOK_DIR: URL = new URL("./", import.meta.url);

const ROOT = new URL("../", import.meta.url);

/** A notebook as JSON (only the parts used here are typed). */
export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** A cell. */
export interface Cell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  metadata: Record<string, unknown>;
  source: string | string[];
  outputs?: Output[];
  execution_count?: number | null;
}

/** A code cell's output. */
export interface Output {
  output_type: "stream" | "display_data" | "execute_result" | "error";
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  [key: string]: unknown;
}

/** Joins Jupyter's multi-line strings (stored as arrays of lines). */
export function joined(text: string | string[] | undefined): string {
  return Array.isArray(text) ? text.join("") : text ?? "";
}

/** Whether `jupyter nbconvert` can run here. */
export async function hasJupyter(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("jupyter", {
      args: ["nbconvert", "--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/**
 * Executes one notebook from `notebooks/` and returns it, normalised.
 *
 * @param name The file name, one of {@linkcode NOTEBOOKS}.
 * @returns The executed notebook.
 */
export async function executeNotebook(name: string): Promise<Notebook> {
  const outDir = await Deno.makeTempDir({ prefix: "tapegrad_nb_" });
  try {
    const { success, stderr } = await new Deno.Command("jupyter", {
      args: [
        "nbconvert",
        "--to",
        "notebook",
        // --execute, with a preprocessor that waits for late outputs.
        "--Exporter.preprocessors=deno_execute.DenoExecutePreprocessor",
        "--DenoExecutePreprocessor.enabled=True",
        "--DenoExecutePreprocessor.timeout=600",
        "--output-dir",
        outDir,
        "--output",
        name,
        new URL(name, NOTEBOOK_DIR).pathname,
      ],
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1", PYTHONPATH: NOTEBOOK_DIR.pathname },
    }).output();
    if (!success) {
      throw new Error(
        `jupyter nbconvert --execute ${name} failed:\n${
          new TextDecoder().decode(stderr)
        }`,
      );
    }
    return normalize(JSON.parse(await Deno.readTextFile(`${outDir}/${name}`)));
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
}

/**
 * Drops what differs between two runs of the same notebook: execution
 * timings in cell metadata, and the checkout's path in tracebacks.
 *
 * @param notebook An executed notebook.
 * @returns The same notebook, normalised (a copy).
 */
export function normalize(notebook: Notebook): Notebook {
  const root = ROOT.href;
  const copy: Notebook = structuredClone(notebook);
  for (const cell of copy.cells) {
    delete cell.metadata.execution;
    for (const output of cell.outputs ?? []) {
      if (output.traceback) {
        output.traceback = output.traceback.map((line) =>
          line.replaceAll(root, "file:///tapegrad/")
        );
      }
    }
  }
  return copy;
}

/** The notebook's JSON text as Jupyter writes it (one-space indent). */
export function notebookText(notebook: Notebook): string {
  return JSON.stringify(notebook, null, 1) + "\n";
}

if (import.meta.main) {
  for (const name of NOTEBOOKS) {
    const started = performance.now();
    const notebook = await executeNotebook(name);
    await Deno.writeTextFile(
      new URL(name, NOTEBOOK_DIR),
      notebookText(notebook),
    );
    console.log(
      `${name}: executed in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
  }
}
