#!/bin/bash
# flowkit-collect listening on a scoped link-local address (issue 15, item
# 11): udp://[fe80::1%lo]:PORT inside a test network namespace (fe80::1
# added to its loopback); the listening line names the zone and a NetFlow v5
# datagram sent to fe80::1 on that link is decoded.
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
B="$BUILD/cli/flowkit-collect/flowkit-collect"
PY=/usr/bin/python3
[ -x "$B" ] || { echo "SKIP: $B not built"; exit 77; }
. "$SRC/scripts/netns.sh"
fk_netns_require_root
NS="fkll$$"
fk_netns_add "$NS" $(($$ % 200 + 30)) >/dev/null || { echo "FAIL: netns"; exit 1; }
ip -n "$NS" addr add fe80::1/64 dev lo nodad || { echo "FAIL: cannot add fe80::1 to lo"; exit 1; }
W=$(mktemp -d /tmp/flowkit-ll.XXXXXX)
fk_netns_on_exit "rm -rf '$W'"
ip netns exec "$NS" "$B" -l "udp://[fe80::1%lo]:0" --count 1 --duration 20 >"$W/out" 2>"$W/err" &
PID=$!
fk_netns_on_exit "kill $PID"
PORT=
for _ in $(seq 100); do
    PORT=$(grep -o 'listening on udp://\[fe80::1%lo\]:[0-9]*' "$W/err" | sed 's/.*://')
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || { echo "FAIL: no listening line naming the zone: $(cat "$W/err")"; exit 1; }
ip netns exec "$NS" "$PY" - "$PORT" <<'PYEOF'
import socket, struct, sys
hdr = struct.pack("!HHIIIIBBH", 5, 1, 100000, 1795435200, 0, 0, 0, 0, 0)
rec = struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), bytes(4),
                  0, 0, 1, 100, 99000, 99000, 1234, 80, 0, 0, 6, 0, 0, 0, 0, 0, 0)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.sendto(hdr + rec, ("fe80::1", int(sys.argv[1]), 0, socket.if_nametoindex("lo")))
PYEOF
wait "$PID" || { echo "FAIL: exit $?: $(tail -2 "$W/err")"; exit 1; }
grep -q '"src_port":1234' "$W/out" || { echo "FAIL: the datagram was not decoded"; exit 1; }
echo ok
