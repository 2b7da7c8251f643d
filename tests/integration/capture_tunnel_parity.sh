#!/bin/bash
# The same flows from every capture mode for traffic at the hard end: 600
# random VXLAN/GENEVE frames (capture_tunnel_fuzz.py, fixed seeds) whose
# tunnel headers and inner packets are valid or broken in many ways
# (extension header chains of 0-18 headers, fragments, bad lengths, VLAN
# tags, cut headers, unknown protocols), then 600 frames that are such
# random packets themselves ("outer": 0-9 VLAN tags on the frame, UDP-Lite,
# IPv6 extension header chains, half the UDP datagrams tunnels in turn).
# The pcap path (lib/packet/decode.c) is the reference; 2 workers, ebpf and
# xdp (the kernel's fast, full and inner-packet parsers) must give the
# same flows: key, tunnel fields, packets and bytes, and the same
# frags_unmatched. The frames go to a MAC no host has, so nothing answers.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS=fktp$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h
COUNT=300

# flows OUT: one line per flow key of the frames sent (not the link's own
# traffic), sorted, with packets and bytes summed over records and
# directions
flows() {
    jq -rs 'map(select(.type=="flow" and (.tunnel != null or ([.src_addr, .dst_addr] | any(test("^(10\\.21[56]\\.0\\.|fd00:215::)")))))) | group_by([.src_addr, .dst_addr, .src_port, .dst_port, .proto, .vlan, .tunnel, .vni, .outer_src_addr, .outer_dst_addr]) | map("\(.[0].src_addr) \(.[0].dst_addr) \(.[0].src_port) \(.[0].dst_port) \(.[0].proto) vlan=\(.[0].vlan) \(.[0].tunnel) vni=\(.[0].vni) \(.[0].outer_src_addr) \(.[0].outer_dst_addr) packets=\(map(.packets + (.rev_packets // 0)) | add) bytes=\(map(.bytes + (.rev_bytes // 0)) | add)") | .[]' "$1" | sort
}

REF=
for mode in $(capture_modes "$IF"); do
    name=${mode#*=}
    cap_start "p$name" -i "$IF" -o "$mode" -o decode_tunnels=1
    for seed in 1 2; do
        fk_netns_exec "$NS" $PY "$SRC/tests/integration/capture_tunnel_fuzz.py" veth0 $seed $COUNT ||
            fail "frame sender failed"
    done
    for seed in 3 4; do
        fk_netns_exec "$NS" $PY "$SRC/tests/integration/capture_tunnel_fuzz.py" veth0 $seed $COUNT outer ||
            fail "frame sender failed (outer)"
    done
    sleep 0.3
    cap_stop
    OUT=$WORK/p$name.jsonl
    [ "$(capstat "$OUT" packets)" -ge $((4 * COUNT)) ] || fail "$mode: saw $(capstat "$OUT" packets) packets"
    for k in kernel_drops queue_drops kernel_map_full tunnels_undecoded; do
        [ "$(capstat "$OUT" $k)" = 0 ] || fail "$mode: $k = $(capstat "$OUT" $k)"
    done
    flows "$OUT" >"$WORK/p$name.flows"
    tunnelled=$(grep -vc ' null vni=null ' "$WORK/p$name.flows")
    outer=$(grep -c ' null vni=null ' "$WORK/p$name.flows")
    echo "$mode: $(wc -l <"$WORK/p$name.flows") flows ($tunnelled tunnelled, $outer outer datagrams), frags_unmatched $(capstat "$OUT" frags_unmatched)"
    if [ -z "$REF" ]; then
        REF=$WORK/p$name.flows
        REFOUT=$OUT
        [ "$tunnelled" -ge 100 ] && [ "$outer" -ge 50 ] ||
            fail "the frames should give both inner flows and outer datagrams"
        continue
    fi
    diff "$REF" "$WORK/p$name.flows" >"$WORK/p$name.diff" ||
        fail "$mode: flows differ from the pcap path's (< pcap, > $mode): $(head -20 "$WORK/p$name.diff")"
    [ "$(capstat "$OUT" frags_unmatched)" = "$(capstat "$REFOUT" frags_unmatched)" ] ||
        fail "$mode: frags_unmatched differs from the pcap path's"
done
echo PASS
