#!/bin/bash
# store: fk_store's add path (flows per CPU second) with sources repeating
# (1000 distinct) and all distinct (adversarial), and its memory with
# STORE_BENCH_DISTINCT (default 10 000 000) distinct addresses: the peak RSS
# after feeding equals the RSS after activate (the store allocates once).
# No peer does this; lines carry flowkit= only.
# Environment: ROOT, BUILD_DIR; STORE_BENCH_FLOWS (default 2000000).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}"
b=$BUILD_DIR/bench/bench_store
[ -x "$b" ] || { echo "store  SKIPPED (not built)"; exit 0; }
N=${STORE_BENCH_FLOWS:-2000000}
D=${STORE_BENCH_DISTINCT:-10000000}
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
for d in 1000 "$N"; do
    out=$("$b" --flows "$N" --distinct "$d")
    echo "# $out"
    echo "store-add(distinct=$d)  flowkit=$(field "$out" flows_per_cpu_s) flows/cpu-s"
done
out=$("$b" --flows "$D" --distinct "$D")
echo "# $out"
echo "store-memory(distinct=$D)  flowkit=$(field "$out" rss_after_kb) KiB peak RSS" \
    "(after activate $(field "$out" rss_activated_kb) KiB, store $(field "$out" memory_bytes) bytes," \
    "ips=$(field "$out" ips) evicted=$(field "$out" ips_evicted))"
