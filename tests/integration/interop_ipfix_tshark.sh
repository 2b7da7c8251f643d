#!/bin/bash
# Interop: IPFIX messages written by flowkit's encoder (examples/ipfix_gen:
# IPv4 and IPv6 templates, reduced-size counters, RFC 5103 reverse counters,
# an enterprise varlen string, an options template) are written as a pcap of
# UDP datagrams to 127.0.0.1 and decoded by tshark's cflow dissector; every
# field of every data record must equal the generator's ground truth, and the
# message headers must carry the right sequence numbers. flowkit's own
# decoder (examples/ipfix_dump) is held to the same ground truth.
set -euo pipefail
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }
WORK=$(mktemp -d /tmp/flowkit-ipfix-tshark.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
. "$(dirname "$0")/ipfix_interop_lib.bash"
ipfix_build_tools
PORT=4739
N=500
"$WORK/ipfix_gen" pcap "$WORK/x.pcap" $PORT $N >"$WORK/truth.jsonl"
"$WORK/ipfix_dump" --pen 32473:1:processName:string "$WORK/x.pcap" >"$WORK/flowkit.jsonl"
timeout 120 tshark -n -r "$WORK/x.pcap" -d udp.port==$PORT,cflow -T json >"$WORK/tshark.json" 2>"$WORK/tshark.err" || {
    cat "$WORK/tshark.err"
    exit 1
}
/usr/bin/python3 - "$WORK" <<'PY'
import datetime, json, sys
work = sys.argv[1]
truth = [json.loads(l) for l in open(work + "/truth.jsonl")]

def pairs(kv):
    # tshark repeats keys (forward and reverse octets): keep every value
    d = {}
    for k, v in kv:
        d.setdefault(k, []).append(v)
    return d

def one(d, k, i=0):
    return d[k][i]

def ts(s):  # "Nov 14, 2023 22:13:20.500000000 UTC" -> epoch ms
    s = s.replace(" UTC", "")
    main, frac = s.rsplit(".", 1)
    t = datetime.datetime.strptime(main, "%b %d, %Y %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000 + int(frac[:3])

pkts = json.load(open(work + "/tshark.json"), object_pairs_hook=pairs)
got, seqs, nrec_before = [], [], 0
for p in pkts:
    cf = one(one(one(p, "_source"), "layers"), "cflow")
    assert one(cf, "cflow.version") == "10"
    assert one(cf, "cflow.od_id") == "4242", one(cf, "cflow.od_id")
    assert int(one(cf, "cflow.sequence")) == nrec_before, (one(cf, "cflow.sequence"), nrec_before)
    for key, sets in cf.items():
        if not key.startswith("Set "):
            continue
        s = sets[0]
        sid = int(one(s, "cflow.flowset_id"))
        if sid < 256:
            continue
        for fk, flows in s.items():
            if not fk.startswith("Flow "):
                continue
            for f in flows:
                nrec_before += 1
                if sid == 258:
                    continue  # options record
                r = {"template_id": sid}
                if sid == 256:
                    r["sourceIPv4Address"] = one(f, "cflow.srcaddr")
                    r["destinationIPv4Address"] = one(f, "cflow.dstaddr")
                    r["tcpControlBits"] = int(one(f, "cflow.tcpflags"), 16)
                    r["ingressInterface"] = int(one(f, "cflow.inputint"))
                    r["egressInterface"] = int(one(f, "cflow.outputint"))
                    r["flowEndReason"] = int(one(f, "cflow.flow_end_reason"))
                    r["reverseOctetDeltaCount"] = int(one(f, "cflow.octets", 1))
                    r["reversePacketDeltaCount"] = int(one(f, "cflow.packets", 1))
                    r["processName"] = bytes.fromhex(one(f, "cflow.enterprise_private_entry").replace(":", "")).decode()
                    tree = one(f, "cflow.timedelta_tree")
                    r["flowStartMilliseconds"] = ts(one(tree, "cflow.abstimestart"))
                    r["flowEndMilliseconds"] = ts(one(tree, "cflow.abstimeend"))
                else:
                    r["sourceIPv6Address"] = one(f, "cflow.srcaddrv6")
                    r["destinationIPv6Address"] = one(f, "cflow.dstaddrv6")
                    r["applicationName"] = one(f, "cflow.appl_name")
                    tree = one(f, "cflow.timedelta_tree")
                    r["flowStartSeconds"] = ts(one(tree, "cflow.abstimestart")) // 1000
                    r["flowEndSeconds"] = ts(one(tree, "cflow.abstimeend")) // 1000
                r["sourceTransportPort"] = int(one(f, "cflow.srcport"))
                r["destinationTransportPort"] = int(one(f, "cflow.dstport"))
                r["protocolIdentifier"] = int(one(f, "cflow.protocol"))
                r["octetDeltaCount"] = int(one(f, "cflow.octets"))
                r["packetDeltaCount"] = int(one(f, "cflow.packets"))
                got.append(r)
assert len(got) == len(truth), ("tshark records", len(got), "truth", len(truth))
for i, (g, t) in enumerate(zip(got, truth)):
    if g != t:
        sys.exit("record %d differs:\n tshark %s\n truth  %s" % (i, g, t))
print("tshark: %d records, %d packets, every field equal" % (len(got), len(pkts)))

# flowkit's own decoder against the same truth
fk = [json.loads(l) for l in open(work + "/flowkit.jsonl")]
fk = [r for r in fk if r["template_id"] != 258]
assert len(fk) == len(truth), (len(fk), len(truth))
def ms(s):
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(round(t.timestamp() * 1000))
def sec(s):
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp())
for i, (r, t) in enumerate(zip(fk, truth)):
    r = dict(r)
    del r["domain"]
    for k in ("flowStartMilliseconds", "flowEndMilliseconds"):
        if k in r:
            r[k] = ms(r[k])
    for k in ("flowStartSeconds", "flowEndSeconds"):
        if k in r:
            r[k] = sec(r[k])
    if r != t:
        sys.exit("flowkit record %d differs:\n flowkit %s\n truth   %s" % (i, r, t))
print("flowkit: %d records, every field equal" % len(fk))
PY
