/**
 * A layered left-to-right layout for small computation graphs: op nodes in
 * columns by depth (the root on the right), each input just left of its
 * first user, and edges that span several columns routed through waypoints
 * of their own (Sugiyama's virtual nodes), so that no edge runs behind a box.
 * Rows are ordered by a few barycenter sweeps to cut crossings.
 *
 * @module
 */

/** What the layout needs of a node. */
export interface LayoutInput {
  /** The node's id (its tape index). */
  index: number;
  /** Its inputs' ids, in order (repeats allowed, as in `x*x`). */
  inputs: readonly number[];
  /** Variables and constants go just left of their first user. */
  kind: "variable" | "constant" | "op";
}

/** A node's place. */
export interface LayoutPlacement {
  /** Column, from 0. */
  column: number;
  /** Row within the column, from 0 (waypoints count as rows). */
  row: number;
  /** Left edge in pixels. */
  x: number;
  /** Top edge in pixels. */
  y: number;
}

/** Where a long edge passes a column: from `x1` to `x2` at height `y`. */
export interface LayoutWaypoint {
  /** Left end. */
  x1: number;
  /** Right end. */
  x2: number;
  /** Height of the edge there. */
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
  /** Height a long edge takes where it passes a column. */
  lane: number;
  /** Margin around the drawing. */
  margin: number;
}

/** The laid-out graph. */
export interface GraphLayout {
  /** Placement by node index. */
  places: Map<number, LayoutPlacement>;
  /**
   * Waypoints of the edges that span more than one column, by
   * {@linkcode layoutEdgeKey}; edges between neighbouring columns have none.
   */
  routes: Map<string, LayoutWaypoint[]>;
  /** Drawing width in pixels. */
  width: number;
  /** Drawing height in pixels. */
  height: number;
}

/** The default node size and gaps. */
export const DEFAULT_LAYOUT_SIZES: LayoutSizes = {
  width: 132,
  height: 62,
  gapX: 56,
  gapY: 18,
  lane: 8,
  margin: 16,
};

/**
 * The key of the edge into input slot `slot` of node `to`.
 *
 * @param to The user's index.
 * @param slot Which of its inputs.
 * @returns The key used in {@linkcode GraphLayout.routes}.
 */
export function layoutEdgeKey(to: number, slot: number): string {
  return `${to}:${slot}`;
}

/** A box or a waypoint in a column. */
interface Item {
  id: number;
  height: number;
  /** Neighbours on the left and on the right, by item id. */
  left: number[];
  right: number[];
}

/**
 * Lays out nodes given in tape order (every input before its users).
 *
 * @param nodes The nodes, inputs first.
 * @param sizes Box size and gaps.
 * @returns Each node's column, row and pixel position, and long edges' routes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layoutGraph } from "@tapegrad/tapegrad/viz";
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
  sizes: LayoutSizes = DEFAULT_LAYOUT_SIZES,
): GraphLayout {
  const column = new Map<number, number>();
  const users = new Map<number, number[]>();
  for (const node of nodes) users.set(node.index, []);
  for (const node of nodes) {
    for (const j of node.inputs) users.get(j)?.push(node.index);
  }
  // Op nodes: one column right of their rightmost op input.
  const kindOf = new Map(nodes.map((n) => [n.index, n.kind]));
  for (const node of nodes) {
    let c = 0;
    if (node.kind === "op") {
      for (const j of node.inputs) {
        c = Math.max(c, (kindOf.get(j) === "op" ? column.get(j)! : 0) + 1);
      }
    }
    column.set(node.index, c);
  }
  // Variables and constants: just left of their first (leftmost) user.
  for (const node of nodes) {
    if (node.kind === "op") continue;
    const cols = (users.get(node.index) ?? []).map((u) => column.get(u)!);
    column.set(node.index, cols.length ? Math.min(...cols) - 1 : 0);
  }

  // Items: the boxes, and a waypoint per column an edge passes.
  const items = new Map<number, Item>();
  const columns: number[][] = [];
  const waypointColumn = new Map<number, number>();
  const add = (id: number, c: number, height: number) => {
    items.set(id, { id, height, left: [], right: [] });
    if (id < 0) waypointColumn.set(id, c);
    (columns[c] ??= []).push(id);
  };
  for (const node of nodes) {
    add(node.index, column.get(node.index)!, sizes.height);
  }
  const chains = new Map<string, number[]>();
  let nextWaypoint = -1;
  for (const node of nodes) {
    node.inputs.forEach((j, slot) => {
      const from = column.get(j)!, to = column.get(node.index)!;
      let previous = j;
      const chain: number[] = [];
      for (let c = from + 1; c < to; c++) {
        const id = nextWaypoint--;
        add(id, c, sizes.lane);
        chain.push(id);
        items.get(previous)!.right.push(id);
        items.get(id)!.left.push(previous);
        previous = id;
      }
      items.get(previous)!.right.push(node.index);
      items.get(node.index)!.left.push(previous);
      if (chain.length > 0) chains.set(layoutEdgeKey(node.index, slot), chain);
    });
  }
  for (let c = 0; c < columns.length; c++) columns[c] ??= [];

  // Vertical centres, each column centred on the tallest.
  const columnHeight = (col: number[]) =>
    col.reduce((h, id) => h + items.get(id)!.height, 0) +
    Math.max(0, col.length - 1) * sizes.gapY;
  const tallest = Math.max(sizes.height, ...columns.map(columnHeight));
  const top = new Map<number, number>();
  const place = (c: number) => {
    let y = sizes.margin + (tallest - columnHeight(columns[c])) / 2;
    for (const id of columns[c]) {
      top.set(id, y);
      y += items.get(id)!.height + sizes.gapY;
    }
  };
  const centre = (id: number) => top.get(id)! + items.get(id)!.height / 2;
  columns.forEach((_, c) => place(c));

  // Barycenter sweeps: order each column by the mean height of what it
  // connects to, rightwards by left neighbours, then leftwards by right ones.
  const sortBy = (c: number, side: "left" | "right") => {
    const keys = new Map(columns[c].map((id) => {
      const near = items.get(id)![side];
      const key = near.length === 0
        ? centre(id)
        : near.reduce((s, k) => s + centre(k), 0) / near.length;
      return [id, key];
    }));
    // Stable: ties keep tape order.
    columns[c].sort((a, b) => keys.get(a)! - keys.get(b)!);
    place(c);
  };
  for (let sweep = 0; sweep < 6; sweep++) {
    for (let c = 1; c < columns.length; c++) sortBy(c, "left");
    for (let c = columns.length - 2; c >= 0; c--) sortBy(c, "right");
  }

  const x = (c: number) => sizes.margin + c * (sizes.width + sizes.gapX);
  const places = new Map<number, LayoutPlacement>();
  columns.forEach((col, c) =>
    col.forEach((id, row) => {
      if (id >= 0) places.set(id, { column: c, row, x: x(c), y: top.get(id)! });
    })
  );
  const routes = new Map<string, LayoutWaypoint[]>();
  for (const [key, chain] of chains) {
    routes.set(
      key,
      chain.map((id) => {
        const c = waypointColumn.get(id)!;
        return { x1: x(c), x2: x(c) + sizes.width, y: centre(id) };
      }),
    );
  }
  return {
    places,
    routes,
    width: 2 * sizes.margin + columns.length * (sizes.width + sizes.gapX) -
      sizes.gapX,
    height: 2 * sizes.margin + tallest,
  };
}
