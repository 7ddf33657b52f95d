/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * The train view: reads the settings, drives the training worker (play,
 * pause, step, reset, export) and draws what it reports: the decision
 * boundary, the loss and accuracy curves and the step rate.
 *
 * @module
 */

import { formatNumber, formatPercent } from "../app/format.ts";
import { LINE_COLOR, SECOND_COLOR } from "../viz/palette.ts";
import { byId, hideBanner, showBanner, typingInField } from "./dom.ts";
import {
  CLASS_COLORS,
  drawBoundary,
  drawChart,
  drawThumbnail,
} from "./draw.ts";
import type {
  DataMessage,
  FromWorker,
  GridMessage,
  NetworkMessage,
  ToWorker,
} from "./protocol.ts";
import { NetworkView } from "./network_view.ts";
import { VIEW_SPACING } from "./training_loop.ts";
import {
  type BackendInfo,
  checkConfig,
  classCount,
  ConfigError,
  DATASETS,
  DEFAULT_CONFIG,
  hasClassChoice,
  isRegression,
  type LiveSettings,
  makeData,
  type TrainConfig,
} from "./session.ts";
import {
  type Activation,
  type Dataset,
  type DatasetName,
  FIT_MODES,
  FIT_PRECISIONS,
  type FitMode,
  type FitPrecision,
  LOSS_NAMES,
  type LossName,
  OPTIMIZER_NAMES,
  type OptimizerName,
} from "../mod.ts";
import {
  DEFAULT_NOISE,
  DEFAULT_REGRESSION_NOISE,
  type FeatureName,
  lossFitsClasses,
  outputsForLoss,
  parseDecimal,
  regressionInputs,
  type RegressionName,
} from "../nn/mod.ts";
import { wasmSimdAvailable } from "../engine/mod.ts";

// The menus list the library's names; a new loss or optimizer needs a label.
const LOSS_LABELS: Readonly<Record<LossName, string>> = {
  hinge: "hinge (micrograd's)",
  mse: "mean squared error",
  bce: "binary cross-entropy",
  "cross-entropy": "cross-entropy (softmax)",
};
const OPTIMIZER_LABELS: Readonly<Record<OptimizerName, string>> = {
  sgd: "SGD",
  adam: "Adam",
  adamw: "AdamW",
};
// Short: the menus are narrow. The hint under them says more.
const MODE_LABELS: Readonly<Record<FitMode, string>> = {
  auto: "auto",
  record: "record",
  replay: "replay",
  compiled: "compiled JS",
  wasm: "wasm SIMD",
};
const PRECISION_LABELS: Readonly<Record<FitPrecision, string>> = {
  float64: "float64",
  float32: "float32",
};

function fillMenu<T extends string>(
  select: HTMLSelectElement,
  names: readonly T[],
  labels: Readonly<Record<T, string>>,
): void {
  select.replaceChildren(
    ...names.map((name) => new Option(labels[name], name)),
  );
}

/** The ids of the controls, by the config field they set. */
const FIELD_CONTROL: Partial<Record<keyof TrainConfig, string>> = {
  samples: "samples",
  noise: "noise",
  classes: "classes",
  layers: "layers",
  activation: "activation",
  loss: "loss",
  optimizer: "optimizer",
  lr: "lr",
  batchSize: "batch-size",
  l2: "l2",
  seed: "seed",
  features: "features",
  mode: "mode",
  precision: "precision",
  workers: "workers",
};

/** Starts the train view. */
export function startTrainView(): void {
  new TrainView();
}

class TrainView {
  readonly #worker: Worker;
  #dataset: DatasetName | RegressionName = DEFAULT_CONFIG.dataset;
  #playing = false;
  #wantPlay = false;
  #step = 0;
  #losses: number[] = [];
  #lossSteps: number[] = [];
  #accSteps: number[] = [];
  #trainAcc: number[] = [];
  #testAcc: number[] = [];
  #data: DataMessage | undefined;
  #grid: GridMessage | undefined;
  #drawPending = false;
  #predictId = 0;
  #probeId = 0;
  #exportName = "model.json";
  #config: TrainConfig | undefined;
  #network: NetworkMessage | undefined;
  #networkDirty = false;
  // When the network view was last drawn, what that cost, and a pending redraw.
  #networkAt = 0;
  #networkCost = 0;
  #networkTimer: ReturnType<typeof setTimeout> | undefined;
  // Set when the loss stopped being a number: the model cannot train on.
  #diverged = false;
  readonly #networkView = new NetworkView(
    byId("network"),
    byId("neuron-card"),
    () => this.#scheduleDraw(),
  );
  readonly #thumbnails = new Map<string, Dataset>();

  readonly #canvas = byId("boundary", HTMLCanvasElement);
  readonly #message = byId("train-message");
  readonly #play = byId("play", HTMLButtonElement);
  readonly #speed = byId("speed", HTMLSelectElement);

  constructor() {
    this.#worker = new Worker(new URL("./worker.js", import.meta.url), {
      type: "module",
    });
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) =>
      this.#receive(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#setPlaying(false);
      showBanner(
        this.#message,
        "error",
        `The training worker failed: ${
          event.message || "it could not be loaded"
        }. Reload the page to try again.`,
      );
    };
    fillMenu(byId("loss", HTMLSelectElement), LOSS_NAMES, LOSS_LABELS);
    fillMenu(
      byId("optimizer", HTMLSelectElement),
      OPTIMIZER_NAMES,
      OPTIMIZER_LABELS,
    );
    fillMenu(byId("mode", HTMLSelectElement), FIT_MODES, MODE_LABELS);
    fillMenu(
      byId("precision", HTMLSelectElement),
      FIT_PRECISIONS,
      PRECISION_LABELS,
    );
    this.#checkRuntime();
    this.#applyDefaults();
    this.#wireControls();
    this.#restart();
    // Redraw when a canvas gets its size: on resize, and when the view shows.
    new ResizeObserver(() => this.#scheduleDraw()).observe(this.#canvas);
    new ResizeObserver(() => this.#drawThumbnails()).observe(byId("datasets"));
  }

  #send(message: ToWorker): void {
    this.#worker.postMessage(message);
  }

  // ---------------------------------------------------------------- settings

  /** Sets every control from {@linkcode DEFAULT_CONFIG}, the one source of defaults. */
  #applyDefaults(): void {
    const c = DEFAULT_CONFIG;
    const set = (id: string, value: string | number) => {
      (byId(id) as HTMLInputElement | HTMLSelectElement).value = String(value);
    };
    set("samples", c.samples);
    set("noise", c.noise);
    byId("noise-value").textContent = String(c.noise);
    set("classes", c.classes);
    set("seed", c.seed);
    set("layers", c.layers.length);
    set("width", c.layers[0] ?? 16);
    set("activation", c.activation);
    set("loss", c.loss);
    set("optimizer", c.optimizer);
    set("lr", c.lr);
    set("batch-size", c.batchSize);
    set("l2", c.l2);
    set("mode", c.mode);
    set("precision", c.precision);
    set("workers", c.workers);
    for (const b of document.querySelectorAll<HTMLButtonElement>(".dataset")) {
      b.setAttribute("aria-pressed", String(b.dataset.dataset === c.dataset));
    }
  }

  #wireControls(): void {
    for (
      const button of document.querySelectorAll<HTMLButtonElement>(".dataset")
    ) {
      button.addEventListener("click", () => {
        const name = button.dataset.dataset as DatasetName | RegressionName;
        if (name === this.#dataset) return;
        this.#dataset = name;
        for (
          const b of document.querySelectorAll<HTMLButtonElement>(".dataset")
        ) {
          b.setAttribute("aria-pressed", String(b === button));
        }
        const noise = byId("noise", HTMLInputElement);
        noise.value = String(
          isRegression(name)
            ? DEFAULT_REGRESSION_NOISE[name]
            : DEFAULT_NOISE[name],
        );
        byId("noise-value").textContent = noise.value;
        this.#syncControls();
        this.#restart();
      });
    }
    const settings = [
      "samples",
      "noise",
      "classes",
      "layers",
      "width",
      "activation",
      "loss",
      "optimizer",
      "seed",
    ];
    for (const id of settings) {
      byId(id).addEventListener("change", () => {
        if (id === "optimizer") this.#suggestLr();
        this.#restart(true, true);
      });
    }
    // These apply to the running model: no restart.
    for (
      const id of ["lr", "batch-size", "l2", "mode", "precision", "workers"]
    ) {
      byId(id).addEventListener("change", () => {
        if (id === "mode") this.#syncPrecision();
        this.#tune();
      });
    }
    byId("show-network", HTMLInputElement).addEventListener("change", () => {
      const on = byId("show-network", HTMLInputElement).checked;
      byId("network").classList.toggle("paused", !on);
      this.#send({ type: "views", network: on });
    });
    for (
      const box of document.querySelectorAll<HTMLInputElement>(
        "#features input",
      )
    ) {
      box.addEventListener("change", () => this.#restart(true, true));
    }
    byId("noise", HTMLInputElement).addEventListener("input", () => {
      byId("noise-value").textContent = byId("noise", HTMLInputElement).value;
    });
    this.#play.addEventListener("click", () => this.#togglePlay());
    const toggle = byId("settings-toggle");
    toggle.addEventListener("click", () => {
      const folded = byId("controls").classList.toggle("folded");
      toggle.setAttribute("aria-expanded", String(!folded));
    });
    byId("step").addEventListener("click", (event) => {
      if (!this.#config) return;
      this.#wantPlay = false;
      this.#send({
        type: "step",
        count: (event as MouseEvent).shiftKey ? 10 : 1,
      });
    });
    byId("reset").addEventListener("click", () => this.#restart(false));
    this.#speed.addEventListener(
      "change",
      () => this.#send({ type: "speed", speed: Number(this.#speed.value) }),
    );
    byId("show-test", HTMLInputElement).addEventListener(
      "change",
      () => this.#scheduleDraw(),
    );
    byId("export").addEventListener("click", () => {
      if (!this.#config) return;
      this.#send({ type: "export" });
    });
    byId("predict-form", HTMLFormElement).addEventListener(
      "submit",
      (event) => {
        event.preventDefault();
        this.#predictFromFields();
      },
    );
    this.#canvas.addEventListener("mousemove", (event) => this.#probe(event));
    this.#canvas.addEventListener("mouseleave", () => {
      byId("probe").hidden = true;
    });
    this.#canvas.addEventListener("click", (event) => {
      const point = this.#pointAt(event);
      if (!point) return;
      byId("predict-x1", HTMLInputElement).value = point[0].toFixed(3);
      byId("predict-x2", HTMLInputElement).value = point[1].toFixed(3);
      this.#predictFromFields();
    });
    document.addEventListener("keydown", (event) => {
      if (
        byId("view-train").hidden || typingInField() || event.ctrlKey ||
        event.metaKey || event.altKey
      ) return;
      // Space on a focused button presses that button; elsewhere it plays.
      if (event.key === " " && !(event.target instanceof HTMLButtonElement)) {
        event.preventDefault();
        this.#togglePlay();
      } else if (event.key === "s" || event.key === "S") {
        byId("step").click();
      } else if (event.key === "r" || event.key === "R") {
        this.#restart(false);
      }
    });
    this.#syncControls();
  }

  /** Shows the class count only where it applies; keeps the loss valid. */
  #syncControls(): void {
    byId("classes-row").hidden = !hasClassChoice(this.#dataset);
    const classes = classCount({
      dataset: this.#dataset,
      classes: Number(byId("classes", HTMLInputElement).value) || 3,
    });
    const loss = byId("loss", HTMLSelectElement);
    const regression = classes === 0;
    byId("stat-train-name").textContent = regression
      ? "Train R²"
      : "Train accuracy";
    byId("stat-test-name").textContent = regression
      ? "Test R²"
      : "Test accuracy";
    // 1-D problems take x alone: features are of a point (x, y).
    const oneD = isRegression(this.#dataset) &&
      regressionInputs(this.#dataset) === 1;
    for (
      const box of document.querySelectorAll<HTMLInputElement>(
        "#features input",
      )
    ) box.disabled = oneD;
    for (const option of loss.options) {
      option.disabled = regression
        ? option.value !== "mse"
        : !lossFitsClasses(option.value as LossName, classes);
    }
    if (regression) {
      loss.value = "mse";
    } else if (!lossFitsClasses(loss.value as LossName, classes)) {
      const from = loss.value;
      loss.value = "cross-entropy";
      showBanner(
        this.#message,
        "info",
        `${this.#dataset} has ${classes} classes and the ${from} loss is for 2, so the loss is now cross-entropy.`,
      );
      const banner = this.#message, text = banner.textContent;
      setTimeout(() => {
        if (banner.textContent === text) hideBanner(banner);
      }, 8000);
    }
  }

  #suggestLr(): void {
    // SGD wants a larger step than Adam; switch between the usual defaults.
    const lr = byId("lr", HTMLInputElement);
    const optimizer = byId("optimizer", HTMLSelectElement).value;
    if (optimizer === "sgd" && (lr.value === "0.01" || lr.value === "0.001")) {
      lr.value = "0.1";
    } else if (
      optimizer !== "sgd" && (lr.value === "0.1" || lr.value === "1")
    ) {
      lr.value = "0.01";
    }
  }

  #readConfig(): TrainConfig {
    const text = (id: string) => byId(id, HTMLInputElement).value.trim();
    const number = (
      id: string,
      field: keyof TrainConfig,
      label: string,
    ): number => {
      const value = text(id);
      const number = parseDecimal(value.trim());
      if (number === undefined) {
        throw new ConfigError(
          field,
          `${label} must be a number, got ${JSON.stringify(value)}`,
        );
      }
      return number;
    };
    const layers = number("layers", "layers", "Hidden layers");
    const width = number("width", "layers", "Neurons per layer");
    if (!Number.isInteger(layers) || layers < 0 || layers > 6) {
      throw new ConfigError(
        "layers",
        `Hidden layers must be a whole number from 0 to 6, got ${
          text("layers")
        }`,
      );
    }
    return checkConfig({
      dataset: this.#dataset,
      samples: number("samples", "samples", "Samples"),
      noise: number("noise", "noise", "Noise"),
      classes: number("classes", "classes", "Classes"),
      layers: Array.from({ length: layers }, () => width),
      activation: byId("activation", HTMLSelectElement).value as Activation,
      loss: byId("loss", HTMLSelectElement).value as LossName,
      optimizer: byId("optimizer", HTMLSelectElement).value as OptimizerName,
      lr: number("lr", "lr", "Learning rate"),
      batchSize: Number(byId("batch-size", HTMLSelectElement).value),
      l2: number("l2", "l2", "L2"),
      seed: number("seed", "seed", "Seed"),
      features: [
        ...document.querySelectorAll<HTMLInputElement>("#features input"),
      ].filter((box) => box.checked).map((box) => box.value as FeatureName),
      mode: byId("mode", HTMLSelectElement).value as FitMode,
      precision: byId("precision", HTMLSelectElement).value as FitPrecision,
      workers: Number(byId("workers", HTMLSelectElement).value),
    });
  }

  /**
   * Disables what this browser cannot run, and says why: wasm without
   * WebAssembly SIMD, workers without cross-origin isolation.
   */
  #checkRuntime(): void {
    const notes: string[] = [];
    if (!wasmSimdAvailable()) {
      const wasm = [...byId("mode", HTMLSelectElement).options].find((o) =>
        o.value === "wasm"
      )!;
      wasm.disabled = true;
      wasm.textContent = "wasm (no SIMD)";
      notes.push(
        "This browser has no WebAssembly SIMD, so the wasm backend is off.",
      );
    }
    const isolated = globalThis.crossOriginIsolated === true &&
      typeof SharedArrayBuffer !== "undefined";
    const workers = byId("workers", HTMLSelectElement);
    workers.dataset.isolated = String(isolated);
    if (!isolated) {
      for (const option of workers.options) {
        option.disabled = option.value !== "1";
      }
      notes.push(
        "Workers need a cross-origin isolated page (served with the COOP and COEP headers, as cli.ts serve does), so training runs on one thread.",
      );
    }
    byId("backend-hint").textContent = notes.join(" ");
    this.#syncPrecision();
  }

  /** float32 is for the wasm backend (and auto, which may pick it). */
  #syncPrecision(): void {
    const mode = byId("mode", HTMLSelectElement).value;
    const precision = byId("precision", HTMLSelectElement);
    const wasm = mode === "wasm" || mode === "auto";
    for (const option of precision.options) {
      option.disabled = option.value === "float32" && !wasm;
    }
    if (!wasm) precision.value = "float64";
  }

  /** Shows how the steps run: the backend, the precision, the threads. */
  #showBackend(info: BackendInfo): void {
    const line = byId("backend");
    const what = info.mode === "parallel"
      ? `parallel on ${info.workers} workers`
      : `${info.mode}${info.mode === "wasm" ? ` ${info.precision}` : ""}`;
    line.textContent = `Steps run: ${what}${
      info.note ? ` (${info.note})` : ""
    }`;
    line.dataset.mode = info.mode;
    line.dataset.precision = info.precision;
    line.dataset.workers = String(info.workers);
  }

  /** Sends learning rate, L2 and batch size to the running model. */
  #tune(): void {
    if (!this.#config) return this.#restart();
    let config: TrainConfig;
    try {
      config = this.#readConfig();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.#markInvalid(error.field);
      showBanner(
        this.#message,
        "error",
        `${error.message}. Training is paused until this is fixed.`,
      );
      this.#wantPlay = false;
      this.#send({ type: "pause" });
      return;
    }
    // Start over when the running model cannot go on (it diverged) or
    // another setting changed while the settings were invalid.
    const same = JSON.stringify({ ...config, ...pickLive(this.#config) }) ===
      JSON.stringify(this.#config);
    if (this.#diverged || !same) return this.#restart(false);
    this.#markInvalid();
    // The user acted on a warning or an error: it no longer applies.
    if (this.#message.dataset.kind !== "info") hideBanner(this.#message);
    this.#config = { ...this.#config, ...pickLive(config) };
    this.#send({ type: "tune", settings: pickLive(config) });
  }

  #markInvalid(field?: string): void {
    for (const id of [...Object.values(FIELD_CONTROL), "width"]) {
      byId(id!).removeAttribute("aria-invalid");
    }
    if (field === undefined) return;
    const id = FIELD_CONTROL[field as keyof TrainConfig];
    if (id) byId(id).setAttribute("aria-invalid", "true");
    if (field === "layers") byId("width").setAttribute("aria-invalid", "true");
  }

  /** Reads the settings and starts over with a fresh model. */
  #restart(keepMessage = true, announce = false): void {
    this.#syncControls();
    let config: TrainConfig;
    try {
      config = this.#readConfig();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.#markInvalid(error.field);
      showBanner(
        this.#message,
        "error",
        `${error.message}. Training is paused until this is fixed.`,
      );
      this.#wantPlay = false;
      this.#send({ type: "pause" });
      return;
    }
    this.#markInvalid();
    if (!keepMessage || this.#message.dataset.kind !== "info") {
      hideBanner(this.#message);
    }
    if (announce && this.#step > 0) {
      showBanner(
        this.#message,
        "info",
        "Started over with a fresh model: data, features and network settings need one (learning rate, L2, batch size and speed do not).",
      );
      const banner = this.#message, text = banner.textContent;
      setTimeout(() => {
        if (banner.textContent === text) hideBanner(banner);
      }, 6000);
    }
    this.#config = config;
    this.#diverged = false;
    this.#networkView.reset();
    const resume = this.#playing || this.#wantPlay;
    this.#step = 0;
    this.#losses = [];
    this.#lossSteps = [];
    this.#accSteps = [];
    this.#trainAcc = [];
    this.#testAcc = [];
    byId("architecture").textContent = `MLP ${
      [
        config.features.length,
        ...config.layers,
        outputsForLoss(config.loss, classCount(config)),
      ]
        .join(
          "-",
        )
    }`;
    this.#send({ type: "init", config });
    if (resume) this.#send({ type: "play", speed: Number(this.#speed.value) });
    this.#updateStats(undefined);
  }

  #togglePlay(): void {
    if (!this.#config) return;
    if (this.#playing) {
      this.#wantPlay = false;
      this.#send({ type: "pause" });
    } else {
      if (this.#message.dataset.kind === "error") {
        // After divergence the parameters are not finite: start over.
        this.#restart(false);
      }
      this.#wantPlay = true;
      this.#send({ type: "play", speed: Number(this.#speed.value) });
    }
  }

  #setPlaying(playing: boolean): void {
    this.#playing = playing;
    this.#play.classList.toggle("playing", playing);
    this.#play.setAttribute("aria-label", playing ? "Pause" : "Play");
    this.#play.dataset.state = playing ? "playing" : "paused";
  }

  // ------------------------------------------------------------- messages

  #receive(message: FromWorker): void {
    switch (message.type) {
      case "ready": {
        this.#data = message.data;
        this.#grid = message.grid;
        this.#network = message.network;
        this.#networkDirty = true;
        byId("architecture").textContent =
          `MLP ${message.architecture} · ${message.parameters} parameters`;
        this.#showBackend(message.backend);
        this.#exportName = `tapegrad-${
          this.#config?.dataset ?? "model"
        }-${message.architecture}.json`;
        this.#updateLegend(message.data.classes);
        this.#accSteps.push(0);
        this.#trainAcc.push(message.trainAccuracy);
        this.#testAcc.push(message.testAccuracy);
        this.#updateStats({
          trainAccuracy: message.trainAccuracy,
          testAccuracy: message.testAccuracy,
          rate: 0,
        });
        this.#scheduleDraw();
        this.#updateExportCommand();
        return;
      }
      case "progress": {
        const first = this.#step + 1;
        this.#step = message.step;
        for (let k = 0; k < message.losses.length; k++) {
          this.#lossSteps.push(first + k);
          this.#losses.push(message.losses[k]);
        }
        this.#accSteps.push(message.step);
        this.#trainAcc.push(message.trainAccuracy);
        this.#testAcc.push(message.testAccuracy);
        if (message.grid) this.#grid = message.grid;
        if (message.network) {
          this.#network = message.network;
          this.#networkDirty = true;
        }
        this.#updateStats(message);
        this.#showBackend(message.backend);
        // The worker's own accounting, for playground/view_cost.ts.
        byId("stat-rate").dataset.trainMs = String(message.trainMs);
        byId("stat-rate").dataset.viewMs = String(message.viewMs);
        this.#checkLossGrowth();
        this.#scheduleDraw();
        return;
      }
      case "backend":
        this.#showBackend(message);
        return;
      case "state":
        this.#setPlaying(message.playing);
        if (!message.playing) {
          byId("stat-rate").textContent = "–";
        }
        return;
      case "error":
        this.#wantPlay = false;
        this.#markInvalid(message.field);
        showBanner(this.#message, "error", message.message);
        this.#message.dataset.error = message.kind;
        if (message.kind === "diverged") this.#diverged = true;
        return;
      case "model":
        this.#download(message.text, message.filename);
        return;
      case "prediction":
        this.#showPrediction(message);
        return;
    }
  }

  /** Warns while the loss is far above where it started: a sign of a too-large step. */
  #checkLossGrowth(): void {
    const losses = this.#losses;
    const first = losses[0], last = losses.at(-1);
    if (first === undefined || last === undefined) return;
    const growing = losses.length > 5 && last > 10 * first && last > 10;
    const kind = this.#message.hidden ? undefined : this.#message.dataset.kind;
    if (growing && kind === undefined) {
      showBanner(
        this.#message,
        "warn",
        `The loss has grown from ${formatNumber(first, 4)} to ${
          formatNumber(last, 4)
        }: the learning rate ${this.#config?.lr} is probably too high. Lower it (or try Adam) and press Reset.`,
      );
    } else if (!growing && kind === "warn") {
      hideBanner(this.#message);
    }
  }

  #updateStats(
    info:
      | { trainAccuracy: number; testAccuracy: number; rate: number }
      | undefined,
  ): void {
    byId("stat-step").textContent = String(this.#step);
    const loss = this.#losses.at(-1);
    const lossEl = byId("stat-loss");
    lossEl.textContent = loss === undefined ? "–" : formatNumber(loss, 4);
    lossEl.dataset.value = String(loss ?? "");
    if (!info) {
      byId("stat-train-acc").textContent = "–";
      byId("stat-test-acc").textContent = "–";
      byId("stat-rate").textContent = "–";
      return;
    }
    // Regression reports R², classification accuracy.
    const score = this.#data?.classes === 0
      ? (x: number) => formatNumber(x, 3)
      : formatPercent;
    const train = byId("stat-train-acc");
    train.textContent = score(info.trainAccuracy);
    train.dataset.value = String(info.trainAccuracy);
    const test = byId("stat-test-acc");
    test.textContent = score(info.testAccuracy);
    test.dataset.value = String(info.testAccuracy);
    byId("stat-rate").textContent = info.rate > 0 ? formatRate(info.rate) : "–";
  }

  #updateLegend(classes: number): void {
    const legend = byId("legend");
    legend.textContent = "";
    if (classes === 0) {
      legend.textContent = this.#data?.train.length && this.#grid?.curve
        ? "points: the data · orange line: the model's fit"
        : "colour: the value, orange negative, blue positive (points: the data)";
    }
    for (let k = 0; k < classes; k++) {
      const item = document.createElement("span");
      const dot = document.createElement("i");
      dot.className = "dot";
      dot.style.background = CLASS_COLORS[k % CLASS_COLORS.length];
      item.append(dot, `class ${k}`);
      legend.append(item);
    }
  }

  // --------------------------------------------------------------- drawing

  #scheduleDraw(): void {
    if (this.#drawPending) return;
    this.#drawPending = true;
    requestAnimationFrame(() => {
      this.#drawPending = false;
      this.#draw();
    });
  }

  #draw(): void {
    const network = this.#network, pinned = this.#networkView.pinned;
    if (network && this.#networkDirty) {
      // Spaced by its own cost, as the worker spaces its sampling: drawing
      // the network takes at most 1 / (1 + VIEW_SPACING) of the page's time.
      const now = performance.now();
      const wait = this.#networkAt + VIEW_SPACING * this.#networkCost - now;
      if (wait <= 0) {
        this.#networkDirty = false;
        this.#networkView.update(network);
        this.#networkAt = performance.now();
        this.#networkCost = this.#networkAt - now;
      } else if (this.#networkTimer === undefined) {
        this.#networkTimer = setTimeout(() => {
          this.#networkTimer = undefined;
          this.#scheduleDraw();
        }, wait);
      }
    }
    if (this.#data && this.#grid) {
      const drawn = drawBoundary(this.#canvas, {
        data: this.#data,
        grid: this.#grid,
        showTest: byId("show-test", HTMLInputElement).checked,
        heat: network && pinned
          ? {
            size: network.size,
            values: network.values,
            offset: NetworkView.offset(network, pinned),
          }
          : undefined,
      });
      if (drawn) this.#canvas.dataset.step = String(this.#step);
    }
    drawChart(
      byId("loss-chart", HTMLCanvasElement),
      [{ x: this.#lossSteps, y: this.#losses, color: LINE_COLOR }],
      {
        log: true,
        format: (y) => formatNumber(y, 2),
        empty: "Press play to train",
      },
    );
    drawChart(
      byId("acc-chart", HTMLCanvasElement),
      [
        { x: this.#accSteps, y: this.#trainAcc, color: LINE_COLOR },
        { x: this.#accSteps, y: this.#testAcc, color: SECOND_COLOR },
      ],
      {
        yRange: [0, 1],
        format: (y) => `${Math.round(y * 100)}%`,
        empty: "Press play to train",
      },
    );
  }

  #drawThumbnails(): void {
    for (
      const button of document.querySelectorAll<HTMLButtonElement>(".dataset")
    ) {
      const name = button.dataset.dataset as DatasetName | RegressionName;
      const regression = isRegression(name);
      if (!DATASETS.includes(name as DatasetName) && !regression) continue;
      let data = this.#thumbnails.get(name);
      if (!data) {
        data = makeData({
          ...DEFAULT_CONFIG,
          dataset: name,
          samples: 120,
          noise: regression
            ? DEFAULT_REGRESSION_NOISE[name]
            : DEFAULT_NOISE[name],
          classes: 3,
        }, 3);
        this.#thumbnails.set(name, data);
      }
      // A 1-D problem is drawn as (x, target).
      const points = data.x[0].length === 1
        ? data.x.map((row, i) => [row[0], data.y[i]])
        : data.x;
      drawThumbnail(
        button.querySelector("canvas")!,
        points,
        data.y,
        regression,
      );
    }
  }

  // ------------------------------------------------------ probe and predict

  #pointAt(event: MouseEvent): [number, number] | undefined {
    if (!this.#data) return undefined;
    const rect = this.#canvas.getBoundingClientRect();
    const [xMin, xMax, yMin, yMax] = this.#data.bounds;
    const u = (event.clientX - rect.left) / rect.width;
    const v = (event.clientY - rect.top) / rect.height;
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return undefined;
    return [xMin + u * (xMax - xMin), yMax - v * (yMax - yMin)];
  }

  #probe(event: MouseEvent): void {
    const point = this.#pointAt(event);
    const probe = byId("probe");
    if (!point || !this.#config) {
      probe.hidden = true;
      return;
    }
    const rect = this.#canvas.getBoundingClientRect();
    probe.style.left = `${event.clientX - rect.left}px`;
    probe.style.top = `${event.clientY - rect.top}px`;
    // The point as a click would put it in the Predict fields, so hover
    // and Predict show the same numbers for the same point.
    const x = point[0].toFixed(3), y = point[1].toFixed(3);
    probe.dataset.x = x;
    probe.dataset.y = y;
    this.#probeId = -(++this.#predictId);
    this.#send({
      type: "predict",
      id: this.#probeId,
      point: [Number(x), Number(y)],
    });
  }

  #predictFromFields(): void {
    const out = byId("predict-output");
    const x1 = byId("predict-x1", HTMLInputElement).value.trim();
    const x2 = byId("predict-x2", HTMLInputElement).value.trim();
    if (parseDecimal(x1) === undefined || parseDecimal(x2) === undefined) {
      out.classList.remove("has");
      out.textContent = `Enter two numbers, got ${JSON.stringify(x1)} and ${
        JSON.stringify(x2)
      }`;
      return;
    }
    if (!this.#config) return;
    this.#send({
      type: "predict",
      id: ++this.#predictId,
      point: [Number(x1), Number(x2)],
    });
    this.#updateExportCommand();
  }

  #showPrediction(message: Extract<FromWorker, { type: "prediction" }>): void {
    // One formatting path for hover and Predict: the same point shows the
    // same text in both.
    const text = predictionText(message, this.#data?.classes === 0);
    if (message.id < 0) {
      if (message.id !== this.#probeId) return;
      const probe = byId("probe");
      probe.textContent = text;
      probe.hidden = false;
      return;
    }
    const out = byId("predict-output");
    out.classList.add("has");
    out.textContent = text;
    out.dataset.outputs = JSON.stringify(message.outputs);
    out.dataset.cls = String(message.cls);
  }

  #updateExportCommand(): void {
    const x1 = byId("predict-x1", HTMLInputElement).value.trim() || "0.5";
    const x2 = byId("predict-x2", HTMLInputElement).value.trim() || "0.25";
    byId("export-command").textContent =
      `deno run --allow-read cli.ts predict --model ${this.#exportName} ${x1},${x2}`;
  }

  #download(text: string, filename: string): void {
    const url = URL.createObjectURL(
      new Blob([text], { type: "application/json" }),
    );
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    this.#exportName = filename;
    this.#updateExportCommand();
  }
}

/**
 * A prediction as the page shows it, on hover and after Predict alike:
 * the point, the class (or nothing, for regression) and the outputs.
 */
export function predictionText(
  message: Extract<FromWorker, { type: "prediction" }>,
  regression: boolean,
): string {
  const point = `(${formatNumber(message.point[0], 4)}, ${
    formatNumber(message.point[1], 4)
  })`;
  const outputs = message.outputs.map((o) => formatNumber(o, 4)).join(", ");
  return regression
    ? `${point} → ${outputs}`
    : `${point} → class ${message.cls} · output ${outputs}`;
}

function pickLive(config: TrainConfig): LiveSettings {
  return {
    lr: config.lr,
    l2: config.l2,
    batchSize: config.batchSize,
    mode: config.mode,
    precision: config.precision,
    workers: config.workers,
  };
}

function formatRate(rate: number): string {
  return rate >= 1000 ? `${(rate / 1000).toFixed(1)}k` : rate.toFixed(0);
}
