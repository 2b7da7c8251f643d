#!/bin/bash
# NetFlow v1, v5 and v7 datagrams with pseudo-random field values (fixed seed;
# including First/Last on both sides of a 32-bit sysUptime wrap and unix_nsecs)
# are written to a pcap, decoded by flowkit-ipfix and by tshark's cflow
# dissector, and every record compared (addresses, ports, protocol, bytes,
# packets, start/end). An independent check of the three fixed layouts.
# Skips (77) when tshark or Debian's python3 is missing.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOOL="${FLOWKIT_BUILD_DIR:-}/cli/flowkit-ipfix/flowkit-ipfix"
PY=/usr/bin/python3
for t in tshark "$PY"; do
    command -v "$t" >/dev/null || {
        echo "SKIP: $t is not installed"
        exit 77
    }
done
[ -x "$TOOL" ] || {
    echo "FAIL: $TOOL not built"
    exit 1
}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fk-nffixed.$$.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$PY" - "$WORK/fixed.pcap" <<'EOF' || exit 1
import random, struct, sys
rnd = random.Random(20261123)
def rec(version, uptime):
    src, dst, nh = (bytes(rnd.randrange(1, 224) for _ in range(4)) for _ in range(3))
    # First/Last up to 2^31 ms before the export, so some cross the wrap
    first = (uptime - rnd.randrange(0, 1 << 20)) % (1 << 32)
    last = (first + rnd.randrange(0, 1 << 16)) % (1 << 32)
    common = struct.pack('>4s4s4sHHIIIIHH', src, dst, nh, rnd.randrange(1 << 16),
                         rnd.randrange(1 << 16), rnd.randrange(1, 1 << 32), rnd.randrange(1 << 32),
                         first, last, rnd.randrange(1 << 16), rnd.randrange(1 << 16))
    proto, tos, flags = rnd.choice([6, 17, 47, 50]), rnd.randrange(256), rnd.randrange(64)
    if version == 1:
        return common + struct.pack('>HBBBBHI', 0, proto, tos, flags, 0, 0, 0)
    if version == 5:
        return common + struct.pack('>BBBBHHBBH', 0, flags, proto, tos, rnd.randrange(1 << 16),
                                    rnd.randrange(1 << 16), rnd.randrange(33), rnd.randrange(33), 0)
    return common + struct.pack('>BBBBHHBBH4s', 0, flags, proto, tos, rnd.randrange(1 << 16),
                                rnd.randrange(1 << 16), rnd.randrange(33), rnd.randrange(33), 0, nh)
def datagram(version, count, uptime, seq):
    secs, nsecs = 1700000000 + seq, rnd.randrange(1000000000)
    if version == 1:
        h = struct.pack('>HHIII', 1, count, uptime, secs, nsecs)
    elif version == 5:
        h = struct.pack('>HHIIIIBBH', 5, count, uptime, secs, nsecs, seq, 1, 2, 0)
    else:
        h = struct.pack('>HHIIIII', 7, count, uptime, secs, nsecs, seq, 0)
    return h + b''.join(rec(version, uptime) for _ in range(count))
dgrams = []
for i, (v, n) in enumerate([(1, 24), (5, 30), (7, 28), (1, 3), (5, 7), (7, 5)]):
    uptime = rnd.randrange(1 << 32) if i < 3 else rnd.randrange(1 << 19)  # small: wrapped
    dgrams.append(datagram(v, n, uptime, i))
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, d in enumerate(dgrams):
        udp = struct.pack('>HHHH', 3000, 2055, 8 + len(d), 0) + d
        ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                         bytes([127, 0, 0, 2]), bytes([127, 0, 0, 1])) + udp
        fr = b'\0' * 12 + b'\x08\x00' + ip
        f.write(struct.pack('<IIII', 1700000000 + i, 0, len(fr), len(fr)) + fr)
EOF

"$TOOL" "$WORK/fixed.pcap" >"$WORK/ours.jsonl" 2>"$WORK/err" || {
    echo "FAIL: flowkit-ipfix: $(cat "$WORK/err")"
    exit 1
}
grep -q 'datagrams=6 flows=97 .* malformed=0 ' "$WORK/err" || {
    echo "FAIL: counters: $(cat "$WORK/err")"
    exit 1
}
tshark -r "$WORK/fixed.pcap" -d udp.port==2055,cflow -T json --no-duplicate-keys \
    >"$WORK/tshark.json" 2>/dev/null
if out=$("$PY" "$HERE/cflow_compare.py" "$WORK/ours.jsonl" "$WORK/tshark.json"); then
    echo "v1/v5/v7 flowkit vs tshark: $out"
else
    echo "FAIL: flowkit vs tshark:"
    echo "$out" | sed 's/^/    /'
    exit 1
fi
# TCP flags are not in the comparison above: check them against tshark too.
"$PY" - "$WORK/ours.jsonl" "$WORK/fixed.pcap" <<'EOF' || exit 1
import json, subprocess, sys
ours = [(o["tcp_flags"]) for o in map(json.loads, open(sys.argv[1])) if o["type"] == "flow"]
out = subprocess.run(["tshark", "-r", sys.argv[2], "-d", "udp.port==2055,cflow", "-T", "fields",
                      "-E", "occurrence=a", "-E", "aggregator=,", "-e", "cflow.tcpflags"],
                     capture_output=True, text=True, check=True).stdout
theirs = [int(x, 16) for line in out.split() for x in line.split(",") if x]
if ours != theirs:
    print("FAIL: tcp_flags differ:", ours[:10], theirs[:10])
    sys.exit(1)
print(f"tcp_flags equal for {len(ours)} records")
EOF
