#!/bin/bash
# flowkit-collect --http against ground truth, over loopback only:
# softflowd exports a generated pcap (known truth) as IPFIX and the test
# posts known flows to /ingest; the JSON API, the live feed, bad input,
# /metrics (Prometheus text, every collector counter), the bearer token and
# the console pages rendered by headless Chromium are checked
# (console_check.py). Screenshots and DOMs of the pages are kept in
# $FLOWKIT_BUILD_DIR/artifacts/.
set -u
S="$FLOWKIT_SOURCE_DIR"
B="$FLOWKIT_BUILD_DIR/cli/flowkit-collect/flowkit-collect"
PY=/usr/bin/python3
for t in softflowd chromium curl; do
    command -v $t >/dev/null || {
        echo "SKIP: $t is not installed (scripts/setup installs it)"
        exit 77
    }
done
"$PY" -c 'import scapy' 2>/dev/null || {
    echo "SKIP: python3-scapy missing"
    exit 77
}
T=$(mktemp -d)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$T"/*.err; do [ -f "$f" ] && { echo "== $f"; tail -5 "$f"; }; done
    exit 1
}
ART="$FLOWKIT_BUILD_DIR/artifacts"
mkdir -p "$ART"

# start NAME ARGS...: flowkit-collect with --http on a free port; sets URL, CPORT, CPID.
start() {
    local name=$1 i
    shift
    "$B" -l udp://127.0.0.1:0 -o "jsonl:$T/$name.jsonl" --duration 600 --http 127.0.0.1:0 \
        --http-root "$S/console/www" "$@" 2>"$T/$name.err" &
    CPID=$!
    PIDS+=("$CPID")
    for i in $(seq 200); do
        grep -q 'console at' "$T/$name.err" && grep -q 'listening on' "$T/$name.err" && break
        kill -0 "$CPID" 2>/dev/null || fail "$name: flowkit-collect exited"
        sleep 0.1
    done
    URL=$(grep -o 'http://[^ ]*' "$T/$name.err" | head -1)
    CPORT=$(grep -o 'udp://127.0.0.1:[0-9]*' "$T/$name.err" | head -1 | sed 's/.*://')
    [ -n "$URL" ] && [ -n "$CPORT" ] || fail "$name: no URL or port"
}

# 1. options: no token off loopback is refused; a bad --http is a usage error
"$B" --http 0.0.0.0:0 -l udp://127.0.0.1:0 2>"$T/refuse.err" && fail "--http 0.0.0.0 without a token ran"
grep -q 'token-file is required' "$T/refuse.err" || fail "no message for a missing token"
"$B" --http nonsense:port -l udp://127.0.0.1:0 2>"$T/bad.err" && fail "--http nonsense ran"
"$B" --store nope=1 --http 0 -l udp://127.0.0.1:0 2>"$T/bad.err"
[ $? -eq 2 ] || fail "--store nope=1 is not a usage error"

# 2. ground truth: softflowd IPFIX export of a pcap stamped one minute ago
"$PY" "$S/tests/tools/collect_pcap.py" "$T/all.pcap" --base $(($(date +%s) - 60)) >"$T/truth" 2>/dev/null ||
    fail "pcap generator"
start main --http-max-body 65536 --http-max-feeds 2
timeout 30 softflowd -d -r "$T/all.pcap" -n "127.0.0.1:$CPORT" -v 10 -A milli >"$T/sf.err" 2>&1 ||
    fail "softflowd"
n=$(wc -l <"$T/truth")
for _ in $(seq 100); do
    [ "$(curl -s "${URL}api/v1/stats" | grep -o '"flows_kept":[0-9]*' | cut -d: -f2)" = "$n" ] && break
    sleep 0.1
done
"$PY" "$S/tests/integration/console_check.py" api "$URL" "$T/truth" || fail "API checks"
"$PY" "$S/tests/integration/console_check.py" metrics "$URL" "$S/include/flowkit/collector.h" ||
    fail "/metrics checks"
"$PY" "$S/tests/integration/console_check.py" browser "$URL" "$ART" || fail "browser checks"
kill -TERM "$CPID"
wait "$CPID" || fail "flowkit-collect --http did not exit 0 on SIGTERM"
[ "$(wc -l <"$T/main.jsonl")" -eq "$n" ] || fail "the -o output lost the softflowd flows"

# 3. bearer token
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$T/token"
start tok --http-token-file "$T/token"
"$PY" "$S/tests/integration/console_check.py" auth "$URL" "$(cat "$T/token")" || fail "token checks"
echo ok
