#!/usr/bin/env bash
# The public API, reviewed: compares the crate's public API (all features) with the committed
# snapshot `public-api.txt`, and fails when they differ, so that every change to the API is seen
# in review. After an intended change, update the snapshot:
#
#   bash .ci/public-api.sh --bless
#
# Uses `cargo public-api` (installed here on first use, pinned) on the machine's nightly
# toolchain, which it needs for rustdoc's JSON output.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.52.0
snapshot=public-api.txt

if ! rustup run nightly rustc --version > /dev/null 2>&1; then
  echo "NOTICE: no nightly toolchain on this machine; the public API snapshot is not checked"
  exit 0
fi
if ! cargo public-api --version 2>/dev/null | grep -q "$version"; then
  cargo install --locked "cargo-public-api@$version"
fi

current="$(mktemp)"
trap 'rm -f "$current"' EXIT
# -sss: leave out blanket, auto-trait and auto-derived impls (they follow from the items).
cargo +nightly public-api --all-features -sss > "$current"

if [ "${1:-}" = "--bless" ]; then
  cp "$current" "$snapshot"
  echo "public API snapshot updated: $(grep -c . "$snapshot") lines"
  exit 0
fi
if ! diff -u "$snapshot" "$current"; then
  echo "The public API changed (diff above). If intended, run: bash .ci/public-api.sh --bless" >&2
  exit 1
fi
echo "public API unchanged ($(grep -c . "$snapshot") lines)"
