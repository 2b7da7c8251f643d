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
# Environment: ROOT, BUILD_DIR, BENCH_TMP; CONSOLE_BENCH_RECORDS (records of
# the replay, default 1000000), CONSOLE_BENCH_DISTINCT, CONSOLE_BENCH_CLIENTS,
# CONSOLE_BENCH_REQUESTS.
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
