// Starts the pinned Spotlight sidecar: the package's own CLI, HTTP routes and UI assets,
// as its `spotlight` bin starts them, minus the bin's `instrument.js`, which reports the
// sidecar's own errors, spans and logs to Sentry's project for Spotlight. A test sidecar
// sends nothing off the machine.
//
//   SPOTLIGHT_NODE_MODULES=<node_modules> node spotlight/sidecar.mjs --port 8969
//
// Arguments are the sidecar's own (`--port`, `--debug`); spotlight/sidecar.sh passes them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.SPOTLIGHT_NODE_MODULES;
if (!modules) {
  console.error("spotlight: SPOTLIGHT_NODE_MODULES is not set (run spotlight/sidecar.sh)");
  process.exit(2);
}
const dist = join(modules, "@spotlightjs", "spotlight", "dist");
const ui = join(dist, "ui");

// The UI: index.html and every file its Vite manifest names, served from memory.
const filesToServe = Object.create(null);
const manifest = JSON.parse(readFileSync(join(ui, "manifest.json"), "utf8"));
filesToServe["index.html"] = readFileSync(join(ui, "index.html"));
for (const entry of Object.values(manifest)) {
  if (entry && typeof entry === "object" && typeof entry.file === "string") {
    filesToServe[entry.file] = readFileSync(join(ui, entry.file));
  }
}

const { main } = await import(pathToFileURL(join(dist, "server", "cli.js")).href);
await main({ basePath: process.cwd(), filesToServe });
