/**
 * A layered left-to-right layout for small computation graphs: columns by
 * depth (inputs on the left, the root on the right), rows ordered by a few
 * barycenter sweeps so that edges cross as little as possible.
 *
 * @module
 */

/** What the layout needs of a node. */
export interface LayoutInput {
  /** The node's id (its tape index). */
  index: number;
  /** Whether it is a source with no inputs. */
  inputs: readonly number[];
  /** Variables go in the first column; constants next to their first user. */
  kind: "variable" | "constant" | "op";
}

/** A node's place. */
export interface Placement {
  /** Column, from 0. */
  column: number;
  /** Row within the column, from 0. */
  row: number;
  /** Left edge in pixels. */
  x: number;
  /** Top edge in pixels. */
  y: number;
}

/** The sizes the layout works with, in pixels. */
export interface LayoutSizes {
  /** Node box width. */
  width: number;
  /** Node box height. */
  height: number;
  /** Horizontal gap between columns. */
  gapX: number;
  /** Vertical gap between rows. */
  gapY: number;
  /** Margin around the drawing. */
  margin: number;
}

/** The laid-out graph. */
export interface Layout {
  /** Placement by node index. */
  places: Map<number, Placement>;
  /** Drawing width in pixels. */
  width: number;
  /** Drawing height in pixels. */
  height: number;
}

/** The default node size and gaps. */
export const DEFAULT_SIZES: LayoutSizes = {
  width: 132,
  height: 62,
  gapX: 56,
  gapY: 18,
  margin: 16,
};

/**
 * Lays out nodes given in tape order (every input before its users).
 *
 * @param nodes The nodes, inputs first.
 * @param sizes Box size and gaps.
 * @returns Each node's column, row and pixel position.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layoutGraph } from "./graph_layout.ts";
 * const layout = layoutGraph([
 *   { index: 0, inputs: [], kind: "variable" },
 *   { index: 1, inputs: [], kind: "constant" },
 *   { index: 2, inputs: [0, 1], kind: "op" },
 * ]);
 * assert.equal(layout.places.get(2)!.column, 1);
 * assert.equal(layout.places.get(1)!.column, 0);
 * ```
 */
export function layoutGraph(
  nodes: readonly LayoutInput[],
  sizes: LayoutSizes = DEFAULT_SIZES,
): Layout {
  const column = new Map<number, number>();
  const users = new Map<number, number[]>();
  for (const node of nodes) users.set(node.index, []);
  for (const node of nodes) {
    for (const j of node.inputs) users.get(j)?.push(node.index);
  }
  // Op nodes: longest path from the sources.
  for (const node of nodes) {
    if (node.kind !== "op") {
      column.set(node.index, 0);
      continue;
    }
    let c = 0;
    for (const j of node.inputs) {
      const input = nodes.find((n) => n.index === j);
      // Constants do not push their users right: they will sit beside them.
      const base = input?.kind === "constant" ? 0 : (column.get(j) ?? 0);
      c = Math.max(c, base + 1);
    }
    column.set(node.index, c);
  }
  // Constants: just left of their first (leftmost) user.
  for (const node of nodes) {
    if (node.kind !== "constant") continue;
    const cols = (users.get(node.index) ?? []).map((u) => column.get(u)!);
    column.set(
      node.index,
      cols.length ? Math.max(0, Math.min(...cols) - 1) : 0,
    );
  }
  const columns: number[][] = [];
  for (const node of nodes) {
    const c = column.get(node.index)!;
    (columns[c] ??= []).push(node.index);
  }
  for (let c = 0; c < columns.length; c++) columns[c] ??= [];
  const inputsOf = new Map(nodes.map((n) => [n.index, n.inputs]));
  const rowOf = new Map<number, number>();
  const renumber = () =>
    columns.forEach((col) => col.forEach((i, r) => rowOf.set(i, r)));
  renumber();
  const center = (list: readonly number[], fallback: number) => {
    const rows = list.map((j) => rowOf.get(j)).filter((r) => r !== undefined);
    return rows.length === 0
      ? fallback
      : rows.reduce((a, b) => a + b!, 0) / rows.length;
  };
  // Barycenter sweeps: right by inputs, left by users.
  for (let sweep = 0; sweep < 4; sweep++) {
    for (let c = 1; c < columns.length; c++) {
      const keys = new Map(
        columns[c].map((
          i,
        ) => [i, center(inputsOf.get(i) ?? [], rowOf.get(i)!)]),
      );
      columns[c].sort((a, b) => keys.get(a)! - keys.get(b)!);
      renumber();
    }
    for (let c = columns.length - 2; c >= 0; c--) {
      const keys = new Map(
        columns[c].map((i) => [i, center(users.get(i) ?? [], rowOf.get(i)!)]),
      );
      columns[c].sort((a, b) => keys.get(a)! - keys.get(b)!);
      renumber();
    }
  }
  const tallest = Math.max(1, ...columns.map((col) => col.length));
  const pitch = sizes.height + sizes.gapY;
  const height = 2 * sizes.margin + tallest * pitch - sizes.gapY;
  const width = 2 * sizes.margin + columns.length * (sizes.width + sizes.gapX) -
    sizes.gapX;
  const places = new Map<number, Placement>();
  columns.forEach((col, c) => {
    const top = sizes.margin + ((tallest - col.length) * pitch) / 2;
    col.forEach((i, r) => {
      places.set(i, {
        column: c,
        row: r,
        x: sizes.margin + c * (sizes.width + sizes.gapX),
        y: top + r * pitch,
      });
    });
  });
  return { places, width, height };
}
