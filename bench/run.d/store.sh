#!/bin/bash
# store: fk_store's add path (flows per CPU second) with sources repeating
# (1000 distinct) and all distinct (adversarial: every top-K and per-IP
# table evicts on every flow). Memory with 10 M distinct addresses is in
# console.sh (console-memory). No peer does this; lines carry flowkit= only.
# Environment: ROOT, BUILD_DIR; STORE_BENCH_FLOWS (default 2000000).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}"
b=$BUILD_DIR/bench/bench_store
[ -x "$b" ] || { echo "store  SKIPPED (not built)"; exit 0; }
N=${STORE_BENCH_FLOWS:-2000000}
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
for d in 1000 "$N"; do
    out=$("$b" --flows "$N" --distinct "$d")
    echo "# $out"
    echo "store-add(distinct=$d)  flowkit=$(field "$out" flows_per_cpu_s) flows/cpu-s"
done
