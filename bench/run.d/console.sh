#!/bin/bash
# console: API latency of flowkit-collect --http with 100 concurrent clients
# while flows are being ingested (bench/console_latency.py). No peer.
# Environment: ROOT, BUILD_DIR, BENCH_TMP; CONSOLE_BENCH_CLIENTS (100),
# CONSOLE_BENCH_REQUESTS (50 per client).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
fk=$BUILD_DIR/cli/flowkit-collect/flowkit-collect
[ -x "$fk" ] || { echo "console  SKIPPED (not built)"; exit 0; }
"$fk" -l udp://127.0.0.1:0 -o jsonl:/dev/null --http 127.0.0.1:0 --http-max-clients 200 \
    2>"$BENCH_TMP/console.err" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q 'console at' "$BENCH_TMP/console.err" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$BENCH_TMP/console.err")
out=$(/usr/bin/python3 "$ROOT/bench/console_latency.py" "$url" "${CONSOLE_BENCH_CLIENTS:-100}" \
    "${CONSOLE_BENCH_REQUESTS:-50}")
echo "# $out"
field() { tr ' ' '\n' <<<"$out" | sed -n "s/^$1=//p"; }
echo "console-api-p50  flowkit=$(field p50_ms) ms"
echo "console-api-p99  flowkit=$(field p99_ms) ms"
