/**
 * The npm package as its users get it: `deno task build:npm` builds and packs
 * it, the tarball is installed into a fresh project, and there its test suite
 * runs under Node.js (`node --test`) and Bun (`bun test`, Bun from npm), `tsc`
 * type-checks a TypeScript consumer, README's Node.js example runs in both,
 * and Chromium loads the built ESM file and trains a tiny model (README's
 * browser example).
 *
 * Permissions: -A (npm, npx, node and Chromium run as subprocesses).
 *
 * @module
 */

import assert from "node:assert/strict";
import { fit, makeMoons, MLP } from "../mod.ts";
import {
  CHROMIUM_PATH,
  hasChromium,
  launchBrowser,
} from "../playground/browser.ts";
import { blockUnder, promisedOutput } from "./_readme.ts";

const ROOT = new URL("../", import.meta.url);
const rootPath = decodeURIComponent(ROOT.pathname);
const config = JSON.parse(
  Deno.readTextFileSync(new URL("deno.json", ROOT)),
) as { name: string; version: string; exports: Record<string, string> };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], cwd: string): Promise<Run> {
  const [command, ...rest] = args;
  const out = await new Deno.Command(command, {
    args: rest,
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

function ok(result: Run, what: string): Run {
  assert.equal(
    result.code,
    0,
    `${what} exited with ${result.code}:\n${result.stdout}\n${result.stderr}`,
  );
  return result;
}

/** A user's project with the packed tarball installed. */
interface Project {
  dir: string;
  /** The packed tarball that was installed. */
  tarball: string;
  /** The installed package's folder. */
  pkg: string;
}

let project: Promise<Project> | undefined;

/** Builds and packs once, then installs into a fresh temporary project. */
function installed(): Promise<Project> {
  project ??= (async () => {
    ok(
      await run([Deno.execPath(), "task", "build:npm"], rootPath),
      "deno task build:npm",
    );
    const tarball = `${rootPath}dist/${
      config.name.replace("@", "").replace("/", "-")
    }-${config.version}.tgz`;
    const dir = await Deno.makeTempDir({ prefix: "tapegrad-npm-consumer-" });
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    ok(
      await run(
        ["npm", "install", "--no-audit", "--no-fund", "--offline", tarball],
        dir,
      ),
      "npm install",
    );
    for (
      const file of [
        "tapegrad.test.mjs",
        "consumer.ts",
        "tsconfig.json",
        "parallel_node.mjs",
      ]
    ) {
      await Deno.copyFile(
        new URL(`consumer/${file}`, import.meta.url),
        `${dir}/${file}`,
      );
    }
    await Deno.writeTextFile(
      `${dir}/example.mjs`,
      blockUnder("Node.js and Bun", "js"),
    );
    return { dir, tarball, pkg: `${dir}/node_modules/${config.name}` };
  })();
  return project;
}

globalThis.addEventListener("unload", () => {
  project?.then(({ dir }) => Deno.removeSync(dir, { recursive: true }));
});

/** The number of `test(` calls in the shared suite. */
const SUITE_SIZE = [
  ...Deno.readTextFileSync(
    new URL("consumer/tapegrad.test.mjs", import.meta.url),
  )
    .matchAll(/^test\(/gm),
].length;

Deno.test("npm package: package.json declares every entry point, types, and no dependencies", async () => {
  const { pkg, tarball } = await installed();
  const install = blockUnder("Node.js and Bun", "sh");
  assert.ok(
    install.includes(`dist/${tarball.split("/").at(-1)}`),
    `README's install commands do not name ${tarball}`,
  );
  const manifest = JSON.parse(await Deno.readTextFile(`${pkg}/package.json`));
  assert.equal(manifest.name, config.name);
  assert.equal(manifest.version, config.version);
  assert.equal(manifest.type, "module");
  assert.equal(manifest.sideEffects, false);
  assert.equal(manifest.license, "MIT");
  assert.equal(manifest.engines.node, ">=20");
  assert.ok(manifest.keywords.includes("autograd"));
  assert.match(manifest.repository.url, /^git\+https:\/\/.+\.git$/);
  for (
    const field of ["dependencies", "peerDependencies", "optionalDependencies"]
  ) {
    assert.equal(manifest[field], undefined, field);
  }
  assert.deepEqual(
    Object.keys(manifest.exports).sort(),
    [...Object.keys(config.exports), "./package.json"].sort(),
  );
  for (const [key, source] of Object.entries(config.exports)) {
    const stem = source.replace(/^\.\//, "").replace(/\.ts$/, "");
    assert.deepEqual(manifest.exports[key], {
      types: `./${stem}.d.ts`,
      default: `./${stem}.js`,
    });
    assert.ok((await Deno.stat(`${pkg}/${stem}.js`)).isFile);
    assert.ok((await Deno.stat(`${pkg}/${stem}.d.ts`)).isFile);
  }
});

Deno.test("npm package: the tarball holds built JavaScript, types, README and LICENSE, no tests or sources", async () => {
  const { pkg } = await installed();
  const files: string[] = [];
  const walk = async (rel: string) => {
    for await (const entry of Deno.readDir(`${pkg}/${rel}`)) {
      if (entry.isDirectory) await walk(`${rel}${entry.name}/`);
      else files.push(rel + entry.name);
    }
  };
  await walk("");
  assert.ok(files.includes("README.md") && files.includes("LICENSE"));
  const stray = files.filter((f) =>
    /_test\.|_testing\.|testdata\//.test(f) ||
    (f.endsWith(".ts") && !f.endsWith(".d.ts"))
  );
  assert.deepEqual(stray, []);
  for (const js of files.filter((f) => f.endsWith(".js"))) {
    assert.ok(
      files.includes(js.replace(/\.js$/, ".d.ts")),
      `${js} has no types`,
    );
    const code = await Deno.readTextFile(`${pkg}/${js}`);
    assert.doesNotMatch(
      code,
      /^(import|export) .*from "\.[^"]*\.ts";$/m,
      `${js} imports a .ts file`,
    );
  }
});

Deno.test("npm package: its test suite passes under Node.js (node --test)", async () => {
  const { dir } = await installed();
  const version = ok(await run(["node", "--version"], dir), "node").stdout
    .trim();
  assert.ok(Number(version.slice(1).split(".")[0]) >= 20, version);
  const result = ok(await run(["node", "--test"], dir), "node --test");
  assert.match(result.stdout, new RegExp(`^# pass ${SUITE_SIZE}$`, "m"));
  assert.match(result.stdout, /^# fail 0$/m);
  console.log(`Node.js ${version}: ${SUITE_SIZE} passed`);
});

Deno.test("npm package: 2 and 3 threads train as 1, bit for bit, under Node.js (worker_threads) and Bun", async () => {
  const { dir } = await installed();
  // The script checks bit-identity and a clear error for a missing worker
  // script; exiting at all shows that closing ended the workers.
  for (const runtime of [["node"], ["npx", "-y", "bun@1"]]) {
    const result = ok(
      await run([...runtime, "parallel_node.mjs"], dir),
      `${runtime.join(" ")} parallel_node.mjs`,
    );
    assert.match(result.stdout, /^parallel ok: 0\.\d+$/m);
  }
});

Deno.test("npm package: its test suite passes under Bun (bun test)", async () => {
  const { dir } = await installed();
  const bun = ["npx", "-y", "bun@1"];
  const version = ok(await run([...bun, "--version"], dir), "bun").stdout
    .trim();
  const result = ok(await run([...bun, "test"], dir), "bun test");
  const output = result.stdout + result.stderr;
  assert.match(output, new RegExp(`^ ${SUITE_SIZE} pass$`, "m"));
  assert.match(output, /^ 0 fail$/m);
  console.log(`Bun ${version}: ${SUITE_SIZE} passed`);
});

Deno.test("npm package: tsc type-checks a TypeScript consumer and rejects wrong uses", async () => {
  const { dir } = await installed();
  const result = ok(
    await run([
      "npx",
      "-y",
      "-p",
      "typescript@5.9.3",
      "tsc",
      "-p",
      "tsconfig.json",
    ], dir),
    "tsc",
  );
  assert.equal(result.stdout.trim(), "");
  // The consumer's @ts-expect-error lines only pass if the types are real.
  const consumer = await Deno.readTextFile(`${dir}/consumer.ts`);
  assert.equal(consumer.match(/^\/\/ @ts-expect-error/gm)?.length, 3);
});

Deno.test("npm package: README's Node.js example prints what it says under Node.js and Bun", async () => {
  const { dir } = await installed();
  const promised = promisedOutput(blockUnder("Node.js and Bun", "js"));
  for (const runtime of [["node"], ["npx", "-y", "bun@1"]]) {
    const result = ok(
      await run([...runtime, "example.mjs"], dir),
      runtime.join(" "),
    );
    assert.equal(result.stdout.trim(), promised, runtime.join(" "));
  }
});

const noBrowser = !hasChromium() && !Deno.env.get("CI");
if (noBrowser) {
  console.warn(
    `Skipping the npm package's browser test: no Chromium at ${CHROMIUM_PATH}`,
  );
}

Deno.test({
  name:
    "npm package: Chromium imports the built ESM file and trains a tiny model (README's browser example)",
  ignore: noBrowser,
  // Playwright keeps timers and pipes of its own between calls.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { pkg } = await installed();
    const snippet = blockUnder("Browsers", "html");
    const page =
      `<!doctype html>\n<meta charset="utf-8">\n<body></body>\n${snippet}`;
    const types: Record<string, string> = {
      js: "text/javascript",
      html: "text/html",
    };
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/") {
          return new Response(page, {
            headers: { "content-type": types.html },
          });
        }
        if (path.startsWith("/tapegrad/") && !path.includes("..")) {
          try {
            const body = await Deno.readFile(
              pkg + path.slice("/tapegrad".length),
            );
            const ext = path.split(".").at(-1) ?? "";
            return new Response(body, {
              headers: { "content-type": types[ext] ?? "text/plain" },
            });
          } catch {
            // Not there.
          }
        }
        return new Response("Not found", { status: 404 });
      },
    );
    const browser = await launchBrowser();
    try {
      const errors: string[] = [];
      browser.page.on("pageerror", (error) => errors.push(error.message));
      await browser.page.goto(`http://127.0.0.1:${server.addr.port}/`);
      await browser.page.waitForFunction(
        "document.body.textContent.startsWith('accuracy')",
        undefined,
        { timeout: 30_000 },
      );
      const text = await browser.page.textContent("body");
      assert.deepEqual(errors, []);
      assert.equal(text, promisedOutput(snippet));
      // The same training in Deno, from the sources, gives the same number.
      const data = makeMoons(50, { noise: 0.1, seed: 1 });
      const model = new MLP(2, [8, 8, 1], { seed: 1 });
      assert.equal(
        text,
        `accuracy ${fit(model, data, { steps: 50 }).accuracy}`,
      );
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});
