#!/bin/bash
# Session events and process fields survive the collector's IPFIX file:
# flowkit-collect receives flowkit-export-shaped IPFIX (a SYN event with a
# process, an RST event without, a flow with a process and interface names;
# tests/integration/clickhouse_events.py) and writes JSON lines and an IPFIX
# file. Reading the file with flowkit-ipfix, and with flowkit-collect over
# TCP, gives the same records: events as {"type":"event"} lines with their
# process keys. The documented losses (interface names, odid) are the only
# differences; with --pen 0 flowkit-ipfix prints flows without process keys.
set -uo pipefail
S=${FLOWKIT_SOURCE_DIR:?}
B=${FLOWKIT_BUILD_DIR:?}/cli
COL="$B/flowkit-collect/flowkit-collect"
IPX="$B/flowkit-ipfix/flowkit-ipfix"
PY=/usr/bin/python3
[ -x "$COL" ] && [ -x "$IPX" ] || { echo "SKIP: CLIs not built"; exit 77; }
[ -x "$PY" ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
W=$(mktemp -d /tmp/flowkit-colev.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# start NAME TRANSPORT ARGS...: flowkit-collect on a free port; sets CPID, CPORT.
start() {
    local name=$1 tr=$2
    shift 2
    "$COL" -l "$tr://127.0.0.1:0" --count 3 --duration 20 "$@" 2>"$W/$name.err" &
    CPID=$!
    PIDS+=("$CPID")
    CPORT=
    for _ in $(seq 100); do
        CPORT=$(grep -o "listening on $tr://127.0.0.1:[0-9]*" "$W/$name.err" | sed 's/.*://')
        [ -n "$CPORT" ] && return 0
        sleep 0.05
    done
    fail "$name: collector did not start"
}

start udp udp -o "ipfix:$W/ev.ipfix" -o "jsonl:$W/orig.jsonl"
"$PY" "$S/tests/integration/clickhouse_events.py" "$CPORT" 32473 >/dev/null || fail "sender"
wait "$CPID" || fail "collector exit status"
[ "$(grep -c '"type":"event"' "$W/orig.jsonl")" = 2 ] || fail "collector did not see 2 events"

"$IPX" -e 127.0.0.1 "$W/ev.ipfix" >"$W/ipfix.jsonl" 2>"$W/ipfix.err" || fail "flowkit-ipfix"

start tcp tcp -o "jsonl:$W/back.jsonl"
"$PY" - "$CPORT" "$W/ev.ipfix" <<'EOF' || fail "tcp send"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read())
s.close()
EOF
wait "$CPID" || fail "tcp collector exit status"

# Same records, apart from what the file does not keep (docs: interface
# names, odid of the header) and the zero sampling / end reason it writes.
"$PY" - "$W/orig.jsonl" "$W/ipfix.jsonl" "$W/back.jsonl" <<'EOF' || fail "records differ"
import json, sys
DROP = {"exporter", "odid", "in_if_name", "out_if_name", "sampling", "end_reason"}
def load(p):
    rows = [json.loads(l) for l in open(p) if l.strip()]
    return sorted(({k: v for k, v in r.items() if k not in DROP} for r in rows),
                  key=lambda r: r["src_port"])
want = load(sys.argv[1])
assert [r["type"] for r in want] == ["event", "event", "flow"], want
assert want[0]["event"] == "syn" and want[0]["pid"] == 4242 and want[0]["exe"] == "/usr/bin/curl"
assert "pid" not in want[1] and want[2]["bytes"] == 5000 and want[2]["uid"] == 1000
for p in sys.argv[2:]:
    got = load(p)
    if got != want:
        print(p, "\n got ", got, "\n want", want)
        sys.exit(1)
EOF
"$IPX" --pen 0 "$W/ev.ipfix" 2>/dev/null | grep -q '"type":"event"\|"pid"' \
    && fail "--pen 0 still reads enterprise elements"
echo ok
