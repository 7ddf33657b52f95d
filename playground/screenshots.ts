/// <reference lib="dom" />
/**
 * Takes the README's screenshots with the browser tests' setup (Debian's
 * Chromium, headless, through playwright-core): the playground's
 * `docs/playground-train.png` (with the network view),
 * `docs/playground-regression.png`, `docs/playground-graph.png` and
 * `docs/playground-phone.png` (390x844), and the
 * library's pictures `docs/draw-graph-neuron.png` and `docs/plot-boundary.png`.
 *
 * Run: `deno run -A playground/screenshots.ts` (or `deno task playground:screenshots`).
 *
 * @module
 */

import { launchBrowser, startServer } from "./browser.ts";
import { buildPlayground, toPath } from "./build.ts";
import { boundaryPicture, neuronPicture, pictureHtml } from "./pictures.ts";

const DOCS = new URL("../docs/", import.meta.url);

/**
 * Builds, serves, trains spirals in the page and steps a backward pass
 * halfway, and saves one screenshot of each view.
 *
 * @returns The files written.
 */
export async function takeScreenshots(): Promise<string[]> {
  await buildPlayground();
  await Deno.mkdir(DOCS, { recursive: true });
  const server = await startServer();
  const written: string[] = [];
  try {
    written.push(...await desktopScreenshots(server.url));
    written.push(...await phoneScreenshot(server.url));
  } finally {
    await server.stop();
  }
  return written;
}

async function desktopScreenshots(url: string): Promise<string[]> {
  const server = { url };
  const browser = await launchBrowser({
    viewport: { width: 1440, height: 900 },
  });
  const written: string[] = [];
  try {
    const page = browser.page;
    page.setDefaultTimeout(60_000);
    await page.goto(server.url + "#train");
    await page.waitForSelector("body[data-ready=true]");

    // Train view: three spirals, learned live.
    await page.selectOption("#loss", "cross-entropy");
    await page.click(".dataset[data-dataset='spirals']");
    await page.selectOption("#activation", "tanh");
    await page.fill("#lr", "0.02");
    await page.press("#lr", "Tab");
    await page.check("#show-test");
    await page.selectOption("#speed", "1000");
    await page.click("#play");
    await page.waitForFunction(
      () =>
        Number(document.getElementById("stat-train-acc")!.dataset.value) >=
          0.99 &&
        Number(document.getElementById("stat-step")!.textContent) >= 1500,
    );
    // Keep it playing so the step rate shows; let the curves settle a moment.
    await page.waitForTimeout(400);
    // Hover a hidden neuron: the network view shows it large.
    await page.hover("#network canvas.neuron[data-layer='1'][data-index='3']");
    await page.waitForSelector("#neuron-card:not([hidden])");
    const train = toPath(new URL("playground-train.png", DOCS));
    await page.screenshot({ path: train, fullPage: true });
    written.push(train);
    await page.click("#play");
    await page.mouse.move(0, 0);

    // Regression: a noisy sine, fitted.
    await page.click(".dataset[data-dataset='sine']");
    await page.selectOption("#speed", "0");
    await page.click("#play");
    await page.waitForFunction(
      () => Number(document.getElementById("stat-step")!.textContent) >= 1500,
    );
    await page.click("#play");
    await page.waitForSelector("#play[data-state='paused']");
    const regression = toPath(new URL("playground-regression.png", DOCS));
    await page.screenshot({ path: regression });
    written.push(regression);

    // Graph view: micrograd's neuron, its backward pass stopped halfway, as
    // the first + passes its grad to both products.
    await page.goto(server.url + "#graph");
    await page.waitForSelector("#graph g.node");
    await page.click("#bw-first");
    for (let k = 0; k < 4; k++) await page.click("#bw-next");
    await page.mouse.move(0, 0);
    const graph = toPath(new URL("playground-graph.png", DOCS));
    await page.screenshot({ path: graph });
    written.push(graph);
  } finally {
    await browser.close();
  }
  return written;
}

/** A phone: the plot and the play button first, settings folded away. */
async function phoneScreenshot(url: string): Promise<string[]> {
  const server = { url };
  const written: string[] = [];
  const phone = await launchBrowser({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
  });
  try {
    const page = phone.page;
    page.setDefaultTimeout(60_000);
    await page.goto(server.url + "#train");
    await page.waitForSelector("body[data-ready=true]");
    await page.selectOption("#speed", "1000");
    await page.click("#play");
    await page.waitForFunction(
      () => Number(document.getElementById("stat-step")!.textContent) >= 300,
    );
    const file = toPath(new URL("playground-phone.png", DOCS));
    await page.screenshot({ path: file });
    written.push(file);
  } finally {
    await phone.close();
  }
  return written;
}

/**
 * Renders the library's SVG pictures as they are, at 2x for crispness.
 *
 * @returns The files written.
 */
export async function takePictureScreenshots(): Promise<string[]> {
  await Deno.mkdir(DOCS, { recursive: true });
  const written: string[] = [];
  for (
    const [name, image] of [
      ["draw-graph-neuron.png", neuronPicture()],
      ["plot-boundary.png", boundaryPicture()],
    ] as const
  ) {
    const browser = await launchBrowser({
      viewport: {
        width: Math.ceil(image.width),
        height: Math.ceil(image.height),
      },
      deviceScaleFactor: 2,
    });
    try {
      await browser.page.setContent(pictureHtml(image));
      const file = toPath(new URL(name, DOCS));
      await browser.page.screenshot({ path: file });
      written.push(file);
    } finally {
      await browser.close();
    }
  }
  return written;
}

if (import.meta.main) {
  // --pictures: only the library's pictures (no playground build, no training).
  const files = Deno.args.includes("--pictures")
    ? await takePictureScreenshots()
    : [...await takeScreenshots(), ...await takePictureScreenshots()];
  for (const file of files) console.log(`Wrote ${file}`);
}
