#!/bin/bash
# A device that disappears while captured (its netns, and so the veth pair,
# is deleted): an error event names it, the flows seen so far are flushed
# and delivered, and run() ends with FK_EPCAP because no device is left.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS=fkcv$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
cap_start v -i "${NS}h" -o workers=1
fk_netns_exec "$NS" $PY -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(10):
    s.sendto(b'x', ('10.213.$N.1', 9))" || fail "sender failed"
sleep 0.3
fk_netns_del "$NS"
for i in $(seq 50); do
    [ -e "/proc/$CAP_PID" ] && [ "$(awk '{print $3}' "/proc/$CAP_PID/stat")" != Z ] || break
    sleep 0.1
done
rc=0
wait "$CAP_PID" || rc=$?
cat "$WORK/v.err"
[ $rc = 1 ] || fail "exit $rc, expected 1 (run failed)"
grep -q "^capture_flows: ${NS}h: capture failed: " "$WORK/v.err" || fail "no error event for the device"
grep -q "every device failed.*(FK_EPCAP)" "$WORK/v.err" || fail "run did not end with FK_EPCAP"
c=$(jq -r "select(.type==\"flow\" and .proto==17 and .dst_port==9) | \"\(.packets) \(.end_reason)\"" "$WORK/v.jsonl")
[ "$c" = "10 4" ] || fail "UDP flow: '$c', expected 10 packets, end reason 4 (forced)"
echo PASS
