// Test helper: parse SVG text with a real XML parser, failing on any error.

import { DOMParser, type Element } from "npm:@xmldom/xmldom@0.9.8";

/** The parsed `<svg>` root; throws on anything that is not well-formed XML. */
export function parseSvg(text: string): Element {
  // xmldom lets a bare "&" through; XML does not.
  const bare = text.match(/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/);
  if (bare) {
    throw new SyntaxError(`SVG is not valid XML: bare "&" at ${bare.index}`);
  }
  const doc = new DOMParser({
    onError: (level: string, message: string) => {
      throw new SyntaxError(`SVG is not valid XML (${level}): ${message}`);
    },
  }).parseFromString(text, "image/svg+xml");
  const root = doc.documentElement!;
  if (root.nodeName !== "svg") {
    throw new SyntaxError(`The root element is ${root.nodeName}, not svg`);
  }
  if (root.getAttribute("xmlns") !== "http://www.w3.org/2000/svg") {
    throw new SyntaxError("The root element lacks the SVG namespace");
  }
  return root;
}

/** All elements under `root` with this tag name. */
export function elements(root: Element, tag: string): Element[] {
  return Array.from(root.getElementsByTagName(tag));
}

/** A box on the page. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Whether two boxes share any area. */
export function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width &&
    a.y < b.y + b.height && b.y < a.y + a.height;
}

/** The points a path made of M, C and H commands passes, in order. */
export function pathPoints(d: string): { x: number; y: number }[] {
  const points: { x: number; y: number }[] = [];
  for (const [, cmd, args] of d.matchAll(/([MCH])([^MCH]*)/g)) {
    const n = args.trim().split(/[\s,]+/).map(Number);
    if (cmd === "H") points.push({ x: n[0], y: points.at(-1)!.y });
    else {
      for (let k = 0; k + 1 < n.length; k += 2) {
        points.push({ x: n[k], y: n[k + 1] });
      }
    }
  }
  return points;
}
