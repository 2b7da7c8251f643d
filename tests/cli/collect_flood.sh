#!/bin/bash
# flowkit-collect under a flood of malformed and random datagrams from 500
# source ports: it keeps running, its memory stays bounded, every bad
# datagram is counted in the right counter, and a valid datagram sent
# afterwards is still decoded.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_COLLECT"
need_py

"$B" -l udp://127.0.0.1:0 --stats 3600 >"$T/out" 2>"$T/err" &
PID=$!
PORT=$(listen_port "$T/err" udp) || fail "no listening line"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
rss0=$(rss)

# Classes (N each, paced so the socket never overflows):
#   unsupported: random bytes whose version is not 1/5/6/7/9/10
#   malformed:   IPFIX whose length field exceeds the datagram; v9 shorter
#                than its header; v5 whose count does not fit
#   kept:        IPFIX with random data sets (no template) from 500 ports
"$PY" - "$PORT" >"$T/sent" <<'PYEOF'
import os, random, socket, struct, sys, time
port = int(sys.argv[1])
random.seed(5)
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(500)]
n = {"unsupported": 0, "malformed": 0, "kept": 0}
def send(i, d):
    socks[i % 500].sendto(d, ("127.0.0.1", port))
    if i % 200 == 0:
        time.sleep(0.01)
i = 0
for _ in range(4000):
    v = random.choice([0, 2, 3, 4, 12, 8, 11, 300, 65535])
    send(i, struct.pack("!H", v) + os.urandom(random.randint(2, 1400))); i += 1
    n["unsupported"] += 1
for _ in range(2000):
    body = os.urandom(random.randint(0, 200))
    send(i, struct.pack("!HHIII", 10, 16 + len(body) + 1 + random.randint(0, 1000), 0, 0, 1) + body); i += 1
    send(i, struct.pack("!HH", 9, 1) + os.urandom(random.randint(0, 15))); i += 1
    send(i, struct.pack("!HHIIIIBBH", 5, 30, 0, 0, 0, 0, 0, 0, 0) + os.urandom(random.randint(0, 1000))); i += 1
    n["malformed"] += 3
for _ in range(3000):
    sets = b""
    for _ in range(random.randint(1, 4)):
        body = os.urandom(random.randint(0, 300))
        sets += struct.pack("!HH", random.randint(256, 65535), 4 + len(body)) + body
    send(i, struct.pack("!HHIII", 10, 16 + len(sets), 0, 0, random.randint(0, 3)) + sets); i += 1
    n["kept"] += 1
print(i, n["unsupported"], n["malformed"], n["kept"])
PYEOF
read -r total unsup malf kept <"$T/sent"
sleep 1
kill -0 $PID || fail "collector died"
rss1=$(rss)

# A valid v5 datagram is still decoded.
"$PY" - "$PORT" <<'PYEOF'
import socket, struct, sys
hdr = struct.pack("!HHIIIIBBH", 5, 1, 100000, 1795435200, 0, 0, 0, 0, 0)
rec = struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), bytes(4),
                  0, 0, 1, 100, 99000, 99000, 1, 2, 0, 0, 17, 0, 0, 0, 0, 0, 0)
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(hdr + rec, ("127.0.0.1", int(sys.argv[1])))
PYEOF
sleep 0.5
kill -TERM $PID
wait $PID || fail "exit status $?"
PID=
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "the valid datagram was not decoded"
stats=$(grep 'stats' "$T/err" | tail -1)
get() { echo "$stats" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
[ "$(get socket_drops)" = 0 ] || fail "socket drops: $(get socket_drops) (pacing too fast?)"
[ "$(get datagrams)" = $((total + 1)) ] || fail "datagrams $(get datagrams), sent $((total + 1))"
[ "$(get unsupported)" = "$unsup" ] || fail "unsupported $(get unsupported), want $unsup"
[ "$(get malformed)" = "$malf" ] || fail "malformed $(get malformed), want $malf"
[ "$(get records)" = 1 ] || fail "records $(get records)"
# Kept sets are bounded by pending_bytes per exporter and pending_total.
echo "rss before=${rss0}kB after=${rss1}kB; $stats"
[ $((rss1 - rss0)) -lt 100000 ] || fail "memory grew by $((rss1 - rss0)) kB"
[ "$(get sessions)" -le 501 ] || fail "sessions $(get sessions)"
echo ok
