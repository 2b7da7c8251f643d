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
