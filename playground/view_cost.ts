/// <reference lib="dom" />
/**
 * What the live views cost the training speed, measured in Chromium: the
 * playground served by `cli.ts serve`, the default model (moons, 2-16-16-1,
 * Adam, full batch) trained as fast as possible for a fixed number of
 * steps, in turns:
 * - **page, network on / off**: the real page, drawing everything, with the
 *   network view's "live" box ticked or not (the surface stays on);
 * - **worker, views on / off**: the training worker alone, driven by
 *   messages, sampling the surface and the network view, or neither.
 *
 * Each turn counts `STEPS` steps after a warm-up and measures three things
 * over them:
 * - **CPU per step**: the renderer process's CPU time (Chrome DevTools
 *   Protocol `Performance.getMetrics`, `ProcessTime`: the page's thread,
 *   the training worker and the drawing together). Other processes' load
 *   does not enter it, so on a busy machine this is the number to read;
 * - **wall-clock steps per second**, which other processes' load shakes;
 * - **the worker's time on views**, by its own clock (`viewMs` against
 *   `trainMs` in its progress messages), which the throttle bounds.
 *
 * On and off run back to back in each round (which goes first alternates);
 * each round's pair gives a ratio, and the medians of the ratios are
 * printed with the load average.
 *
 * Run: `deno task playground:view-cost` (builds first; needs Chromium).
 *
 * @module
 */

import type { CDPSession, Page } from "npm:playwright-core@1.65.1";
import { launchBrowser, startServer } from "./browser.ts";
import { buildPlayground } from "./build.ts";
import { DEFAULT_CONFIG } from "./session.ts";

/** Steps measured per turn. */
const STEPS = 10_000;
/** Steps trained before measuring (code generation, warm-up). */
const WARMUP = 300;
/** Rounds: each runs every variant once. */
const ROUNDS = 6;

/** What a turn reads at its start and its end. */
interface Snapshot {
  /** Steps taken. */
  step: number;
  /** Wall clock, ms. */
  wall: number;
  /** The renderer process's CPU time, s. */
  cpu: number;
  /** The worker's training and view time, ms. */
  trainMs: number;
  viewMs: number;
  /** View updates received by the page. */
  updates: number;
}

/** One measured turn. */
interface Turn {
  /** Renderer CPU milliseconds per 1000 steps. */
  cpuPerK: number;
  /** Wall-clock steps per second. */
  rate: number;
  /** View updates per 1000 steps. */
  updatesPerK: number;
  /** Share of the worker's time spent on the views. */
  viewShare: number;
}

/** Reads the counters that `begin` (below) keeps in the page. */
async function snapshot(page: Page, cdp: CDPSession): Promise<Snapshot> {
  const [counters, metrics] = await Promise.all([
    page.evaluate(() =>
      (globalThis as unknown as { viewCost: () => unknown }).viewCost()
    ),
    cdp.send("Performance.getMetrics"),
  ]);
  const cpu = metrics.metrics.find((m) => m.name === "ProcessTime")!.value;
  return { ...(counters as Omit<Snapshot, "cpu" | "wall">), cpu, wall: 0 };
}

/** Waits for `step` steps, then snapshots. */
async function at(page: Page, cdp: CDPSession, step: number) {
  await page.waitForFunction(
    (s) =>
      ((globalThis as unknown as { viewCost: () => { step: number } })
        .viewCost()).step >= s,
    step,
    { polling: 50, timeout: 300_000 },
  );
  const wall = performance.now();
  return { ...(await snapshot(page, cdp)), wall };
}

function turn(a: Snapshot, b: Snapshot): Turn {
  const steps = b.step - a.step;
  const view = b.viewMs - a.viewMs, train = b.trainMs - a.trainMs;
  return {
    cpuPerK: (1e6 * (b.cpu - a.cpu)) / steps,
    rate: (1000 * steps) / (b.wall - a.wall),
    updatesPerK: (1000 * (b.updates - a.updates)) / steps,
    viewShare: view / (view + train),
  };
}

/** Trains the page's own model from a fresh start, network view live or not. */
async function pageTurn(
  page: Page,
  cdp: CDPSession,
  network: boolean,
): Promise<Turn> {
  await page.setChecked("#show-network", network);
  await page.click("#reset");
  await page.waitForFunction(() =>
    document.getElementById("stat-step")!.textContent === "0"
  );
  await page.evaluate(() => {
    const stats = document.getElementById("stat-rate")!;
    const net = document.getElementById("network")!;
    (globalThis as unknown as { viewCost: () => unknown }).viewCost = () => ({
      step: Number(document.getElementById("stat-step")!.textContent),
      trainMs: Number(stats.dataset.trainMs),
      viewMs: Number(stats.dataset.viewMs),
      updates: Number(net.dataset.updates ?? 0),
    });
  });
  await page.click("#play");
  const a = await at(page, cdp, WARMUP);
  const b = await at(page, cdp, a.step + STEPS);
  await page.click("#play");
  await page.waitForSelector("#play[data-state='paused']");
  return turn(a, b);
}

/**
 * Drives a training worker of its own with the page's default settings
 * ({@linkcode DEFAULT_CONFIG}), its views all on or all off.
 */
async function workerTurn(
  page: Page,
  cdp: CDPSession,
  views: boolean,
): Promise<Turn> {
  await page.evaluate(({ views, config }) => {
    const worker = new Worker("worker.js", { type: "module" });
    const state = { step: 0, trainMs: 0, viewMs: 0, updates: 0 };
    worker.onmessage = (event) => {
      const m = event.data;
      if (m.type !== "progress") return;
      state.step = m.step;
      state.trainMs = m.trainMs;
      state.viewMs = m.viewMs;
      if (m.grid || m.network) state.updates++;
    };
    const scope = globalThis as unknown as {
      viewCost: () => unknown;
      viewCostWorker: Worker;
    };
    scope.viewCost = () => ({ ...state });
    scope.viewCostWorker = worker;
    worker.postMessage({ type: "init", config });
    worker.postMessage({ type: "views", network: views, surface: views });
    worker.postMessage({ type: "play", speed: 0 });
  }, { views, config: DEFAULT_CONFIG });
  const a = await at(page, cdp, WARMUP);
  const b = await at(page, cdp, a.step + STEPS);
  await page.evaluate(() =>
    (globalThis as unknown as { viewCostWorker: Worker }).viewCostWorker
      .terminate()
  );
  return turn(a, b);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3)
      .join(" ");
  } catch {
    return "unknown";
  }
}

/** Runs every turn and prints the medians and ratios. */
async function main(): Promise<void> {
  await buildPlayground();
  const server = await startServer();
  const browser = await launchBrowser();
  const load = [await loadAverage()];
  try {
    const page = browser.page;
    page.setDefaultTimeout(120_000);
    await page.goto(server.url);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForSelector("#backend[data-mode]");
    const backend = await page.textContent("#backend");
    await page.selectOption("#speed", "0");
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Performance.enable");
    const variants = [
      ["page, network on", (c: CDPSession) => pageTurn(page, c, true)],
      ["page, network off", (c: CDPSession) => pageTurn(page, c, false)],
      ["worker, views on", (c: CDPSession) => workerTurn(page, c, true)],
      ["worker, views off", (c: CDPSession) => workerTurn(page, c, false)],
    ] as const;
    const turns = new Map<string, Turn[]>(variants.map(([k]) => [k, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // On and off back to back, which goes first alternating.
      for (const pair of [[0, 1], [2, 3]]) {
        const order = r % 2 === 0 ? pair : [...pair].reverse();
        for (const v of order) {
          const [key, run] = variants[v];
          turns.get(key)!.push(await run(cdp));
        }
      }
    }
    load.push(await loadAverage());
    const med = (key: string, f: (t: Turn) => number) =>
      median(turns.get(key)!.map(f));
    console.log(
      `Chromium ${
        browser.context.browser()?.version() ?? ""
      }, ${STEPS} steps per turn after ${WARMUP}, ${ROUNDS} rounds, medians; ${backend}`,
    );
    console.log(`load average before: ${load[0]}; after: ${load[1]}`);
    console.log(
      "| variant | CPU ms per 1000 steps | steps/s (wall) | view updates per 1000 steps | worker time on views |",
    );
    console.log("| --- | --- | --- | --- | --- |");
    for (const [key] of variants) {
      console.log(
        `| ${key} | ${med(key, (t) => t.cpuPerK).toFixed(0)} | ${
          med(key, (t) => t.rate).toFixed(0)
        } | ${med(key, (t) => t.updatesPerK).toFixed(2)} | ${
          (100 * med(key, (t) => t.viewShare)).toFixed(1)
        }% |`,
      );
    }
    // Speed with the views on over speed with them off, pair by pair.
    for (
      const [label, on, off] of [
        ["network view (page)", variants[0][0], variants[1][0]],
        ["all views (worker)", variants[2][0], variants[3][0]],
      ]
    ) {
      const a = turns.get(on)!, b = turns.get(off)!;
      const cpu = a.map((t, r) => b[r].cpuPerK / t.cpuPerK);
      const wall = a.map((t, r) => t.rate / b[r].rate);
      console.log(
        `${label}: speed on / off by CPU per step ${
          median(cpu).toFixed(3)
        } (rounds ${cpu.map((x) => x.toFixed(2)).join(", ")}); by wall clock ${
          median(wall).toFixed(3)
        } (rounds ${wall.map((x) => x.toFixed(2)).join(", ")})`,
      );
    }
  } finally {
    await browser.close();
    await server.stop();
  }
}

if (import.meta.main) await main();
