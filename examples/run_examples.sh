#!/bin/bash
# Run the examples that need no network beyond loopback and no root, built
# against an installed flowkit, and check what they print.
#   examples/run_examples.sh BIN_DIR LIB_DIR
# (scripts/test's install-and-examples step calls it for both example builds.)
set -euo pipefail
BIN=$(cd "$1" && pwd)
export LD_LIBRARY_PATH="$2${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
SRC=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
PCAP="$TMP/tcp_session.pcap"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
/usr/bin/python3 "$SRC/tests/tools/tcp_session_pcap.py" "$PCAP"

expect() { # expect WHAT WANT GOT
    if [ "$2" != "$3" ]; then
        echo "FAIL $1: want $2, got $3"
        exit 1
    fi
    echo "ok   $1 ($3)"
}

"$BIN/flowkit_info" >/dev/null && echo "ok   flowkit_info runs"

# Encode 300 flows, send them to 127.0.0.1 and keep a copy in a file; decode it.
"$BIN/ipfix_encode_send" -n 300 -p 9 -w "$TMP/flows.ipfix" >"$TMP/send.out"
grep -q "sent 300 flows" "$TMP/send.out"
"$BIN/ipfix_decode_file" -f "$TMP/flows.ipfix" >"$TMP/flows.jsonl" 2>"$TMP/decode.err"
expect "ipfix_decode_file records" 300 "$(grep -c '"type":"flow"' "$TMP/flows.jsonl")"
expect "ipfix_decode_file bytes of flow 7" 1070 \
    "$(sed -n 8p "$TMP/flows.jsonl" | grep -o '"bytes":[0-9]*' | cut -d: -f2)"
# A truncated file is refused with exit status 1 and the library's message.
head -c 100 "$TMP/flows.ipfix" >"$TMP/short.ipfix"
rc=0
"$BIN/ipfix_decode_file" "$TMP/short.ipfix" >/dev/null 2>"$TMP/short.err" || rc=$?
expect "ipfix_decode_file on a truncated file" 1 "$rc"
grep -q FK_ETRUNCATED "$TMP/short.err"

# The epoll loop over a replayed capture: SYN, FIN, FIN and one flow.
"$BIN/capture_epoll" -r "$PCAP" >"$TMP/epoll.jsonl" 2>"$TMP/epoll.err"
expect "capture_epoll events" "syn fin fin" \
    "$(grep -o '"event":"[a-z]*"' "$TMP/epoll.jsonl" | cut -d'"' -f4 | xargs)"
expect "capture_epoll flow bytes" '"bytes":205' "$(grep -o '"bytes":[0-9]*' "$TMP/epoll.jsonl")"

if [ -x "$BIN/collector_minimal" ]; then
    # A collector on an ephemeral loopback port; the encoder example feeds it.
    "$BIN/collector_minimal" -l udp://127.0.0.1:0 -c 300 -t 20 \
        >"$TMP/col.jsonl" 2>"$TMP/col.err" &
    pids+=($!)
    uri=""
    for _ in $(seq 100); do
        uri=$(grep -o 'udp://127.0.0.1:[0-9]*' "$TMP/col.err" || true)
        [ -n "$uri" ] && break
        sleep 0.05
    done
    [ -n "$uri" ] || { echo "FAIL collector_minimal did not start"; cat "$TMP/col.err"; exit 1; }
    "$BIN/ipfix_encode_send" -n 300 -p "${uri##*:}" >/dev/null
    wait "${pids[-1]}"
    expect "collector_minimal records" 300 "$(grep -c '"type":"flow"' "$TMP/col.jsonl")"
fi
if [ -x "$BIN/rank_top" ] && [ "$(id -u)" -eq 0 ]; then
    # Root only: capture on lo while this shell sends 40 UDP datagrams to
    # 127.0.0.1:9 (discard; nobody listens) and check the rank names us.
    timeout 20 "$BIN/rank_top" -i lo -d 1 -c 2 -n 20 >"$TMP/rank.out" 2>"$TMP/rank.err" &
    pids+=($!)
    sleep 0.5
    for _ in $(seq 40); do
        echo "flowkit rank example" >/dev/udp/127.0.0.1/9 || true
        sleep 0.05
    done
    wait "${pids[-1]}" || { cat "$TMP/rank.err"; echo "FAIL rank_top"; exit 1; }
    expect "rank_top ranks printed" 2 "$(grep -c '^ *PID USER' "$TMP/rank.out")"
    grep -q "unknown UDP\|bash" "$TMP/rank.out" || { cat "$TMP/rank.out"; echo "FAIL rank_top rows"; exit 1; }
    echo "ok   rank_top rows: $(grep -cE '^ +[0-9]+ ' "$TMP/rank.out")"
fi
echo "examples: all ok"
