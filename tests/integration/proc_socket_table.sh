#!/bin/bash
# Socket table (sock_diag, and the /proc/net fallback) + inode->pid index map
# every tuple of known processes to the right pid: TCP and UDP, IPv4 and IPv6,
# host clients to netns servers and netns clients to host servers (connected
# sockets, a listener's accepted sockets, wildcard-bound UDP and TCP).
set -u
. "$FLOWKIT_SOURCE_DIR/tests/integration/proc_lib.bash"
need_root proc_socket_table
[ -x "$PROBE" ] || { echo "missing $PROBE" >&2; exit 1; }
make_netns

start_server ns tcp "$N4" 5001
start_server ns tcp "$N6" 5002
start_server ns udp "$N4" 5003
start_server ns udp "$N6" 5004
start_server host tcp "$H4" 6001
start_server host tcp :: 6002
start_server host udp 0.0.0.0 6003
start_server host udp :: 6004
SRV_TCP4=${PIDS[4]} SRV_TCP6=${PIDS[5]} SRV_UDP4=${PIDS[6]} SRV_UDP6=${PIDS[7]}

# hold WHERE PROTO SRC DST PORT -> sets HPID HPORT
hold() {
    local where=$1 fifo="$WORK/in.$RANDOM$RANDOM" out="$WORK/hold.$RANDOM$RANDOM"
    shift
    mkfifo "$fifo"
    if [ "$where" = ns ]; then
        ip netns exec "$NS" $PY "$PEERS" hold "$@" <"$fifo" >"$out" 2>&1 &
    else
        $PY "$PEERS" hold "$@" <"$fifo" >"$out" 2>&1 &
    fi
    PIDS+=($!)
    exec {fd}>"$fifo" # keeps the client's stdin open until we exit
    local i
    for i in $(seq 50); do
        [ -s "$out" ] && break
        sleep 0.1
    done
    read -r HPID HPORT <"$out"
    HPORT=${HPORT:-0}
}

CASES="$WORK/cases"
: >"$CASES"
# expect PROTO LOCAL LPORT REMOTE RPORT PID LABEL
expect() { echo "$*" >>"$CASES"; }

hold host tcp "$H4" "$N4" 5001
expect tcp "$H4" "$HPORT" "$N4" 5001 "$HPID" tcp4-client
hold host tcp "$H6" "$N6" 5002
expect tcp "$H6" "$HPORT" "$N6" 5002 "$HPID" tcp6-client
hold host udp "$H4" "$N4" 5003
expect udp "$H4" "$HPORT" "$N4" 5003 "$HPID" udp4-connected
hold host udp "$H6" "$N6" 5004
expect udp "$H6" "$HPORT" "$N6" 5004 "$HPID" udp6-connected
hold ns tcp "$N4" "$H4" 6001
expect tcp "$H4" 6001 "$N4" "$HPORT" "$SRV_TCP4" tcp4-accepted
hold ns tcp "$N6" "$H6" 6002
expect tcp "$H6" 6002 "$N6" "$HPORT" "$SRV_TCP6" tcp6-accepted-wildcard
hold ns tcp "$N4" "$H4" 6002
expect tcp "$H4" 6002 "$N4" "$HPORT" "$SRV_TCP6" tcp4-on-dualstack-v6
hold ns udp "$N4" "$H4" 6003
expect udp "$H4" 6003 "$N4" "$HPORT" "$SRV_UDP4" udp4-wildcard
hold ns udp "$N6" "$H6" 6004
expect udp "$H6" 6004 "$N6" "$HPORT" "$SRV_UDP6" udp6-wildcard
expect tcp "$H4" 1 "$N4" 1 0 nobody

fail=0
for mode in sock_diag procnet; do
    opt=""
    [ $mode = procnet ] && opt=--procnet
    # shellcheck disable=SC2086
    cut -d' ' -f1-5 "$CASES" | "$PROBE" $opt >"$WORK/got.$mode" 2>"$WORK/err.$mode" || {
        echo "probe failed: $(cat "$WORK/err.$mode")"
        exit 1
    }
    cat "$WORK/err.$mode"
    n=0
    while read -r proto l lp r rp want label; do
        n=$((n + 1))
        got=$(sed -n "${n}p" "$WORK/got.$mode")
        if [ "${got%% *}" = "$want" ]; then
            echo "ok   $mode $label: $proto $l:$lp -> $r:$rp = pid $got"
        else
            echo "FAIL $mode $label: $proto $l:$lp -> $r:$rp: want pid $want, got '$got'"
            fail=1
        fi
    done <"$CASES"
done

# Sockets born after the engine's last sync: found by the exact sock_diag
# query and a targeted index rescan, not by the periodic dump.
mkfifo "$WORK/probe.in"
"$PROBE" <"$WORK/probe.in" >"$WORK/got.late" 2>"$WORK/err.late" &
probe=$!
PIDS+=($probe)
sleep 30 >"$WORK/probe.in" & # holds the fifo open; its exit is the probe's EOF
keeper=$!
PIDS+=($keeper)
sleep 0.3
: >"$CASES"
hold host tcp "$H4" "$N4" 5001
expect tcp "$H4" "$HPORT" "$N4" 5001 "$HPID" late-tcp4-client
hold host udp "$H6" "$N6" 5004
expect udp "$H6" "$HPORT" "$N6" 5004 "$HPID" late-udp6-client
hold ns tcp "$N6" "$H6" 6002
expect tcp "$H6" 6002 "$N6" "$HPORT" "$SRV_TCP6" late-tcp6-accepted
cut -d' ' -f1-5 "$CASES" >"$WORK/probe.in"
kill "$keeper"
wait "$probe"
cat "$WORK/err.late"
grep -q 'packets 3 hits 3 misses 0' "$WORK/err.late" || { echo "FAIL late: expected 3 hits"; fail=1; }
n=0
while read -r proto l lp r rp want label; do
    n=$((n + 1))
    got=$(sed -n "${n}p" "$WORK/got.late")
    if [ "${got%% *}" = "$want" ]; then
        echo "ok   $label: $proto $l:$lp -> $r:$rp = pid $got"
    else
        echo "FAIL $label: $proto $l:$lp -> $r:$rp: want pid $want, got '$got'"
        fail=1
    fi
done <"$CASES"
exit $fail
