#!/bin/bash
# flowkit-export --flow-filter: only the flow records matching the filter
# (nfdump syntax) are exported and printed (--stdout); session events pass;
# the CLI counts what it filtered out; a bad filter is bad usage (exit 2).
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_EXPORT"
GEN="$FK_PCAPGEN"
need_exec "$GEN"

"$GEN" --seed 7 --flows 60 --packets 3000 --v6 30 --vlan 0 --arp 0 "$T/in.pcap" "$T/truth.jsonl" \
    >/dev/null || fail "fk_pcapgen"
"$B" -r "$T/in.pcap" --stdout --flows >"$T/all.jsonl" 2>"$T/all.err" || fail "unfiltered exit $?"
"$B" -r "$T/in.pcap" --stdout --flows --stats --flow-filter 'proto udp or net 2000::/3' \
    >"$T/some.jsonl" 2>"$T/some.err" || fail "filtered exit $?: $(cat "$T/some.err")"
"$PY" - "$T/all.jsonl" "$T/some.jsonl" "$T/some.err" <<'PYEOF' || fail "filtered flows differ"
import ipaddress, json, re, sys
flows = lambda p: [l for l in open(p) if '"type":"flow"' in l]
all_, some = flows(sys.argv[1]), flows(sys.argv[2])
def match(l):
    r = json.loads(l)
    net = ipaddress.ip_network("2000::/3")
    v6 = lambda a: ipaddress.ip_address(a).version == 6 and ipaddress.ip_address(a) in net
    return r["proto"] == 17 or v6(r["src_addr"]) or v6(r["dst_addr"])
want = [l for l in all_ if match(l)]
assert want == some, "want %d flows, got %d" % (len(want), len(some))
assert 0 < len(some) < len(all_), "the filter must keep some flows and drop some (%d of %d)" % (len(some), len(all_))
m = re.search(r"flows=(\d+) flows_filtered=(\d+)", open(sys.argv[3]).read())
assert m and int(m.group(1)) == len(all_) and int(m.group(2)) == len(all_) - len(some), m and m.group(0)
print("export --flow-filter: %d of %d flows" % (len(some), len(all_)))
PYEOF

"$B" --stdout --flow-filter 'proto udp and' -r "$T/in.pcap" >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "bad filter: want exit 2"
grep -q 'position 14' "$T/err" || fail "bad filter message: $(cat "$T/err")"
echo "PASS"
