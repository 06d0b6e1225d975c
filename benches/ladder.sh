#!/usr/bin/env bash
# Instructions per iteration of one span_lifecycle workload for every rung (callgrind, the
# difference of two runs of different lengths, so start-up cancels out): on the thread that
# runs the workload, and on all threads (the export worker of the sampled rungs included).
#
#   bash benches/ladder.sh [workload]     # workload: child_span (default), current_headers, ...
set -euo pipefail
cd "$(dirname "$0")/.."
workload=${1:-child_span}
bin=$(cargo bench --bench span_lifecycle --no-run 2>&1 | grep -o 'target/release/deps/span_lifecycle-[0-9a-f]*' | head -1)
small=2000
large=12000
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Prints "thread all": the main thread's instructions, and every thread's.
refs() {
  rm -f "$out"/cg*
  TS_BENCH_ONLY="$workload:$1:$2" valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$out/cg" "$bin" > /dev/null 2>&1
  local thread all=0 n
  thread=$(sed -n 's/^summary: *//p' "$out/cg-01")
  for f in "$out"/cg-*; do
    n=$(sed -n 's/^summary: *//p' "$f")
    all=$((all + n))
  done
  echo "$thread $all"
}
printf '| rung | %s: thread | all threads |\n| --- | ---: | ---: |\n' "$workload"
for rung in registry_only empty_layer noop_layer unsampled sampled_no_export sampled_in_memory; do
  read -r ta aa < <(refs "$rung" $small)
  read -r tb ab < <(refs "$rung" $large)
  printf '| %s | %d | %d |\n' "$rung" $(( (tb - ta) / (large - small) )) $(( (ab - aa) / (large - small) ))
done
