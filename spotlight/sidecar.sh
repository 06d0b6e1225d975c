#!/usr/bin/env bash
# Starts or stops the pinned Spotlight sidecar in the background. See spotlight/README.md.
#
#   bash spotlight/sidecar.sh start [PORT]   # default 8969; returns once GET /health answers
#   bash spotlight/sidecar.sh stop [PORT]
#   bash spotlight/sidecar.sh status [PORT]  # exit 0 when it answers
#
# Installs the sidecar on first use (spotlight/install.sh). The pid file and the sidecar's
# log are spotlight/.cache/sidecar-PORT.pid and .log (SPOTLIGHT_CACHE moves the folder).
# SPOTLIGHT_START_TIMEOUT (seconds, default 30) bounds the wait for /health.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${SPOTLIGHT_CACHE:-$here/.cache}"
node="${SPOTLIGHT_NODE:-node}"
cmd="${1:-}"
port="${2:-8969}"
case "$port" in ''|*[!0-9]*) echo "spotlight: port must be a number, not '$port'" >&2; exit 2 ;; esac
pidfile="$cache/sidecar-$port.pid"
logfile="$cache/sidecar-$port.log"
note() { printf 'spotlight: %s\n' "$*" >&2; }

answers() {
  curl --silent --fail --max-time 2 "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '^OK'
}
running_pid() {
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

case "$cmd" in
  start)
    if pid="$(running_pid)"; then note "already running on port $port (pid $pid)"; exit 0; fi
    if answers; then note "port $port already answers /health but is not ours; not starting"; exit 1; fi
    modules="$(bash "$here/install.sh")"
    mkdir -p "$cache"
    SPOTLIGHT_NODE_MODULES="$modules" nohup "$node" "$here/sidecar.mjs" --port "$port" \
      > "$logfile" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" > "$pidfile"
    deadline=$(( SECONDS + ${SPOTLIGHT_START_TIMEOUT:-30} ))
    until answers; do
      if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$pidfile"
        note "the sidecar exited before answering; its log ($logfile):"
        tail -n 20 "$logfile" >&2
        exit 1
      fi
      if [ "$SECONDS" -ge "$deadline" ]; then
        kill "$pid" 2>/dev/null || true
        rm -f "$pidfile"
        note "the sidecar did not answer on port $port within ${SPOTLIGHT_START_TIMEOUT:-30}s"
        exit 1
      fi
      sleep 0.2
    done
    note "sidecar on http://localhost:$port (pid $pid, log $logfile)"
    ;;
  stop)
    if ! pid="$(running_pid)"; then note "not running on port $port"; rm -f "$pidfile"; exit 0; fi
    kill "$pid"
    # The sidecar closes its server on the first SIGTERM and exits once connections end.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
    note "stopped the sidecar on port $port (pid $pid)"
    ;;
  status)
    answers
    ;;
  *)
    sed -n '2,11p' "$0" >&2
    exit 2
    ;;
esac
