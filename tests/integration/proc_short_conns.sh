#!/bin/bash
# Every connection on the right process, however short (issue #20): bursts
# of connections living a millisecond or two, from client processes that
# exit right after their last packet, over a veth into a netns; TCP client
# side and server side, UDP connected and unconnected, IPv4 and IPv6.
# Three flowkit-export captures watch the same workload: attribution=bpf on
# libpcap and attribution=bpf with flows counted in the kernel
# (backend=ebpf, "ebpf" below) must each put >= 99.9 % of every burst's
# bytes and connections on the right pid and nothing on a wrong pid;
# attribution=sockdiag's figures are only reported. Without the BPF
# programs (build or kernel) the bpf and ebpf halves skip loudly.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/integration/proc_lib.bash"
need_root proc_short_conns
EXPORT="$FLOWKIT_BUILD_DIR/cli/flowkit-export/flowkit-export"
BURST="$FLOWKIT_SOURCE_DIR/tests/integration/proc_burst.py"
CHECK="$FLOWKIT_SOURCE_DIR/tests/integration/proc_burst_check.py"
[ -x "$EXPORT" ] || { echo "missing $EXPORT" >&2; exit 1; }
COUNT=${PROC_SHORT_COUNT:-1000}
make_netns

# Servers for the host's clients, in the netns; servers on the host for the
# netns's clients (their accepted sockets are the server side).
start_server ns tcp "$N4" 5001
start_server ns tcp "$N6" 5002
start_server ns udp "$N4" 5003
start_server ns udp "$N6" 5004
HT4=$(free_port tcp)
start_server host tcp "$H4" "$HT4"
SRV4=${PIDS[-1]}
HT6=$(free_port tcp)
start_server host tcp "$H6" "$HT6"
SRV6=${PIDS[-1]}

# The BPF half runs when the programs load here (the loader's refusal says why).
MODES="sockdiag"
if timeout 10 "$EXPORT" -i "$VH" --attribution bpf --stdout --flows --duration 0.3 \
    >/dev/null 2>"$WORK/bpfprobe.err"; then
    MODES="bpf ebpf sockdiag"
else
    echo "!!! SKIP (bpf half): attribution=bpf does not start here:" \
        "$(tail -2 "$WORK/bpfprobe.err")" >&2
fi

CAPS=()
for m in $MODES; do
    args=(--attribution "$m")
    [ "$m" = ebpf ] && args=(--attribution bpf --set backend=ebpf)
    "$EXPORT" -i "$VH" "${args[@]}" --stdout --flows --stats \
        >"$WORK/flows.$m" 2>"$WORK/export.$m.err" &
    PIDS+=($!)
    CAPS+=($!)
done
for _ in $(seq 100); do
    ok=1
    for m in $MODES; do grep -q 'attribution' "$WORK/export.$m.err" || ok=0; done
    [ $ok -eq 1 ] && break
    sleep 0.1
done
sleep 0.5

CONNS="$WORK/conns"
: >"$CONNS"
# burst WHERE KIND SRC DST PORT FIRST_PORT LABEL: COUNT exchanges from 50
# client processes; host-side clients are the truth of their own sockets.
burst() {
    local where=$1 kind=$2 src=$3 dst=$4 port=$5 first=$6 label=$7 out="$WORK/burst.$7"
    local run=(timeout 120 "$PY" "$BURST" burst "$kind" "$src" "$dst" "$port" "$COUNT" 50 1200 6000 "$first")
    [ "$kind" = tcp ] || run=(timeout 120 "$PY" "$BURST" burst "$kind" "$src" "$dst" "$port" "$COUNT" 50 300 1000 "$first")
    if [ "$where" = ns ]; then
        ip netns exec "$NS" "${run[@]}" >"$out" || { echo "burst $label failed"; exit 1; }
    else
        "${run[@]}" >"$out" || { echo "burst $label failed"; exit 1; }
        local proto=tcp
        [ "$kind" = tcp ] || proto=udp
        awk -v p=$proto -v a="$src" -v l="$label" '{print $1, p, $2, a, l}' "$out" >>"$CONNS"
    fi
    sort -n -k3 "$out" | awk -v l="$label" '{a[NR]=$3} END {printf "%-22s %d exchanges, lifetime median %d us, max %d us\n", l, NR, a[int(NR/2)+1], a[NR]}'
}
# Each burst binds its clients to ports of its own (3 per exchange, ports
# others hold are skipped), under the ephemeral range.
burst host tcp "$H4" "$N4" 5001 20000 tcp4-client
burst host tcp "$H6" "$N6" 5002 23000 tcp6-client
burst host udp "$H4" "$N4" 5003 26000 udp4-connected
burst host udpu "$H6" "$N6" 5004 29000 udp6-unconnected
burst ns tcp "$N4" "$H4" "$HT4" 40000 tcp4-server
echo "$SRV4 tcp $HT4 $H4 tcp4-server" >>"$CONNS"
burst ns tcp "$N6" "$H6" "$HT6" 44000 tcp6-server
echo "$SRV6 tcp $HT6 $H6 tcp6-server" >>"$CONNS"
sleep 1
for p in "${CAPS[@]}"; do kill -TERM "$p"; done
rc=0
for p in "${CAPS[@]}"; do wait "$p" || rc=1; done
[ $rc -eq 0 ] || { echo "a capture failed:"; cat "$WORK"/export.*.err; exit 1; }
# Nothing lost on the way (the --stats line); the ebpf capture's line has
# the kernel map's counters.
for m in $MODES; do
    for k in kernel_drops queue_drops event_drops flows_evicted attrib_events_lost kernel_map_full \
        kernel_events_lost; do
        grep -q " $k=0\b" "$WORK/export.$m.err" ||
            { echo "$m: $k not 0: $(grep 'capture packets' "$WORK/export.$m.err")"; exit 1; }
    done
done

fail=0
for m in $MODES; do
    min=0
    [ "$m" = sockdiag ] || min=99.9
    echo "--- $m (asserted: ${min/#0/no, reported only})"
    grep -i 'attribution' "$WORK/export.$m.err" | head -3
    $PY "$CHECK" "$WORK/flows.$m" "$CONNS" "$min" "$H4" "$H6" || fail=1
done
exit $fail
