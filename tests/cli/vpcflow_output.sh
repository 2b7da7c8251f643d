#!/bin/bash
# The VPC flow log and FFFA flowlog lines (docs/flowlog.md), field by field
# against the ground truth of a generated capture (fk_pcapgen):
#  - flowkit-export -r --stdout --format vpcflow / flowlog (biflows: one
#    line per direction, the reverse one with SYN-ACK as 18);
#  - flowkit-collect reading the same flows as IPFIX (uniflow records) and
#    writing -o vpcflow:FILE and -o flowlog:FILE;
#  - the static tags (--tag) in their columns, and in the JSON lines as a
#    "tags" object; bad tags and formats refused with exit 2.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
EXP=$FK_EXPORT
COL=$FK_COLLECT
need_exec "$FK_PCAPGEN" "$EXP" "$COL"
need_py
TAGS=(--tag account-id=123456789012,vpc-id=vpc-0abc --tag region=eu-west-1 --tag az-id=euw1-az2
      --tag availability-zone=eu-west-1b --tag instance-id=i-0123 --tag env=test)
"$FK_PCAPGEN" --seed 11 --flows 60 --packets 900 --v6 30 "$T/in.pcap" "$T/truth.jsonl" >/dev/null ||
    fail "pcapgen"

"$EXP" -r "$T/in.pcap" --flows --stdout --format vpcflow "${TAGS[@]}" >"$T/e.vpc" 2>"$T/e.err" ||
    fail "export vpcflow: $(cat "$T/e.err")"
"$EXP" -r "$T/in.pcap" --flows --stdout --format flowlog "${TAGS[@]}" >"$T/e.fl" 2>"$T/e.err" ||
    fail "export flowlog: $(cat "$T/e.err")"
"$EXP" -r "$T/in.pcap" --stdout "${TAGS[@]}" >"$T/e.jsonl" 2>"$T/e.err" ||
    fail "export json: $(cat "$T/e.err")"

"$COL" -l udp://127.0.0.1:0 -o "vpcflow:$T/c.vpc" -o "flowlog:$T/c.fl" -o "jsonl:$T/c.jsonl" \
    "${TAGS[@]}" --stats 1 2>"$T/c.err" &
PID=$!
P=$(listen_port "$T/c.err" udp) || fail "collector did not start"
"$EXP" -r "$T/in.pcap" --flows -c "udp://127.0.0.1:$P" --stats 2>"$T/x.err" ||
    fail "export to the collector: $(tail -2 "$T/x.err")"
want=$(grep -o 'records_sent=[0-9]*' "$T/x.err" | tail -1 | cut -d= -f2)
for _ in $(seq 600); do # the stats line every second says when all arrived
    grep -q " records=$want " "$T/c.err" && break
    sleep 0.05
done
kill -TERM "$PID"
wait "$PID" || fail "collector exit $?"
PID=

"$PY" - "$T" <<'PYEOF' || fail "lines differ from the ground truth"
import json, sys, time
t = sys.argv[1]
truth = [json.loads(l) for l in open(t + "/truth.jsonl") if '"type":"flow"' in l]
TAGS = {"account-id": "123456789012", "vpc-id": "vpc-0abc", "region": "eu-west-1",
        "az-id": "euw1-az2", "availability-zone": "eu-west-1b", "instance-id": "i-0123",
        "env": "test"}

def reply(proto, tc):
    ty = tc >> 8
    if proto == 1 and ty in (8, 13, 15, 17):
        return (0 if ty == 8 else ty + 1) << 8
    if proto == 58 and ty == 128:
        return 129 << 8
    return tc

def directions(f):
    """(src, dst, sport, dport, packets, bytes, flags, responder) per direction with packets."""
    out = [(f["src_addr"], f["dst_addr"], f["src_port"], f["dst_port"], f["packets"], f["bytes"],
            f["tcp_flags"], False)]
    if f["rev_packets"]:
        icmp = f["proto"] in (1, 58)
        out.append((f["dst_addr"], f["src_addr"], 0 if icmp else f["dst_port"],
                    reply(f["proto"], f["dst_port"]) if icmp else f["src_port"],
                    f["rev_packets"], f["rev_bytes"], f["rev_tcp_flags"], True))
    return out

def aws_flags(proto, flags, responder):
    if proto != 6:
        return "-"
    v = flags & 7
    if responder and flags & 2 and flags & 16:
        v |= 16
    return str(v)

def vpc_expected(biflow):
    rows = []
    for f in truth:
        for (s, d, sp, dp, pk, by, fl, resp) in directions(f):
            v6 = ":" in s
            rows.append(" ".join([
                "5", TAGS["account-id"], "-", s, d, str(sp), str(dp), str(f["proto"]), str(pk),
                str(by), str(f["start_ns"] // 10**9), str(f["end_ns"] // 10**9), "-", "OK",
                TAGS["vpc-id"], "-", TAGS["instance-id"],
                # uniflow records: a collector cannot tell the responder
                aws_flags(f["proto"], fl, resp and biflow), "IPv6" if v6 else "IPv4", s, d,
                TAGS["region"], TAGS["az-id"], "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"]))
    return sorted(rows)

def rfc3339(ns):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + ".%03dZ" % (ns % 10**9 // 10**6)

def fl_expected():
    rows = []
    names = {6: "TCP", 17: "UDP"}
    ep = lambda a, p: ("[%s]:%d" if ":" in a else "%s:%d") % (a, p)
    for f in truth:
        for (s, d, sp, dp, pk, by, fl, resp) in directions(f):
            rows.append(" ".join([
                "flowlog", "version=2", "proto=" + names.get(f["proto"], "PROTO_%d" % f["proto"]),
                "src=" + ep(s, sp), "dst=" + ep(d, dp), "pkt-src=" + s, "pkt-dst=" + d,
                "direction=-", "encapsulated=false", "account=123456789012", "vpc=vpc-0abc",
                "subnet=-", "instance=i-0123", "az=eu-west-1b", "region=eu-west-1",
                "time=" + rfc3339(f["end_ns"]), "packets=%d" % pk, "bytes=%d" % by,
                "start=" + rfc3339(f["start_ns"]), "end=" + rfc3339(f["end_ns"]),
                "tcp-flags=" + (str(fl) if f["proto"] == 6 else "-"), "tunnel=-", "vni=-",
                "tag.az-id=euw1-az2", "tag.env=test"]))
    return sorted(rows)

def lines(name, header):
    ls = open(t + "/" + name).read().splitlines()
    if header:
        want = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
                "bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type "
                "pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id "
                "pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path tunnel-type "
                "outer-srcaddr outer-dstaddr vni")
        if not ls or ls[0] != want:
            print("%s: header %r" % (name, ls[:1]))
            return None
        ls = ls[1:]
    return sorted(ls)

ok = True
for name, header, want in (("e.vpc", True, vpc_expected(True)), ("c.vpc", True, vpc_expected(False)),
                           ("e.fl", False, fl_expected()), ("c.fl", False, fl_expected())):
    got = lines(name, header)
    if got != want:
        ok = False
        missing = [l for l in want if l not in (got or [])]
        extra = [l for l in (got or []) if l not in want]
        print("%s: %d lines, %d expected; missing %s; unexpected %s" %
              (name, len(got or []), len(want), missing[:3], extra[:3]))
    else:
        print("%s: %d lines, every field as the ground truth" % (name, len(got)))
for name in ("e.jsonl", "c.jsonl"):
    recs = [json.loads(l) for l in open(t + "/" + name)]
    bad = [r for r in recs if r.get("tags") != TAGS]
    if not recs or bad:
        ok = False
        print("%s: %d records, %d without the tags: %s" % (name, len(recs), len(bad), bad[:1]))
    else:
        print("%s: %d records, each with the tags object" % (name, len(recs)))
sys.exit(0 if ok else 1)
PYEOF

# Bad input: a clear message and exit 2.
expect_usage() {
    local msg=$1
    shift
    "$@" >"$T/u.out" 2>"$T/u.err"
    local rc=$?
    [ $rc -eq 2 ] || fail "$* exited $rc (want 2)"
    grep -qF -- "$msg" "$T/u.err" || fail "$*: no \"$msg\" in: $(cat "$T/u.err")"
}
expect_usage 'the value may hold only' "$EXP" -r "$T/in.pcap" --stdout --tag 'env=a b'
expect_usage 'expected KEY=VALUE' "$EXP" -r "$T/in.pcap" --stdout --tag env
expect_usage 'empty tag' "$COL" -l udp://127.0.0.1:0 --tag 'a=1,,b=2' --check
expect_usage 'the key may hold only' "$COL" -l udp://127.0.0.1:0 --tag 'Env=1' --check
many=$(for i in $(seq 17); do printf 'k%d=v,' "$i"; done)
expect_usage 'more than 16 tags' "$COL" -l udp://127.0.0.1:0 --tag "${many%,}" --check
expect_usage 'expected json, vpcflow or flowlog' "$EXP" -r "$T/in.pcap" --stdout --format csv
expect_usage 'add --stdout' "$EXP" -r "$T/in.pcap" -c udp://127.0.0.1:9 --format vpcflow
expect_usage 'vpcflow:PATH' "$COL" -l udp://127.0.0.1:0 -o vpc:x --check
# A config file and FLOWKIT_TAG give tags too; --check says where each came from.
printf 'tag = account-id=1\ntag = env=cfg\n' >"$T/c.conf"
FLOWKIT_TAG=region=r1 "$COL" -l udp://127.0.0.1:0 --config "$T/c.conf" --tag env=cli --check \
    >"$T/check.out" 2>&1 || fail "--check: $(cat "$T/check.out")"
grep -q '^tag = account-id=1,env=cli,region=r1' "$T/check.out" ||
    fail "tags from file, environment and command line: $(grep tag "$T/check.out")"
echo "PASS"
