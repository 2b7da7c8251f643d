#!/bin/bash
# console: the three figures of the console (#17) in one run.
#  1. console-cpu-http: collector records per CPU second on the same IPFIX
#     replay without and with --http (collect.sh's fkipfix and fkhttp runs:
#     ipfix: output both times, the live store + HTTP server on top); the
#     "peer" is flowkit without --http, so ratio = 1 - the store's and the
#     server's share. console-cpu-http-decoded: the same with the
#     pass-through off in both (fkipfixdec, fkhttpdec), so that the decode
#     --http needs is in both and the ratio prices the store + server alone.
#     "-paced-" lines: the sender paced (no drops; the fair ones).
#  2. console-memory: bench_store fed CONSOLE_BENCH_DISTINCT (10 000 000)
#     distinct addresses with the default parameters: peak RSS of the whole
#     process after feeding against the store's configured size
#     (memory_bytes, fixed at activate by the parameters: the cap).
#  3. console-api-p50/p99: API latency of flowkit-collect --http with
#     CONSOLE_BENCH_CLIENTS (100) concurrent clients, each sending
#     CONSOLE_BENCH_REQUESTS (50) GETs, while flows are being ingested
#     (bench/console_latency.py).
#  4. with CONSOLE_BENCH_CALLGRIND=1 (and valgrind): console-instr, the
#     instructions per record of the collector's dispatch, the store's clock
#     moves, its stats and one top-K query (docs/console.md, "Cost"), with
#     --set ipfix_passthrough=0 (the peer) and with --http; 60 000 records
#     replayed at 1 000 messages/s, started just after a 10 s boundary so
#     that each run flushes the store's pre-aggregation once (the query's).
#     Load does not change these counts.
# Environment: ROOT, BUILD_DIR, BENCH_TMP; CONSOLE_BENCH_RECORDS (records of
# the replay, default 1000000), CONSOLE_BENCH_DISTINCT, CONSOLE_BENCH_CLIENTS,
# CONSOLE_BENCH_REQUESTS, CONSOLE_BENCH_CALLGRIND.
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
fk=$BUILD_DIR/cli/flowkit-collect/flowkit-collect
bs=$BUILD_DIR/bench/bench_store
[ -x "$fk" ] && [ -x "$bs" ] || { echo "console  SKIPPED (not built)"; exit 0; }
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | tail -1; }

# 1. Records per CPU second without and with --http, on the synthetic
# stream: with the pass-through (the default ipfix: output, which decodes
# nothing without --http) and without it (both decode every record: the
# store and server alone). Paced lines: the sender at collect.sh's PPS, no
# drops; the full-speed ones lose what the collector cannot take in.
out=$(COLLECT_BENCH_ONLY="fkipfix fkhttp fkipfixdec fkhttpdec" COLLECT_BENCH_INPUTS=synthetic \
    COLLECT_BENCH_RECORDS=${CONSOLE_BENCH_RECORDS:-1000000} bash "$ROOT/bench/run.d/collect.sh")
grep '^# fk' <<<"$out"
grep '^collect-cpu-.*http' <<<"$out" | sed 's/^collect-/console-/; s/\[synthetic\]//'

# 2. Memory with 10 M distinct addresses against the configured size.
D=${CONSOLE_BENCH_DISTINCT:-10000000}
out=$("$bs" --flows "$D" --distinct "$D")
echo "# $out"
cap_kb=$(($(field "$out" memory_bytes) / 1024))
rss_kb=$(field "$out" rss_after_kb)
grown_kb=$((rss_kb - $(field "$out" rss_before_kb)))
echo "console-memory(distinct=$D)  flowkit=$grown_kb KiB RSS grown since start (peak $rss_kb KiB)" \
    " cap=$cap_kb KiB store size  ratio=$(awk -v a="$grown_kb" -v b="$cap_kb" 'BEGIN { printf "%.2f", a / b }')" \
    " (ips=$(field "$out" ips) evicted=$(field "$out" ips_evicted))"

# 3. API latency with 100 concurrent clients while collecting.
"$fk" -l udp://127.0.0.1:0 -o jsonl:/dev/null --http 127.0.0.1:0 --http-max-clients 200 \
    2>"$BENCH_TMP/console.err" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q 'console at' "$BENCH_TMP/console.err" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$BENCH_TMP/console.err")
out=$(/usr/bin/python3 "$ROOT/bench/console_latency.py" "$url" "${CONSOLE_BENCH_CLIENTS:-100}" \
    "${CONSOLE_BENCH_REQUESTS:-50}")
echo "# $out"
echo "console-api-p50  flowkit=$(field "$out" p50_ms) ms"
echo "console-api-p99  flowkit=$(field "$out" p99_ms) ms"
kill $pid 2>/dev/null
wait $pid 2>/dev/null
trap - EXIT

# 4. Instructions per record (callgrind), without and with --http.
[ "${CONSOLE_BENCH_CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null || exit 0
send=$BUILD_DIR/bench/bench_collect_send
instr() { # ARGS...: instructions per record received
    local d=$BENCH_TMP/console-cg port=$((20000 + RANDOM % 20000))
    rm -rf "$d" && mkdir -p "$d"
    valgrind --tool=callgrind --callgrind-out-file="$d/cg" \
        --toggle-collect=fk_collector_dispatch --toggle-collect=fk_store_advance \
        --toggle-collect=fk_store_get_top --toggle-collect=fk_store_get_stats \
        "$fk" -l "udp://127.0.0.1:$port" -o "ipfix:$d/out" --stats 3600 "$@" 2>"$d/err" &
    local vp=$!
    for _ in $(seq 300); do grep -q 'listening' "$d/err" && break; sleep 0.2; done
    while [ $(($(date +%s) % 10)) -ne 0 ]; do sleep 0.1; done
    "$send" "$port" 60000 1000 >/dev/null
    sleep 2
    local u
    u=$(grep -o 'http://[^ ]*' "$d/err" | head -1)
    [ -n "$u" ] && curl -s "${u%/}/api/v1/top" >/dev/null
    kill -INT $vp
    wait $vp
    local recs ir
    recs=$(grep -o ' records=[0-9]*' "$d/err" | tail -1 | cut -d= -f2)
    ir=$(callgrind_annotate "$d/cg" 2>/dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
    awk -v a="$ir" -v b="$recs" 'BEGIN { printf "%.1f", a / b }'
}
peer=$(instr --set ipfix_passthrough=0)
with=$(instr --http 127.0.0.1:0)
echo "console-instr  flowkit=$with instr/record (--http) peer=$peer (decoding only)" \
    " ratio=$(awk -v a="$peer" -v b="$with" 'BEGIN { printf "%.2f", a / b }')"
