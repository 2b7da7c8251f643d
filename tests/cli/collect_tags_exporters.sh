#!/bin/bash
# Thousands of exporters with their own metadata tags at the hard end:
# 3,000 UDP exporters (each its own address in 127.0.0.0/8) send one message
# each, then a second that redefines the template with metadataTags moved
# and other tags, of 5 bytes up to exactly 1,024; some second messages carry
# 1,025 bytes or 17 tags, which must be refused and counted (tags_rejected)
# while the record is kept. Every record of the collector's JSON lines and of
# its ipfix: file read back by flowkit-ipfix must carry exactly the tags its
# own exporter sent in that message: none from another exporter, none left
# from the first definition.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
need_exec "$FK_COLLECT" "$FK_IPFIX"
need_py
N=${FK_TAGS_EXPORTERS:-3000}

"$FK_COLLECT" -l udp://127.0.0.1:0 -o "jsonl:$T/c.jsonl" -o "ipfix:$T/c.ipfix" --stats 1 \
    --set socket_buffer=33554432 2>"$T/err" &
PID=$!
PU=$(listen_port "$T/err" udp) || fail "collector did not start"
"$PY" "$FLOWKIT_SOURCE_DIR/tests/cli/tags_exporters.py" send "$PU" "$N" "$T/truth.json" \
    || fail "sender"
want=$("$PY" -c 'import json,sys; print(sum(len(v) for v in json.load(open(sys.argv[1])).values()))' \
    "$T/truth.json")
rejected=$("$PY" -c 'import json,sys; print(sum(1 for v in json.load(open(sys.argv[1])).values() for p, t in v if t is None))' \
    "$T/truth.json")
for _ in $(seq 600); do # the stats line every second says when all arrived
    grep -q " records=$want " "$T/err" && break
    sleep 0.05
done
kill -TERM "$PID"
wait "$PID" || fail "collector exit $?"
PID=
last=$(grep 'records=' "$T/err" | tail -1)
echo "collector: $last"
drops=$(echo "$last" | grep -o 'socket_drops=[0-9]*' | cut -d= -f2)
[ "${drops:-0}" = 0 ] || fail "the collector's socket dropped $drops datagrams (load?): $last"
echo "$last" | grep -q " records=$want " || fail "collector got other than $want records: $last"
echo "$last" | grep -q " tags_rejected=$rejected\b" || fail "want tags_rejected=$rejected: $last"
echo "$last" | grep -q ' malformed=0 ' || fail "malformed: $last"
"$FK_IPFIX" "$T/c.ipfix" >"$T/f.jsonl" 2>"$T/f.err" || fail "flowkit-ipfix: $(tail -2 "$T/f.err")"

"$PY" - "$T" <<'PYEOF' || fail "tags differ"
import collections, json, sys
t = sys.argv[1]
truth = json.load(open("%s/truth.json" % t))
def parse(text):
    return dict(kv.split("=", 1) for kv in text.split(",")) if text else None
want = {a: sorted((p, json.dumps(parse(tg), sort_keys=True)) for p, tg in v) for a, v in truth.items()}
ok = True
for name, path in (("jsonl", "c.jsonl"), ("ipfix file", "f.jsonl")):
    got = collections.defaultdict(list)
    n = 0
    for l in open("%s/%s" % (t, path)):
        r = json.loads(l)
        if r.get("type") != "flow":
            continue
        n += 1
        got[r.get("exporter")].append((r.get("dst_port"), json.dumps(r.get("tags"), sort_keys=True)))
    got = {a: sorted(v) for a, v in got.items()}
    if got == want:
        longest = max(len(tg or "") for v in truth.values() for p, tg in v)
        print("%s: %d records from %d exporters, each with its own tags (up to %d bytes)"
              % (name, n, len(got), longest))
        continue
    ok = False
    missing = sorted(set(want) - set(got))[:3]
    extra = sorted(set(got) - set(want))[:3]
    diff = [a for a in want if a in got and got[a] != want[a]]
    print("FAIL %s: %d exporters, want %d; missing %s, unknown %s, %d differ"
          % (name, len(got), len(want), missing, extra, len(diff)))
    if diff:
        a = diff[0]
        print("  e.g. %s: got %s\n  want %s" % (a, str(got[a])[:300], str(want[a])[:300]))
sys.exit(0 if ok else 1)
PYEOF
echo PASS
