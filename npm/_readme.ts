/**
 * Reads README.md the way the README tests need it: its fenced code blocks
 * with the heading they sit under, the output a snippet's trailing comment
 * promises, and its shell lines split into arguments.
 *
 * @module
 */

/** A fenced code block of README.md. */
export interface CodeBlock {
  /** The fence's language (`ts`, `sh`, `html`, …). */
  lang: string;
  /** The nearest heading above the block, without the `#`s. */
  heading: string;
  /** The block's text. */
  code: string;
}

/** README.md's text. */
export const README: string = Deno.readTextFileSync(
  new URL("../README.md", import.meta.url),
);

/**
 * Every fenced code block of a Markdown text.
 *
 * @param text Markdown.
 * @returns The blocks, in order.
 */
export function codeBlocks(text: string = README): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let heading = "";
  let open: CodeBlock | undefined;
  for (const line of text.split("\n")) {
    if (open) {
      if (line.startsWith("```")) {
        blocks.push(open);
        open = undefined;
      } else open.code += line + "\n";
    } else if (line.startsWith("```")) {
      open = { lang: line.slice(3).trim(), heading, code: "" };
    } else if (line.startsWith("#")) {
      heading = line.replace(/^#+\s*/, "");
    }
  }
  return blocks;
}

/**
 * The one block of a language under a heading.
 *
 * @param heading The heading's text.
 * @param lang The fence's language.
 * @returns The block's code.
 * @throws {Error} If there is not exactly one.
 */
export function blockUnder(heading: string, lang: string): string {
  const found = codeBlocks().filter((b) =>
    b.heading === heading && b.lang === lang
  );
  if (found.length !== 1) {
    throw new Error(
      `README has ${found.length} ${lang} blocks under "${heading}", expected 1`,
    );
  }
  return found[0].code;
}

/**
 * What a snippet says it prints: the trailing `// …` comments of its lines
 * that print (`console.log(…)`, `textContent = …`), one per line.
 *
 * @param code A snippet.
 * @returns The promised output, one line per printing line.
 */
export function promisedOutput(code: string): string {
  return code.split("\n")
    .filter((line) => /console\.log\(|textContent =/.test(line))
    .map((line) => {
      const at = line.lastIndexOf("// ");
      if (at < 0) throw new Error(`No "// output" comment on: ${line}`);
      return line.slice(at + 3).trim();
    })
    .join("\n");
}

/**
 * The shell commands of a `sh` block: continuation lines joined, comments
 * dropped, each split into arguments the way a POSIX shell splits simple
 * words and double- or single-quoted strings.
 *
 * @param code A `sh` block.
 * @returns One argument list per command.
 */
export function shellCommands(code: string): string[][] {
  const commands: string[][] = [];
  for (const line of code.replaceAll("\\\n", " ").split("\n")) {
    const args: string[] = [];
    let word: string | undefined;
    let quote: string | undefined;
    for (const ch of line) {
      if (quote) {
        if (ch === quote) quote = undefined;
        else word += ch;
      } else if (ch === '"' || ch === "'") {
        quote = ch;
        word ??= "";
      } else if (ch === "#" && word === undefined) {
        break;
      } else if (ch === " " || ch === "\t") {
        if (word !== undefined) args.push(word);
        word = undefined;
      } else word = (word ?? "") + ch;
    }
    if (word !== undefined) args.push(word);
    if (args.length > 0) commands.push(args);
  }
  return commands;
}

/** The prefix README puts before every task: Deno from npm. */
export const NPX_DENO: readonly string[] = ["npx", "-y", "deno@2.9.6", "task"];

/**
 * The task arguments of a README command that runs a task through npx
 * (`npx -y deno@2.9.6 task train --json` → `["train", "--json"]`).
 *
 * @param args A command's arguments.
 * @returns The task and its arguments, or `undefined` for other commands.
 */
export function taskOf(args: readonly string[]): string[] | undefined {
  if (NPX_DENO.every((word, i) => args[i] === word)) {
    return args.slice(NPX_DENO.length);
  }
  return undefined;
}
