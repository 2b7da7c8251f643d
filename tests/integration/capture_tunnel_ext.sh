#!/bin/bash
# Inner IPv6 extension headers and inner fragments inside VXLAN, on every
# capture mode (pcap inline, 2 workers, ebpf, xdp): all give the same flows,
# the traffic's own ground truth (capture_tunnel_ext.py says what is sent).
#  - A real kernel vxlan device in each of two netns (A, B) joined by a
#    veth; the capture runs in A on its veth end with decode_tunnels=1.
#  - B writes inner frames onto its vxlan device (the kernel wraps them):
#    hop-by-hop, routing and destination options before UDP, ICMPv6 and
#    TCP; IPv6 fragments behind a hop-by-hop header, out of order; 16
#    extension headers (counted), and three inner packets that do not
#    decode (17 headers, hop-by-hop not first, a header past the end): each
#    of those counts as its outer datagram, without tunnel fields.
#  - B's kernel fragments two datagrams itself: over IPv4, and over IPv6
#    with a hop-by-hop header in each fragment.
#  - eBPF: the inner packet is parsed by a program reached by a tail call.
#    With that program taken out of its prog array (bpftool), the datagrams
#    count as their outer flows and in tunnels_undecoded, not silently.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

N=$(fk_netns_free_subnet) || fail "no free subnet number"
A=fkxa$$
B=fkxb$$
fk_netns_add_vxlan_pair "$A" "$B" "$N" # sets OA OB (outer) IA IB (inner IPv4)
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "cannot create the two netns and their vxlan"
IA6=fd00:214:$N::1 IB6=fd00:214:$N::2
ip -n "$A" addr add "$IA6/64" dev vx0 nodad && ip -n "$B" addr add "$IB6/64" dev vx0 nodad ||
    fail "inner IPv6 addresses"
AMAC=$(ip netns exec "$A" cat /sys/class/net/vx0/address)
BMAC=$(ip netns exec "$B" cat /sys/class/net/vx0/address)
ip -n "$A" neigh replace "$IB6" lladdr "$BMAC" dev vx0 nud permanent &&
    ip -n "$B" neigh replace "$IA6" lladdr "$AMAC" dev vx0 nud permanent || fail "inner neighbours"
# no router solicitations over the tunnel (less traffic the test did not send)
for ns in "$A" "$B"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.vx0.router_solicitations=0; done
MTU=$(ip netns exec "$B" cat /sys/class/net/vx0/mtu)
KBYTES=3000
SEND=$SRC/tests/integration/capture_tunnel_ext.py

# capture NAME ARGS...: capture_flows inside A in the background.
capture() {
    local name=$1
    shift
    ip netns exec "$A" "$CAPF" "$@" >"$WORK/$name.jsonl" 2>"$WORK/$name.err" &
    CAP_PID=$!
    fk_netns_on_exit "kill -9 $CAP_PID"
    wait_for "$WORK/$name.err" '^ready' 10 || fail "capture_flows did not start"
}

stop() {
    sleep 0.3
    kill -TERM "$CAP_PID"
    wait "$CAP_PID" || fail "capture_flows failed: $(cat "$WORK/$1.err")"
}

# sum OUT FILTER: "packets bytes" of the flows matching FILTER, both
# directions, summed over records (with workers a key may have several).
sum() {
    jq -rs "map(select(.type==\"flow\" and ($2))) | \"\(map(.packets + (.rev_packets // 0)) | add // 0) \(map(.bytes + (.rev_bytes // 0)) | add // 0)\"" "$1"
}

# expect OUT WHAT FILTER "PACKETS BYTES"
expect() {
    local got
    got=$(sum "$1" "$3")
    [ "$got" = "$4" ] || fail "$MODE: $2: got '$got', want '$4': $(jq -c "select(.type==\"flow\" and ($3))" "$1")"
}

TUN=".tunnel==\"vxlan\" and .vni==4242 and .outer_src_addr==\"$OB\" and .outer_dst_addr==\"$OA\""
INNER6="$TUN and .src_addr==\"$IB6\" and .dst_addr==\"$IA6\""
# fragments the kernel makes: n of (unfragmentable part + 8) bytes plus the
# fragmentable part (UDP header + data)
frag_bytes() { # UNFRAG_HDRS_BYTES FRAG_HDR_BYTES
    local per=$(((MTU - $1 - $2) / 8 * 8)) len=$((KBYTES + 8))
    local n=$(((len + per - 1) / per))
    echo "$n $((n * ($1 + $2) + len))"
}
K4=$(frag_bytes 20 0)
K6=$(frag_bytes 48 8)

for MODE in workers=0 workers=2 backend=ebpf backend=xdp; do
    name=${MODE#*=}
    if [ "${MODE%%=*}" = backend ] &&
        ! ip netns exec "$A" "$CAPF" -i va -o "$MODE" -o duration=0.2 >/dev/null 2>"$WORK/probe.err"; then
        echo "################################################################" >&2
        echo "SKIP ($MODE): $(cat "$WORK/probe.err")" >&2
        echo "################################################################" >&2
        continue
    fi
    capture "x$name" -i va -o decode_tunnels=1 -o "$MODE"
    ip netns exec "$B" $PY "$SEND" frames vx0 "$AMAC" "$IB6" "$IA6" || fail "frame sender"
    ip netns exec "$B" $PY "$SEND" kernel "$IB" "$IA" "$IB6" "$IA6" $KBYTES || fail "kernel sender"
    stop "x$name"
    OUT=$WORK/x$name.jsonl
    expect "$OUT" "hop-by-hop, routing, destination options, UDP" "$INNER6 and .proto==17 and .src_port==41001 and .dst_port==7001" "3 348"
    expect "$OUT" "ICMPv6 after destination options" "$INNER6 and .proto==58 and .src_port==0 and .dst_port==51207" "2 112"
    expect "$OUT" "TCP RST after a routing header" "$INNER6 and .proto==6 and .src_port==41003 and .dst_port==7003 and .tcp_flags==4" "1 68"
    expect "$OUT" "fragments 1 and 3 (with ports)" "$INNER6 and .proto==17 and .src_port==41004 and .dst_port==7004" "2 144"
    expect "$OUT" "fragment 2, before its first (port-less)" "$INNER6 and .proto==17 and .src_port==0 and .dst_port==0" "1 72"
    expect "$OUT" "16 extension headers" "$INNER6 and .proto==17 and .src_port==41005 and .dst_port==7005" "1 180"
    expect "$OUT" "inner packets that do not decode, as outer datagrams" ".proto==17 and .src_addr==\"$OB\" and .dst_addr==\"$OA\" and .dst_port==4789 and (.tunnel | not)" "3 466"
    expect "$OUT" "IPv4 fragmented by the kernel" "$TUN and .src_addr==\"$IB\" and .proto==17 and .src_port==41010 and .dst_port==7010" "$K4"
    expect "$OUT" "IPv6 fragmented by the kernel" "$INNER6 and .proto==17 and .src_port==41011 and .dst_port==7011" "$K6"
    for k in kernel_drops queue_drops kernel_map_full tunnels_undecoded; do
        [ "$(capstat "$OUT" $k)" = 0 ] || fail "$MODE: $k = $(capstat "$OUT" $k)"
    done
    [ "$(capstat "$OUT" frags_unmatched)" = 1 ] || fail "$MODE: frags_unmatched = $(capstat "$OUT" frags_unmatched), want 1"
    echo "$MODE: inner extension headers and fragments: ok (kernel fragments: v4 '$K4', v6 '$K6')"
    [ "${MODE%%=*}" = backend ] || continue

    # The inner parser's program taken out of its prog array: every tunnel
    # datagram is counted as its outer flow, and in tunnels_undecoded.
    capture "miss$name" -i va -o decode_tunnels=1 -o "$MODE"
    want=fk_tc_inner_pro
    [ "$MODE" = backend=xdp ] && want=fk_xdp_inner_pr
    map=
    for f in /proc/$CAP_PID/fdinfo/*; do
        id=$(sed -n 's/^map_id:[[:space:]]*//p' "$f" 2>/dev/null)
        [ -n "$id" ] || continue
        shown=$(bpftool map show id "$id") # whole, then grep: no SIGPIPE under pipefail
        grep -q "name $want " <<<"$shown" && map=$id && break
    done
    [ -n "$map" ] || fail "$MODE: no prog array $want held by the capture"
    bpftool map lookup id "$map" key 0 0 0 0 >/dev/null 2>&1 || fail "$MODE: the inner parser is not in its prog array"
    bpftool map delete id "$map" key 0 0 0 0 || fail "$MODE: cannot empty the prog array"
    ip netns exec "$B" $PY "$SEND" plain vx0 "$AMAC" "$IB6" "$IA6" 5 || fail "plain sender"
    stop "miss$name"
    OUT=$WORK/miss$name.jsonl
    # Every tunnel datagram in the window is counted as its outer flow and in
    # tunnels_undecoded: the 5 frames sent (5 inner packets of 116 bytes +
    # 50 bytes of outer headers each) and whatever else B's vxlan device
    # sent meanwhile (IPv6 neighbour or multicast traffic), in both.
    undecoded=$(capstat "$OUT" tunnels_undecoded)
    read -r op ob < <(sum "$OUT" ".proto==17 and .src_addr==\"$OB\" and .dst_addr==\"$OA\" and .dst_port==4789 and (.tunnel | not)")
    [ "$undecoded" -ge 5 ] && [ "$undecoded" = "$op" ] && [ "$ob" -ge 830 ] ||
        fail "$MODE: tunnels_undecoded = $undecoded, outer datagrams: $op packets, $ob bytes; want the same count, at least 5 and 830 bytes"
    c=$(count_json "$OUT" ".type==\"flow\" and .tunnel")
    [ "$c" = 0 ] || fail "$MODE: tunnelled flows without the inner parser"
    echo "$MODE: a missing inner parser is counted (tunnels_undecoded $undecoded, 5 sent)"
done
echo PASS
