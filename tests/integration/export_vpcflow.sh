#!/bin/bash
# flowkit-export --stdout --format vpcflow / flowlog on a live capture,
# field by field against the traffic the test sends (docs/flowlog.md):
#  - two netns A and B joined by a veth, a kernel vxlan device (VNI 4242)
#    in each; the capture runs in A on "any" (so it knows each flow's
#    direction) with decode_tunnels=1;
#  - B pings A over the vxlan (3 echoes of 84 IP bytes each way), sends 4
#    UDP datagrams of 128 IP bytes over it, sends 3 plain UDP datagrams of
#    78 bytes to A, which answers each with 48 bytes, and opens one TCP
#    connection to A (1000 bytes, closed by FIN from both sides).
# Expected: the inner flows with tunnel-type vxlan, the outer addresses and
# the VNI, one line per direction, ingress for B's first packets and egress
# for A's replies, SYN|FIN (3) for the TCP initiator and SYN-ACK|FIN (19)
# for the responder, the tags in their columns.
# The same flows go as IPFIX (flowDirection, the tunnel elements and
# layer2SegmentId, docs/exporter-elements.md) from a third flowkit-export to
# flowkit-collect on A's loopback, which writes them as vpcflow and JSON
# lines: the same fields come back (uniflow records, so the responder's
# tcp-flags lack the ACK of SYN-ACK). tshark, where installed, must read
# the direction and the VXLAN segment id of the records on the wire. The
# collector also writes -o ipfix:FILE: flowkit-ipfix reads the same
# direction, tunnel, outer addresses and VNI back from it (issue #16).
. "$FLOWKIT_SOURCE_DIR/scripts/netns.sh"
fk_netns_require_root
set -uo pipefail
PY=/usr/bin/python3
EXP="$FLOWKIT_BUILD_DIR/cli/flowkit-export/flowkit-export"
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
WORK=$(mktemp -d /tmp/fk_vpcflow_it.XXXXXX)
fk_netns_on_exit "rm -rf '$WORK'"

N=$(fk_netns_free_subnet) || fail "no free subnet number"
A=fkva$$
B=fkvb$$
fk_netns_add_vxlan_pair "$A" "$B" "$N" # sets OA OB (outer) IA IB (inner)
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "cannot create the two netns and their vxlan"

TAGS=(--tag account-id=123456789012,vpc-id=vpc-0abc,subnet-id=subnet-0def,instance-id=i-0123
      --tag region=eu-west-1,az-id=euw1-az2,availability-zone=eu-west-1b,interface-id=eni-0aa)
FILTER="udp port 4789 or udp port 9999 or tcp port 9998"
PIDS=()
# The IPFIX path: tshark (if installed) on A's loopback, the collector, and
# an exporter beside the two --stdout ones.
COL="$FLOWKIT_BUILD_DIR/cli/flowkit-collect/flowkit-collect"
IPORT=47390
if command -v tshark >/dev/null; then
    ip netns exec "$A" tshark -i lo -f "udp port $IPORT" -w "$WORK/ipfix.pcap" >"$WORK/tshark.err" 2>&1 &
    TSH=$!
    fk_netns_on_exit "kill -9 $TSH"
    for _ in $(seq 100); do grep -q 'Capturing on' "$WORK/tshark.err" && break; sleep 0.1; done
else
    echo "SKIP (tshark part): tshark is not installed" >&2
    TSH=
fi
ip netns exec "$A" "$COL" -l "udp://127.0.0.1:$IPORT" -o "vpcflow:$WORK/collect.out" \
    -o "jsonl:$WORK/collect.jsonl" -o "ipfix:$WORK/collect.ipfix" "${TAGS[@]}" --stats 1 \
    2>"$WORK/collect.err" &
CPID=$!
fk_netns_on_exit "kill -9 $CPID"
for _ in $(seq 100); do grep -q 'listening on' "$WORK/collect.err" && break; sleep 0.1; done
grep -q 'listening on' "$WORK/collect.err" || fail "collector did not start: $(cat "$WORK/collect.err")"
ip netns exec "$A" "$EXP" -i any -f "$FILTER" --set capture.decode_tunnels=1 --attribution off \
    --flows -c "udp://127.0.0.1:$IPORT" --stats 2>"$WORK/ipfix.err" &
XPID=$!
fk_netns_on_exit "kill -9 $XPID"
for fmt in vpcflow flowlog; do
    ip netns exec "$A" "$EXP" -i any -f "$FILTER" --set capture.decode_tunnels=1 \
        --attribution off --flows --stdout --format $fmt "${TAGS[@]}" \
        >"$WORK/$fmt.out" 2>"$WORK/$fmt.err" &
    PIDS+=($!)
    fk_netns_on_exit "kill -9 $!"
done
for fmt in vpcflow flowlog ipfix; do
    for _ in $(seq 100); do
        grep -q 'attribution' "$WORK/$fmt.err" && break
        sleep 0.1
    done
    grep -q 'attribution' "$WORK/$fmt.err" || fail "$fmt capture did not start: $(cat "$WORK/$fmt.err")"
done

# A's servers: UDP echo of 3 datagrams (20-byte answers), one TCP connection.
ip netns exec "$A" $PY - "$OA" >"$WORK/servers.out" 2>&1 <<'PY' &
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((sys.argv[1], 9999))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((sys.argv[1], 9998))
t.listen(1)
print("ready", flush=True)
u.settimeout(10)
t.settimeout(10)
for _ in range(3):
    data, peer = u.recvfrom(2048)
    u.sendto(b"r" * 20, peer)
c, _ = t.accept()
c.settimeout(10)
got = 0
while True:
    b = c.recv(4096)
    if not b:
        break
    got += len(b)
c.close()
print("tcp", got, flush=True)
PY
SRV=$!
fk_netns_on_exit "kill -9 $SRV"
for _ in $(seq 50); do grep -q ready "$WORK/servers.out" && break; sleep 0.1; done
grep -q ready "$WORK/servers.out" || fail "servers in A did not start"

T0=$(date +%s)
ip netns exec "$B" $PY - "$IA" "$OA" <<'PY' || fail "traffic from B"
import os, socket, struct, sys, time
inner, outer = sys.argv[1], sys.argv[2]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF
# 3 ICMP echoes of 56 data bytes over the vxlan, each answered first.
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(3)
ident = os.getpid() & 0xFFFF
for seq in range(1, 4):
    payload = bytes(range(56))
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + payload, (inner, 0))
    while True:
        data, _ = s.recvfrom(2048)
        ihl = (data[0] & 15) * 4
        if data[ihl] == 0 and struct.unpack("!HH", data[ihl + 4:ihl + 8]) == (ident, seq):
            break
# 4 datagrams of 100 bytes over the vxlan (nobody listens: A's unreachables
# are other flows).
v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
v.bind(("0.0.0.0", 40001))
for _ in range(4):
    v.sendto(b"u" * 100, (inner, 7777))
# 3 plain datagrams of 50 bytes, each answered with 20.
p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
p.bind(("0.0.0.0", 40002))
p.settimeout(3)
for _ in range(3):
    p.sendto(b"p" * 50, (outer, 9999))
    p.recvfrom(100)
# One TCP connection: 1000 bytes, then FIN; wait for the server's FIN.
c = socket.create_connection((outer, 9998), timeout=5)
c.sendall(b"t" * 1000)
c.shutdown(socket.SHUT_WR)
while c.recv(100):
    pass
c.close()
time.sleep(0.3)
PY
wait "$SRV" || fail "servers in A: $(cat "$WORK/servers.out")"
grep -q 'tcp 1000' "$WORK/servers.out" || fail "TCP server got: $(cat "$WORK/servers.out")"
T1=$(($(date +%s) + 1))
for p in "${PIDS[@]}" "$XPID"; do kill -TERM "$p"; done
for p in "${PIDS[@]}" "$XPID"; do wait "$p" || fail "flowkit-export exit $?"; done
sent=$(grep -o 'records_sent=[0-9]*' "$WORK/ipfix.err" | tail -1 | cut -d= -f2)
[ -n "$sent" ] && [ "$sent" -gt 0 ] || fail "no IPFIX records sent: $(cat "$WORK/ipfix.err")"
for _ in $(seq 100); do # the stats line every second says when all arrived
    grep -q " records=$sent " "$WORK/collect.err" && break
    sleep 0.1
done
kill -TERM "$CPID"
wait "$CPID" || fail "flowkit-collect exit $?"
"$FLOWKIT_BUILD_DIR/cli/flowkit-ipfix/flowkit-ipfix" --flows-only "$WORK/collect.ipfix" \
    >"$WORK/file.jsonl" 2>"$WORK/file.err" || fail "flowkit-ipfix: $(tail -3 "$WORK/file.err")"
if [ -n "$TSH" ]; then
    sleep 0.3
    kill -TERM "$TSH"
    wait "$TSH"
fi

"$PY" - "$WORK" "$T0" "$T1" "$OA" "$OB" "$IA" "$IB" <<'PYEOF' || fail "lines differ from the traffic sent"
import json, sys
work, t0, t1, OA, OB, IA, IB = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
ok = True
def bad(msg):
    global ok
    ok = False
    print("FAIL:", msg)

def load(name):
    lines = open(work + "/" + name).read().splitlines()
    head = lines[0].split(" ")
    if any(len(l.split(" ")) != len(head) for l in lines[1:]):
        bad("%s: a line with another number of fields than the header" % name)
    return head, [dict(zip(head, l.split(" "))) for l in lines[1:]]
TAGS = {"account-id": "123456789012", "vpc-id": "vpc-0abc", "subnet-id": "subnet-0def",
        "instance-id": "i-0123", "region": "eu-west-1", "az-id": "euw1-az2",
        "interface-id": "eni-0aa"}
COMMON = dict(TAGS, **{"version": "5", "action": "-", "log-status": "OK", "type": "IPv4",
                       "sublocation-type": "-", "sublocation-id": "-", "pkt-src-aws-service": "-",
                       "pkt-dst-aws-service": "-", "traffic-path": "-"})
VX = {"tunnel-type": "vxlan", "vni": "4242"}
PLAIN = {"tunnel-type": "-", "outer-srcaddr": "-", "outer-dstaddr": "-", "vni": "-"}
want = [
    ("icmp echo over vxlan", dict(VX, srcaddr=IB, dstaddr=IA, srcport="0", dstport="2048",
        protocol="1", packets="3", bytes="252", **{"tcp-flags": "-", "flow-direction": "ingress",
        "outer-srcaddr": OB, "outer-dstaddr": OA})),
    ("icmp reply over vxlan", dict(VX, srcaddr=IA, dstaddr=IB, srcport="0", dstport="0",
        protocol="1", packets="3", bytes="252", **{"tcp-flags": "-", "flow-direction": "egress",
        "outer-srcaddr": OA, "outer-dstaddr": OB})),
    ("udp over vxlan", dict(VX, srcaddr=IB, dstaddr=IA, srcport="40001", dstport="7777",
        protocol="17", packets="4", bytes="512", **{"tcp-flags": "-", "flow-direction": "ingress",
        "outer-srcaddr": OB, "outer-dstaddr": OA})),
    ("plain udp", dict(PLAIN, srcaddr=OB, dstaddr=OA, srcport="40002", dstport="9999",
        protocol="17", packets="3", bytes="234", **{"tcp-flags": "-", "flow-direction": "ingress"})),
    ("plain udp reply", dict(PLAIN, srcaddr=OA, dstaddr=OB, srcport="9999", dstport="40002",
        protocol="17", packets="3", bytes="144", **{"tcp-flags": "-", "flow-direction": "egress"})),
    ("tcp initiator", dict(PLAIN, srcaddr=OB, dstaddr=OA, dstport="9998", protocol="6",
        **{"tcp-flags": "3", "flow-direction": "ingress"})),
    ("tcp responder", dict(PLAIN, srcaddr=OA, dstaddr=OB, srcport="9998", protocol="6",
        **{"tcp-flags": "19", "flow-direction": "egress"})),
]
def check(source, rows, head, uniflow):
    for name, w in want:
        w = dict(COMMON, **w)
        if uniflow and name == "tcp responder":
            w["tcp-flags"] = "3"  # a uniflow record cannot say it is the responder
        hits = [r for r in rows if all(r.get(k) == v for k, v in w.items())]
        if len(hits) != 1:
            near = [r for r in rows if r["srcaddr"] == w["srcaddr"] and r["protocol"] == w["protocol"]]
            bad("%s %s: %d lines match %s; lines from %s: %s" % (source, name, len(hits), w, w["srcaddr"], near))
            continue
        r = hits[0]
        if not (t0 <= int(r["start"]) <= int(r["end"]) <= t1):
            bad("%s %s: start %s end %s outside [%d, %d]" % (source, name, r["start"], r["end"], t0, t1))
        if r["pkt-srcaddr"] != r["srcaddr"] or r["pkt-dstaddr"] != r["dstaddr"]:
            bad("%s %s: pkt-srcaddr/pkt-dstaddr differ from srcaddr/dstaddr" % (source, name))
        print("%s %-22s ok: %s" % (source, name, " ".join(r[k] for k in head)))
    tcp = [r for r in rows if r["protocol"] == "6"]
    if len(tcp) == 2 and not int(tcp[0]["bytes"]) + int(tcp[1]["bytes"]) > 1000:
        bad("%s: tcp bytes %s" % (source, [r["bytes"] for r in tcp]))
    for r in rows:
        if r["tunnel-type"] == "vxlan" and (r["vni"] != "4242" or {r["outer-srcaddr"], r["outer-dstaddr"]} != {OA, OB}):
            bad("%s: vxlan line with other outer fields: %s" % (source, r))

head, rows = load("vpcflow.out")
check("export --stdout", rows, head, False)
head, rows = load("collect.out")
check("IPFIX -> collect", rows, head, True)
# The collector's JSON lines: the keys of the contract.
recs = [json.loads(l) for l in open(work + "/collect.jsonl")]
echo = [r for r in recs if r.get("proto") == 1 and r["src_addr"] == IB and r.get("dst_port") == 2048]
if len(echo) != 1 or echo[0].get("tunnel") != "vxlan" or echo[0].get("vni") != 4242 or \
        echo[0].get("outer_src_addr") != OB or echo[0].get("outer_dst_addr") != OA or \
        echo[0].get("direction") != "ingress" or echo[0].get("packets") != 3:
    bad("collector JSON of the echo over vxlan: %s" % echo)
else:
    print("collect JSON: %s" % json.dumps(echo[0]))

# The collector's ipfix: file, read back by flowkit-ipfix: the same records
# with the same direction and tunnel keys.
KEYS = ("src_addr", "dst_addr", "src_port", "dst_port", "proto", "bytes", "packets", "tunnel",
        "outer_src_addr", "outer_dst_addr", "vni", "direction")
filerecs = [json.loads(l) for l in open(work + "/file.jsonl")]
def key(r):
    return tuple(r.get(k) for k in KEYS)
if sorted(map(key, filerecs), key=str) != sorted(map(key, [r for r in recs if r.get("type") == "flow"]), key=str):
    bad("ipfix: file and JSON lines differ: %s vs %s" % (sorted(map(key, filerecs), key=str), sorted(map(key, recs), key=str)))
else:
    tun = [r for r in filerecs if r.get("tunnel") == "vxlan" and r.get("vni") == 4242 and r.get("direction")]
    print("ipfix: file: %d records as the JSON lines, %d of them vxlan with VNI, outer addresses and direction"
          % (len(filerecs), len(tun)))
    if len(tun) < 3:
        bad("ipfix: file: %d vxlan records with direction" % len(tun))

# flowlog: FFFA's keys, outer addresses in src/dst for the tunnelled flows.
fl = [dict(kv.split("=", 1) for kv in l.split(" ")[1:]) for l in open(work + "/flowlog.out").read().splitlines()]
FLC = {"version": "2", "account": "123456789012", "vpc": "vpc-0abc", "subnet": "subnet-0def",
       "instance": "i-0123", "az": "eu-west-1b", "region": "eu-west-1", "tag.az-id": "euw1-az2",
       "tag.interface-id": "eni-0aa"}
fwant = [
    ("icmp echo over vxlan", {"proto": "PROTO_1", "src": OB + ":0", "dst": OA + ":2048", "pkt-src": IB,
        "pkt-dst": IA, "direction": "0", "encapsulated": "true", "packets": "3", "bytes": "252",
        "tcp-flags": "-", "tunnel": "vxlan", "vni": "4242"}),
    ("icmp reply over vxlan", {"proto": "PROTO_1", "src": OA + ":0", "dst": OB + ":0", "pkt-src": IA,
        "pkt-dst": IB, "direction": "1", "encapsulated": "true", "packets": "3", "bytes": "252"}),
    ("udp over vxlan", {"proto": "UDP", "src": OB + ":40001", "dst": OA + ":7777", "pkt-src": IB,
        "pkt-dst": IA, "direction": "0", "encapsulated": "true", "packets": "4", "bytes": "512"}),
    ("plain udp", {"proto": "UDP", "src": OB + ":40002", "dst": OA + ":9999", "pkt-src": OB,
        "pkt-dst": OA, "direction": "0", "encapsulated": "false", "packets": "3", "bytes": "234",
        "tunnel": "-", "vni": "-"}),
    ("plain udp reply", {"proto": "UDP", "src": OA + ":9999", "dst": OB + ":40002", "direction": "1",
        "packets": "3", "bytes": "144"}),
    ("tcp initiator", {"proto": "TCP", "pkt-src": OB, "dst": OA + ":9998", "direction": "0"}),
    ("tcp responder", {"proto": "TCP", "src": OA + ":9998", "pkt-dst": OB, "direction": "1"}),
]
for name, w in fwant:
    w = dict(FLC, **w)
    hits = [r for r in fl if all(r.get(k) == v for k, v in w.items())]
    if len(hits) != 1:
        bad("flowlog %s: %d lines match %s" % (name, len(hits), w))
    else:
        print("flowlog %-22s ok" % name)
sys.exit(0 if ok else 1)
PYEOF
if [ -n "$TSH" ]; then
    tshark -r "$WORK/ipfix.pcap" -d "udp.port==$IPORT,cflow" -V >"$WORK/tshark.txt" 2>&1 ||
        fail "tshark cannot read the capture: $(tail -3 "$WORK/tshark.txt")"
    "$PY" - "$WORK/tshark.txt" "$OA" "$OB" "$IA" "$IB" <<'PYEOF' || fail "tshark disagrees"
import re, sys
text, OA, OB, IA, IB = open(sys.argv[1]).read(), *sys.argv[2:]
flows, cur = [], None
for line in text.splitlines():
    if re.match(r"^\s+Flow \d+\s*$", line):
        cur = {}
        flows.append(cur)
    elif cur is not None and ":" in line and line.startswith("            "):
        k, v = line.strip().split(":", 1)
        cur.setdefault(k.strip(), v.strip())
seg = str((1 << 56) | 4242)
want = [("echo over vxlan", IB, IA, "Ingress", seg), ("reply over vxlan", IA, IB, "Egress", seg),
        ("plain udp", OB, OA, "Ingress", None), ("plain udp reply", OA, OB, "Egress", None)]
ok = True
for name, s, d, direction, l2 in want:
    hits = [f for f in flows if f.get("SrcAddr") == s and f.get("DstAddr") == d and
            f.get("Direction", "").startswith(direction) and f.get("Layer2 Segment Id") == l2]
    print("tshark %-17s %s" % (name, "ok" if hits else "MISSING"))
    ok = ok and bool(hits)
if not ok:
    print("flows tshark decoded:", [{k: f.get(k) for k in ("SrcAddr", "DstAddr", "Direction", "Layer2 Segment Id")} for f in flows])
sys.exit(0 if ok else 1)
PYEOF
fi
echo PASS
