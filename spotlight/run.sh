#!/usr/bin/env bash
# The demo (examples/distributed_trace.rs) against the real Spotlight sidecar. See
# spotlight/README.md.
#
#   bash spotlight/run.sh            # from anywhere; installs the sidecar on first use
#
# 1. Sidecar up: a sidecar on a free port, the demo run with `--spotlight` and SENTRY_SPOTLIGHT
#    naming it; check.mjs (--no-post --since-ms) must find every envelope the demo exported,
#    unchanged, in what the sidecar received, and those envelopes must hold one trace with
#    transactions from both services (the backend's under the gateway's http.client span).
# 2. Sidecar down (a closed port): the demo exits 0, prints the same traces, says so in one
#    `tracing-sentry:` line per service on stderr, and takes about as long as without Spotlight.
# 3. Sidecar hanging (a port that accepts and never answers): the demo exits 0, its requests
#    take as long as without Spotlight, and its final flush waits at most for the one post's
#    timeout (2 s; later copies are skipped by the backoff).
#
# Prints PASS/FAIL per check, then `N passed, M failed`; exits 1 on any failure.
# SPOTLIGHT_RUN_PROFILE=release builds the demo in release (default: debug).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
node="${SPOTLIGHT_NODE:-node}"
profile="${SPOTLIGHT_RUN_PROFILE:-debug}"
cd "$root"

passed=0
failed=0
check() { # check OK|"" WHAT
  if [ -n "$1" ]; then passed=$((passed + 1)); echo "PASS $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi
}
now_ms() { date +%s%3N; }
free_port() { "$node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

tmp="$(mktemp -d)"
sidecar_port=""
up_port=""
hang_pid=""
cleanup() {
  [ -n "$sidecar_port" ] && bash "$here/sidecar.sh" stop "$sidecar_port" 2> /dev/null || true
  rm -f "${SPOTLIGHT_CACHE:-$here/.cache}"/sidecar-{"$up_port","$sidecar_port"}.log
  [ -n "$hang_pid" ] && kill "$hang_pid" 2> /dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

NODE_PATH="$(bash "$here/install.sh")"
export NODE_PATH
release_flag=()
[ "$profile" = release ] && release_flag=(--release)
cargo build --quiet "${release_flag[@]}" --example distributed_trace --features tower,reqwest
demo="$root/target/$profile/examples/distributed_trace"

# run NAME [ENV=VALUE...] -- ARGS...: runs the demo; stdout, stderr, exit code and wall time
# (ms) in $tmp/NAME.{out,err,rc,ms}.
run() {
  local name="$1" env=() start rc=0
  shift
  while [ "$1" != "--" ]; do env+=("$1"); shift; done
  shift
  start="$(now_ms)"
  env -u SENTRY_DSN -u SENTRY_SPOTLIGHT "${env[@]}" "$demo" "$@" \
    > "$tmp/$name.out" 2> "$tmp/$name.err" || rc=$?
  echo $(($(now_ms) - start)) > "$tmp/$name.ms"
  echo "$rc" > "$tmp/$name.rc"
}
sampled() { grep -c '^sampled: yes' "$tmp/$1.out" || true; }
# The slowest gateway request (its http.server span, in ms), from the printed waterfall.
slowest() { awk '$1 == "gateway" && $2 == "http.server" && $5 + 0 > m { m = $5 + 0 } END { printf "%d", m }' "$tmp/$1.out"; }
unreachable_lines() { grep -c "^tracing-sentry: Spotlight at $1 is unreachable" "$tmp/$2.err" || true; }

# ----- 1. Sidecar up -----
echo "== sidecar up"
sidecar_port="$(free_port)"
up_port="$sidecar_port"
bash "$here/sidecar.sh" start "$sidecar_port"
url="http://127.0.0.1:$sidecar_port/stream"
since="$(now_ms)"
run up "SENTRY_SPOTLIGHT=$url" -- --spotlight "--save-envelopes=$tmp/up"
check "$([ "$(cat "$tmp/up.rc")" = 0 ] && echo ok)" "the demo exits 0 with the sidecar up (exit $(cat "$tmp/up.rc"))"
check "$(grep -q "Open http://127.0.0.1:$sidecar_port " "$tmp/up.out" && echo ok)" \
  "the demo says where the Spotlight UI is (http://127.0.0.1:$sidecar_port)"
check "$([ "$(unreachable_lines "$url" up)" = 0 ] && echo ok)" "no 'unreachable' line with the sidecar up"
envelopes=("$tmp"/up/*.envelope)
check "$([ -f "${envelopes[0]}" ] && echo ok)" "the demo exported ${#envelopes[@]} envelopes"

# One trace, both services: the backend's transaction hangs under the gateway's http.client
# span, in the envelopes the sidecar must have received (the check below).
across="$("$node" - "${envelopes[@]}" <<'EOF'
const fs = require("node:fs");
const txs = [];
for (const file of process.argv.slice(2)) {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  for (let i = 1; i + 1 < lines.length; i += 2) {
    if (JSON.parse(lines[i]).type === "transaction") txs.push(JSON.parse(lines[i + 1]));
  }
}
const byTrace = new Map();
for (const tx of txs) {
  const id = tx.contexts?.trace?.trace_id;
  byTrace.set(id, [...(byTrace.get(id) ?? []), tx]);
}
for (const [id, list] of byTrace) {
  const gw = list.find((t) => t.release === "gateway@1.0.0");
  const be = list.find((t) => t.release === "backend@1.0.0");
  const client = gw?.spans?.find((s) => s.op === "http.client");
  if (client && be && be.contexts.trace.parent_span_id === client.span_id) {
    console.log(`${id} (${gw.transaction} -> ${client.description} -> ${be.transaction})`);
  }
}
EOF
)" || true
traces_across="$(printf '%s' "$across" | grep -c . || true)"
check "$([ "$traces_across" = 2 ] && echo ok)" \
  "2 traces span both services, the backend under the gateway's http.client span (found $traces_across)"
printf '%s\n' "$across" | sed 's/^/     trace /'
check_out="$("$node" "$here/check.mjs" --url "$url" --no-post --since-ms "$since" --timeout 10 "${envelopes[@]}" 2>&1)" || true
printf '%s\n' "$check_out" | grep -E '^(PASS|FAIL) ' | sed "s|$tmp/||; s/^/     check.mjs: /"
check_summary="$(printf '%s\n' "$check_out" | tail -n 1)"
check "$(printf '%s' "$check_summary" | grep -q ' 0 failed$' && echo ok)" \
  "the sidecar received every exported envelope unchanged (check.mjs: $check_summary)"
bash "$here/sidecar.sh" stop "$sidecar_port" 2> /dev/null
sidecar_port=""

# ----- 2. Sidecar down, against a run without Spotlight -----
echo "== sidecar down"
closed="$(free_port)" # nothing listens there
down_url="http://127.0.0.1:$closed/stream"
run base -- # warms the page cache, then the timed runs
run base --
run down -- "--spotlight=$down_url"
base_ms="$(cat "$tmp/base.ms")"
down_ms="$(cat "$tmp/down.ms")"
limit_ms=$((base_ms * 2 + 1000))
check "$([ "$(cat "$tmp/down.rc")" = 0 ] && echo ok)" "the demo exits 0 with the sidecar down (exit $(cat "$tmp/down.rc"))"
check "$([ "$(sampled down)" = 2 ] && [ "$(sampled base)" = 2 ] && echo ok)" \
  "the same 2 sampled traces are printed as without Spotlight ($(sampled down) and $(sampled base))"
check "$([ "$down_ms" -le "$limit_ms" ] && echo ok)" \
  "no added latency: ${down_ms} ms with the sidecar down, ${base_ms} ms without Spotlight (limit ${limit_ms} ms)"
lines="$(unreachable_lines "$down_url" down)"
check "$([ "$lines" = 2 ] && echo ok)" "one 'unreachable' line per service on stderr (found $lines)"
grep -m1 '^tracing-sentry: Spotlight' "$tmp/down.err" | sed 's/^/     /' || true

# ----- 3. Sidecar hanging: accepts connections, never answers -----
echo "== sidecar hanging"
hang="$(free_port)"
"$node" -e 'require("net").createServer(() => {}).listen(Number(process.argv[1]), "127.0.0.1", () => console.log("listening"))' "$hang" > "$tmp/hang.ready" &
hang_pid=$!
for _ in $(seq 50); do grep -q listening "$tmp/hang.ready" 2> /dev/null && break; sleep 0.1; done
run hang -- "--spotlight=http://127.0.0.1:$hang/stream"
hang_ms="$(cat "$tmp/hang.ms")"
check "$([ "$(cat "$tmp/hang.rc")" = 0 ] && [ "$(sampled hang)" = 2 ] && echo ok)" \
  "the demo exits 0 with 2 sampled traces with the sidecar hanging (exit $(cat "$tmp/hang.rc"))"
request_limit=$(($(slowest base) * 2 + 200))
check "$([ "$(slowest hang)" -le "$request_limit" ] && echo ok)" \
  "no added request latency: slowest request $(slowest hang) ms, $(slowest base) ms without Spotlight (limit $request_limit ms)"
hang_limit=$((limit_ms + 2000))
check "$([ "$hang_ms" -le "$hang_limit" ] && echo ok)" \
  "the final flush waits at most for one post's timeout: ${hang_ms} ms (limit ${hang_limit} ms)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
