#!/bin/bash
# flowkit-export's exit status says whether every record was delivered
# (issue 15, item 3): with no collector ever listening on the TCP port, the
# records stay buffered until --drain-timeout runs out and it exits 1,
# saying how many were not delivered; with a collector that takes them
# (the Python sink), it exits 0 and records_sent = records_in.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_EXPORT"
GEN="$FK_PCAPGEN"
SINK="$FLOWKIT_SOURCE_DIR/tests/integration/ipfix_tcp_sink.py"
need_exec "$GEN"
SPID=
cleanup_extra() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; }

"$GEN" --seed 3 --flows 40 --packets 800 --v6 10 --vlan 0 --arp 0 "$T/in.pcap" "$T/truth.jsonl" \
    >/dev/null || fail "fk_pcapgen"
# A port nobody listens on: bind one, note it, close it.
PORT=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")

"$B" -r "$T/in.pcap" --flows -c "tcp://127.0.0.1:$PORT" --drain-timeout 300 --stats \
    >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || fail "no collector: exit $rc, want 1"
grep -Eq "not delivered: 0 records dropped, [1-9][0-9]* still buffered" "$T/err" ||
    fail "no message saying what was not delivered"

"$PY" "$SINK" 127.0.0.1 "$PORT" "$T/sink.txt" &
SPID=$!
for _ in $(seq 50); do
    "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2).close()" \
        2>/dev/null && break
    sleep 0.1
done
"$B" -r "$T/in.pcap" --flows -c "tcp://127.0.0.1:$PORT" --drain-timeout 5000 --stats \
    >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 0 ] || fail "collector listening: exit $rc, want 0"
line=$(grep 'export total' "$T/err")
rin=$(echo "$line" | sed -n 's/.*records_in=\([0-9]*\).*/\1/p')
sent=$(echo "$line" | sed -n 's/.*records_sent=\([0-9]*\).*/\1/p')
[ -n "$rin" ] && [ "$rin" -gt 0 ] && [ "$rin" = "$sent" ] || fail "records_in $rin, records_sent $sent"
echo ok
