#!/usr/bin/env bash
# The interop suite: the crate's example service between the real Python sentry-sdk and the
# real @sentry/node, with a fake Sentry ingest. See interop/README.md.
#
#   bash interop/run.sh [--lifecycle static|stream|both] [--service CMD] [--out DIR]
#   bash interop/run.sh --self-test          # a sentry-sdk stand-in as the service: all pass
#   bash interop/run.sh --self-test-faults   # the stand-in misbehaving: each run must fail
#
# Installs the pinned SDKs on first use (and whenever a pin changes) into interop/.cache
# (git-ignored): a virtualenv from requirements.txt and node_modules from package-lock.json.
# Builds the example service unless --service is given. Prints PASS/FAIL/SKIP per check and
# `N passed, M failed` last; exits 0 only when every check passed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cache="${INTEROP_CACHE:-$here/.cache}"
python="${INTEROP_BASE_PYTHON:-python3}"
node="${INTEROP_NODE:-node}"

service=""
self_test=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --service) service="$2"; shift 2 ;;
    --service=*) service="${1#--service=}"; shift ;;
    --self-test) self_test=pass; shift ;;
    --self-test-faults) self_test=faults; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done

note() { printf 'interop: %s\n' "$*" >&2; }
missing() { echo "FAIL interop prerequisites: $*"; echo "0 passed, 1 failed"; exit 1; }

command -v "$python" > /dev/null || missing "no $python (Python 3 with venv)"
command -v "$node" > /dev/null && command -v npm > /dev/null || missing "no node/npm (Node.js >= 20.19)"
"$node" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || missing "Node.js $("$node" --version) is older than 20.19 (@sentry/node 11 needs it)"
stamp() { cat "$@" | sha256sum | cut -d' ' -f1; }

mkdir -p "$cache"

# Python: a virtualenv with the pinned sentry-sdk.
venv="$cache/venv"
want="$(stamp "$here/requirements.txt")"
if [ "$(cat "$venv/.stamp" 2>/dev/null || true)" != "$want" ]; then
  note "installing the Python peer (requirements.txt) into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-deps --requirement "$here/requirements.txt"
  echo "$want" > "$venv/.stamp"
fi

# Node: node_modules from the committed lock file.
nodedir="$cache/node"
want="$(stamp "$here/package.json" "$here/package-lock.json")"
if [ "$(cat "$nodedir/.stamp" 2>/dev/null || true)" != "$want" ]; then
  note "installing the JavaScript peer (package-lock.json) into $nodedir"
  rm -rf "$nodedir"
  mkdir -p "$nodedir"
  cp "$here/package.json" "$here/package-lock.json" "$nodedir/"
  (cd "$nodedir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$want" > "$nodedir/.stamp"
fi
export NODE_PATH="$nodedir/node_modules"

suite=("$venv/bin/python" "$here/suite.py" --python "$venv/bin/python" --node "$node")
if [ -n "$self_test" ]; then
  standin="$venv/bin/python $here/standin_service.py"
  if [ "$self_test" = pass ]; then
    exec "${suite[@]}" --service "$standin" --lifecycle both "${args[@]}"
  fi
  passed=0 failed=0
  # fault, and the check that must fail for it
  for pair in "forward-third-party:third-party baggage not forwarded" \
    "no-continue:one trace id at upstream" "new-dsc:frozen DSC reaches downstream"; do
    fault="${pair%%:*}" check="${pair#*:}"
    for lifecycle in static stream; do
      out="$(INTEROP_FAULT="$fault" "${suite[@]}" --service "$standin" \
        --lifecycle "$lifecycle" "${args[@]}" 2>&1 || true)"
      if grep -q "^FAIL .*$check" <<< "$out"; then
        echo "PASS self-test: fault $fault caught by \"$check\" ($lifecycle)"
        passed=$((passed + 1))
      else
        echo "FAIL self-test: fault $fault not caught by \"$check\" ($lifecycle)"
        failed=$((failed + 1))
      fi
    done
  done
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi

if [ -z "$service" ]; then
  note "building the example service"
  (cd "$root" && cargo build --quiet --features tower --example interop_service)
  service="$root/target/debug/examples/interop_service"
fi

cd "$root"
exec "${suite[@]}" --service "$service" "${args[@]}"
