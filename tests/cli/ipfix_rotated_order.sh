#!/bin/bash
# Rotated files are read in time order (#19). flowkit-collect renames a full
# output PATH to PATH.YYYYMMDDTHHMMSSZ[.N] and goes on writing PATH, so by
# name the live file comes first; flowkit-ipfix must read a rotated set
# oldest first and the live file last, in a directory and on the command
# line (a shell's PATH*).
#  1. A crafted listing: one record per file whose byte count is its rank in
#     time order; names that sort wrongly by name (the live file, .10 before
#     .2, a stamp of the year before) beside unrelated files.
#  2. A real rotation: flowkit-collect --rotate 1 (the nfcapd -t alias) over
#     loopback, three records a rotation apart, read back in the order sent.
set -uo pipefail
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B=${FLOWKIT_BUILD_DIR:?}/cli
COL="$FK_COLLECT"
IPX="$FK_IPFIX"
need_exec "$COL" "$IPX"
need_py

# msg.py FILE BYTES [PORT]: one IPFIX message (template + one flow whose
# octetDeltaCount is BYTES) written to FILE, or sent to 127.0.0.1:PORT.
cat >"$T/msg.py" <<'EOF'
import socket, struct, sys, time
path, nbytes = sys.argv[1], int(sys.argv[2])
now = int(time.time())
F = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8), (153, 8)]
t = struct.pack(">HH", 256, len(F)) + b"".join(struct.pack(">HH", i, l) for i, l in F)
rec = struct.pack(">4s4sHHBQQQQ", socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2"),
                  1000 + nbytes, 443, 6, nbytes, 1, (now - 2) * 1000, (now - 1) * 1000)
body = struct.pack(">HH", 2, 4 + len(t)) + t + struct.pack(">HH", 256, 4 + len(rec)) + rec
msg = struct.pack(">HHIII", 10, 16 + len(body), now, 0, 1) + body
if len(sys.argv) > 3:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(msg, ("127.0.0.1", int(sys.argv[3])))
else:
    open(path, "wb").write(msg)
EOF
# order ARGS...: the byte counts of the flows flowkit-ipfix prints, in order.
order() {
    "$IPX" -q "$@" >/dev/null 2>"$T/ipx.err" || fail "flowkit-ipfix $*: $(cat "$T/ipx.err")"
    "$IPX" "$@" 2>/dev/null | $PY -c '
import json, sys
print(" ".join(str(json.loads(l)["bytes"]) for l in sys.stdin if json.loads(l)["type"] == "flow"))'
}

# 1. Crafted listing. Rank = byte count: a.ipfix first, the flows.ipfix set
# in time order with its live file last, then other.ipfix.
D="$T/dir"
mkdir -p "$D"
i=0
for name in a.ipfix flows.ipfix.20251231T235959Z flows.ipfix.20260101T000000Z \
    flows.ipfix.20260101T000000Z.1 flows.ipfix.20260101T000000Z.2 flows.ipfix.20260101T000000Z.10 \
    flows.ipfix.20260101T000500Z flows.ipfix other.ipfix; do
    i=$((i + 1))
    $PY "$T/msg.py" "$D/$name" $i || fail "writing $name"
done
got=$(order "$D")
[ "$got" = "1 2 3 4 5 6 7 8 9" ] || fail "directory read as $got, want 1 2 3 4 5 6 7 8 9"
echo "  directory: $got"
# The shell's glob gives the live file first and .10 before .2.
got=$(order "$D"/flows.ipfix*)
[ "$got" = "2 3 4 5 6 7 8" ] || fail "flows.ipfix* read as $got, want 2 3 4 5 6 7 8"
echo "  flows.ipfix*: $got"
# Other paths keep the order given; the set takes its first member's place.
got=$(order "$D/other.ipfix" "$D/flows.ipfix" "$D/a.ipfix" "$D/flows.ipfix.20260101T000000Z")
[ "$got" = "9 3 8 1" ] || fail "mixed arguments read as $got, want 9 3 8 1"
echo "  other, flows, a, flows.STAMP: $got"
# Names like a rotated one but not one (no T/Z, a 4-digit suffix) keep name order.
E="$T/plain"
mkdir -p "$E"
$PY "$T/msg.py" "$E/x" 1 && $PY "$T/msg.py" "$E/x.20260101000000" 2 &&
    $PY "$T/msg.py" "$E/x.20260101T000000Z.1000" 3 || fail "writing plain names"
got=$(order "$E")
[ "$got" = "1 2 3" ] || fail "plain names read as $got, want 1 2 3"

# 2. A real rotation with --rotate (nfcapd's -t).
R="$T/rot"
mkdir -p "$R"
"$COL" -l udp://127.0.0.1:0 -o "ipfix:$R/flows.ipfix" --rotate 1 --duration 30 2>"$T/col.err" &
PID=$!
PORT=$(listen_port "$T/col.err" udp) || fail "collector did not start: $(cat "$T/col.err")"
rotated() { find "$R" -name 'flows.ipfix.*' | wc -l; }
for n in 1 2 3; do
    $PY "$T/msg.py" - $((n * 100)) "$PORT" || fail "sender"
    [ $n -eq 3 ] && break
    # Wait (bounded) until the file holding this record has been rotated.
    for _ in $(seq 100); do
        [ "$(rotated)" -ge $n ] && break
        sleep 0.05
    done
    [ "$(rotated)" -ge $n ] || fail "no rotation after record $n: $(ls "$R")"
done
sleep 0.3
kill -TERM "$PID"
wait "$PID" || fail "collector exit status: $(cat "$T/col.err")"
PID=
ls "$R"
got=$(order "$R")
[ "$got" = "100 200 300" ] || fail "rotated directory read as $got, want 100 200 300"
got=$(order "$R"/flows.ipfix*)
[ "$got" = "100 200 300" ] || fail "rotated flows.ipfix* read as $got, want 100 200 300"
echo "  flowkit-collect --rotate 1: $got"
echo "PASS"
