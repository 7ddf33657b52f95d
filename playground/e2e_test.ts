/// <reference lib="dom" />
/**
 * End-to-end tests of the playground in a real browser: Debian's Chromium,
 * headless, driven by playwright-core, against the server started as a user
 * starts it (`cli.ts serve --port 0`). Skipped only when Chromium is missing
 * and CI is not set; under CI they always run (.ci/run installs Chromium).
 *
 * Permissions: --allow-run --allow-read --allow-write --allow-env
 * (--allow-net=127.0.0.1 is not needed here: the browser does the fetching).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import {
  type Browser,
  CHROMIUM_PATH,
  hasChromium,
  launchBrowser,
  type ServerProcess,
  startServer,
} from "./browser.ts";
import { buildPlayground, toPath } from "./build.ts";
import { boundaryPicture, neuronPicture, pictureHtml } from "./pictures.ts";

const ROOT = toPath(new URL("../", import.meta.url));
const ignore = !hasChromium() && !Deno.env.get("CI");
if (ignore) {
  console.warn(
    `Skipping the playground's browser tests: no Chromium at ${CHROMIUM_PATH} ` +
      "(install it with: apt-get install -y chromium; under CI=true they run and fail instead)",
  );
}

// Playwright keeps timers and pipes of its own between calls.
const options = { ignore, sanitizeOps: false, sanitizeResources: false };

let built: Promise<unknown> | undefined;

/**
 * Builds once, starts a server and a browser, runs `before` (before the page
 * loads), opens the page, runs `body`, cleans up.
 */
async function withPage(
  body: (page: Page, server: ServerProcess, browser: Browser) => Promise<void>,
  hash = "",
  viewport?: { width: number; height: number },
  before?: (page: Page) => Promise<void>,
): Promise<void> {
  built ??= buildPlayground();
  await built;
  const server = await startServer();
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchBrowser(viewport ? { viewport } : {});
    const page = browser.page;
    page.setDefaultTimeout(30_000);
    page.on(
      "pageerror",
      (error) => problems.push(`page error: ${error.message}`),
    );
    page.on("console", (message) => {
      if (message.type() === "error") {
        problems.push(`console error: ${message.text()}`);
      }
    });
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(server.url) && !/^(blob|data):/.test(url)) {
        problems.push(`request outside the server: ${url}`);
      }
    });
    await before?.(page);
    await page.goto(server.url + hash);
    await page.waitForSelector("body[data-ready=true]");
    await body(page, server, browser);
    assert.deepEqual(problems, [], "the page reported problems");
  } finally {
    await browser?.close();
    await server.stop();
  }
}

async function deno(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function statValue(page: Page, id: string): Promise<number> {
  return page.$eval(
    `#${id}`,
    (el) => Number((el as HTMLElement).dataset.value),
  );
}

function canvasPixels(page: Page): Promise<string> {
  return page.$eval("#boundary", (el) => (el as HTMLCanvasElement).toDataURL());
}

async function setField(
  page: Page,
  selector: string,
  value: string,
): Promise<void> {
  await page.fill(selector, value);
  await page.press(selector, "Tab"); // Leaving the field commits it (a change event).
}

Deno.test(
  "playground: moons trains to 95% accuracy in the page, live and responsive",
  options,
  async () => {
    await withPage(async (page) => {
      await page.waitForSelector("#boundary[data-step='0']");
      const before = await canvasPixels(page);
      await page.selectOption("#speed", "0");
      await page.click("#play");
      await page.waitForSelector("#play[data-state='playing']");
      // The worker trains; the page's own frames keep coming. Counted, not
      // timed: speed lives in benches, and a loaded machine draws fewer.
      const frames = await page.evaluate(() =>
        new Promise<number>((resolve) => {
          let count = 0;
          const start = performance.now();
          const tick = () => {
            count++;
            if (count < 10 && performance.now() - start < 10_000) {
              requestAnimationFrame(tick);
            } else resolve(count);
          };
          requestAnimationFrame(tick);
        })
      );
      assert.equal(
        frames,
        10,
        `the page drew only ${frames} frames in 10 s while training`,
      );
      await page.waitForFunction(() =>
        /\d/.test(document.getElementById("stat-rate")!.textContent!)
      );
      await page.waitForFunction(
        () =>
          Number(document.getElementById("stat-train-acc")!.dataset.value) >=
            0.95,
        null,
        { timeout: 60_000 },
      );
      await page.click("#play");
      await page.waitForSelector("#play[data-state='paused']");
      const accuracy = await statValue(page, "stat-train-acc");
      assert.ok(accuracy >= 0.95, `train accuracy ${accuracy}`);
      const step = Number(await page.textContent("#stat-step"));
      assert.ok(step > 0);
      assert.match((await page.textContent("#stat-loss"))!, /^\d/);
      // The heat map was redrawn for the trained model.
      await page.waitForSelector(`#boundary[data-step='${step}']`);
      const after = await canvasPixels(page);
      assert.notEqual(
        after,
        before,
        "the decision boundary canvas did not change",
      );
      // Paused means paused: no steps are taken.
      await page.waitForTimeout(300);
      assert.equal(Number(await page.textContent("#stat-step")), step);
      // One step advances by exactly one.
      await page.click("#step");
      await page.waitForFunction(
        (s) =>
          Number(document.getElementById("stat-step")!.textContent) === s + 1,
        step,
      );
      // Reset starts over.
      await page.click("#reset");
      await page.waitForFunction(() =>
        document.getElementById("stat-step")!.textContent === "0"
      );
    });
  },
);

Deno.test(
  "playground: the exported model is the CLI's model file and predict agrees with the page",
  options,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "tapegrad-e2e-" });
    try {
      await withPage(async (page) => {
        for (let k = 0; k < 8; k++) {
          await page.click("#step", { modifiers: ["Shift"] });
        }
        await page.waitForFunction(() =>
          document.getElementById("stat-step")!.textContent === "80"
        );
        await setField(page, "#predict-x1", "0.5");
        await setField(page, "#predict-x2", "-0.25");
        await page.click("#predict");
        await page.waitForSelector("#predict-output[data-outputs]");
        const shown = await page.$eval("#predict-output", (el) => ({
          outputs: JSON.parse((el as HTMLElement).dataset.outputs!) as number[],
          cls: Number((el as HTMLElement).dataset.cls),
        }));
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click("#export"),
        ]);
        assert.match(
          download.suggestedFilename(),
          /^tapegrad-moons-2-16-16-1\.json$/,
        );
        const file = `${dir}/${download.suggestedFilename()}`;
        await download.saveAs(file);
        const command = await page.textContent("#export-command");
        assert.match(
          command!,
          /cli\.ts predict --model tapegrad-moons-2-16-16-1\.json 0\.5,-0\.25/,
        );

        const text = await Deno.readTextFile(file);
        const json = JSON.parse(text);
        assert.equal(json.format, "tapegrad-mlp");
        assert.equal(json.meta.dataset, "moons");
        assert.equal(json.meta.loss, "hinge");
        assert.equal(json.meta.classes, 2);
        assert.equal(json.meta.steps, 80);
        assert.match(json.meta.createdBy, /^tapegrad \S+ playground$/);

        // The CLI reads it and computes the very same numbers.
        const predicted = await deno([
          "run",
          "--allow-read",
          "cli.ts",
          "predict",
          "--model",
          file,
          "--json",
          "0.5,-0.25",
        ]);
        assert.equal(predicted.code, 0, predicted.stderr);
        const [p] = JSON.parse(predicted.stdout).predictions;
        assert.deepEqual(p.outputs, shown.outputs);
        assert.equal(p.class, shown.cls);

        // Same format as `cli.ts train --save`: same fields, same meta fields.
        const saved = `${dir}/cli.json`;
        const trained = await deno([
          "run",
          "--allow-read",
          `--allow-write=${dir}`,
          "cli.ts",
          "train",
          "--steps",
          "2",
          "--quiet",
          "--save",
          saved,
        ]);
        assert.equal(trained.code, 0, trained.stderr);
        const cli = JSON.parse(await Deno.readTextFile(saved));
        assert.deepEqual(Object.keys(json), Object.keys(cli));
        assert.deepEqual(
          Object.keys(json.meta).sort(),
          Object.keys(cli.meta).sort(),
        );
        assert.deepEqual(json.layers, cli.layers);
        assert.ok(text.endsWith("}\n"));
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "playground: the graph view shows the gradients cli.ts grad computes, and steps backward",
  options,
  async () => {
    await withPage(async (page) => {
      await setField(page, "#expr", "x^2 + 3*x*y + tanh(y)");
      await setField(page, "#bindings", "x=1.5 y=-2");
      await page.waitForFunction(() =>
        document.querySelectorAll("#grad-table tbody tr[data-name]").length ===
          2
      );
      const shown = await page.$$eval(
        "#grad-table tbody tr[data-name]",
        (rows) =>
          Object.fromEntries(
            rows.map((row) => [
              (row as HTMLElement).dataset.name!,
              Number(
                (row.querySelector("td.grad") as HTMLElement).dataset.value,
              ),
            ]),
          ),
      );
      const value = Number(
        await page.$eval(
          "#graph-value",
          (el) => (el as HTMLElement).dataset.value,
        ),
      );
      const cli = await deno([
        "run",
        "cli.ts",
        "grad",
        "x^2 + 3*x*y + tanh(y)",
        "x=1.5",
        "y=-2",
        "--json",
      ]);
      assert.equal(cli.code, 0, cli.stderr);
      const expected = JSON.parse(cli.stdout);
      assert.equal(value, expected.value);
      assert.deepEqual(shown, expected.grad);
      assert.equal(
        await page.textContent("#cli-command"),
        'deno run cli.ts grad "x^2 + 3*x*y + tanh(y)" x=1.5 y=-2',
      );

      // Every node shows its data and its grad.
      const nodes = await page.$$eval("#graph g.node", (gs) =>
        gs.map((g) => ({
          index: Number((g as SVGGElement).dataset.index),
          text: g.textContent!,
        })));
      assert.ok(nodes.length >= 9, `only ${nodes.length} nodes drawn`);
      for (const node of nodes) {
        assert.match(node.text, /data .*grad /, `node #${node.index}`);
      }

      // Step the backward pass from the start.
      await page.click("#bw-first");
      const total = Number(
        (await page.textContent("#bw-counter"))!.split("/")[1],
      );
      assert.equal(await page.textContent("#bw-counter"), `step 0 / ${total}`);
      for (const grad of Object.values(await gradsInTable(page))) {
        assert.equal(grad, 0);
      }
      await page.click("#bw-next"); // The seed: the root's grad becomes 1.
      const root = Math.max(...nodes.map((n) => n.index));
      assert.equal(
        await page.getAttribute(`#graph g.node[data-index='${root}']`, "class"),
        "node op root accumulating",
      );
      await page.click("#bw-next"); // The root passes its grad on to its two inputs.
      assert.match(
        (await page.getAttribute(
          `#graph g.node[data-index='${root}']`,
          "class",
        ))!,
        /\bcurrent\b/,
      );
      assert.equal(await page.locator("#graph g.node.accumulating").count(), 2);
      assert.match(
        (await page.textContent("#bw-explain"))!,
        new RegExp(`node #${root} \\(\\+\\)`),
      );
      // Keyboard stepping to the end gives the final gradients again.
      await page.locator("#bw-slider").focus();
      await page.keyboard.press("ArrowRight");
      assert.equal(
        await page.textContent("#bw-counter"),
        `step 3 / ${total}`,
        "one key press, one step",
      );
      for (let k = 3; k < total; k++) {
        await page.keyboard.press("ArrowRight");
      }
      await page.waitForFunction(
        (t) =>
          document.getElementById("bw-counter")!.textContent ===
            `step ${t} / ${t}`,
        total,
      );
      assert.deepEqual(await gradsInTable(page), expected.grad);
      // Midway, x's grad was a partial sum: it accumulates from both uses.
      const partials = new Set<number>();
      for (let k = total; k >= 0; k--) {
        await page.$eval("#bw-slider", (el, v) => {
          (el as HTMLInputElement).value = String(v);
          el.dispatchEvent(new Event("input"));
        }, k);
        partials.add((await gradsInTable(page)).x);
      }
      assert.ok(
        partials.size >= 3,
        `x's grad took the values ${[...partials]}`,
      );
    }, "#graph");
  },
);

async function gradsInTable(page: Page): Promise<Record<string, number>> {
  return await page.$$eval(
    "#grad-table tbody tr[data-name]",
    (rows) =>
      Object.fromEntries(
        rows.map((row) => [
          (row as HTMLElement).dataset.name!,
          Number((row.querySelector("td.grad") as HTMLElement).dataset.value),
        ]),
      ),
  );
}

Deno.test(
  "playground: bad expressions show a readable message, never a blank page",
  options,
  async () => {
    await withPage(async (page) => {
      const graphBefore = await page.locator("#graph g.node").count();
      assert.ok(graphBefore > 0);
      await setField(page, "#expr", "x1 + * w1");
      await page.waitForSelector("#graph-message:not([hidden])");
      assert.equal(
        await page.textContent("#graph-message .title"),
        'Syntax error at column 6: Unexpected "*": expected a number, a name or "("',
      );
      assert.equal(
        await page.textContent("#graph-message pre"),
        "x1 + * w1\n     ^",
      );
      assert.equal(await page.getAttribute("#expr", "aria-invalid"), "true");
      // The last good graph stays on the page.
      assert.equal(await page.locator("#graph g.node").count(), graphBefore);

      await setField(page, "#expr", "x1*w1 + z");
      await page.waitForFunction(() =>
        /Unknown variable "z"/.test(
          document.getElementById("graph-message")!.textContent!,
        )
      );
      await setField(page, "#expr", "log(x1 - 2)");
      await page.waitForFunction(() =>
        /Value error: log\(0\) is -Infinity/.test(
          document.getElementById("graph-message")!.textContent!,
        )
      );
      await setField(page, "#expr", "x1 * w1");
      await setField(page, "#bindings", "x1=2 w1=abc");
      await page.waitForFunction(() =>
        /Value of w1 must be a number, got "abc"/.test(
          document.getElementById("graph-message")!.textContent!,
        )
      );
      await setField(page, "#bindings", "x1=2 w1=-3");
      await page.waitForSelector("#graph-message", { state: "hidden" });
      assert.equal(
        await page.$eval(
          "#graph-value",
          (el) => (el as HTMLElement).dataset.value,
        ),
        "-6",
      );
    }, "#graph");
  },
);

Deno.test(
  "playground: a learning rate that makes the loss explode shows a message, and training recovers",
  options,
  async () => {
    await withPage(async (page) => {
      await setField(page, "#lr", "abc");
      await page.waitForSelector("#train-message:not([hidden])");
      assert.match(
        (await page.textContent("#train-message"))!,
        /Learning rate must be a number, got "abc"/,
      );
      assert.equal(await page.getAttribute("#lr", "aria-invalid"), "true");

      // Too large but finite: the loss grows, and the page says so.
      await page.selectOption("#optimizer", "sgd");
      await setField(page, "#lr", "10");
      await page.waitForSelector("#train-message", { state: "hidden" });
      await page.selectOption("#speed", "0");
      await page.click("#play");
      // Read the warning as it shows: a later step may bring the loss back
      // down and take it away again.
      const warned = await page.waitForFunction(() => {
        const m = document.getElementById("train-message")!;
        return m.dataset.kind === "warn" && !m.hidden && m.textContent;
      });
      assert.match(
        (await warned.jsonValue()) as string,
        /^The loss has grown from 1\.501 to .+: the learning rate 10 is probably too high\./,
      );
      await page.click("#play");
      await page.waitForSelector("#play[data-state='paused']");

      // So large that the loss is no longer a number: training stops.
      await setField(page, "#lr", "1e300");
      await page.waitForSelector("#train-message", { state: "hidden" });
      await page.click("#play");
      await page.waitForSelector("#train-message:not([hidden])");
      const message = (await page.textContent("#train-message"))!;
      assert.match(
        message,
        /^Training diverged at step \d+: the loss became (NaN|-?Infinity) \(\w+ produced/,
      );
      assert.match(message, /Lower the learning rate and press Reset\.$/);
      await page.waitForSelector("#play[data-state='paused']");
      // A diverged model is not exported.
      await page.click("#export");
      await page.waitForFunction(() =>
        /^This model cannot be exported: training diverged/.test(
          document.getElementById("train-message")!.textContent!,
        )
      );

      await setField(page, "#lr", "0.1");
      await page.waitForSelector("#train-message", { state: "hidden" });
      await page.click("#play");
      await page.waitForFunction(
        () =>
          Number(document.getElementById("stat-train-acc")!.dataset.value) >=
            0.9,
      );
      await page.click("#play");
      assert.match((await page.textContent("#stat-loss"))!, /^\d/);
    });
  },
);

Deno.test({
  name:
    "the library's drawGraph and plotBoundary pictures render in Chromium: sized as declared, every label inside its field, no box overlaps",
  ...options,
  async fn() {
    const browser = await launchBrowser();
    try {
      const page = browser.page;
      const neuron = neuronPicture();
      await page.setContent(pictureHtml(neuron));
      const drawn = await page.evaluate(() => {
        const svg = document.querySelector("svg")!;
        const box = svg.getBoundingClientRect();
        const fields: { text: string; inside: boolean }[] = [];
        const boxes: { x: number; y: number; w: number; h: number }[] = [];
        for (const g of document.querySelectorAll("g.value")) {
          const rect = g.querySelector("rect")!.getBoundingClientRect();
          boxes.push({ x: rect.x, y: rect.y, w: rect.width, h: rect.height });
          // Field k spans from separator k-1 (or the left edge) to separator k.
          const edges = [
            rect.left,
            ...[...g.querySelectorAll("line")].map((l) =>
              l.getBoundingClientRect().left
            ),
            rect.right,
          ];
          [...g.querySelectorAll("text")].forEach((t, k) => {
            const r = t.getBoundingClientRect();
            fields.push({
              text: t.textContent ?? "",
              inside: r.left >= edges[k] && r.right <= edges[k + 1] &&
                r.top >= rect.top && r.bottom <= rect.bottom,
            });
          });
        }
        return {
          width: box.width,
          height: box.height,
          ops: document.querySelectorAll("g.op").length,
          fields,
          boxes,
        };
      });
      assert.equal(drawn.width, neuron.width);
      assert.equal(drawn.height, neuron.height);
      assert.equal(drawn.boxes.length, 10);
      assert.equal(drawn.ops, 5);
      assert.equal(drawn.fields.length, 30);
      for (const field of drawn.fields) {
        assert.ok(field.inside, `"${field.text}" overflows its field`);
      }
      for (let i = 0; i < drawn.boxes.length; i++) {
        for (let j = i + 1; j < drawn.boxes.length; j++) {
          const a = drawn.boxes[i], b = drawn.boxes[j];
          const apart = a.x + a.w <= b.x || b.x + b.w <= a.x ||
            a.y + a.h <= b.y || b.y + b.h <= a.y;
          assert.ok(apart, `boxes ${i} and ${j} overlap on screen`);
        }
      }
      const shot = await page.screenshot();
      assert.ok(shot.length > 10_000, `a blank screenshot (${shot.length} B)`);

      const boundary = boundaryPicture();
      await page.setContent(pictureHtml(boundary));
      const plot = await page.evaluate(() => {
        const svg = document.querySelector("svg")!.getBoundingClientRect();
        const panel = document.querySelector("#boundary > rect[fill='none']")!
          .getBoundingClientRect();
        const points = [...document.querySelectorAll("#boundary circle")]
          .slice(0, -3) // the legend's samples
          .map((c) => c.getBoundingClientRect());
        return {
          width: svg.width,
          height: svg.height,
          count: points.length,
          inside: points.every((p) =>
            p.left >= panel.left && p.right <= panel.right &&
            p.top >= panel.top && p.bottom <= panel.bottom
          ),
        };
      });
      assert.deepEqual(plot, {
        width: boundary.width,
        height: boundary.height,
        count: 100,
        inside: true,
      });
    } finally {
      await browser.close();
    }
  },
});

// ------------------------------------------------------------ issue 16

/** The number of tiles in each column of the network view. */
function tileColumns(page: Page): Promise<number[]> {
  return page.$$eval("#network canvas.neuron", (tiles) => {
    const counts: number[] = [];
    for (const t of tiles) {
      const layer = Number((t as HTMLElement).dataset.layer);
      counts[layer] = (counts[layer] ?? 0) + 1;
    }
    return counts;
  });
}

function step(page: Page): Promise<number> {
  return page.$eval("#stat-step", (el) => Number(el.textContent));
}

Deno.test(
  "playground: the network view has a tile per neuron, changes while training, and hover and pin show a neuron",
  options,
  async () => {
    await withPage(async (page) => {
      // Moons on 2-16-16-1: 2 inputs, 16 + 16 hidden, 1 output, and a line
      // per weight.
      await page.waitForFunction(() =>
        document.querySelectorAll("#network canvas.neuron").length === 35
      );
      assert.deepEqual(await tileColumns(page), [2, 16, 16, 1]);
      assert.equal(
        await page.$$eval("#network line", (l) => l.length),
        2 * 16 + 16 * 16 + 16,
      );
      // Another architecture: one hidden layer of 4.
      await setField(page, "#layers", "1");
      await setField(page, "#width", "4");
      await page.waitForFunction(() =>
        document.querySelectorAll("#network canvas.neuron").length === 7
      );
      assert.deepEqual(await tileColumns(page), [2, 4, 1]);
      const tile = "#network canvas.neuron[data-layer='1'][data-index='0']";
      const pixels = () =>
        page.$eval(tile, (c) => (c as HTMLCanvasElement).toDataURL());
      const before = await pixels();
      const updates = await page.$eval(
        "#network",
        (n) => Number((n as HTMLElement).dataset.updates),
      );
      // Learning rate, L2 and batch size apply to the running model: the
      // step count never falls back to 0 while they change.
      await page.evaluate(() => {
        const el = document.getElementById("stat-step")!;
        (globalThis as unknown as { sawZero: boolean }).sawZero = false;
        new MutationObserver(() => {
          if (el.textContent === "0") {
            (globalThis as unknown as { sawZero: boolean }).sawZero = true;
          }
        }).observe(el, { childList: true, characterData: true, subtree: true });
      });
      await page.selectOption("#speed", "0");
      await page.click("#play");
      await page.waitForFunction(() =>
        Number(document.getElementById("stat-step")!.textContent) >= 50
      );
      const s1 = await step(page);
      await setField(page, "#lr", "0.03");
      await page.selectOption("#batch-size", "32");
      await setField(page, "#l2", "0");
      await page.waitForFunction(
        (s) =>
          Number(document.getElementById("stat-step")!.textContent) >= s + 50,
        s1,
      );
      assert.equal(
        await page.evaluate(() =>
          (globalThis as unknown as { sawZero: boolean }).sawZero
        ),
        false,
        "changing the learning rate restarted training",
      );
      assert.equal(await page.isHidden("#train-message"), true);
      // The tiles were redrawn for the trained weights.
      await page.waitForFunction(
        (u) =>
          Number(document.getElementById("network")!.dataset.updates) > u + 2,
        updates,
      );
      await page.click("#play");
      await page.waitForSelector("#play[data-state='paused']");
      assert.notEqual(
        await pixels(),
        before,
        "the neuron's tile did not change",
      );

      // Hover: the neuron large, with its two incoming weights and its bias.
      await page.hover(tile);
      await page.waitForSelector("#neuron-card:not([hidden])");
      const card = (await page.textContent("#neuron-card"))!;
      assert.match(card, /^Layer 1, neuron 1\nw x: \S+\nw y: \S+\nbias: \S+$/);
      // Click pins it in the main plot, click again unpins.
      await page.mouse.move(0, 0);
      await page.waitForSelector("#boundary[data-step]");
      const plain = await canvasPixels(page);
      await page.click(tile);
      await page.waitForSelector(`${tile}.pinned`);
      await page.waitForFunction(
        (p) =>
          (document.getElementById("boundary") as HTMLCanvasElement)
            .toDataURL() !== p,
        plain,
      );
      const pinned = await canvasPixels(page);
      await page.click(tile);
      assert.equal(await page.$$eval("#network .pinned", (p) => p.length), 0);
      await page.waitForFunction(
        (p) =>
          (document.getElementById("boundary") as HTMLCanvasElement)
            .toDataURL() !== p,
        pinned,
      );

      // Hover and Predict show the same text for the same point.
      const box = (await page.$("#boundary"))!;
      const rect = (await box.boundingBox())!;
      const x = rect.x + rect.width * 0.3, y = rect.y + rect.height * 0.6;
      await page.mouse.move(x, y);
      await page.waitForSelector("#probe:not([hidden])");
      await page.waitForFunction(() =>
        /class/.test(document.getElementById("probe")!.textContent!)
      );
      const hovered = await page.textContent("#probe");
      await page.mouse.click(x, y);
      await page.waitForSelector("#predict-output[data-outputs]");
      await page.waitForFunction(
        (h) => document.getElementById("predict-output")!.textContent === h,
        hovered,
      );
    });
  },
);

Deno.test(
  "playground: chosen features change the inputs and survive export to cli.ts predict",
  options,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "tapegrad-e2e-" });
    try {
      await withPage(async (page) => {
        await page.check("#features input[value='x2']");
        await page.check("#features input[value='xy']");
        await page.waitForFunction(() =>
          /^MLP 4-16-16-1/.test(
            document.getElementById("architecture")!.textContent!,
          )
        );
        await page.waitForFunction(() =>
          document.querySelectorAll(
            "#network canvas.neuron[data-layer='0']",
          ).length === 4
        );
        for (let k = 0; k < 5; k++) {
          await page.click("#step", { modifiers: ["Shift"] });
        }
        await page.waitForFunction(() =>
          document.getElementById("stat-step")!.textContent === "50"
        );
        await setField(page, "#predict-x1", "0.5");
        await setField(page, "#predict-x2", "-0.25");
        await page.click("#predict");
        await page.waitForSelector("#predict-output[data-outputs]");
        const shown = JSON.parse(
          (await page.getAttribute("#predict-output", "data-outputs"))!,
        );
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click("#export"),
        ]);
        const file = `${dir}/${download.suggestedFilename()}`;
        await download.saveAs(file);
        const json = JSON.parse(await Deno.readTextFile(file));
        assert.equal(json.nin, 4);
        assert.deepEqual(json.meta.features, ["x", "y", "x2", "xy"]);
        const predicted = await deno([
          "run",
          "--allow-read",
          "cli.ts",
          "predict",
          "--model",
          file,
          "--json",
          "0.5,-0.25",
        ]);
        assert.equal(predicted.code, 0, predicted.stderr);
        const [p] = JSON.parse(predicted.stdout).predictions;
        assert.deepEqual(p.input, [0.5, -0.25]);
        assert.deepEqual(p.outputs, shown);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "playground: a regression problem (sine) trains to a low MSE and draws its fit",
  options,
  async () => {
    await withPage(async (page) => {
      await page.click(".dataset[data-dataset='sine']");
      await page.waitForFunction(() =>
        /^MLP 1-16-16-1/.test(
          document.getElementById("architecture")!.textContent!,
        )
      );
      assert.equal(await page.inputValue("#loss"), "mse");
      assert.equal(await page.textContent("#stat-train-name"), "Train R²");
      await page.selectOption("#activation", "tanh");
      await page.selectOption("#speed", "0");
      await page.click("#play");
      // Noise 0.1: a good fit's MSE is near 0.01 (plus a little L2).
      await page.waitForFunction(
        () => {
          const loss = Number(
            document.getElementById("stat-loss")!.textContent,
          );
          return loss > 0 && loss < 0.03;
        },
        null,
        { timeout: 120_000 },
      );
      await page.click("#play");
      await page.waitForSelector("#play[data-state='paused']");
      const r2 = await statValue(page, "stat-train-acc");
      assert.ok(r2 > 0.9, `R² ${r2}`);
    });
  },
);

Deno.test(
  "playground: at 390x844 nothing overflows sideways, and play shows without scrolling",
  options,
  async () => {
    await withPage(
      async (page) => {
        const overflow = () =>
          page.evaluate(() => ({
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
          }));
        const train = await overflow();
        assert.ok(train.scroll <= train.client, JSON.stringify(train));
        const play = (await (await page.$("#play"))!.boundingBox())!;
        assert.ok(
          play.y >= 0 && play.y + play.height <= 844,
          `play at ${play.y}`,
        );
        // The settings fold away behind a button.
        assert.equal(await page.isVisible("#lr"), false);
        await page.click("#settings-toggle");
        assert.equal(await page.isVisible("#lr"), true);
        await page.goto(page.url().replace(/#.*$/, "") + "#graph");
        await page.waitForSelector("#graph g.node");
        const graph = await overflow();
        assert.ok(graph.scroll <= graph.client, JSON.stringify(graph));
        // The graph fits its panel; the zoom buttons scale it.
        const fit = Number(await page.getAttribute("#graph", "data-zoom"));
        assert.ok(fit > 0 && fit <= 1);
        await page.click("#zoom-in");
        const zoomed = Number(await page.getAttribute("#graph", "data-zoom"));
        assert.ok(Math.abs(zoomed - fit * 1.25) < 0.002, `zoom ${zoomed}`);
      },
      "#train",
      { width: 390, height: 844 },
    );
  },
);

/** The backend line's data: what the worker says runs the steps. */
function backend(
  page: Page,
): Promise<{ mode: string; precision: string; workers: string; text: string }> {
  return page.$eval("#backend", (el) => ({
    mode: (el as HTMLElement).dataset.mode ?? "",
    precision: (el as HTMLElement).dataset.precision ?? "",
    workers: (el as HTMLElement).dataset.workers ?? "",
    text: el.textContent ?? "",
  }));
}

/** Takes `tens` × 10 steps from a fresh model; returns the last loss. */
async function trainSteps(page: Page, tens: number): Promise<number> {
  await page.click("#reset");
  await page.waitForFunction(() =>
    document.getElementById("stat-step")!.textContent === "0"
  );
  for (let k = 0; k < tens; k++) {
    await page.click("#step", { modifiers: ["Shift"] });
  }
  await page.waitForFunction(
    (n) => document.getElementById("stat-step")!.textContent === String(n),
    10 * tens,
  );
  return page.$eval(
    "#stat-loss",
    (el) => Number((el as HTMLElement).dataset.value),
  );
}

Deno.test(
  "playground: the backend menu switches the running model to wasm (float32 too) and shows what runs",
  options,
  async () => {
    await withPage(async (page) => {
      await page.waitForSelector("#backend[data-mode]");
      // Chromium has WebAssembly SIMD: wasm is on offer.
      assert.equal(
        await page.$eval(
          "#mode option[value='wasm']",
          (o) => (o as HTMLOptionElement).disabled,
        ),
        false,
      );
      // SGD: every backend then follows the same losses (Adam magnifies
      // last-bit differences between summation orders).
      await page.selectOption("#optimizer", "sgd");
      await page.selectOption("#mode", "record");
      await page.waitForSelector("#backend[data-mode='record']");
      const recorded = await trainSteps(page, 2);
      await page.selectOption("#mode", "wasm");
      await page.waitForSelector("#backend[data-mode='wasm']");
      assert.equal((await backend(page)).precision, "float64");
      assert.match((await backend(page)).text, /^Steps run: wasm float64$/);
      const wasm = await trainSteps(page, 2);
      assert.ok(
        Math.abs(wasm - recorded) <= 1e-12 * recorded,
        `wasm ${wasm} vs record ${recorded}`,
      );
      await page.selectOption("#precision", "float32");
      await page.waitForSelector("#backend[data-precision='float32']");
      assert.equal((await backend(page)).mode, "wasm");
      const float32 = await trainSteps(page, 2);
      assert.ok(
        Math.abs(float32 - recorded) <= 1e-5 * recorded,
        `float32 ${float32} vs ${recorded}`,
      );
      // Mini-batches run on wasm too, and train.
      await page.selectOption("#precision", "float64");
      await page.selectOption("#batch-size", "16");
      await page.waitForFunction(() =>
        document.getElementById("backend")!.dataset.precision === "float64"
      );
      assert.equal((await backend(page)).mode, "wasm");
      await trainSteps(page, 1);
      // float32 is for wasm: other backends offer float64 only.
      await page.selectOption("#mode", "replay");
      assert.equal(await page.inputValue("#precision"), "float64");
      assert.equal(
        await page.$eval(
          "#precision option[value='float32']",
          (o) => (o as HTMLOptionElement).disabled,
        ),
        true,
      );
    });
  },
);

Deno.test(
  "playground: served by the CLI the page is cross-origin isolated, and 2 workers train to the one-thread loss",
  options,
  async () => {
    await withPage(async (page) => {
      assert.equal(await page.evaluate(() => crossOriginIsolated), true);
      assert.equal(
        await page.$eval(
          "#workers",
          (s) => (s as HTMLSelectElement).dataset.isolated,
        ),
        "true",
      );
      await page.waitForSelector("#backend[data-mode]");
      await page.selectOption("#optimizer", "sgd");
      const one = await trainSteps(page, 3);
      assert.equal((await backend(page)).workers, "1");
      await page.selectOption("#workers", "2");
      await page.waitForSelector("#backend[data-mode='parallel']");
      assert.equal((await backend(page)).workers, "2");
      assert.match(
        (await backend(page)).text,
        /^Steps run: parallel on 2 workers$/,
      );
      const two = await trainSteps(page, 3);
      assert.equal((await backend(page)).mode, "parallel");
      assert.ok(
        Math.abs(two - one) <= 1e-12 * one,
        `2 workers ${two} vs 1 thread ${one}`,
      );
      // And it plays: the step counter runs on workers.
      await page.selectOption("#speed", "0");
      await page.click("#play");
      await page.waitForFunction(() =>
        Number(document.getElementById("stat-step")!.textContent) >= 100
      );
      await page.click("#play");
      await page.waitForSelector("#play[data-state='paused']");
      // Other features stay on the workers, which compute them per point.
      await page.check("#features input[value='x2']");
      await page.waitForSelector("#backend[data-mode='parallel']");
      assert.equal((await backend(page)).workers, "2");
      const before = Number(
        await page.$eval("#stat-step", (e) => e.textContent),
      );
      await page.click("#play");
      await page.waitForFunction(
        (from) =>
          Number(document.getElementById("stat-step")!.textContent) >=
            from + 50,
        before,
      );
      await page.click("#play");
      await page.waitForSelector("#play[data-state='paused']");
      assert.equal((await backend(page)).workers, "2");
    });
  },
);

Deno.test(
  "playground: without cross-origin isolation or WebAssembly SIMD, the page trains on one thread and says why",
  options,
  async () => {
    await withPage(
      async (page) => {
        assert.equal(await page.evaluate(() => crossOriginIsolated), false);
        const disabled = await page.$$eval(
          "#workers option",
          (options) =>
            options.map((o) => [
              (o as HTMLOptionElement).value,
              (o as HTMLOptionElement).disabled,
            ]),
        );
        assert.deepEqual(disabled, [["1", false], ["2", true], ["4", true]]);
        const wasm = await page.$eval(
          "#mode option[value='wasm']",
          (o) => [(o as HTMLOptionElement).disabled, o.textContent],
        );
        assert.deepEqual(wasm, [true, "wasm (no SIMD)"]);
        const hint = await page.textContent("#backend-hint");
        assert.match(
          hint!,
          /^This browser has no WebAssembly SIMD, so the wasm backend is off\. Workers need a cross-origin isolated page \(served with the COOP and COEP headers, as cli\.ts serve does\), so training runs on one thread\.$/,
        );
        // Training runs, on one thread.
        await page.click("#step", { modifiers: ["Shift"] });
        await page.waitForFunction(() =>
          document.getElementById("stat-step")!.textContent === "10"
        );
        assert.equal((await backend(page)).workers, "1");
      },
      "",
      undefined,
      async (page) => {
        // Served without COEP, the page is not cross-origin isolated.
        await page.route("**/*", async (route) => {
          const response = await route.fetch();
          const headers = { ...response.headers() };
          delete headers["cross-origin-embedder-policy"];
          await route.fulfill({ response, headers });
        });
        // A browser whose WebAssembly has no SIMD: nothing validates.
        await page.addInitScript(() => {
          WebAssembly.validate = () => false;
        });
      },
    );
  },
);
