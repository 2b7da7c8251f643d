#!/bin/bash
# flowkit-collect --filter EXPR: the output after it gets only the matching
# flows (nfdump syntax); the other outputs get everything. 400 IPFIX flows
# from tests/tools/filter_flows.py over 127.0.0.1; each output is checked
# against the generator's ground truth. Misplaced or bad filters: exit 2.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_COLLECT"
S="$FLOWKIT_SOURCE_DIR"

"$B" -l udp://127.0.0.1:0 --duration 120 -o "jsonl:$T/all.jsonl" \
    --filter 'proto tcp and dst port in [80 443]' -o "jsonl:$T/web.jsonl" \
    --filter 'ipv6 or src net 10.0.0.0/8' -o "csv:$T/some.csv" 2>"$T/err" &
PID=$!
P=$(listen_port "$T/err" udp) || fail "collector did not start"
"$PY" "$S/tests/tools/filter_flows.py" "$T/flows.ipfix" --send "$P" >"$T/truth.jsonl" || fail "generator"
for _ in $(seq 400); do
    [ -f "$T/all.jsonl" ] && [ "$(wc -l <"$T/all.jsonl")" -ge 400 ] && break
    sleep 0.05
done
kill -TERM "$PID"
wait "$PID" || fail "collector exit $?"
PID=
"$PY" - "$T" <<'PYEOF' || fail "outputs differ from the truth"
import ipaddress, json, sys
t = sys.argv[1]
truth = [json.loads(l) for l in open(t + "/truth.jsonl")]
key = lambda s, d, sp, dp, p: (str(ipaddress.ip_address(s)), str(ipaddress.ip_address(d)), int(sp), int(dp), int(p))
tk = lambda f: key(f["src"], f["dst"], f["sp"], f["dp"], f["proto"])
jk = lambda r: key(r["src_addr"], r["dst_addr"], r["src_port"], r["dst_port"], r["proto"])
rows = lambda p: [json.loads(l) for l in open(p)]
allk = sorted(jk(r) for r in rows(t + "/all.jsonl"))
assert allk == sorted(tk(f) for f in truth), "all: %d records" % len(allk)
web = sorted(jk(r) for r in rows(t + "/web.jsonl"))
want = sorted(tk(f) for f in truth if f["proto"] == 6 and f["dp"] in (80, 443))
assert web == want and web, "web: %d records, want %d" % (len(web), len(want))
lines = open(t + "/some.csv").read().splitlines()
hdr = lines[0].split(",")
i = {n: hdr.index(n) for n in ("src_addr", "dst_addr", "src_port", "dst_port", "proto")}
some = sorted(key(*(c[i[n]] for n in ("src_addr", "dst_addr", "src_port", "dst_port", "proto")))
              for c in (l.split(",") for l in lines[1:]))
in10 = lambda a: ipaddress.ip_address(a).version == 4 and ipaddress.ip_address(a) in ipaddress.ip_network("10.0.0.0/8")
want = sorted(tk(f) for f in truth if ":" in f["src"] or in10(f["src"]))
assert some == want and some, "csv: %d records, want %d" % (len(some), len(want))
print("collect --filter: all %d, web %d, csv %d" % (len(allk), len(web), len(some)))
PYEOF

"$B" -l udp://127.0.0.1:0 --filter 'port x' -o jsonl:- >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "bad filter: want exit 2"
grep -q 'position 6' "$T/err" || fail "bad filter message: $(cat "$T/err")"
"$B" -l udp://127.0.0.1:0 -o jsonl:- --filter any >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "--filter after the last -o: want exit 2"
grep -q 'applies to the -o after it' "$T/err" || fail "misplaced --filter message: $(cat "$T/err")"
"$B" -l udp://127.0.0.1:0 --filter any --filter any -o jsonl:- >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "two --filter for one -o: want exit 2"
echo "PASS"
