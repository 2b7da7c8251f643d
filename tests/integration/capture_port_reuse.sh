#!/bin/bash
# A TCP port reused at once: NCONN connections back to back on one 4-tuple
# (fixed client port, SO_REUSEADDR), per address family, from a netns to the
# host over a veth; every other one ends with FIN from each side (the
# server's TIME_WAIT socket takes the next SYN), the others with the
# client's RST (capture_reuse.py). A SYN without ACK on a flow that has
# ended starts a new flow, within the linger second too: each connection is
# a flow of its own, with its own session events, on every backend (pcap
# inline, 2 workers, ebpf: the kernel ends the old flow itself and sends its
# counters through the ring buffer; xdp: ingress only, where the server's
# FIN is not seen, so only a connection that ended with an RST is ended).
# Compared with tcpdump's view of the link (capture_ref.py applies the same
# rule), plus the known counts; nothing may be lost.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NCONN=50
CPORT=40500
SPORT=8090
NS=fkpr$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h
P4="10.213.$N."
P6="fd00:213:$N:"

reuse_traffic() {
    local log=$WORK/reuse-$1.log
    $PY "$SRC/tests/integration/capture_reuse.py" server "${P4}1" "${P6}:1" $SPORT $NCONN \
        >"$log" 2>&1 &
    local spid=$!
    fk_netns_on_exit "kill -9 $spid"
    wait_for "$log" listening 10 || fail "reuse server did not start"
    fk_netns_exec "$NS" $PY "$SRC/tests/integration/capture_reuse.py" client "${P4}1" "${P6}:1" \
        $SPORT $CPORT $NCONN || fail "reuse client failed"
    wait $spid || fail "reuse server failed: $(cat "$log")"
}

for mode in $(capture_modes "$IF"); do
    echo "=== $mode"
    name=${mode#*=}
    ref_and_cap_start w "$mode" "$IF"
    reuse_traffic "$name"
    if { [ "$name" = ebpf ] || [ "$name" = xdp ]; } && command -v bpftool >/dev/null; then
        # the TCP data went through the per-CPU flow cache (ebpf_cache_slots)
        read -r -a kc <<<"$(kernel_counters "$CAP_PID")" || fail "$mode: no fk_counters map"
        echo "$mode: kernel packets ${kc[0]}, cache hits ${kc[2]}, slots claimed ${kc[3]}"
        [ "${kc[2]}" -gt 0 ] || fail "$mode: no packet was counted in the flow cache"
    fi
    # tcpdump's packet socket hands over a block of packets when it fills
    # or when its 1 s timer retires it: the whole burst fits in one block
    sleep 1.2
    ref_stop "$WORK/ref$name.pcap"
    cap_stop
    OUT=$WORK/w$name.jsonl

    $PY "$SRC/tests/integration/capture_ref.py" compare "$WORK/ref$name.pcap" "$OUT" "$P4" "$P6" ||
        fail "flows/events differ from the reference ($mode)"
    for k in kernel_drops queue_drops event_drops kernel_map_full kernel_events_lost; do
        [ "$(capstat "$OUT" $k)" = 0 ] || fail "$mode: $k = $(capstat "$OUT" $k)"
    done
    # Known counts, per family: every connection is a flow (xdp: a
    # connection ended by FIN on both sides looks open from ingress, so the
    # next one joins it: NCONN / 2 flows, each ending with an RST).
    want=$NCONN
    [ "$mode" = backend=xdp ] && want=$((NCONN / 2))
    for pre in "$P4" "$P6"; do
        c=$(count_json "$OUT" ".type==\"flow\" and .proto==6 and .src_port==$CPORT and .dst_port==$SPORT and (.src_addr|startswith(\"$pre\")) and .end_reason==3")
        [ "$c" = "$want" ] || fail "$mode: expected $want closed flows from ${pre}x:$CPORT, got $c"
        c=$(count_json "$OUT" ".type==\"event\" and .event==\"syn\" and .src_port==$CPORT and (.src_addr|startswith(\"$pre\"))")
        [ "$c" = "$want" ] || fail "$mode: expected $want SYN events from ${pre}x:$CPORT, got $c"
        c=$(count_json "$OUT" ".type==\"event\" and .event==\"rst\" and .src_port==$CPORT and (.src_addr|startswith(\"$pre\"))")
        [ "$c" = $((NCONN / 2)) ] || fail "$mode: expected $((NCONN / 2)) RST events from ${pre}x:$CPORT, got $c"
    done
    echo "$mode: ok ($(capstat "$OUT" packets) packets)"
done
echo PASS
