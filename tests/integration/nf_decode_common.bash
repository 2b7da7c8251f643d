# Shared set-up of the peer-export decode tests (interop_softflowd_decode.sh,
# interop_pmacct_decode.sh): checks the tools, makes WORK (removed on exit
# with any receiver or peer still running), and writes the generated traffic
# to $WORK/in.pcap with its ground truth in $WORK/truth.json.
# Usage: source this file, then `nf_decode_setup PEER_COMMAND`.
# Sets HERE, TOOL, PY, WORK; the caller keeps RECV_PID and PEER_PID current.

nf_decode_setup() {
    local peer=$1
    HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    TOOL="${FLOWKIT_BUILD_DIR:-}/cli/flowkit-ipfix/flowkit-ipfix"
    PY=/usr/bin/python3
    local t
    for t in "$peer" tshark "$PY"; do
        if ! command -v "$t" >/dev/null; then
            echo "SKIP: $t is not installed"
            exit 77
        fi
    done
    [ -x "$TOOL" ] || {
        echo "FAIL: $TOOL not built"
        exit 1
    }
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/fk-$peer.$$.XXXXXX")
    RECV_PID=""
    PEER_PID=""
    trap nf_decode_cleanup EXIT
    "$PY" "$HERE/nf_pcap_tools.py" gen "$WORK/in.pcap" "$WORK/truth.json" || {
        echo "FAIL: traffic generator"
        exit 1
    }
}

nf_decode_cleanup() {
    [ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null
    [ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null
    rm -rf "$WORK"
}

# nf_decode_export V LOG COMMAND...: start a UDP receiver on 127.0.0.1 that
# writes every datagram to $WORK/exportV.pcap, run COMMAND (each argument
# "@PORT@" replaced by the receiver's port; its output to LOG) until it exits,
# then stop the receiver. Sets UDP_PORT; returns COMMAND's exit status, or 1
# (with the reason in LOG) when the receiver did not start.
nf_decode_export() {
    local v=$1 log=$2 rc arg
    shift 2
    rm -f "$WORK/port" "$WORK/stop"
    "$PY" "$HERE/nf_pcap_tools.py" recv "$WORK/export$v.pcap" "$WORK/port" "$WORK/stop" &
    RECV_PID=$!
    for _ in $(seq 100); do
        [ -s "$WORK/port" ] && break
        sleep 0.05
    done
    UDP_PORT=$(cat "$WORK/port" 2>/dev/null)
    if [ -z "$UDP_PORT" ]; then
        echo "the UDP receiver did not start" >"$log"
        kill "$RECV_PID"
        RECV_PID=""
        return 1
    fi
    local cmd=()
    for arg in "$@"; do cmd+=("${arg//@PORT@/$UDP_PORT}"); done
    "${cmd[@]}" >"$log" 2>&1 &
    PEER_PID=$!
    wait "$PEER_PID"
    rc=$?
    PEER_PID=""
    touch "$WORK/stop"
    wait "$RECV_PID"
    RECV_PID=""
    return $rc
}

# nf_decode_judge V [CHECK_OPTION...]: decode $WORK/exportV.pcap with
# flowkit-ipfix (no malformed message, no record without template), compare
# its records with tshark's and with the ground truth (nf_pcap_tools.py check
# with CHECK_OPTIONs); prints what it found; returns 0 when all agree.
nf_decode_judge() {
    local v=$1 ours="$WORK/ours$1.jsonl" ok=1 out
    shift
    if ! "$TOOL" "$WORK/export$v.pcap" >"$ours" 2>"$WORK/err$v"; then
        echo "FAIL v$v: flowkit-ipfix: $(cat "$WORK/err$v")"
        return 1
    fi
    if ! grep -q ' malformed=0 no_template=0 ' "$WORK/err$v"; then
        echo "FAIL v$v: $(tail -1 "$WORK/err$v")"
        return 1
    fi
    tshark -r "$WORK/export$v.pcap" -d "udp.port==$UDP_PORT,cflow" -T json --no-duplicate-keys \
        >"$WORK/tshark$v.json" 2>/dev/null
    if out=$("$PY" "$HERE/cflow_compare.py" "$ours" "$WORK/tshark$v.json"); then
        echo "v$v flowkit vs tshark: $out"
    else
        echo "FAIL v$v flowkit vs tshark:"
        echo "$out" | sed 's/^/    /'
        ok=0
    fi
    if out=$("$PY" "$HERE/nf_pcap_tools.py" check "$WORK/truth.json" "$ours" "$@"); then
        echo "v$v flowkit vs traffic: $out"
    else
        echo "FAIL v$v flowkit vs traffic:"
        echo "$out" | sed 's/^/    /'
        ok=0
    fi
    [ $ok = 1 ]
}
