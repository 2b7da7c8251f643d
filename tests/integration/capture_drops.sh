#!/bin/bash
# Drops are counted, never silent: with 1 worker and the smallest queue (16
# packets) a burst of UDP datagrams from a netns overflows the worker queue;
# every packet read must still be accounted for:
#   packets = packets in flows + queue_drops + non_ip + decode_errors
# (no event may be lost: event_drops = 0; the burst makes a handful of flows,
# so a 65536-event queue is ample — 4M events took 1 GiB and 15 s to touch
# on a loaded machine, past the start-up wait), and the
# kernel must drop nothing (large buffer).
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS=fkcd$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h

for workers in 1 0; do
    echo "=== workers=$workers"
    cap_start d$workers -i "$IF" -o workers=$workers -o queue_size=16 -o event_queue_size=65536 \
        -o buffer_size=67108864
    # 60000 datagrams to a port where nothing listens, as fast as possible.
    fk_netns_exec "$NS" $PY - "10.213.$N.1" <<'PYEOF' || fail "sender failed"
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = (sys.argv[1], 9)  # unconnected: ICMP port unreachable is not reported
t = time.time()
for i in range(60000):
    s.sendto(b"d" * 32, dst)
print("sent 60000 in %.2f s" % (time.time() - t))
PYEOF
    sleep 0.5
    cap_stop
    OUT=$WORK/d$workers.jsonl
    packets=$(capstat "$OUT" packets)
    qd=$(capstat "$OUT" queue_drops)
    other=$(($(capstat "$OUT" non_ip) + $(capstat "$OUT" decode_errors)))
    in_flows=$(jq -s '[.[] | select(.type=="flow") | .packets + .rev_packets] | add // 0' "$OUT")
    echo "packets=$packets in_flows=$in_flows queue_drops=$qd other=$other kernel_drops=$(capstat "$OUT" kernel_drops)"
    [ "$(capstat "$OUT" event_drops)" = 0 ] || fail "event drops"
    [ "$(capstat "$OUT" kernel_drops)" = 0 ] || fail "kernel drops (the test needs a reader that keeps up)"
    [ "$packets" -ge 60000 ] || fail "read $packets packets, sent 60000"
    [ $((in_flows + qd + other)) = "$packets" ] ||
        fail "$packets packets read but $in_flows in flows + $qd queue drops + $other other"
    if [ "$workers" = 0 ]; then
        [ "$qd" = 0 ] || fail "queue drops without workers"
    elif [ "$qd" = 0 ]; then
        echo "note: the worker kept up with a 16-packet queue; no queue drop this time"
    fi
done
echo PASS
