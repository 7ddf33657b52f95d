/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * The network view, as in TensorFlow Playground: every input and neuron as
 * a small heat map of what it computes over the plotted plane, every weight
 * as a line coloured by sign (blue positive, orange negative) and as wide as
 * it is large. Hover a neuron to see it large with its incoming weights;
 * click to pin it in the main plot (click again to unpin).
 *
 * @module
 */

import { formatNumber } from "../app/format.ts";
import { fillHeat } from "./draw.ts";
import type { NetworkMessage } from "./protocol.ts";
import { CLASS_COLORS } from "../viz/palette.ts";

/** A neuron by layer (0 for the inputs) and index in its layer. */
export interface NeuronRef {
  /** 0 for the inputs, then 1, 2, … for each layer. */
  layer: number;
  /** The neuron's index in its layer. */
  index: number;
}

const SVG = "http://www.w3.org/2000/svg";

/** Draws a {@linkcode NetworkMessage} into a container, and handles hover and pin. */
export class NetworkView {
  #message: NetworkMessage | undefined;
  #shape = "";
  #tiles: HTMLCanvasElement[] = [];
  #lines: SVGLineElement[] = [];
  // What each line shows, so a repaint touches only the lines that change.
  #lineLooks: string[] = [];
  #svg: SVGSVGElement | undefined;
  #hovered: number | undefined;
  #pinned: number | undefined;

  /**
   * Creates the view.
   *
   * @param container Where to draw (emptied).
   * @param card Where the hovered neuron is shown large.
   * @param onPin Called with the pinned neuron (or `undefined`).
   */
  constructor(
    private readonly container: HTMLElement,
    private readonly card: HTMLElement,
    private readonly onPin: (neuron: NeuronRef | undefined) => void,
  ) {
    new ResizeObserver(() => {
      this.#shape = "";
      if (this.#message) this.update(this.#message);
    }).observe(container);
  }

  /** The pinned neuron, if any. */
  get pinned(): NeuronRef | undefined {
    return this.#pinned === undefined ? undefined : this.#ref(this.#pinned);
  }

  /** The first value of neuron `n` in the message's `values`. */
  static offset(message: NetworkMessage, neuron: NeuronRef): number {
    let n = neuron.index;
    for (let l = 0; l < neuron.layer; l++) n += message.sizes[l];
    return n * message.size * message.size;
  }

  /** Forgets the pinned neuron (a new model). */
  reset(): void {
    this.#pinned = undefined;
    this.#hovered = undefined;
    this.card.hidden = true;
  }

  /**
   * Draws new network data: rebuilds the tiles when the architecture or
   * the container's width changed, else repaints them and the lines.
   *
   * @param message The worker's network data.
   */
  update(message: NetworkMessage): void {
    this.#message = message;
    const shape = `${message.sizes.join("-")}@${this.container.clientWidth}`;
    if (shape !== this.#shape) this.#build(message);
    this.#shape = shape;
    const cells = message.size * message.size;
    let image: ImageData | undefined;
    this.#tiles.forEach((tile, n) => {
      if (tile.width !== message.size) {
        tile.width = message.size;
        tile.height = message.size;
      }
      const ctx = tile.getContext("2d")!;
      image ??= ctx.createImageData(message.size, message.size);
      fillHeat(image.data, message.values, n * cells, cells);
      ctx.putImageData(image, 0, 0);
    });
    this.#paintLines(message);
    this.container.dataset.updates = String(
      Number(this.container.dataset.updates ?? 0) + 1,
    );
    if (this.#hovered !== undefined) this.#showCard(this.#hovered);
  }

  #ref(n: number): NeuronRef {
    const sizes = this.#message!.sizes;
    let layer = 0;
    while (n >= sizes[layer]) n -= sizes[layer++];
    return { layer, index: n };
  }

  #build(message: NetworkMessage): void {
    const sizes = message.sizes;
    const width = Math.max(200, this.container.clientWidth);
    const widest = Math.max(...sizes);
    const tile = Math.max(6, Math.min(30, Math.floor(340 / widest) - 4));
    const gap = Math.max(2, Math.round(tile / 6));
    const height = widest * (tile + gap) + 16;
    this.container.replaceChildren();
    this.container.style.height = `${height}px`;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "weights");
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    this.container.append(svg);
    this.#svg = svg;
    const centres: { x: number; y: number }[][] = [];
    this.#tiles = [];
    const step = (width - tile - 40) / Math.max(1, sizes.length - 1);
    sizes.forEach((count, l) => {
      const x = 20 + l * step + tile / 2;
      const top = (height - count * (tile + gap) + gap) / 2;
      centres.push([]);
      for (let j = 0; j < count; j++) {
        const y = top + j * (tile + gap) + tile / 2;
        centres[l].push({ x, y });
        const canvas = document.createElement("canvas");
        canvas.className = "neuron";
        canvas.dataset.layer = String(l);
        canvas.dataset.index = String(j);
        const n = this.#tiles.length;
        canvas.style.left = `${x - tile / 2}px`;
        canvas.style.top = `${y - tile / 2}px`;
        canvas.style.width = canvas.style.height = `${tile}px`;
        canvas.title = l === 0
          ? `input ${message.labels[j]}`
          : l === sizes.length - 1
          ? `output ${j + 1}`
          : `layer ${l}, neuron ${j + 1}`;
        canvas.addEventListener("mouseenter", () => {
          this.#hovered = n;
          this.#showCard(n);
        });
        canvas.addEventListener("mouseleave", () => {
          this.#hovered = undefined;
          this.card.hidden = true;
          this.#highlight(undefined);
        });
        canvas.addEventListener("click", () => {
          this.#pinned = this.#pinned === n ? undefined : n;
          for (const t of this.#tiles) t.classList.remove("pinned");
          if (this.#pinned !== undefined) canvas.classList.add("pinned");
          this.onPin(this.pinned);
        });
        this.#tiles.push(canvas);
        this.container.append(canvas);
        if (l === 0) {
          const label = document.createElement("span");
          label.className = "input-label";
          label.textContent = message.labels[j];
          label.style.top = `${y - 7}px`;
          label.style.left = `${x - tile / 2 - 18}px`;
          this.container.append(label);
        }
      }
    });
    // One line per weight, in the parameters' order (a neuron's weights, then its bias).
    this.#lines = [];
    this.#lineLooks = [];
    for (let l = 1; l < sizes.length; l++) {
      for (let j = 0; j < sizes[l]; j++) {
        for (let k = 0; k < sizes[l - 1]; k++) {
          const line = document.createElementNS(SVG, "line");
          const from = centres[l - 1][k], to = centres[l][j];
          line.setAttribute("x1", String(from.x + tile / 2));
          line.setAttribute("y1", String(from.y));
          line.setAttribute("x2", String(to.x - tile / 2));
          line.setAttribute("y2", String(to.y));
          line.dataset.to = `${l}:${j}`;
          svg.append(line);
          this.#lines.push(line);
        }
      }
    }
    if (this.#pinned !== undefined && this.#pinned < this.#tiles.length) {
      this.#tiles[this.#pinned].classList.add("pinned");
    }
  }

  #paintLines(message: NetworkMessage): void {
    const sizes = message.sizes, w = message.weights;
    let largest = 0;
    for (const x of w) largest = Math.max(largest, Math.abs(x));
    if (!(largest > 0 && Number.isFinite(largest))) largest = 1;
    let p = 0, line = 0;
    for (let l = 1; l < sizes.length; l++) {
      for (let j = 0; j < sizes[l]; j++, p++) {
        for (let k = 0; k < sizes[l - 1]; k++, p++, line++) {
          const el = this.#lines[line], weight = w[p];
          // Widths in quarter pixels: finer changes do not show.
          const width = (Math.round(
            4 * (0.4 + 3.2 * Math.abs(weight) / largest),
          ) / 4).toFixed(2);
          const stroke = weight >= 0 ? CLASS_COLORS[1] : CLASS_COLORS[0];
          const look = stroke + width;
          if (this.#lineLooks[line] === look) continue;
          this.#lineLooks[line] = look;
          el.setAttribute("stroke", stroke);
          el.setAttribute("stroke-width", width);
        }
      }
    }
  }

  #highlight(n: number | undefined): void {
    const key = n === undefined
      ? ""
      : `${this.#ref(n).layer}:${this.#ref(n).index}`;
    this.#svg?.classList.toggle("focus", n !== undefined);
    for (const line of this.#lines) {
      line.classList.toggle("on", line.dataset.to === key);
    }
  }

  #showCard(n: number): void {
    const message = this.#message!;
    const ref = this.#ref(n);
    this.#highlight(n);
    const card = this.card;
    card.replaceChildren();
    const big = document.createElement("canvas");
    big.width = big.height = message.size;
    const ctx = big.getContext("2d")!;
    const image = ctx.createImageData(message.size, message.size);
    const cells = message.size * message.size;
    fillHeat(image.data, message.values, n * cells, cells);
    ctx.putImageData(image, 0, 0);
    const text = document.createElement("div");
    const last = message.sizes.length - 1;
    const title = ref.layer === 0
      ? `Input ${message.labels[ref.index]}`
      : ref.layer === last
      ? `Output ${ref.index + 1}`
      : `Layer ${ref.layer}, neuron ${ref.index + 1}`;
    const lines = [title];
    if (ref.layer > 0) {
      // This neuron's parameters: its incoming weights, then its bias.
      let p = 0;
      for (let l = 1; l < ref.layer; l++) {
        p += message.sizes[l] * (message.sizes[l - 1] + 1);
      }
      const nin = message.sizes[ref.layer - 1];
      p += ref.index * (nin + 1);
      const names = ref.layer === 1
        ? message.labels
        : Array.from({ length: nin }, (_, k) => `h${ref.layer - 1}.${k + 1}`);
      for (let k = 0; k < nin; k++) {
        lines.push(`w ${names[k]}: ${formatNumber(message.weights[p + k], 4)}`);
      }
      lines.push(`bias: ${formatNumber(message.weights[p + nin], 4)}`);
    }
    const shown = lines.length > 14
      ? [...lines.slice(0, 12), `… ${lines.length - 13} more`, lines.at(-1)!]
      : lines;
    text.textContent = shown.join("\n");
    card.append(big, text);
    // Beside the tile, inside the stage: the card floats over the page.
    card.hidden = false;
    const tile = this.#tiles[n], stage = card.offsetParent as HTMLElement;
    const box = tile.getBoundingClientRect();
    const frame = (stage ?? document.body).getBoundingClientRect();
    const right = box.right - frame.left + 12;
    const fits = right + card.offsetWidth <= frame.width;
    card.style.left = `${
      fits ? right : Math.max(0, box.left - frame.left - card.offsetWidth - 12)
    }px`;
    card.style.top = `${Math.max(0, box.top - frame.top - 40)}px`;
  }
}
