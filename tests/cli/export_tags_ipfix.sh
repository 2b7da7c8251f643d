#!/bin/bash
# Tags over IPFIX (docs/exporter-elements.md, metadataTags): flowkit-export
# -r with --tag sends them in every flow and event record; flowkit-collect
# (its own --tag region=...,env=...) writes them back:
#  - JSON lines: "tags" = the record's tags, then the collector's env (its
#    region loses to the record's);
#  - CSV: the last column tags = the record's KEY=VALUE,... in --tag order;
#  - vpcflow: the columns of the same names;
#  - ipfix: file (metadataTags kept), read back by flowkit-ipfix (JSON, and
#    the last column tags of its CSV): the record's own tags;
#  - every record of the ground truth (fk_pcapgen) comes back, each tagged.
# A record without tags (an exporter without --tag) gets only the
# collector's, and an empty CSV tags column.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FLOWKIT_BUILD_DIR/cli"
EXP="$B/flowkit-export/flowkit-export"
COL="$B/flowkit-collect/flowkit-collect"
GEN="$FK_PCAPGEN"
need_exec "$GEN"
"$GEN" --seed 16 --flows 40 --packets 600 --v6 20 "$T/in.pcap" "$T/truth.jsonl" >/dev/null ||
    fail "pcapgen"
"$GEN" --seed 17 --flows 5 --packets 60 --v6 0 "$T/plain.pcap" "$T/plain.jsonl" >/dev/null ||
    fail "pcapgen (plain)"

"$COL" -l udp://127.0.0.1:0 -o "jsonl:$T/c.jsonl" -o "csv:$T/c.csv" -o "vpcflow:$T/c.vpc" \
    -o "ipfix:$T/c.ipfix" \
    --tag region=collector-region,env=collector --stats 1 2>"$T/c.err" &
PID=$!
P=$(listen_port "$T/c.err" udp) || fail "collector did not start"
TAGS="account-id=123456789012,vpc-id=vpc-0abc,subnet-id=subnet-0def,instance-id=i-0123"
TAGS2="region=eu-west-1,az-id=euw1-az2,availability-zone=eu-west-1b,interface-id=eni-0aa"
"$EXP" -r "$T/in.pcap" -c "udp://127.0.0.1:$P" --tag "$TAGS" --tag "$TAGS2" --stats \
    2>"$T/x.err" || fail "export with tags: $(tail -2 "$T/x.err")"
sent=$(grep -o 'records_sent=[0-9]*' "$T/x.err" | tail -1 | cut -d= -f2)
"$EXP" -r "$T/plain.pcap" --flows --odid 2 -c "udp://127.0.0.1:$P" --stats 2>"$T/x2.err" ||
    fail "export without tags: $(tail -2 "$T/x2.err")"
sent2=$(grep -o 'records_sent=[0-9]*' "$T/x2.err" | tail -1 | cut -d= -f2)
want=$((sent + sent2))
for _ in $(seq 600); do # the stats line every second says when all arrived
    grep -q " records=$want " "$T/c.err" && break
    sleep 0.05
done
kill -TERM "$PID"
wait "$PID" || fail "collector exit $?"
PID=
grep -q " records=$want " "$T/c.err" || fail "collector got fewer than $want records: $(tail -1 "$T/c.err")"
"$B/flowkit-ipfix/flowkit-ipfix" "$T/c.ipfix" >"$T/f.jsonl" 2>"$T/f.err" ||
    fail "flowkit-ipfix: $(tail -2 "$T/f.err")"
"$B/flowkit-ipfix/flowkit-ipfix" -o csv "$T/c.ipfix" >"$T/f.csv" 2>"$T/f.err" ||
    fail "flowkit-ipfix -o csv: $(tail -2 "$T/f.err")"
# A query over the file takes the fast path past the tags and session
# events (variable-length enterprise elements) and answers as the general
# path does.
for f in any "proto tcp and not net 10.0.0.0/8" "port 53 or out bytes > 100 or flags S"; do
    "$B/flowkit-ipfix/flowkit-ipfix" -v -s srcip/bytes -s port/flows -A srcip,dstport -n 0 \
        -f "$f" "$T/c.ipfix" >"$T/q1" 2>"$T/q1.err" || fail "query: $(tail -2 "$T/q1.err")"
    "$B/flowkit-ipfix/flowkit-ipfix" --no-fast-path -s srcip/bytes -s port/flows \
        -A srcip,dstport -n 0 -f "$f" "$T/c.ipfix" >"$T/q2" 2>/dev/null || fail "query (general)"
    cmp -s "$T/q1" "$T/q2" || { diff "$T/q1" "$T/q2" | head; fail "fast and general answers differ: $f"; }
    [ "$f" != any ] || grep -q 'query fast path taken' "$T/q1.err" ||
        fail "flowkit-export's records left the fast path: $(grep 'fast path' "$T/q1.err")"
done

"$PY" - "$T" "$TAGS,$TAGS2" <<'PYEOF' || fail "tags differ"
import csv, json, sys
t, text = sys.argv[1], sys.argv[2]
own = dict(kv.split("=", 1) for kv in text.split(","))
merged = dict(own, env="collector")  # the record's region wins
ok = True
def bad(m):
    global ok
    ok = False
    print("FAIL:", m)
truth = [json.loads(l) for l in open(t + "/truth.jsonl") if '"type":"flow"' in l]
recs = [json.loads(l) for l in open(t + "/c.jsonl")]
tagged = [r for r in recs if r["odid"] == 1]  # the exporter without tags: --odid 2
untagged = [r for r in recs if r["odid"] == 2]
if not untagged or len(tagged) + len(untagged) != len(recs):
    bad("odids: %d records of 1, %d of 2, %d in all" % (len(tagged), len(untagged), len(recs)))
events = [r for r in tagged if r["type"] == "event"]
flows = [r for r in tagged if r["type"] == "flow"]
if not events or len(flows) < len(truth):
    bad("%d events, %d flow records for %d flows of the truth" % (len(events), len(flows), len(truth)))
for r in tagged:
    if r.get("tags") != merged or list(r["tags"])[:len(own)] != list(own):
        bad("JSON tags %s, expected %s (record's first)" % (r.get("tags"), merged))
        break
for r in untagged:
    if r.get("tags") != {"region": "collector-region", "env": "collector"}:
        bad("JSON tags of a record without tags: %s" % r.get("tags"))
        break
print("JSON: %d records with %s; %d without tags get the collector's" % (len(tagged), json.dumps(merged), len(untagged)))
rows = list(csv.DictReader(open(t + "/c.csv")))
if len(rows) != len(recs):
    bad("CSV has %d rows, JSON %d" % (len(rows), len(recs)))
head = open(t + "/c.csv").readline().strip().split(",")
if head[-1] != "tags":
    bad("CSV header ends with %s" % head[-1])
with_tags = [r for r in rows if r["tags"] == text and r["odid"] == "1"]
empty = [r for r in rows if r["tags"] == "" and r["odid"] == "2"]
if len(with_tags) != len(tagged) or len(empty) != len(untagged):
    bad("CSV: %d rows with the tags, %d empty; expected %d and %d" % (len(with_tags), len(empty), len(tagged), len(untagged)))
else:
    print("CSV: %d rows end in \"%s\", %d in an empty tags column" % (len(with_tags), text, len(empty)))
lines = open(t + "/c.vpc").read().splitlines()
vh = lines[0].split(" ")
vrows = [dict(zip(vh, l.split(" "))) for l in lines[1:]]
want = {k: own[k] for k in ("account-id", "vpc-id", "subnet-id", "instance-id", "region", "az-id", "interface-id")}
vt = [r for r in vrows if {k: r[k] for k in want} == want]
vp = [r for r in vrows if r["region"] == "collector-region" and
      all(r[k] == "-" for k in want if k != "region")]
if not vt or not vp or len(vt) + len(vp) != len(vrows):
    bad("vpcflow: %d lines with the record's tags, %d with the collector's alone, %d in all"
        % (len(vt), len(vp), len(vrows)))
else:
    print("vpcflow: %d lines carry %s, %d the collector's region alone"
          % (len(vt), " ".join(want.values()), len(vp)))
# The collector's ipfix: file keeps the record's own tags (not its --tag).
frecs = [json.loads(l) for l in open(t + "/f.jsonl") if '"type":"flow"' in l or '"type":"event"' in l]
f1 = [r for r in frecs if r["odid"] == 1]
f2 = [r for r in frecs if r["odid"] == 2]
if len(f1) != len(tagged) or len(f2) != len(untagged) or \
        any(r.get("tags") != own for r in f1) or any("tags" in r for r in f2):
    bad("ipfix: file read by flowkit-ipfix: %d/%d records, tags %s" % (len(f1), len(f2), f1[:1]))
else:
    print("ipfix: file: flowkit-ipfix reads %d records with the tags, %d without" % (len(f1), len(f2)))
# flowkit-ipfix -o csv: the same last column tags as the collector's CSV.
fhead = open(t + "/f.csv").readline().strip().split(",")
frows = list(csv.DictReader(open(t + "/f.csv")))
ft = [r for r in frows if r["tags"] == text]
fe = [r for r in frows if r["tags"] == ""]
if fhead[-1] != "tags" or len(ft) != len(f1) or len(fe) != len(f2) or len(frows) != len(frecs):
    bad("flowkit-ipfix -o csv: header ends %s; %d rows with the tags, %d empty, %d in all"
        % (fhead[-1], len(ft), len(fe), len(frows)))
else:
    print("flowkit-ipfix -o csv: %d rows end in the tags, %d in an empty column" % (len(ft), len(fe)))
sys.exit(0 if ok else 1)
PYEOF
echo PASS
