#!/bin/bash
# flowkit-collect's ipfix: output, uniflow by default, biflow with
# --ipfix-biflow (#22): the same biflow export (flowkit-export --biflow of a
# generated capture) is collected twice; read back with flowkit-ipfix, the
# default file holds one record per direction and no reverse counters, the
# --ipfix-biflow file one record per flow with them; both carry every byte.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FLOWKIT_BUILD_DIR/cli"
GEN="$FK_PCAPGEN"
need_exec "$GEN"
"$GEN" --seed 7 --flows 40 --packets 600 "$T/in.pcap" "$T/truth.jsonl" >/dev/null || fail "pcapgen"
for mode in uniflow biflow; do
    extra=()
    [ $mode = biflow ] && extra=(--ipfix-biflow)
    "$B/flowkit-collect/flowkit-collect" -l udp://127.0.0.1:0 -o "ipfix:$T/$mode.ipfix" \
        --stats 1 "${extra[@]}" 2>"$T/$mode.err" &
    PID=$!
    P=$(listen_port "$T/$mode.err" udp) || fail "collector did not start"
    "$B/flowkit-export/flowkit-export" -r "$T/in.pcap" --flows --biflow -c "udp://127.0.0.1:$P" \
        --stats 2>"$T/$mode.exp" || fail "export: $(tail -2 "$T/$mode.exp")"
    want=$(grep -o 'records_sent=[0-9]*' "$T/$mode.exp" | tail -1 | cut -d= -f2)
    for _ in $(seq 600); do # the stats line every second says when all arrived
        grep -q " records=$want " "$T/$mode.err" && break
        sleep 0.05
    done
    kill -TERM "$PID"
    wait "$PID" || fail "collector exit $?"
    PID=
    "$B/flowkit-ipfix/flowkit-ipfix" "$T/$mode.ipfix" >"$T/$mode.jsonl" 2>/dev/null || fail "read back $mode"
done
"$PY" - "$T" <<'PYEOF' || fail "records"
import json, sys
t = sys.argv[1]
def load(m):
    return [json.loads(l) for l in open("%s/%s.jsonl" % (t, m)) if '"type":"flow"' in l]
uni, bi = load("uniflow"), load("biflow")
tot = lambda rs: sum(r["bytes"] + r.get("rev_bytes", 0) for r in rs)
ok = (any(r.get("rev_bytes") for r in bi) and not any(r.get("rev_bytes") for r in uni)
      and len(uni) > len(bi) and tot(uni) == tot(bi) > 0)
print("uniflow file: %d records, %d bytes; --ipfix-biflow file: %d records (%d with reverse "
      "counters), %d bytes" % (len(uni), tot(uni), len(bi), sum(1 for r in bi if r.get("rev_bytes")), tot(bi)))
sys.exit(0 if ok else 1)
PYEOF
echo "PASS"
