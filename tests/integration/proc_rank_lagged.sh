#!/bin/bash
# The socket watcher's dump cadence, seen from flowkit-top.
#
# 1. Lagged capture: with --buffer-timeout 1000 the kernel hands packets over
#    up to a second late, after connections of about 150 ms have closed, so
#    the exact per-connection query finds no socket. A warm-up burst makes
#    those misses; they switch the watcher to a dump every --sync-interval
#    ms, and the next burst (200 TCP connections, one process) must then be
#    attributed from the dumps' history: >= 99 % to the right pid, and the
#    library's statistics must show history hits.
# 2. Prompt capture (default 10 ms), outbound connections that live a second
#    and 100 short inbound ones to a host-side server (their SYN finds only
#    a half-open request, without an inode, then the listener): nothing is
#    missed, and the watcher stays at its slow cadence (every 10 x
#    sync-interval = 500 ms) instead of dumping the kernel's whole socket
#    hash every 50 ms.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/integration/proc_lib.bash"
need_root proc_rank_lagged
TOP="$FLOWKIT_BUILD_DIR/cli/flowkit-top/flowkit-top"
[ -x "$TOP" ] || { echo "missing $TOP" >&2; exit 1; }
make_netns
start_server ns tcp "$N4" 5001
HP=$(free_port tcp)
start_server host tcp "$H4" "$HP"
SRV=${PIDS[1]}

# start_top NAME ARGS...: flowkit-top --json in the background, waits for its first line.
start_top() {
    local name=$1
    shift
    FLOWKIT_TOP_DEBUG=1 "$TOP" --attribution sockdiag --json -d 0.5 "$@" "$VH" >"$WORK/$name.json" 2>"$WORK/$name.err" &
    TOPPID=$!
    PIDS+=($TOPPID)
    for _ in $(seq 100); do
        [ -s "$WORK/$name.json" ] && return 0
        sleep 0.1
    done
    echo "flowkit-top did not start: $(cat "$WORK/$name.err")"
    exit 1
}

stop_top() {
    kill -TERM "$TOPPID"
    wait "$TOPPID"
    local rc=$?
    [ $rc -eq 0 ] || { echo "flowkit-top exited $rc: $(tail -5 "$WORK/$1.err")"; exit 1; }
}

# stat NAME FIELD: a counter of the library's closing attribution line.
stat() {
    grep -o "attribution: packets.*" "$WORK/$1.err" | grep -o " $2 [0-9]*" | awk '{print $2}'
}

# move ARGS...: host-side clients (proc_peers.py move); sets MOVED_PID, MOVED_N.
move() {
    local out="$WORK/move.$RANDOM$RANDOM"
    timeout 60 $PY "$PEERS" move "$@" >"$out" || { echo "move $* failed"; exit 1; }
    MOVED_PID=$(head -1 "$out" | cut -d' ' -f1)
    MOVED_N=$(cut -d' ' -f2 "$out" | sort -u | wc -l)
}

connections_of() { # NAME PID: connections in the pid's row of the last refresh
    grep '^{' "$WORK/$1.json" | tail -1 |
        $PY -c "import json,sys; r=[p for p in json.load(sys.stdin)['processes'] if p['pid']==$2]; print(r[0]['connections'] if r else 0)"
}

fail=0

# ---- 1. lagged capture -------------------------------------------------------
start_top lagged --buffer-timeout 1000
move tcp "$H4" "$N4" 5001 1000 1000 60 150 25 # warm-up: these are missed
sleep 2
move tcp "$H4" "$N4" 5001 1000 1000 200 150 25
PID=$MOVED_PID N=$MOVED_N
sleep 2.5 # the last blocks come in
stop_top lagged
got=$(connections_of lagged "$PID")
hist=$(stat lagged history)
dumps=$(stat lagged dumps)
echo "lagged: $got of $N short connections attributed to pid $PID; history hits ${hist:-?}, dumps ${dumps:-?}"
if [ $((got * 100)) -lt $((N * 99)) ]; then
    echo "FAIL lagged capture: fewer than 99 % attributed"
    fail=1
fi
if [ "${hist:-0}" -lt 1 ]; then
    echo "FAIL lagged capture: no owner came from the dumps' history (the exact query cannot have found them)"
    fail=1
fi

# ---- 2. prompt capture, no misses ----------------------------------------------
t0=$(date +%s.%N)
start_top prompt
move tcp "$H4" "$N4" 5001 20000 20000 20 1000 4 # 20 connections of ~1 s
PID2=$MOVED_PID N2=$MOVED_N
ip netns exec "$NS" timeout 60 $PY "$PEERS" move tcp "$N4" "$H4" "$HP" 1000 1000 100 100 10 >/dev/null ||
    { echo "inbound move failed"; exit 1; }
sleep 1
stop_top prompt
t1=$(date +%s.%N)
got=$(connections_of prompt "$PID2")
got_in=$(connections_of prompt "$SRV")
dumps=$(stat prompt dumps)
queries=$(stat prompt queries)
# Slow cadence: a dump per 500 ms from the start of flowkit-top, one more at
# start and one when traffic begins; the fast one would make about 20 per
# second. (A loaded machine only makes the run longer and the allowance larger.)
allowed=$(echo "($t1 - $t0) * 3 + 4" | bc | cut -d. -f1)
echo "prompt: $got of $N2 connections attributed; ${dumps:-?} dumps in $(echo "$t1 - $t0" | bc) s (allowed $allowed), ${queries:-?} exact queries"
echo "prompt: $got_in of 100 inbound connections attributed to the server (pid $SRV)"
if [ "$got" -ne "$N2" ] || [ "$got_in" -ne 100 ]; then
    echo "FAIL prompt capture: not every connection attributed"
    fail=1
fi
if [ -z "$dumps" ] || [ "$dumps" -gt "$allowed" ]; then
    echo "FAIL prompt capture: the watcher dumped at the fast cadence without a missed connection"
    grep -i "exact query" "$WORK/prompt.err" | head -5
    fail=1
fi
exit $fail
