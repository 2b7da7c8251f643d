#!/bin/bash
# The collector's IPFIX file keeps each record's origin: flowkit-collect
# receives IPFIX over UDP from two exporters (127.0.0.2 with observation
# domain 11, 127.0.0.3 with domain 22) and writes an ipfix: file, whose
# message headers carry domain 0. flowkit-ipfix must print every record with
# its own odid and exporter (observationDomainId, exporterIPv4Address in the
# record), exactly as the collector's own JSON lines of the same run say.
set -uo pipefail
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B=${FLOWKIT_BUILD_DIR:?}/cli
COL="$FK_COLLECT"
IPX="$FK_IPFIX"
need_exec "$COL" "$IPX"
need_py

"$COL" -l udp://127.0.0.1:0 --count 6 --duration 20 -o "ipfix:$T/two.ipfix" \
    -o "jsonl:$T/orig.jsonl" 2>"$T/col.err" &
PID=$!
PORT=$(listen_port "$T/col.err" udp) || fail "collector did not start: $(cat "$T/col.err")"

# Each exporter: one message with a template and three flows (src ports
# 1000*odid + i), sent from its own loopback address.
"$PY" - "$PORT" <<'EOF' || fail "sender"
import socket, struct, sys, time
port = int(sys.argv[1])
now = int(time.time())
FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8), (153, 8)]
for src, odid in (("127.0.0.2", 11), ("127.0.0.3", 22)):
    tmpl = struct.pack(">HH", 256, len(FIELDS)) + b"".join(struct.pack(">HH", i, l) for i, l in FIELDS)
    tset = struct.pack(">HH", 2, 4 + len(tmpl)) + tmpl
    recs = b""
    for i in range(3):
        recs += struct.pack(">4s4sHHBQQQQ", socket.inet_aton("198.51.100.%d" % odid),
                            socket.inet_aton("203.0.113.9"), 1000 * odid + i, 443, 6,
                            100 * odid + i, 2, (now - 5) * 1000, (now - 4) * 1000)
    dset = struct.pack(">HH", 256, 4 + len(recs)) + recs
    body = tset + dset
    msg = struct.pack(">HHIII", 10, 16 + len(body), now, 0, odid) + body
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.sendto(msg, ("127.0.0.1", port))
    s.close()
EOF
wait "$PID" || fail "collector exit status: $(cat "$T/col.err")"
PID=

"$IPX" "$T/two.ipfix" >"$T/ipfix.jsonl" 2>"$T/ipfix.err" || fail "flowkit-ipfix: $(cat "$T/ipfix.err")"
"$PY" - "$T/orig.jsonl" "$T/ipfix.jsonl" <<'EOF' || fail "odid / exporter differ"
import json, sys
def load(p):
    rows = [json.loads(l) for l in open(p) if l.strip()]
    return sorted((r["src_port"], r["exporter"], r["odid"], r["bytes"]) for r in rows)
want = load(sys.argv[1])
expect = sorted((1000 * o + i, a, o, 100 * o + i) for a, o in (("127.0.0.2", 11), ("127.0.0.3", 22))
                for i in range(3))
if want != expect:
    print("collector JSON:", want)
    sys.exit(1)
got = load(sys.argv[2])
if got != want:
    print("flowkit-ipfix:", got, "\ncollector:    ", want)
    sys.exit(1)
EOF
# --fields still shows every element, the header's domain 0 included nowhere
# as odid: the records carry observationDomainId by name.
"$IPX" --fields "$T/two.ipfix" 2>/dev/null | grep -c '"observationDomainId":22' | grep -qx 3 ||
    fail "--fields: observationDomainId"
echo ok
