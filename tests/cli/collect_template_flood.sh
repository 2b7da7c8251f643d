#!/bin/bash
# flowkit-collect under a template flood (issue 15, item 1): 20 UDP sources
# each defining 4,096 IPFIX templates, over and over, for several seconds.
# Measured in the collector's own terms, not in wall-clock thresholds:
#   - it keeps printing its counters (--stats 1) during the flood: at least
#     one line for every two seconds the flood lasts;
#   - SIGTERM during the flood stops it within three stats intervals.
# (Exact counts of kept and refused templates: unit/test_collector_flood.)
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_COLLECT"
need_py
FLOOD=
cleanup_extra() {
    [ -n "$FLOOD" ] && kill "$FLOOD" 2>/dev/null
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    PID=
}

start() {
    "$B" -l udp://127.0.0.1:0 --stats 1 "$@" >/dev/null 2>"$T/err" &
    PID=$!
    PORT=$(listen_port "$T/err" udp) || fail "no listening line"
}

# flood SECS: 20 sources, template ids 256..5255 each (more than the 4,096 an
# exporter may keep), in datagrams of 30 templates, round after round, for
# SECS seconds (at most 200 rounds).
# Prints the number of datagrams sent.
flood() {
    "$PY" - "$PORT" "$1" <<'PYEOF'
import socket, struct, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(20)]
def tmpl(tid):
    # sourceIPv4Address, destinationIPv4Address, octetDeltaCount, one per template
    return struct.pack("!HHHHHHHH", tid, 3, 8, 4, 12, 4, 1, 8)
dgrams = []
for start in range(256, 256 + 5000, 30):
    body = b"".join(tmpl(t) for t in range(start, min(start + 30, 256 + 5000)))
    s = struct.pack("!HH", 2, 4 + len(body)) + body
    dgrams.append(struct.pack("!HHIII", 10, 16 + len(s), 1795435200, 0, 1) + s)
end = time.monotonic() + secs
sent = 0
for _ in range(200):
    for d in dgrams:
        for s in socks:
            s.sendto(d, ("127.0.0.1", port))
            sent += 1
    if time.monotonic() > end:
        break
print(sent)
PYEOF
}
stats_lines() { grep -c ' stats ' "$T/err"; }

# 1. Stats keep coming during the flood.
start
before=$(stats_lines)
t0=$(date +%s.%N)
sent=$(flood 6)
t1=$(date +%s.%N)
during=$(($(stats_lines) - before))
secs=$("$PY" -c "print(int($t1 - $t0))")
echo "flood: $sent datagrams in ${secs}s; $during stats lines meanwhile"
[ "$secs" -ge 2 ] || fail "the flood lasted under 2 s: it proves nothing"
[ $((during * 2)) -ge "$secs" ] || fail "$during stats lines in a ${secs}s flood"
sleep 1.5
kill -TERM $PID
wait $PID || fail "exit status $?"
PID=
# 2. SIGTERM during the flood.
start
flood 8 >/dev/null &
FLOOD=$!
sleep 2
kill -TERM $PID
stopped=
for _ in $(seq 30); do # three stats intervals
    kill -0 $PID 2>/dev/null || { stopped=1; break; }
    sleep 0.1
done
[ -n "$stopped" ] || fail "still running three stats intervals after SIGTERM"
wait $PID || fail "exit status $?"
PID=
kill $FLOOD 2>/dev/null
wait $FLOOD 2>/dev/null
FLOOD=
echo ok
