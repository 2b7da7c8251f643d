#!/bin/bash
# flowkit-collect turns NetFlow v9 interface options (scope type 2 with
# IF_NAME / IF_DESC) into "in_if_name" / "out_if_name" in JSON lines and the
# in_if_name / out_if_name CSV columns, and --stats shows interface_names.
# The datagram is built here (no Debian exporter sends interface-name options:
# softflowd and pmacct's nfprobe do not).
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_COLLECT"
need_py

"$B" -l udp://127.0.0.1:0 -o "jsonl:$T/out.jsonl" -o "csv:$T/out.csv" --count 2 --stats 3600 \
    2>"$T/err" &
PID=$!
PORT=$(listen_port "$T/err" udp) || fail "no listening line"

"$PY" - "$PORT" <<'PYEOF'
import socket, struct, sys, time
port = int(sys.argv[1])
now, up = int(time.time()), 3600000
def flowset(fid, body):
    body += b'\0' * (-len(body) % 4)
    return struct.pack('!HH', fid, len(body) + 4) + body
# options template 257: scope interface (2, 4 bytes); IF_NAME (82, 16), IF_DESC (83, 24)
opt_t = flowset(1, struct.pack('!HHH', 257, 4, 8) + struct.pack('!HHHHHH', 2, 4, 82, 16, 83, 24))
fields = [(8, 4), (12, 4), (4, 1), (1, 4), (2, 4), (10, 2), (14, 2), (22, 4), (21, 4)]
tmpl = flowset(0, struct.pack('!HH', 260, len(fields)) +
               b''.join(struct.pack('!HH', t, l) for t, l in fields))
def ifrec(i, name, desc):
    return struct.pack('!I', i) + name.encode().ljust(16, b'\0') + desc.encode().ljust(24, b'\0')
opts = flowset(257, ifrec(1, 'eth0', 'to core') + ifrec(2, '', 'uplink, "B"'))
def rec(a, b, i, o):
    return bytes([10, 0, 0, a, 10, 0, 0, b, 6]) + struct.pack('!IIHHII', 1500, 3, i, o, up - 5000, up - 1000)
data = flowset(260, rec(1, 2, 1, 2) + rec(3, 4, 2, 9))
hdr = struct.pack('!HHIIII', 9, 5, up, now, 1, 7)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(hdr + opt_t + tmpl + opts + data, ('127.0.0.1', port))
PYEOF

for _ in $(seq 200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$PID" 2>/dev/null && fail "--count 2 did not end the program"
wait "$PID" || fail "exit status $?"
PID=
grep -q '"src_addr":"10.0.0.1".*"in_if":1,"out_if":2,"in_if_name":"eth0","out_if_name":"uplink, \\"B\\""}$' \
    "$T/out.jsonl" || fail "first record: $(head -1 "$T/out.jsonl")"
grep -q '"src_addr":"10.0.0.3".*"in_if":2,"out_if":9,"in_if_name":"uplink, \\"B\\""}$' "$T/out.jsonl" ||
    fail "second record (no name for 9): $(tail -1 "$T/out.jsonl")"
head -1 "$T/out.csv" | grep -q ',in_if_name,out_if_name,' || fail "CSV header: $(head -1 "$T/out.csv")"
grep -q ',1,2,,,,,eth0,"uplink, ""B""",,,,,$' "$T/out.csv" || fail "CSV row: $(sed -n 2p "$T/out.csv")"
grep -q 'interface_names=2 ' "$T/err" || fail "--stats: no interface_names=2"
grep -q 'options_records=2 ' "$T/err" || fail "--stats: no options_records=2"
echo "ok: v9 interface names in JSON lines, CSV and --stats"
