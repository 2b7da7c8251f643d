#!/bin/bash
# Run limits on a live device: a duration ends the capture by itself on
# time; a packet count ends it after exactly that many packets, with every
# counted packet in the flushed flows.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS=fkcl$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h

# wait_exit PID SECONDS: wait for a pid to exit by itself; sets RC to its
# exit code, or "timeout".
wait_exit() {
    local i
    RC=timeout
    for i in $(seq 1 $(($2 * 10))); do
        # An exited child stays a zombie (state Z) until waited for.
        if [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; then
            RC=0
            wait "$1" || RC=$?
            return 0
        fi
        sleep 0.1
    done
}

echo "=== duration 1.5 s"
t0=$(date +%s%N)
cap_start dur -i "$IF" -o duration=1.5 -o workers=1
wait_exit "$CAP_PID" 10
rc=$RC
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 0 ] || fail "duration: exit $rc"
[ "$ms" -ge 1400 ] && [ "$ms" -le 5000 ] || fail "duration 1.5 s took $ms ms"
grep -q '"type":"stats"' "$WORK/dur.jsonl" || fail "no stats line"
echo "ended after $ms ms"

echo "=== packet count 10"
cap_start cnt -i "$IF" -o packet_count=10 -o "filter=tcp or udp or icmp"
traffic "$NS" "$N"
wait_exit "$CAP_PID" 10
rc=$RC
[ "$rc" = 0 ] || fail "packet count: exit $rc"
OUT=$WORK/cnt.jsonl
[ "$(capstat "$OUT" packets)" = 10 ] || fail "captured $(capstat "$OUT" packets) packets, not 10"
in_flows=$(jq -s '[.[] | select(.type=="flow") | .packets + .rev_packets] | add' "$OUT")
other=$(($(capstat "$OUT" non_ip) + $(capstat "$OUT" decode_errors)))
[ $((in_flows + other)) = 10 ] || fail "flows hold $in_flows packets (+$other not IP), not 10"
c=$(count_json "$OUT" '.type=="flow" and (.end_reason==4 or .end_reason==3)')
[ "$c" -ge 1 ] || fail "no flushed flow"
echo "=== stop right after the traffic: every datagram counted"
cap_start stop -i "$IF" -o "filter=udp dst port 9"
fk_netns_exec "$NS" $PY - "10.213.$N.1" <<'PYEOF' || fail "sender failed"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(500):
    s.sendto(b"s" * 16, (sys.argv[1], 9))
PYEOF
cap_stop # no pause
c=$(jq -r 'select(.type=="flow" and .dst_port==9) | .packets' "$WORK/stop.jsonl")
[ "$c" = 500 ] || fail "flow to port 9 has ${c:-no} packets, not 500"
echo PASS
