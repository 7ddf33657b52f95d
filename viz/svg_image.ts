/**
 * An SVG picture that shows itself: inline in a Jupyter notebook (through the
 * `Symbol.for("Jupyter.display")` hook that Deno's kernel looks for), as its
 * SVG text wherever it is turned into a string.
 *
 * @module
 */

/** A MIME bundle: MIME type to content, as Jupyter's `display_data`. */
export type MimeBundle = Record<string, string>;

/**
 * An SVG picture. `String(image)` and `image.svg` give the SVG text (write
 * it to a `.svg` file as is); as the result of a notebook cell it renders
 * inline as `image/svg+xml`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SvgImage } from "@tapegrad/tapegrad";
 * const image = new SvgImage('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2"></svg>', 4, 2);
 * assert.equal(String(image), image.svg);
 * assert.deepEqual(Object.keys(image.toMimeBundle()), ["image/svg+xml", "text/plain"]);
 * ```
 */
export class SvgImage {
  /** The SVG document, `<svg …>…</svg>` (no XML declaration). */
  readonly svg: string;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;

  /**
   * Wraps SVG text.
   *
   * @param svg The `<svg>` element's text.
   * @param width Its width in pixels.
   * @param height Its height in pixels.
   */
  constructor(svg: string, width: number, height: number) {
    this.svg = svg;
    this.width = width;
    this.height = height;
  }

  /**
   * The SVG text.
   *
   * @returns {@linkcode SvgImage.svg}.
   */
  toString(): string {
    return this.svg;
  }

  /**
   * A standalone `.svg` file's text: the XML declaration, the SVG, a newline.
   *
   * @returns The file's content.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SvgImage } from "@tapegrad/tapegrad";
   * const file = new SvgImage("<svg/>", 0, 0).toFile();
   * assert.equal(file, '<?xml version="1.0" encoding="UTF-8"?>\n<svg/>\n');
   * ```
   */
  toFile(): string {
    return `<?xml version="1.0" encoding="UTF-8"?>\n${this.svg}\n`;
  }

  /**
   * What a notebook shows: the SVG, and a one-line text fallback.
   *
   * @returns The MIME bundle.
   */
  toMimeBundle(): MimeBundle {
    return {
      "image/svg+xml": this.svg,
      "text/plain": `SvgImage(${this.width}×${this.height})`,
    };
  }
}

// Set on the prototype rather than declared in the class: the hooks are
// runtime protocols (Deno's Jupyter kernel, Deno's and Node's inspectors),
// not part of the typed API.
Object.defineProperty(SvgImage.prototype, Symbol.for("Jupyter.display"), {
  value: function (this: SvgImage): MimeBundle {
    return this.toMimeBundle();
  },
});
for (
  const key of [
    Symbol.for("Deno.customInspect"),
    Symbol.for("nodejs.util.inspect.custom"),
  ]
) {
  Object.defineProperty(SvgImage.prototype, key, {
    value: function (this: SvgImage): string {
      return `SvgImage(${this.width}×${this.height})`;
    },
  });
}

/**
 * Escapes text for XML content and attributes.
 *
 * @param text Any text.
 * @returns The escaped text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeXml } from "@tapegrad/tapegrad/viz";
 * assert.equal(escapeXml('a<b & "c"'), "a&lt;b &amp; &quot;c&quot;");
 * ```
 */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) =>
      c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === "&"
        ? "&amp;"
        : c === '"'
        ? "&quot;"
        : "&apos;",
  );
}

/** A coordinate rounded to 2 decimals, as SVG attribute text. */
export function svgNumber(x: number): string {
  return String(Math.round(x * 100) / 100);
}
