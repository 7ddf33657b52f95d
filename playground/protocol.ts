/**
 * The messages between the page and the training worker. The worker owns
 * the model; the page only draws what the worker reports.
 *
 * @module
 */

import type { BackendInfo, LiveSettings, TrainConfig } from "./session.ts";

/** What the page asks of the worker. */
export type ToWorker =
  /** Builds a new dataset and model (a reset). */
  | { type: "init"; config: TrainConfig }
  /** Trains until paused, at most `speed` steps a second (0: as fast as possible). */
  | { type: "play"; speed: number }
  /** Stops training after the current slice. */
  | { type: "pause" }
  /** Takes `count` steps, then stays paused. */
  | { type: "step"; count: number }
  /** Changes the speed while playing. */
  | { type: "speed"; speed: number }
  /** Changes learning rate, L2, batch size, backend and threads without a reset. */
  | { type: "tune"; settings: LiveSettings }
  /**
   * Turns the sampling of the network view on or off while training, and
   * of the surface (default on; off only to measure what the views cost).
   */
  | { type: "views"; network: boolean; surface?: boolean }
  /** Asks for the model file. */
  | { type: "export" }
  /** Asks for the model's outputs at a point. */
  | { type: "predict"; id: number; point: [number, number] };

/** The predicted class and confidence over a square grid, row 0 at the top. */
export interface GridMessage {
  /** Cells per side. */
  size: number;
  /** Class per cell. */
  classes: Int32Array;
  /** Confidence per cell, in [0, 1]. */
  confidence: Float64Array;
  /** A 2-D regression: the model's output per cell (no classes then). */
  values?: Float64Array;
  /** A 1-D regression: the model's output at evenly spaced x across the plot. */
  curve?: Float64Array;
}

/** What every neuron computes over a square grid, and the weights. */
export interface NetworkMessage {
  /** Cells per side. */
  size: number;
  /** The inputs, then each layer's width. */
  sizes: number[];
  /** `size * size` values per neuron (row 0 at the top), neuron by neuron, inputs first. */
  values: Float32Array;
  /** The parameters in micrograd's order: per neuron, its weights then its bias. */
  weights: number[];
  /** The input features' labels. */
  labels: string[];
}

/** The data to draw, sent once per reset. */
export interface DataMessage {
  /** Training points, as `[x1, y1, x2, y2, …]`. */
  train: number[];
  /** Training labels (targets for regression, whose `classes` is 0). */
  trainLabels: number[];
  /** Test points. */
  test: number[];
  /** Test labels. */
  testLabels: number[];
  /** Number of classes. */
  classes: number;
  /** The plotted square: `[xMin, xMax, yMin, yMax]`. */
  bounds: [number, number, number, number];
}

/** What the worker tells the page. */
export type FromWorker =
  /** A new model is ready (after `init`). */
  | {
    type: "ready";
    data: DataMessage;
    architecture: string;
    parameters: number;
    /** How the steps run. */
    backend: BackendInfo;
    grid: GridMessage;
    /** Absent while the network view is off. */
    network?: NetworkMessage;
    trainAccuracy: number;
    testAccuracy: number;
  }
  /** Steps were taken. */
  | {
    type: "progress";
    /** Steps taken so far. */
    step: number;
    /** The loss of each new step. */
    losses: number[];
    /** The batch accuracy of each new step. */
    accuracies: number[];
    /** Accuracy on the whole training set now. */
    trainAccuracy: number;
    /** Accuracy on the test set now. */
    testAccuracy: number;
    /** Steps per second over the last second, 0 when paused. */
    rate: number;
    /** How the steps run. */
    backend: BackendInfo;
    /** Milliseconds spent training since the model was made. */
    trainMs: number;
    /**
     * Milliseconds spent sampling and sending the views since the model was
     * made (up to this message's views, which count in the next one).
     */
    viewMs: number;
    /** The decision surface, when it was recomputed. */
    grid?: GridMessage;
    /** The network view's data, recomputed with the surface. */
    network?: NetworkMessage;
  }
  /** How the steps run, after `tune` changed it. */
  | ({ type: "backend" } & BackendInfo)
  /** Playing or paused (training stops by itself on an error). */
  | { type: "state"; playing: boolean }
  /** Something went wrong; the message is for people. */
  | {
    type: "error";
    kind: "config" | "diverged" | "export" | "internal";
    message: string;
    /** The setting at fault, for config errors. */
    field?: string;
    /** The step whose loss was not finite, for divergence. */
    step?: number;
  }
  /** The model file, after `export`. */
  | { type: "model"; text: string; filename: string }
  /** The model's answer to `predict`. */
  | {
    type: "prediction";
    id: number;
    point: [number, number];
    outputs: number[];
    cls: number;
    score: number;
  };
