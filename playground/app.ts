/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * The playground page's entry point (bundled to `dist/app.js`): switches
 * between the train and graph views by the URL hash and turns any unexpected
 * error into a message on the page instead of a blank or frozen page.
 *
 * @module
 */

import { byId, showBanner } from "./dom.ts";
import { startGraphView } from "./graph_view.ts";
import { startTrainView } from "./train_view.ts";

const VIEWS = ["train", "graph"] as const;
type View = typeof VIEWS[number];

function showView(view: View): void {
  for (const name of VIEWS) {
    byId(`view-${name}`).hidden = name !== view;
    byId(`tab-${name}`).setAttribute("aria-selected", String(name === view));
  }
  document.title = `tapegrad playground · ${
    view === "train" ? "Train" : "Graph"
  }`;
  // Canvases measured while hidden have no size: redraw now they show.
  globalThis.dispatchEvent(new Event("resize"));
}

function viewFromHash(): View {
  const name = location.hash.replace(/^#/, "");
  return (VIEWS as readonly string[]).includes(name) ? name as View : "train";
}

function reportError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  showBanner(
    byId("app-message"),
    "error",
    `Something went wrong: ${message}. The page keeps working; reload it if a view looks stuck.`,
  );
}

globalThis.addEventListener(
  "error",
  (event) => reportError(event.error ?? event.message),
);
globalThis.addEventListener(
  "unhandledrejection",
  (event) => reportError(event.reason),
);

function start(): void {
  showView(viewFromHash());
  globalThis.addEventListener("hashchange", () => showView(viewFromHash()));
  for (
    const [name, start] of [["train", startTrainView], [
      "graph",
      startGraphView,
    ]] as const
  ) {
    try {
      start();
    } catch (error) {
      reportError(error);
      console.error(`Starting the ${name} view failed`, error);
    }
  }
  document.body.dataset.ready = "true";
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else start();
