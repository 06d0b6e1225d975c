#!/usr/bin/env bash
# Installs the pinned Spotlight sidecar and puppeteer-core (package-lock.json) into
# spotlight/.cache/node (git-ignored), on first use and whenever package.json or
# package-lock.json changes. Prints the node_modules path on stdout.
#
#   bash spotlight/install.sh            # SPOTLIGHT_CACHE overrides the cache folder
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${SPOTLIGHT_CACHE:-$here/.cache}"
node="${SPOTLIGHT_NODE:-node}"

note() { printf 'spotlight: %s\n' "$*" >&2; }
command -v "$node" > /dev/null && command -v npm > /dev/null \
  || { note "no node/npm (Node.js >= 20.19 is needed)"; exit 1; }
"$node" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { note "Node.js $("$node" --version) is older than 20.19"; exit 1; }

stamp() { cat "$@" | sha256sum | cut -d' ' -f1; }
nodedir="$cache/node"
want="$(stamp "$here/package.json" "$here/package-lock.json")"
if [ "$(cat "$nodedir/.stamp" 2>/dev/null || true)" != "$want" ]; then
  note "installing the Spotlight sidecar (package-lock.json) into $nodedir"
  rm -rf "$nodedir"
  mkdir -p "$nodedir"
  cp "$here/package.json" "$here/package-lock.json" "$nodedir/"
  # puppeteer-core never downloads a browser; the env var only silences any other fetcher.
  (cd "$nodedir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$want" > "$nodedir/.stamp"
fi
echo "$nodedir/node_modules"
