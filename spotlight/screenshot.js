#!/usr/bin/env node
// Takes a PNG of a trace in the Spotlight UI, in Debian's headless Chromium driven by
// puppeteer-core over the DevTools protocol. See spotlight/README.md.
//
//   bash spotlight/install.sh > /dev/null    # puppeteer-core, pinned in package.json
//   NODE_PATH=spotlight/.cache/node/node_modules node spotlight/screenshot.js [options]
//
//   --url URL        the sidecar's UI (default http://localhost:8969)
//   --out FILE       the PNG to write (default spotlight-trace.png)
//   --trace ID       the trace to open (default: the first one listed)
//   --text TEXT      also wait until the trace view shows TEXT (repeatable)
//   --spans N        also wait until the trace view says it holds N spans
//   --size WxH       viewport in CSS pixels (default 1400x850)
//   --expand         open every collapsed span of the tree (the UI folds deeper levels)
//   --split X        drag the border between the span tree and the side panel to X pixels
//   --timeout S      give up after S seconds (default 30)
//
// Plain `chromium --screenshot` captures a blank page: it shoots at the load event and the
// UI renders later, from the Server-Sent Events stream it keeps open. This script waits for
// the trace list, opens the trace and waits for its span tree (and --text/--spans) instead.
// Requests to any host but the sidecar's (the UI's own error reporting to sentry.io) are
// blocked. If /usr/bin/chromium is missing and this runs as root, it installs Debian's
// `chromium` package (apt-get update, then apt-get install -y chromium).
// SPOTLIGHT_CHROMIUM overrides the browser's path.
"use strict";
const { execFileSync } = require("node:child_process");
const { existsSync, mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const CHROMIUM = process.env.SPOTLIGHT_CHROMIUM || "/usr/bin/chromium";

function usage(message) {
  if (message) console.error(`screenshot: ${message}`);
  console.error("usage: node spotlight/screenshot.js [--url URL] [--out FILE] [--trace ID] [--text TEXT]... [--spans N] [--size WxH] [--expand] [--split X] [--timeout S]");
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { url: "http://localhost:8969", out: "spotlight-trace.png", trace: null, texts: [], spans: null, width: 1400, height: 850, timeoutS: 30, expand: false, split: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === "--url") opts.url = value().replace(/\/+$/, "");
    else if (a === "--out") opts.out = value();
    else if (a === "--trace") opts.trace = value().toLowerCase();
    else if (a === "--text") opts.texts.push(value());
    else if (a === "--spans") opts.spans = Number(value());
    else if (a === "--size") {
      const m = /^(\d+)x(\d+)$/.exec(value());
      if (!m) usage("--size takes WxH, e.g. 1400x850");
      opts.width = Number(m[1]);
      opts.height = Number(m[2]);
    } else if (a === "--timeout") opts.timeoutS = Number(value());
    else if (a === "--expand") opts.expand = true;
    else if (a === "--split") opts.split = Number(value());
    else if (a === "-h" || a === "--help") usage();
    else usage(`unknown argument ${a}`);
  }
  if (opts.trace !== null && !/^[0-9a-f]{32}$/.test(opts.trace)) usage("--trace takes a 32-hex-digit trace id");
  if (opts.spans !== null && !(Number.isInteger(opts.spans) && opts.spans > 0)) usage("--spans takes a positive integer");
  if (!(opts.timeoutS > 0)) usage("--timeout takes a positive number of seconds");
  if (opts.split !== null && !(Number.isInteger(opts.split) && opts.split > 0)) usage("--split takes a positive number of pixels");
  return opts;
}

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  if (process.env.SPOTLIGHT_CHROMIUM || typeof process.getuid !== "function" || process.getuid() !== 0) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium package (apt-get install -y chromium)`);
  }
  console.error("screenshot: installing Debian's chromium package");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { stdio: ["ignore", 2, 2], env });
  execFileSync("apt-get", ["install", "-y", "chromium"], { stdio: ["ignore", 2, 2], env });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  ensureChromium();
  let puppeteer;
  try {
    puppeteer = require("puppeteer-core");
  } catch {
    throw new Error("puppeteer-core not found: run `bash spotlight/install.sh` and set NODE_PATH to the folder it prints");
  }
  const origin = new URL(opts.url);
  const allowedHosts = new Set([origin.hostname, "localhost", "127.0.0.1", "[::1]"]);
  const profile = mkdtempSync(join(tmpdir(), "spotlight-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      `--window-size=${opts.width},${opts.height}`,
    ],
  });
  const deadline = Date.now() + opts.timeoutS * 1000;
  const left = () => Math.max(1, deadline - Date.now());
  let page;
  let stage = "launching Chromium";
  try {
    page = await browser.newPage();
    await page.setViewport({ width: opts.width, height: opts.height, deviceScaleFactor: 1 });
    await page.setRequestInterception(true);
    page.on("request", (req) => {
      const u = new URL(req.url());
      const local = u.protocol === "data:" || u.protocol === "blob:" || allowedHosts.has(u.hostname);
      if (local) req.continue();
      else req.abort("blockedbyclient");
    });

    stage = `opening ${opts.url}/telemetry/traces`;
    // Not "networkidle": the UI keeps its event stream open for as long as it runs.
    await page.goto(`${opts.url}/telemetry/traces`, { waitUntil: "domcontentloaded", timeout: left() });

    const link = opts.trace ? `a[href^="/telemetry/traces/${opts.trace}"]` : 'a[href^="/telemetry/traces/"]';
    stage = opts.trace ? `waiting for trace ${opts.trace} in the trace list` : "waiting for a trace in the trace list";
    await page.waitForSelector(link, { visible: true, timeout: left() });
    const href = await page.$eval(link, (a) => a.getAttribute("href"));
    const traceId = (/\/telemetry\/traces\/([0-9a-f]+)/.exec(href) || [])[1] || "?";

    stage = `opening trace ${traceId}`;
    await page.click(link);
    await page.waitForFunction((id) => location.pathname.startsWith(`/telemetry/traces/${id}`), { timeout: left() }, traceId);

    // The trace view is rendered once it reports its span count ("... recorded in N spans")
    // and its span tree is on the page.
    stage = `waiting for trace ${traceId}'s span tree`;
    await page.waitForFunction(
      (spans) => {
        const m = /recorded in (\d+) spans?/.exec(document.body.innerText);
        return m && (spans === null || Number(m[1]) === spans) && document.querySelector("ul.tree a");
      },
      { timeout: left(), polling: 100 },
      opts.spans,
    );
    if (opts.expand) {
      // A span with children has a count badge whose chevron turns (rotate-180) when open.
      stage = `opening the collapsed spans of trace ${traceId}`;
      const collapsed = "ul.tree div.bg-primary-600:has(> svg:not(.rotate-180))";
      for (let i = 0; i < 50 && (await page.$(collapsed)); i++) {
        await page.click(collapsed);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (await page.$(collapsed)) throw new Error("spans still collapsed after 50 clicks");
    }
    if (opts.split !== null) {
      stage = "moving the border between the span tree and the side panel";
      // The UI may re-render under the first drag (it did after unfolding): check, and retry.
      const where = () =>
        page.$eval("div.resizer.cursor-col-resize.bg-gray-600", (e) => {
          const b = e.getBoundingClientRect();
          return [b.x + b.width / 2, b.y + b.height / 2];
        });
      let handle = await where();
      for (let i = 0; i < 5 && Math.abs(handle[0] - opts.split) > 20; i++) {
        await new Promise((r) => setTimeout(r, 200));
        await page.mouse.move(handle[0], handle[1]);
        await page.mouse.down();
        await page.mouse.move(opts.split, handle[1], { steps: 10 });
        await page.mouse.up();
        handle = await where();
      }
      if (Math.abs(handle[0] - opts.split) > 20) throw new Error(`the border stays at ${Math.round(handle[0])} px`);
    }
    stage = `waiting for trace ${traceId} to show ${JSON.stringify(opts.texts)}`;
    await page.waitForFunction((texts) => texts.every((t) => document.body.innerText.includes(t)), { timeout: left(), polling: 100 }, opts.texts);
    // Let layout, fonts and the bars' widths settle: two animation frames after fonts load.
    await page.evaluate(async () => {
      await document.fonts.ready;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    });
    const spans = await page.evaluate(() => (/recorded in (\d+) spans?/.exec(document.body.innerText) || [])[1]);
    await page.screenshot({ path: opts.out, type: "png" });
    console.log(`PASS screenshot of trace ${traceId} (${spans} spans) saved to ${opts.out}`);
  } catch (e) {
    const failed = opts.out.replace(/\.png$/i, "") + ".failed.png";
    if (page) await page.screenshot({ path: failed, type: "png" }).catch(() => {});
    throw new Error(`${stage}: ${e.message}${page ? ` (page as it was: ${failed})` : ""}`);
  } finally {
    await browser.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.log(`FAIL screenshot: ${e.message}`);
  process.exit(1);
});
