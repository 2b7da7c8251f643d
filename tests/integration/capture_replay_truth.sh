#!/bin/bash
# Offline replay through the public capture handle (examples/capture_flows)
# of pcaps written by fk_pcapgen, for several link types and both pcap
# timestamp formats, inline and with 3 workers: flows, session events and
# counters must equal the generator's ground truth exactly. No root needed.
# shellcheck source=capture_offline.bash
source "$(dirname "$0")/capture_offline.bash"
capture_offline_setup capture_truth

run=0
for spec in "en10mb 1" "sll2 2 --usec" "raw 3" "null 4 --usec" "sll 5"; do
    set -- $spec
    link=$1 seed=$2
    shift 2
    "$GEN" --seed "$seed" --flows 300 --packets 6000 --link "$link" "$@" \
        "$WORK/t.pcap" "$WORK/t.truth" || fail "fk_pcapgen failed"
    for workers in 0 3; do
        run=$((run + 1))
        echo "=== link $link $* workers=$workers"
        "$WORK/capture_flows" -r "$WORK/t.pcap" -o workers=$workers -o active_timeout=0 \
            -o idle_timeout=15 >"$WORK/out.jsonl" 2>"$WORK/err" || fail "capture_flows: $(cat "$WORK/err")"
        $PY "$SRC/tests/integration/capture_truth.py" "$WORK/t.truth" "$WORK/out.jsonl" ||
            fail "link $link workers=$workers differs from the truth"
    done
done
echo "PASS ($run runs)"
