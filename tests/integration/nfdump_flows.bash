# Shared set-up of the tests that check flowkit's filters and queries against
# nfdump (interop_filter_nfdump.sh, interop_query_nfdump.sh). Source it, then
# call nfdump_flows_setup [COUNT]: it sets SRC, BUILD, IPFIX (flowkit-ipfix),
# PY and W (work dir, removed on exit), runs nfcapd on a free 127.0.0.1 port,
# and sends it the flows of tests/tools/filter_flows.py, which also writes
# them to $W/flows.ipfix (raw IPFIX messages) and $W/truth.jsonl. nfcapd's
# files end up in $W/nf. Exits 77 (skip) when a tool is missing.

nfdump_flows_setup() {
    local count=${1:-400} port
    SRC=${FLOWKIT_SOURCE_DIR:?}
    BUILD=${FLOWKIT_BUILD_DIR:?}
    IPFIX="$BUILD/cli/flowkit-ipfix/flowkit-ipfix"
    PY=/usr/bin/python3
    [ -x "$IPFIX" ] || { echo "SKIP: $IPFIX not built"; exit 77; }
    for t in nfcapd nfdump; do
        command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
    done
    W=$(mktemp -d /tmp/flowkit-nfdump.XXXXXX)
    NPID=
    trap nfdump_flows_cleanup EXIT
    port=$($PY -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$W/nf"
    nfcapd -b 127.0.0.1 -p "$port" -w "$W/nf" -t 3600 >"$W/nfcapd.log" 2>&1 &
    NPID=$!
    for _ in $(seq 100); do ss -Hlun "sport = :$port" | grep -q . && break; sleep 0.05; done
    $PY "$SRC/tests/tools/filter_flows.py" "$W/flows.ipfix" --count "$count" --send "$port" \
        >"$W/truth.jsonl" || { echo "FAIL: generator"; exit 1; }
    sleep 0.5
    kill -TERM "$NPID"
    wait "$NPID"
    NPID=
    grep -q "Flows: $count," "$W/nfcapd.log" ||
        { echo "FAIL: nfcapd did not store $count flows: $(tail -3 "$W/nfcapd.log")"; exit 1; }
}

nfdump_flows_cleanup() {
    [ -n "$NPID" ] && kill "$NPID" 2>/dev/null
    rm -rf "$W"
}
