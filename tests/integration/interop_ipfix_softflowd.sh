#!/bin/bash
# Interop: softflowd (a real exporter) reads a generated pcap with known flows
# and exports IPFIX (-v 10, -A milli; plain and RFC 5103 biflow -b) to a UDP
# listener on 127.0.0.1 that saves the datagrams as a pcap. The same export is
# decoded by tshark and by flowkit (examples/ipfix_dump --flows); every flow
# must agree field by field (addresses, ports, protocol, octets, packets,
# start, end), and the packet counts must match the generated traffic.
set -euo pipefail
command -v softflowd >/dev/null || { echo "SKIP: softflowd not installed"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }
WORK=$(mktemp -d /tmp/flowkit-ipfix-softflowd.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
. "$(dirname "$0")/ipfix_interop_lib.bash"
ipfix_build_tools

# Traffic with known ground truth: TCP and UDP over IPv4 and IPv6.
/usr/bin/python3 - "$WORK/in.pcap" "$WORK/truth.json" <<'PY'
import json, struct, sys
out, truth_path = sys.argv[1], sys.argv[2]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload
def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64, bytes(src), bytes(dst)) + payload
def tcp(sp, dp, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sp, dp, 1, 0, 5 << 4, flags, 65535, 0, 0) + data
def udp(sp, dp, data):
    return struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data
a4, b4, c4 = [10, 213, 0, 1], [10, 213, 0, 2], [10, 213, 0, 3]
a6 = [0xfd, 0, 2, 0x13] + [0] * 11 + [1]
b6 = [0xfd, 0, 2, 0x13] + [0] * 11 + [2]
t0 = 1700000000.0
pkts = []  # (time, ethertype, ip packet, flow key)
def add(t, l3, v6, key):
    pkts.append((t0 + t, 0x86dd if v6 else 0x0800, l3, key))
SYN, ACK, PSH, FIN = 2, 16, 8, 1
for i, (fl, d) in enumerate([(SYN, b""), (ACK, b""), (PSH | ACK, b"x" * 100), (FIN | ACK, b"")]):
    add(0.1 * i, ip4(a4, b4, 6, tcp(40000, 80, fl, d)), 0, ("10.213.0.1", "10.213.0.2", 40000, 80, 6))
for i, (fl, d) in enumerate([(SYN | ACK, b""), (PSH | ACK, b"y" * 1000), (FIN | ACK, b"")]):
    add(0.05 + 0.1 * i, ip4(b4, a4, 6, tcp(80, 40000, fl, d)), 0, ("10.213.0.2", "10.213.0.1", 80, 40000, 6))
for i in range(5):
    add(0.5 + 0.2 * i, ip4(a4, c4, 17, udp(5353, 53, b"q" * (20 + i))), 0, ("10.213.0.1", "10.213.0.3", 5353, 53, 17))
for i in range(3):
    add(1.0 + 0.3 * i, ip6(a6, b6, 17, udp(7000, 7001, b"z" * 64)), 1, ("fd00:213::1", "fd00:213::2", 7000, 7001, 17))
pkts.sort(key=lambda p: p[0])
truth = {}
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for t, et, l3, key in pkts:
        frame = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + struct.pack("!H", et) + l3
        sec = int(t); usec = int(round((t - sec) * 1e6))
        f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
        k = "%s %s %d %d %d" % key
        truth[k] = truth.get(k, 0) + 1
json.dump(truth, open(truth_path, "w"))
PY

# UDP listener on loopback saving datagrams as a pcap (raw IPv4 frames).
listen() { # PORT OUT READYFILE
    /usr/bin/python3 - "$@" <<'PY' &
import socket, struct, sys, time
port, out, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
s.settimeout(0.5)
open(ready, "w").close()
f = open(out, "wb")
f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
end = time.time() + 30
idle = 0
while time.time() < end and idle < 6:
    try:
        data, peer = s.recvfrom(65535)
    except socket.timeout:
        idle += 1
        continue
    idle = 0
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(data), 0, 0, 64, 17, 0,
                     socket.inet_aton(peer[0]), socket.inet_aton("127.0.0.1"))
    udp = struct.pack("!HHHH", peer[1], port, 8 + len(data), 0)
    pkt = ip + udp + data
    now = time.time()
    f.write(struct.pack("<IIII", int(now), int((now % 1) * 1e6), len(pkt), len(pkt)) + pkt)
    f.flush()
f.close()
PY
    PIDS+=($!)
}

run_case() { # NAME EXTRA_SOFTFLOWD_ARGS...
    local name=$1
    shift
    local port=$((20000 + ($$ + ${#name} * 7) % 20000))
    rm -f "$WORK/ready"
    listen $port "$WORK/$name.pcap" "$WORK/ready"
    local lpid=${PIDS[-1]}
    for _ in $(seq 50); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
    timeout 60 softflowd -d -r "$WORK/in.pcap" -n 127.0.0.1:$port -v 10 -A milli "$@" >"$WORK/sf-$name.log" 2>&1 || true
    wait "$lpid" || true
    timeout 120 tshark -n -r "$WORK/$name.pcap" -d udp.port==$port,cflow -T json >"$WORK/$name.tshark.json" 2>/dev/null
    "$WORK/ipfix_dump" --flows "$WORK/$name.pcap" >"$WORK/$name.flowkit.jsonl"
    /usr/bin/python3 - "$WORK" "$name" <<'PY'
import datetime, json, sys
work, name = sys.argv[1], sys.argv[2]
truth = json.load(open(work + "/truth.json"))
def pairs(kv):
    d = {}
    for k, v in kv:
        d.setdefault(k, []).append(v)
    return d
def ms_ts(s):
    s = s.replace(" UTC", "")
    main, frac = s.rsplit(".", 1)
    t = datetime.datetime.strptime(main, "%b %d, %Y %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000 + int(frac[:3])
def iso_ms(s):
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(round(t.timestamp() * 1000))
ts = []
for p in json.load(open("%s/%s.tshark.json" % (work, name)), object_pairs_hook=pairs):
    cf = p["_source"][0]["layers"][0]["cflow"][0]
    for key, sets in cf.items():
        if not key.startswith("Set "):
            continue
        for fk, flows in sets[0].items():
            if not fk.startswith("Flow "):
                continue
            for f in flows:
                src = (f.get("cflow.srcaddr") or f.get("cflow.srcaddrv6"))
                if src is None:
                    continue  # options record
                dst = (f.get("cflow.dstaddr") or f.get("cflow.dstaddrv6"))[0]
                tree = f["cflow.timedelta_tree"][0]
                rec = {"src": src[0], "dst": dst, "sport": int(f["cflow.srcport"][0]),
                       "dport": int(f["cflow.dstport"][0]), "proto": int(f["cflow.protocol"][0]),
                       "bytes": int(f["cflow.octets"][0]), "packets": int(f["cflow.packets"][0]),
                       "start": ms_ts(tree["cflow.abstimestart"][0]),
                       "end": ms_ts(tree["cflow.abstimeend"][0])}
                if len(f.get("cflow.octets", [])) > 1:  # RFC 5103 reverse counters
                    rec["rev_bytes"] = int(f["cflow.octets"][1])
                    rec["rev_packets"] = int(f["cflow.packets"][1])
                ts.append(rec)
fk = []
for l in open("%s/%s.flowkit.jsonl" % (work, name)):
    r = json.loads(l)
    if r["src_addr"] == "":
        continue  # options record
    rec = {"src": r["src_addr"], "dst": r["dst_addr"], "sport": r["src_port"], "dport": r["dst_port"],
           "proto": r["proto"], "bytes": r["bytes"], "packets": r["packets"],
           "start": iso_ms(r["start"]), "end": iso_ms(r["end"])}
    if "rev_bytes" in r:
        rec["rev_bytes"] = r["rev_bytes"]
        rec["rev_packets"] = r["rev_packets"]
    fk.append(rec)
key = lambda r: (r["src"], r["dst"], r["sport"], r["dport"], r["proto"])
ts.sort(key=key)
fk.sort(key=key)
if not ts:
    sys.exit("%s: tshark saw no flows in the softflowd export" % name)
if ts != fk:
    sys.exit("%s: flowkit and tshark differ:\n tshark  %s\n flowkit %s" % (name, ts, fk))
# packet counts against the generated traffic (both directions)
seen = {}
for r in fk:
    seen["%s %s %d %d %d" % key(r)] = r["packets"]
    if r.get("rev_packets"):
        seen["%s %s %d %d %d" % (r["dst"], r["src"], r["dport"], r["sport"], r["proto"])] = r["rev_packets"]
if seen != truth:
    sys.exit("%s: packets per direction %s, generated %s" % (name, seen, truth))
print("%s: %d flows, flowkit == tshark on every field, packets == generated" % (name, len(fk)))
PY
}
run_case uniflow
run_case biflow -b
