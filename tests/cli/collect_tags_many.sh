#!/bin/bash
# Many exporters with different metadata tags into one collector at once:
# 16 flowkit-export processes replay the same pcap at the same time, half
# over UDP and half over TCP, each with its own observation domain and its
# own tags (none; one short tag; up to eight tags of 923 bytes, near the
# 1024-byte cap). Every record the collector writes (JSON lines, and its
# ipfix: file read back by flowkit-ipfix) must carry exactly its own
# exporter's tags: none borrowed from a record decoded just before it from
# another exporter, none lost, no record without its domain.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
need_exec "$FK_PCAPGEN" "$FK_EXPORT" "$FK_COLLECT" "$FK_IPFIX"
need_py
N=16
"$FK_PCAPGEN" --seed 29 --flows 30 --packets 400 --v6 10 "$T/in.pcap" "$T/truth.jsonl" \
    >/dev/null || fail "pcapgen"

"$FK_COLLECT" -l udp://127.0.0.1:0 -l tcp://127.0.0.1:0 -o "jsonl:$T/c.jsonl" \
    -o "ipfix:$T/c.ipfix" --stats 1 2>"$T/err" &
PID=$!
PU=$(listen_port "$T/err" udp) || fail "collector did not start"
PT=$(listen_port "$T/err" tcp) || fail "collector did not start its TCP listener"

# tags_for I: exporter I's --tag value ("" = no tags).
long=$(printf 'v%.0s' $(seq 128))
tags_for() {
    local i=$1
    case $((i % 4)) in
    0) echo "" ;;
    1) echo "host=h$i" ;;
    2) echo "host=h$i,region=r-$((i * 7)),vpc-id=vpc-$i$i$i" ;;
    3)
        local t="host=h$i" k
        for k in 1 2 3 4 5 6 7; do t="$t,k$k=${long:0:$((128 - i))}"; done
        echo "$t"
        ;;
    esac
}
pids=()
for i in $(seq 1 $N); do
    dest="udp://127.0.0.1:$PU"
    [ $((i % 2)) -eq 0 ] && dest="tcp://127.0.0.1:$PT"
    args=(-r "$T/in.pcap" -c "$dest" --odid "$i" --stats)
    tg=$(tags_for "$i")
    [ -n "$tg" ] && args+=(--tag "$tg")
    printf '%s\n' "$tg" >"$T/tags.$i"
    "$FK_EXPORT" "${args[@]}" 2>"$T/x.$i" &
    pids+=($!)
    PIDS+=($!)
done
for i in $(seq 1 $N); do
    wait "${pids[$((i - 1))]}" || fail "exporter $i: $(tail -2 "$T/x.$i")"
done
want=0
for i in $(seq 1 $N); do
    s=$(grep -o 'records_sent=[0-9]*' "$T/x.$i" | tail -1 | cut -d= -f2)
    [ -n "$s" ] && [ "$s" -gt 0 ] || fail "exporter $i sent nothing"
    want=$((want + s))
done
for _ in $(seq 600); do # the stats line every second says when all arrived
    grep -q " records=$want " "$T/err" && break
    sleep 0.05
done
kill -TERM "$PID"
wait "$PID" || fail "collector exit $?"
PID=
grep -q " records=$want " "$T/err" || fail "collector got fewer than $want records: $(tail -1 "$T/err")"
grep -q ' tags_rejected=0' "$T/err" || fail "tags rejected: $(tail -1 "$T/err")"
"$FK_IPFIX" "$T/c.ipfix" >"$T/f.jsonl" 2>"$T/f.err" || fail "flowkit-ipfix: $(tail -2 "$T/f.err")"

"$PY" - "$T" "$N" <<'PYEOF' || fail "tags differ"
import collections, json, sys
t, n = sys.argv[1], int(sys.argv[2])
ok = True
def bad(m):
    global ok
    ok = False
    print("FAIL:", m)
def parse(text):
    return dict(kv.split("=", 1) for kv in text.split(",")) if text else None
want = {i: parse(open("%s/tags.%d" % (t, i)).read().strip()) for i in range(1, n + 1)}
sent = {}
for i in range(1, n + 1):
    for l in open("%s/x.%d" % (t, i)):
        if "export total" in l:
            sent[i] = int(l.split("records_sent=")[1].split()[0])
for name, path in (("jsonl", "c.jsonl"), ("ipfix file", "f.jsonl")):
    recs = [json.loads(l) for l in open("%s/%s" % (t, path))]
    recs = [r for r in recs if r.get("type") in ("flow", "event")]
    per = collections.Counter(r.get("odid") for r in recs)
    if dict(per) != sent:
        bad("%s: records per domain %s, sent %s" % (name, dict(per), sent))
    wrong = [r for r in recs if r.get("tags") != want.get(r.get("odid"), "?")]
    if wrong:
        r = wrong[0]
        bad("%s: %d records with other tags, e.g. domain %s: %s, want %s"
            % (name, len(wrong), r.get("odid"), r.get("tags"), want.get(r.get("odid"))))
    else:
        longest = max(len(",".join("%s=%s" % kv for kv in w.items())) for w in want.values() if w)
        print("%s: %d records from %d exporters, each with its own tags (up to %d bytes)"
              % (name, len(recs), len(per), longest))
sys.exit(0 if ok else 1)
PYEOF
echo PASS
