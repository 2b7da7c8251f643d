#!/bin/bash
# flowkit-top --json (capture + attribution + rank) against ground truth:
# known processes move exact payloads over TCP and UDP, IPv4 and IPv6,
# across a veth pair; an independent tcpdump on the same veth gives the
# IP-layer bytes of every host-side socket. Every process must be within
# 1 %, and bursts of short connections (each lives about 100 ms, well
# under 300 ms; one process per burst): 250 TCP over IPv4, 200 TCP over
# IPv6, 200 UDP sockets over IPv6 and 200 over IPv4, each burst attributed
# >= 99 %.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/integration/proc_lib.bash"
need_root proc_rank_accuracy
TOP="$FLOWKIT_BUILD_DIR/cli/flowkit-top/flowkit-top"
[ -x "$TOP" ] || { echo "missing $TOP" >&2; exit 1; }
command -v tcpdump >/dev/null || { echo "!!! SKIP: tcpdump is needed for the ground truth" >&2; exit 77; }
make_netns

start_server ns tcp "$N4" 5001
start_server ns tcp "$N6" 5002
start_server ns udp "$N4" 5003
start_server ns udp "$N6" 5004
HP=$(free_port tcp)
start_server host tcp "$H4" "$HP"
SRV=${PIDS[4]}

tcpdump -i "$VH" -s 160 -U -n -w "$WORK/truth.pcap" 'tcp or udp' 2>"$WORK/tcpdump.err" &
TD=$!
PIDS+=($TD)
FLOWKIT_TOP_DEBUG=1 "$TOP" --json -d 0.5 "$VH" >"$WORK/rank.json" 2>"$WORK/top.err" &
TOPPID=$!
PIDS+=($TOPPID)
for _ in $(seq 100); do
    [ -s "$WORK/rank.json" ] && grep -q listening "$WORK/tcpdump.err" && break
    sleep 0.1
done
[ -s "$WORK/rank.json" ] || { echo "flowkit-top did not start: $(cat "$WORK/top.err")"; exit 1; }

CONNS="$WORK/conns"
: >"$CONNS"
# move WHERE PROTO SRC DST PORT UP DOWN COUNT [LABEL]: conns of host-side clients
move() {
    local where=$1 proto=$2 out="$WORK/move.$RANDOM$RANDOM"
    shift
    if [ "$where" = ns ]; then
        ip netns exec "$NS" timeout 60 $PY "$PEERS" move "$@" >"$out" || { echo "move $* failed"; exit 1; }
    else
        timeout 60 $PY "$PEERS" move "$@" >"$out" || { echo "move $* failed"; exit 1; }
        awk -v p="$proto" -v a="$2" '{print $1, p, $2, a}' "$out" >>"$CONNS"
    fi
    MOVED_PID=$(head -1 "$out" | cut -d' ' -f1)
    # Distinct local ports: a reused port is the same tuple, one connection entry.
    MOVED_N=$(cut -d' ' -f2 "$out" | sort -u | wc -l)
}
t0=$(date +%s.%N)
# Bulk: each connection lives >= 100 ms (connect, pause, transfer), like the short ones.
move host tcp "$H4" "$N4" 5001 300000 150000 4 100
move host tcp "$H6" "$N6" 5002 200000 50000 3 100
# One unconnected UDP socket, 300 request/response datagrams (sendto).
move host udp "$H4" "$N4" 5003 1200 800 300 0 1 1
move ns tcp "$N4" "$H4" "$HP" 100000 20000 3 100
echo "$SRV tcp $HP $H4" >>"$CONNS"
# Short-lived: 250 TCP connections and 200 UDP sockets, each living about
# 100 ms (well under 300 ms), 25 at a time.
move host tcp "$H4" "$N4" 5001 1000 1000 250 100 25
BURST_PID=$MOVED_PID BURST_N=$MOVED_N
move host udp "$H6" "$N6" 5004 1000 1000 200 100 25
UDP_PID=$MOVED_PID UDP_N=$MOVED_N
move host tcp "$H6" "$N6" 5002 1000 1000 200 100 25
BURST6_PID=$MOVED_PID BURST6_N=$MOVED_N
move host udp "$H4" "$N4" 5003 1000 1000 200 100 25
UDP4_PID=$MOVED_PID UDP4_N=$MOVED_N
t1=$(date +%s.%N)
echo "workload took $(echo "$t1 - $t0" | bc) s; burst pid $BURST_PID ($BURST_N connections)"
sleep 1
kill -TERM "$TOPPID"
wait "$TOPPID"
rc=$?
kill -INT "$TD"
wait "$TD"
[ $rc -eq 0 ] || { echo "flowkit-top exited $rc: $(cat "$WORK/top.err")"; exit 1; }

fail=0
$PY "$FLOWKIT_SOURCE_DIR/tests/integration/proc_truth.py" "$WORK/truth.pcap" "$CONNS" \
    "$WORK/rank.json" "$H4" "$H6" || fail=1
# The bursts: their connections must be in the owner's row (drill-down count).
last=$(grep '^{' "$WORK/rank.json" | tail -1)
for pair in "$BURST_PID:$BURST_N" "$UDP_PID:$UDP_N" "$BURST6_PID:$BURST6_N" "$UDP4_PID:$UDP4_N"; do
    pid=${pair%%:*} n=${pair##*:}
    got=$(echo "$last" | $PY -c "import json,sys; r=[p for p in json.load(sys.stdin)['processes'] if p['pid']==$pid]; print(r[0]['connections'] if r else 0)")
    if [ $((got * 100)) -ge $((n * 99)) ]; then
        echo "ok   short connections of pid $pid: $got of $n attributed"
    else
        echo "FAIL short connections of pid $pid: $got of $n attributed"
        fail=1
    fi
done
cat "$WORK/top.err"
exit $fail
