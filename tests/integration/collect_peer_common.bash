# Shared set-up of the tests that run flowkit-collect against a real exporter
# (interop_collect_softflowd.sh, interop_collect_pmacct.sh).
# Usage: source this file, then `collect_peer_setup EXPORTER_COMMAND`.
# Sets S (source dir), B (flowkit-collect), PY, T (work dir, removed on exit
# with every process in PIDS killed) and writes the generated traffic with its
# ground truth: $T/all.pcap + $T/truth_all, $T/v4.pcap + $T/truth_v4.

collect_peer_setup() {
    local t
    S="$FLOWKIT_SOURCE_DIR"
    B="$FLOWKIT_BUILD_DIR/cli/flowkit-collect/flowkit-collect"
    PY=/usr/bin/python3
    for t in "$1" nfcapd nfdump; do
        command -v "$t" >/dev/null || {
            echo "SKIP: $t not installed"
            exit 77
        }
    done
    "$PY" -c 'import scapy' 2>/dev/null || {
        echo "SKIP: python3-scapy missing"
        exit 77
    }
    [ -x "$B" ] || {
        echo "flowkit-collect not built"
        exit 1
    }
    T=$(mktemp -d)
    PIDS=()
    trap collect_peer_cleanup EXIT
    "$PY" "$S/tests/tools/collect_pcap.py" "$T/all.pcap" >"$T/truth_all" 2>/dev/null ||
        fail "pcap generator"
    "$PY" "$S/tests/tools/collect_pcap.py" "$T/v4.pcap" --v4-only >"$T/truth_v4" 2>/dev/null ||
        fail "pcap generator"
}

collect_peer_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}

# fail MESSAGE: print it with the tail of every log, exit 1.
fail() {
    local f
    echo "FAIL: $*"
    for f in "$T"/*.err "$T"/*.log; do
        [ -f "$f" ] && {
            echo "== $f"
            tail -5 "$f"
        }
    done
    exit 1
}

# start_collect NAME [ARGS]: flowkit-collect on a free UDP port, records to
# $T/NAME.jsonl, stderr to $T/NAME.err; sets CPID and CPORT.
start_collect() {
    local name=$1
    shift
    "$B" -l udp://127.0.0.1:0 --duration 120 --stats 3600 "$@" >"$T/$name.jsonl" 2>"$T/$name.err" &
    CPID=$!
    PIDS+=("$CPID")
    CPORT=
    for _ in $(seq 200); do
        CPORT=$(grep -o 'listening on udp://127.0.0.1:[0-9]*' "$T/$name.err" | sed 's/.*://')
        [ -n "$CPORT" ] && return 0
        sleep 0.05
    done
    fail "$name: collector did not start"
}

# stop_collect: SIGTERM (flushes) and exit status 0.
stop_collect() {
    sleep 0.5
    kill -TERM "$CPID"
    wait "$CPID" || fail "collector exit status $?"
}

# start_nfcapd V: nfcapd on a free UDP port writing into $T/nfV; waits until
# the port is bound so no datagram goes out before; sets NPORT and NPID.
start_nfcapd() {
    NPORT=$("$PY" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    rm -rf "$T/nf$1"
    mkdir -p "$T/nf$1"
    nfcapd -b 127.0.0.1 -p "$NPORT" -w "$T/nf$1" -t 3600 >"$T/nfcapd$1.err" 2>&1 &
    NPID=$!
    PIDS+=("$NPID")
    for _ in $(seq 200); do
        ss -Hlun "sport = :$NPORT" | grep -q . && return 0
        sleep 0.05
    done
    fail "nfcapd did not bind port $NPORT"
}

# stop_nfcapd V: stop it (it writes its file) and dump its flows to $T/nfV.csv.
stop_nfcapd() {
    sleep 0.5
    kill -TERM "$NPID"
    wait "$NPID"
    nfdump -R "$T/nf$1" -o csv >"$T/nf$1.csv" 2>"$T/nfdump$1.err" || fail "nfdump"
}
