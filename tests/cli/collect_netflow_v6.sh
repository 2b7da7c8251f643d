#!/bin/bash
# flowkit-collect and flowkit-ipfix take NetFlow v6 (v5 plus encapsulation
# sizes and peer next hop, 52-byte records): two datagrams built here go to
# the collector over 127.0.0.1 and into a pcap for flowkit-ipfix; every
# record comes out with version 6, its addresses, ports and counters, and a
# gap in the sequence numbers is counted as lost flows.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_COLLECT"
IPFIX="$FK_IPFIX"

"$B" -l udp://127.0.0.1:0 --duration 60 --stats 3600 -o "jsonl:$T/out.jsonl" 2>"$T/err" &
PID=$!
P=$(listen_port "$T/err" udp) || fail "collector did not start"
"$PY" - "$P" "$T/v6.pcap" <<'PYEOF' || fail "sender"
import socket, struct, sys
port, pcap = int(sys.argv[1]), sys.argv[2]
def v6(n, seq):
    h = struct.pack("!HHIIIIBBH", 6, n, 100000, 1700000000, 0, seq, 1, 2, 0)
    r = b""
    for i in range(n):
        r += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBBB4s", bytes([10, 6, 0, 1 + i]), bytes([192, 0, 2, 6]),
                         bytes(4), 3, 4, 5 + i, 600 * (i + 1), 90000, 99000, 6000 + i, 53, 0, 0, 17, 0,
                         0, 0, 24, 24, 4, 8, bytes([198, 51, 100, 1]))
    return h + r
dgrams = [v6(3, 10), v6(2, 20)]  # 10 + 3 = 13: 7 flows lost before the second
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for d in dgrams:
    s.sendto(d, ("127.0.0.1", port))
with open(pcap, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))  # raw IP
    for d in dgrams:
        udp = struct.pack("!HHHH", 5000, 2055, 8 + len(d), 0) + d
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([127, 0, 0, 2]), bytes([127, 0, 0, 1])) + udp
        f.write(struct.pack("<IIII", 1700000000, 0, len(ip), len(ip)) + ip)
PYEOF
for _ in $(seq 200); do
    [ -f "$T/out.jsonl" ] && [ "$(wc -l <"$T/out.jsonl")" -ge 5 ] && break
    sleep 0.05
done
kill -TERM "$PID"
wait "$PID" || fail "collector exit $?"
PID=
[ "$(grep -c '"version":6' "$T/out.jsonl")" -eq 5 ] || fail "want 5 v6 records: $(cat "$T/out.jsonl")"
grep -q '"src_addr":"10.6.0.2","dst_addr":"192.0.2.6","src_port":6001,"dst_port":53,"proto":17,"bytes":1200,"packets":6' \
    "$T/out.jsonl" || fail "record 2: $(sed -n 2p "$T/out.jsonl")"
grep -q '"odid":258' "$T/out.jsonl" || fail "engine type/id as odid: $(head -1 "$T/out.jsonl")"
grep -q 'unsupported=0' "$T/err" || fail "counted as unsupported: $(grep unsupported "$T/err")"
grep -Eq '(sequence_lost|lost)=7' "$T/err" || fail "sequence gap not counted: $(tail -3 "$T/err")"

"$IPFIX" "$T/v6.pcap" >"$T/ipfix.jsonl" 2>"$T/ipfix.err" || fail "flowkit-ipfix exit $?"
[ "$(grep -c '"version":6' "$T/ipfix.jsonl")" -eq 5 ] || fail "flowkit-ipfix: $(cat "$T/ipfix.jsonl")"
grep -q 'flows=5 .*unsupported=0 sequence_lost=7' "$T/ipfix.err" || fail "flowkit-ipfix counters: $(cat "$T/ipfix.err")"
echo "PASS"
