#!/bin/bash
# prefixstats: the per-record cost of prefix statistics (#21), beside the
# collector's own per-record cost on the same records (bench_prefixstats:
# NetFlow v5 datagrams fed to fk_collector_feed, one sender with four /24
# prefixes, every field folding values into "other"; CPU time, best of 3).
#   prefix-stats-add      flowkit=fk_prefixstats_add_flow() ns/record
#                         collector=fk_collector_feed() ns/record without statistics
#   prefix-stats-collect  flowkit=fk_collector_feed() ns/record with statistics
#                         collector=the same without
# Environment: ROOT, BUILD_DIR; PREFIXSTATS_BENCH_RECORDS (default 300000).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}"
bench=$BUILD_DIR/bench/bench_prefixstats
[ -x "$bench" ] || { echo "prefixstats  SKIPPED (not built)"; exit 0; }
out=$("$bench" "${PREFIXSTATS_BENCH_RECORDS:-300000}") || { echo "prefixstats  FAILED"; exit 1; }
get() { printf '%s\n' "$out" | sed -n "s/.* $1 ns_per_record=\([0-9.]*\).*/\1/p"; }
plain=$(get collector)
with=$(get with_stats)
add=$(get add_flow)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { print "inf"; exit } printf "%.2f", a / b }'; }
printf '%s\n' "$out" | sed -n 's/^records=\([0-9]*\).*/# input: \1 NetFlow v5 records/p'
printf '%s\n' "$out" | grep '^#'
echo "prefix-stats-add  flowkit=$add ns/record  collector=$plain ns/record  ratio=$(ratio "$add" "$plain")"
echo "prefix-stats-collect  flowkit=$with ns/record  collector=$plain ns/record  ratio=$(ratio "$with" "$plain")"
