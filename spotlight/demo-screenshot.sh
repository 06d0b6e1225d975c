#!/usr/bin/env bash
# Retakes docs/spotlight-demo.png, the README's picture of the demo's distributed trace in the
# Spotlight UI. See spotlight/README.md.
#
#   bash spotlight/demo-screenshot.sh [OUT.png]    # default docs/spotlight-demo.png
#
# Starts a sidecar on a free port, runs examples/distributed_trace.rs with `--spotlight`
# pointed at it, picks the trace the gateway started (no upstream parent, so the UI shows it
# whole: the gateway's spans with the backend's under its http.client span) and has
# screenshot.js open it in headless Chromium, every span unfolded, the span tree widened.
# SPOTLIGHT_SHOT_SIZE sets the viewport (WxH), SPOTLIGHT_SHOT_SPLIT the tree's right edge (px).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
node="${SPOTLIGHT_NODE:-node}"
out="$(realpath -m "${1:-$root/docs/spotlight-demo.png}")"
cd "$root"

tmp="$(mktemp -d)"
port=""
cleanup() {
  [ -n "$port" ] && bash "$here/sidecar.sh" stop "$port" 2> /dev/null || true
  [ -n "$port" ] && rm -f "${SPOTLIGHT_CACHE:-$here/.cache}/sidecar-$port.log"
  rm -rf "$tmp"
}
trap cleanup EXIT

NODE_PATH="$(bash "$here/install.sh")"
export NODE_PATH
cargo build --quiet --example distributed_trace --features tower,reqwest
port="$("$node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
bash "$here/sidecar.sh" start "$port"
env -u SENTRY_DSN -u SENTRY_SPOTLIGHT target/debug/examples/distributed_trace \
  "--spotlight=http://127.0.0.1:$port/stream" "--save-envelopes=$tmp/envelopes" > "$tmp/demo.out"

# The trace the gateway started, and its span count (transactions and their child spans).
read -r trace spans < <("$node" - "$tmp"/envelopes/*.envelope <<'EOF'
const fs = require("node:fs");
const txs = [];
for (const file of process.argv.slice(2)) {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  for (let i = 1; i + 1 < lines.length; i += 2) {
    if (JSON.parse(lines[i]).type === "transaction") txs.push(JSON.parse(lines[i + 1]));
  }
}
const head = txs.find((t) => t.release === "gateway@1.0.0" && !t.contexts.trace.parent_span_id);
if (!head) throw new Error("no trace started by the gateway among the demo's envelopes");
const id = head.contexts.trace.trace_id;
const all = txs.filter((t) => t.contexts.trace.trace_id === id);
console.log(id, all.reduce((n, t) => n + 1 + (t.spans?.length ?? 0), 0));
EOF
)
echo "demo-screenshot: trace $trace ($spans spans)" >&2
mkdir -p "$(dirname "$out")"
"$node" "$here/screenshot.js" --url "http://127.0.0.1:$port" --out "$out" \
  --trace "$trace" --spans "$spans" --expand --split "${SPOTLIGHT_SHOT_SPLIT:-1180}" \
  --size "${SPOTLIGHT_SHOT_SIZE:-1400x540}" \
  --text "GET /checkout" --text "load_cart" --text "SELECT sku, qty FROM cart_items"
