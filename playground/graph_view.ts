/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * The graph view: evaluates the typed expression, draws its computation
 * graph as SVG with data and grad on every node, and steps the backward
 * pass node by node in tape order, highlighting the gradient being
 * accumulated.
 *
 * @module
 */

import { ExprError } from "../app/expr.ts";
import { formatNumber } from "../app/format.ts";
import {
  byId,
  escapeHtml,
  hideBanner,
  showBanner,
  typingInField,
} from "./dom.ts";
import {
  type BackwardStep,
  BindingError,
  buildExprGraph,
  type ExprGraph,
  gradsAfter,
  type GraphNode,
  parseBindings,
} from "./expr_graph.ts";
import {
  DEFAULT_LAYOUT_SIZES,
  type GraphLayout,
  layoutEdgeKey,
  layoutGraph,
} from "../viz/graph_layout.ts";

/** Example expressions, with values. */
const PRESETS: readonly { name: string; expr: string; bindings: string }[] = [
  {
    name: "Neuron: tanh(x·w + b)",
    expr: "tanh(x1*w1 + x2*w2 + b)",
    bindings: "x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432",
  },
  { name: "micrograd's a·b + c", expr: "a*b + c", bindings: "a=2 b=-3 c=10" },
  { name: "Shared variable", expr: "x^2 + 3*x*y", bindings: "x=1 y=2" },
  {
    name: "ReLU neuron",
    expr: "relu(w1*x1 + w2*x2 + b)",
    bindings: "x1=0.5 x2=-1 w1=1.5 w2=0.8 b=0.1",
  },
  {
    name: "Sigmoid and log",
    expr: "log(sigmoid(a*x + b))",
    bindings: "a=1.5 x=0.4 b=-0.2",
  },
  {
    name: "Softplus, sqrt, max",
    expr: "sqrt(softplus(u) + max(u, v)^2)",
    bindings: "u=0.3 v=-1.2",
  },
  { name: "Division", expr: "(a - b) / (a + b)", bindings: "a=3 b=1" },
];

const OP_TITLES: Readonly<Record<string, string>> = {
  "+": "+",
  "-": "−",
  "*": "×",
  "/": "÷",
  "^": "^",
  neg: "neg",
};

/** Starts the graph view. */
export function startGraphView(): void {
  new GraphView();
}

class GraphView {
  // "fit": the graph is scaled to the panel (the start); "manual": by the buttons.
  #zoom: "fit" | "manual" = "fit";
  #scale = 1;
  #graph: ExprGraph | undefined;
  #position = 0;
  #layout: GraphLayout | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  readonly #expr = byId("expr", HTMLInputElement);
  readonly #bindings = byId("bindings", HTMLInputElement);
  readonly #message = byId("graph-message");
  readonly #slider = byId("bw-slider", HTMLInputElement);

  constructor() {
    byId("zoom-in").addEventListener("click", () => this.#zoomBy(1.25));
    byId("zoom-out").addEventListener("click", () => this.#zoomBy(0.8));
    byId("zoom-fit").addEventListener("click", () => {
      this.#zoom = "fit";
      this.#applyZoom();
    });
    // Ctrl + wheel (and a trackpad pinch) zooms the graph, not the page.
    byId("graph").addEventListener("wheel", (event) => {
      if (!event.ctrlKey) return;
      event.preventDefault();
      this.#zoomBy(event.deltaY < 0 ? 1.1 : 1 / 1.1);
    }, { passive: false });
    new ResizeObserver(() => {
      if (this.#zoom === "fit") this.#applyZoom();
    }).observe(byId("graph"));
    const presets = byId("presets", HTMLSelectElement);
    presets.append(new Option("Choose an example…", ""));
    PRESETS.forEach((p, k) => presets.append(new Option(p.name, String(k))));
    presets.addEventListener("change", () => {
      const preset = PRESETS[Number(presets.value)];
      if (!preset) return;
      this.#expr.value = preset.expr;
      this.#bindings.value = preset.bindings;
      presets.value = "";
      this.#evaluate();
    });
    const later = () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#evaluate(), 200);
    };
    this.#expr.addEventListener("input", later);
    this.#bindings.addEventListener("input", later);
    for (const input of [this.#expr, this.#bindings]) {
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          clearTimeout(this.#timer);
          this.#evaluate();
        }
      });
    }
    byId("bw-first").addEventListener("click", () => this.#goto(0));
    byId("bw-prev").addEventListener(
      "click",
      () => this.#goto(this.#position - 1),
    );
    byId("bw-next").addEventListener(
      "click",
      () => this.#goto(this.#position + 1),
    );
    byId("bw-last").addEventListener(
      "click",
      () => this.#goto(this.#graph?.steps.length ?? 0),
    );
    this.#slider.addEventListener(
      "input",
      () => this.#goto(Number(this.#slider.value)),
    );
    document.addEventListener("keydown", (event) => {
      if (byId("view-graph").hidden || typingInField()) return;
      if (event.key === "ArrowRight") this.#goto(this.#position + 1);
      else if (event.key === "ArrowLeft") this.#goto(this.#position - 1);
      else return;
      event.preventDefault();
    });
    this.#evaluate();
  }

  #evaluate(): void {
    const source = this.#expr.value;
    let bindings: Record<string, number>;
    try {
      bindings = parseBindings(this.#bindings.value);
    } catch (error) {
      if (!(error instanceof BindingError)) throw error;
      this.#fail(`Variables: ${error.message}`, this.#bindings);
      return;
    }
    this.#updateCommand(source, bindings);
    let graph: ExprGraph;
    try {
      graph = buildExprGraph(source, bindings);
    } catch (error) {
      if (!(error instanceof ExprError)) {
        const message = error instanceof Error ? error.message : String(error);
        this.#fail(`Could not evaluate the expression: ${message}`, this.#expr);
        return;
      }
      const where = error.kind === "syntax"
        ? `Syntax error at column ${error.column}: `
        : error.kind === "name"
        ? ""
        : "Value error: ";
      this.#fail(
        `${where}${error.message}`,
        this.#expr,
        error.marker().join("\n"),
      );
      return;
    }
    this.#expr.removeAttribute("aria-invalid");
    this.#bindings.removeAttribute("aria-invalid");
    if (graph.unused.length > 0) {
      showBanner(
        this.#message,
        "warn",
        `Not used in the expression: ${graph.unused.join(", ")}`,
      );
    } else hideBanner(this.#message);
    this.#graph = graph;
    this.#layout = layoutGraph(graph.nodes);
    this.#slider.max = String(graph.steps.length);
    byId("graph").dataset.state = "ok";
    document.querySelector(".graph-body")?.classList.remove("stale");
    this.#renderResult();
    this.#goto(graph.steps.length);
  }

  #fail(message: string, field: HTMLInputElement, code?: string): void {
    field.setAttribute("aria-invalid", "true");
    (field === this.#expr ? this.#bindings : this.#expr).removeAttribute(
      "aria-invalid",
    );
    showBanner(this.#message, "error", message, code);
    // The last good graph stays, dimmed, so the page never goes blank.
    byId("graph").dataset.state = "stale";
    document.querySelector(".graph-body")?.classList.toggle(
      "stale",
      this.#graph !== undefined,
    );
  }

  #updateCommand(source: string, bindings: Record<string, number>): void {
    const quoted = /["$`\\!]/.test(source)
      ? `'${source.replace(/'/g, "'\\''")}'`
      : `"${source}"`;
    const pairs = Object.entries(bindings).map(([k, v]) => `${k}=${v}`);
    byId("cli-command").textContent = `deno run cli.ts grad ${quoted}${
      pairs.length ? " " + pairs.join(" ") : ""
    }`;
  }

  #renderResult(): void {
    const graph = this.#graph!;
    const value = byId("graph-value");
    value.textContent = formatNumber(graph.value, 6);
    value.dataset.value = String(graph.value);
    const body = byId("grad-table", HTMLTableElement).tBodies[0];
    body.textContent = "";
    if (graph.variables.length === 0) {
      const row = body.insertRow();
      const cell = row.insertCell();
      cell.colSpan = 3;
      cell.textContent = "(no variables, so no derivatives)";
      return;
    }
    for (const v of graph.variables) {
      const row = body.insertRow();
      row.dataset.name = v.name;
      row.dataset.index = String(v.index);
      row.insertCell().textContent = v.name;
      row.insertCell().textContent = formatNumber(v.data, 6);
      const grad = row.insertCell();
      grad.className = "grad";
      grad.textContent = formatNumber(v.grad, 6);
      grad.dataset.value = String(v.grad);
    }
  }

  #goto(position: number): void {
    const graph = this.#graph;
    if (!graph) return;
    this.#position = Math.max(0, Math.min(position, graph.steps.length));
    this.#slider.value = String(this.#position);
    const grads = gradsAfter(graph, this.#position);
    const step = this.#position > 0
      ? graph.steps[this.#position - 1]
      : undefined;
    this.#renderSvg(grads, step);
    this.#renderExplanation(step);
    byId("bw-counter").textContent =
      `step ${this.#position} / ${graph.steps.length}`;
    byId("bw-first", HTMLButtonElement).disabled = this.#position === 0;
    byId("bw-prev", HTMLButtonElement).disabled = this.#position === 0;
    byId("bw-next", HTMLButtonElement).disabled =
      this.#position === graph.steps.length;
    byId("bw-last", HTMLButtonElement).disabled =
      this.#position === graph.steps.length;
    // The table follows the stepping: partial sums until the pass is done.
    const receiving = new Set(step?.contributions.map((c) => c.to) ?? []);
    for (const row of byId("grad-table", HTMLTableElement).tBodies[0].rows) {
      const index = Number(row.dataset.index);
      if (!Number.isInteger(index) || row.cells.length < 3) continue;
      const cell = row.cells[2];
      cell.textContent = formatNumber(grads[index], 6);
      cell.dataset.value = String(grads[index]);
      row.classList.toggle(
        "hot",
        receiving.has(index) && this.#position < graph.steps.length,
      );
    }
  }

  #renderExplanation(step: BackwardStep | undefined): void {
    const graph = this.#graph!;
    const box = byId("bw-explain");
    const name = (i: number) => {
      const node = graph.nodes.find((n) => n.index === i)!;
      return node.kind === "op"
        ? `#${i} (${title(node)})`
        : `#${i} ${node.label}`;
    };
    const n = graph.steps.length;
    let html: string;
    if (!step) {
      html =
        `<b>Before backward.</b> Every grad is 0. Step forward to seed the output's gradient, then watch it flow back through the tape from node #${graph.root} down.`;
    } else if (step.kind === "seed") {
      html = `<b>Step 1 of ${n}: seed.</b> d(out)/d(out) = 1, so the output ${
        escapeHtml(name(step.node))
      } gets grad ${formatNumber(step.g, 6)}.`;
    } else if (step.skipped) {
      html = `<b>Step ${this.#position} of ${n}: node ${
        escapeHtml(name(step.node))
      }.</b> Its grad is 0, so there is nothing to pass on (the engine skips it).`;
    } else {
      const lines = step.contributions.map((c) =>
        `<span class="f">grad[${escapeHtml(name(c.to))}] += ${
          formatNumber(step.g, 5)
        } × ${formatNumber(c.local, 5)} → <b>${
          formatNumber(c.after, 6)
        }</b></span>`
      );
      html = `<b>Step ${this.#position} of ${n}: node ${
        escapeHtml(name(step.node))
      }</b> has grad g = ${
        formatNumber(step.g, 6)
      } and adds g × (local derivative) to each input's grad:${lines.join("")}`;
      if (step.contributions.length === 0) {
        html +=
          `<span class="f">(its inputs are constants: no gradient needed)</span>`;
      }
    }
    if (this.#position === n && step) {
      html +=
        `<br><span class="muted">Done: every grad is now d(output)/d(node).</span>`;
    }
    box.innerHTML = html;
  }

  #renderSvg(grads: Float64Array, step: BackwardStep | undefined): void {
    const graph = this.#graph!, layout = this.#layout!;
    const { width: W, height: H } = DEFAULT_LAYOUT_SIZES;
    const receiving = new Map<number, number>();
    const activeEdges = new Map<string, number>();
    if (step && step.kind === "node") {
      for (const c of step.contributions) {
        receiving.set(c.to, (receiving.get(c.to) ?? 0) + c.delta);
        activeEdges.set(`${c.to}>${step.node}#${c.slot}`, c.local);
      }
    } else if (step && step.kind === "seed") {
      receiving.set(step.node, step.g);
    }
    const touched = new Set<number>();
    for (let s = 0; s < this.#position; s++) {
      for (const c of graph.steps[s].contributions) touched.add(c.to);
    }
    const parts: string[] = [];
    parts.push(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" role="img" aria-label="Computation graph">`,
      `<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#b8bec8"/></marker>` +
        `<marker id="arrow-active" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#22a355"/></marker></defs>`,
    );
    const labels: string[] = [];
    for (const node of graph.nodes) {
      const to = layout.places.get(node.index)!;
      const count = node.inputs.length;
      node.inputs.forEach((j, slot) => {
        const from = layout.places.get(j);
        if (!from) return;
        const x1 = from.x + W, y1 = from.y + H / 2;
        const x2 = to.x,
          y2 = to.y + H / 2 + (count > 1 ? (slot - (count - 1) / 2) * 12 : 0);
        // Horizontal tangents at both ends; long edges run along their lanes.
        let d = `M${x1},${y1}`, px = x1, py = y1;
        const curveTo = (x: number, y: number) => {
          const mx = (px + x) / 2;
          d += ` C${mx},${py} ${mx},${y} ${x},${y}`;
          px = x;
          py = y;
        };
        for (
          const w of layout.routes.get(layoutEdgeKey(node.index, slot)) ?? []
        ) {
          curveTo(w.x1, w.y);
          d += ` L${w.x2},${w.y}`;
          px = w.x2;
        }
        const lx = (px + x2) / 2, ly = (py + y2) / 2 - 4;
        curveTo(x2 - 2, y2);
        const key = `${j}>${node.index}#${slot}`;
        const active = activeEdges.has(key);
        parts.push(
          `<path class="edge${
            active ? " active" : ""
          }" d="${d}" marker-end="url(#${
            active ? "arrow-active" : "arrow"
          })"/>`,
        );
        if (active) {
          labels.push(
            `<text class="edge-label" x="${lx}" y="${ly}" text-anchor="middle">×${
              escapeHtml(formatNumber(activeEdges.get(key)!, 4))
            }</text>`,
          );
        }
      });
    }
    for (const node of graph.nodes) {
      const p = layout.places.get(node.index)!;
      const classes = ["node", node.kind];
      if (node.index === graph.root) classes.push("root");
      if (step?.kind === "node" && step.node === node.index) {
        classes.push("current");
      }
      if (receiving.has(node.index)) classes.push("accumulating");
      parts.push(
        `<g class="${
          classes.join(" ")
        }" data-index="${node.index}" transform="translate(${p.x},${p.y})">`,
        `<rect width="${W}" height="${H}" rx="8"/>`,
        `<text class="title" x="10" y="19">${escapeHtml(title(node))}</text>`,
        `<text class="idx" x="${
          W - 9
        }" y="18" text-anchor="end">#${node.index}</text>`,
        `<text x="10" y="37"><tspan class="k">data </tspan>${
          escapeHtml(formatNumber(node.data, 5))
        }</text>`,
        this.#gradText(node, grads, receiving, touched),
        `</g>`,
      );
    }
    parts.push(...labels, `</svg>`);
    const container = byId("graph");
    container.innerHTML = parts.join("");
    this.#applyZoom();
  }

  /** Scales the drawn graph by the zoom; the panel scrolls around it. */
  #applyZoom(): void {
    const layout = this.#layout, svg = byId("graph").querySelector("svg");
    if (!layout || !svg) return;
    if (this.#zoom === "fit") {
      const box = byId("graph");
      // Fit the whole graph in the panel, never enlarged past 100%.
      this.#scale = Math.min(
        1,
        Math.max(0.1, (box.clientWidth - 4) / layout.width),
        Math.max(0.1, (Math.max(box.clientHeight, 300) - 4) / layout.height),
      );
    }
    svg.setAttribute("width", String(Math.round(layout.width * this.#scale)));
    svg.setAttribute(
      "height",
      String(Math.round(layout.height * this.#scale)),
    );
    byId("zoom-level").textContent = `${Math.round(this.#scale * 100)}%`;
    byId("graph").dataset.zoom = this.#scale.toFixed(3);
  }

  #zoomBy(factor: number): void {
    this.#zoom = "manual";
    this.#scale = Math.min(4, Math.max(0.1, this.#scale * factor));
    this.#applyZoom();
  }

  #gradText(
    node: GraphNode,
    grads: Float64Array,
    receiving: Map<number, number>,
    touched: Set<number>,
  ): string {
    if (!node.needsGrad) {
      return `<text x="10" y="53" data-grad="none"><tspan class="k">grad </tspan><tspan class="pending">— (constant)</tspan></text>`;
    }
    const g = grads[node.index];
    const reached = touched.has(node.index);
    const delta = receiving.get(node.index);
    const deltaText = delta === undefined
      ? ""
      : `<tspan class="delta"> (${delta < 0 ? "-" : "+"}${
        escapeHtml(formatNumber(Math.abs(delta), 4))
      })</tspan>`;
    return `<text x="10" y="53" data-grad="${g}"><tspan class="k">grad </tspan><tspan${
      reached ? "" : ' class="pending"'
    }>${escapeHtml(formatNumber(g, 5))}</tspan>${deltaText}</text>`;
  }
}

function title(node: GraphNode): string {
  if (node.kind === "op") return OP_TITLES[node.op] ?? node.label;
  return node.label;
}
