#!/bin/bash
# Session events and process fields survive the collector's IPFIX file:
# flowkit-collect receives flowkit-export-shaped IPFIX (a SYN event with a
# process, an RST event without, a flow with a process and interface names;
# tests/integration/clickhouse_events.py) and writes JSON lines and an IPFIX
# file. Reading the file with flowkit-ipfix, and with flowkit-collect over
# TCP, gives the same records: events as {"type":"event"} lines with their
# process keys. flowkit-ipfix shows each record's own odid and exporter (kept
# in the file's records); flowkit-collect reading the file over TCP has the
# file's header domain (0) and its own peer instead. Interface names are
# not stored (documented). With --pen 0 flowkit-ipfix prints flows without
# process keys. libfixbuf (a third-party reader) decodes the same events,
# process fields included, from the same file.
set -uo pipefail
S=${FLOWKIT_SOURCE_DIR:?}
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B=${FLOWKIT_BUILD_DIR:?}/cli
COL="$FK_COLLECT"
IPX="$FK_IPFIX"
need_exec "$COL" "$IPX"
need_py

# start NAME TRANSPORT ARGS...: flowkit-collect on a free port; sets PID, CPORT.
start() {
    local name=$1 tr=$2
    shift 2
    "$COL" -l "$tr://127.0.0.1:0" --count 3 --duration 20 "$@" 2>"$T/$name.err" &
    PID=$!
    PIDS+=("$PID")
    CPORT=$(listen_port "$T/$name.err" "$tr") || fail "$name: collector did not start"
}

start udp udp -o "ipfix:$T/ev.ipfix" -o "jsonl:$T/orig.jsonl"
"$PY" "$S/tests/integration/clickhouse_events.py" "$CPORT" 32473 >/dev/null || fail "sender"
wait "$PID" || fail "collector exit status"
[ "$(grep -c '"type":"event"' "$T/orig.jsonl")" = 2 ] || fail "collector did not see 2 events"

"$IPX" -e 127.0.0.1 "$T/ev.ipfix" >"$T/ipfix.jsonl" 2>"$T/ipfix.err" || fail "flowkit-ipfix"

start tcp tcp -o "jsonl:$T/back.jsonl"
"$PY" - "$CPORT" "$T/ev.ipfix" <<'EOF' || fail "tcp send"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read())
s.close()
EOF
wait "$PID" || fail "tcp collector exit status"

# Same records, apart from what the file does not keep (docs: interface
# names) and the zero sampling / end reason it writes; over TCP also the
# header's odid and the TCP peer.
"$PY" - "$T/orig.jsonl" "$T/ipfix.jsonl" "$T/back.jsonl" <<'EOF' || fail "records differ"
import json, sys
DROP = {"in_if_name", "out_if_name", "sampling", "end_reason"}
def load(p, drop):
    rows = [json.loads(l) for l in open(p) if l.strip()]
    return sorted(({k: v for k, v in r.items() if k not in drop} for r in rows),
                  key=lambda r: r["src_port"])
want = load(sys.argv[1], DROP)
assert [r["type"] for r in want] == ["event", "event", "flow"], want
assert want[0]["event"] == "syn" and want[0]["pid"] == 4242 and want[0]["exe"] == "/usr/bin/curl"
assert "pid" not in want[1] and want[2]["bytes"] == 5000 and want[2]["uid"] == 1000
assert want[0]["odid"] == 5 and want[0]["exporter"] == "127.0.0.1", want[0]
for p, drop in ((sys.argv[2], DROP), (sys.argv[3], DROP | {"odid", "exporter"})):
    got, w = load(p, drop), load(sys.argv[1], drop)
    if got != w:
        print(p, "\n got ", got, "\n want", w)
        sys.exit(1)
EOF
"$IPX" --pen 0 "$T/ev.ipfix" 2>/dev/null | grep '"type":"event"\|"pid"' >/dev/null \
    && fail "--pen 0 still reads enterprise elements"
# A third-party reader (libfixbuf 2.4) walks the whole file, templates with
# varlen strings and enterprise elements included. Its test reader adds
# flowkit's enterprise elements under the PEN to libfixbuf's information
# model, so libfixbuf decodes the session events (kind, observation time,
# tuple, tcpControlBits) and the process fields: they must equal the
# collector's own JSON lines of this run (interface indexes and names aside:
# the reader does not ask for them). Under another PEN libfixbuf sees no
# event and no process.
if pkg-config --exists libfixbuf 2>/dev/null && command -v cc >/dev/null; then
    cc -O2 -o "$T/fbr" "$S/tests/integration/collect_fixbuf_reader.c" \
        $(pkg-config --cflags --libs libfixbuf) || fail "building the libfixbuf reader"
    "$T/fbr" "$T/ev.ipfix" 32473 >"$T/fixbuf.jsonl" 2>"$T/fixbuf.err" ||
        fail "libfixbuf: $(cat "$T/fixbuf.err")"
    "$PY" - "$T/orig.jsonl" "$T/fixbuf.jsonl" <<'EOF' || fail "libfixbuf records differ"
import json, sys
DROP = {"in_if", "out_if", "in_if_name", "out_if_name", "sampling", "end_reason"}
def load(p):
    rows = [json.loads(l) for l in open(p) if l.strip()]
    return sorted(({k: v for k, v in r.items() if k not in DROP} for r in rows),
                  key=lambda r: r["src_port"])
want, got = load(sys.argv[1]), load(sys.argv[2])
# The events' TCP flags are in the file (flowkit's event JSON has none): SYN, RST.
flags = [g.pop("tcp_flags") for g in got if g["type"] == "event"]
if flags != [2, 4]:
    print("event tcp_flags", flags)
    sys.exit(1)
if [g["type"] for g in got] != ["event", "event", "flow"] or got != want:
    print("libfixbuf:", got, "\nflowkit:  ", want)
    sys.exit(1)
EOF
    "$T/fbr" "$T/ev.ipfix" 12345 2>/dev/null | grep '"type":"event"\|"pid"' >/dev/null &&
        fail "libfixbuf: events or processes under the wrong PEN"
    echo "libfixbuf decodes the events and process fields: ok"
fi
echo ok
