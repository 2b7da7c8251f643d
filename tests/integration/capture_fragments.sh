#!/bin/bash
# IP fragments at the hard end, on every backend (pcap inline, 2 workers,
# ebpf, xdp). A netns writes raw Ethernet frames (AF_PACKET) onto its veth
# end, so the order of the fragments is the test's (capture_frags.py):
#  - out of order: a UDP datagram in 3 fragments sent as 2, 1, 3, over IPv4
#    and over IPv6. The second fragment comes before the first, whose ports
#    it would need: it is counted on the port-less flow of its addresses and
#    in frags_unmatched; the first and the third make the flow with ports.
#  - destination options first: an IPv6 datagram whose fragmentable part
#    starts with destination options, so both fragment headers say 60: the
#    later fragment still joins its first one's UDP flow (the datagram is
#    known by addresses and id, RFC 8200), in order, on every backend.
#  - overflow: NFRAG first fragments (distinct ids, one flow), then their
#    last fragments. The fragment tables hold fewer first fragments than
#    that (ebpf: the kernel's LRU table of 4096; pcap: max_flows / 8 slots),
#    so some last fragments find no first fragment: every one of them is in
#    frags_unmatched and in the port-less flow, none is lost.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NFRAG=5000
NS=fkfr$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h
H4=10.213.$N.1 C4=10.213.$N.2 O4=10.213.$N.3 X4=10.213.$N.4 # X4: no one's (capture_frags.py)
H6=fd00:213:$N::1 C6=fd00:213:$N::2
MAC=$(cat /sys/class/net/$IF/address)

for mode in $(capture_modes "$IF"); do
    echo "=== $mode"
    name=${mode#*=}
    # max_flows 16384: the pcap path's fragment cache has 2048 slots
    cap_start "f$name" -i "$IF" -o "$mode" -o max_flows=16384
    fk_netns_exec "$NS" $PY "$SRC/tests/integration/capture_frags.py" veth0 "$MAC" "$C4" "$H4" \
        "$O4" "$X4" "$C6" "$H6" $NFRAG || fail "fragment sender failed"
    sleep 0.3
    cap_stop
    OUT=$WORK/f$name.jsonl
    for k in kernel_drops queue_drops event_drops kernel_map_full; do
        [ "$(capstat "$OUT" $k)" = 0 ] || fail "$mode: $k = $(capstat "$OUT" $k)"
    done
    # flow SRC SPORT -> "packets bytes" of the UDP flow from SRC:SPORT, summed
    # over its records (with workers, fragments whose first one is not
    # remembered go to the port-less key's shard: one record per shard)
    flow() {
        jq -rs "map(select(.type==\"flow\" and .proto==17 and .src_addr==\"$1\" and .src_port==$2)) | \"\(map(.packets) | add // 0) \(map(.bytes) | add // 0)\"" "$OUT"
    }
    # Out of order: IPv4 fragments of 44, 36, 28 IP bytes; IPv6 72, 64, 56.
    [ "$(flow "$C4" 4001)" = "2 72" ] || fail "$mode: IPv4 flow with ports: '$(flow "$C4" 4001)', want '2 72'"
    [ "$(flow "$C4" 0)" = "1 36" ] || fail "$mode: IPv4 port-less flow: '$(flow "$C4" 0)', want '1 36'"
    [ "$(flow "$C6" 4001)" = "2 128" ] || fail "$mode: IPv6 flow with ports: '$(flow "$C6" 4001)', want '2 128'"
    [ "$(flow "$C6" 0)" = "1 64" ] || fail "$mode: IPv6 port-less flow: '$(flow "$C6" 0)', want '1 64'"
    # Destination options first: fragments of 80 and 64 IP bytes.
    [ "$(flow "$C6" 4002)" = "2 144" ] || fail "$mode: IPv6 flow after destination options: '$(flow "$C6" 4002)', want '2 144'"
    # Overflow: first fragments of 36 IP bytes, last ones of 28.
    read -r mp mb < <(flow "$O4" 6000)
    read -r up ub < <(flow "$O4" 0)
    unmatched=$(capstat "$OUT" frags_unmatched)
    echo "$mode: $NFRAG last fragments: $((mp - NFRAG)) matched, $up unmatched (frags_unmatched $unmatched)"
    [ $((mp + up)) = $((2 * NFRAG)) ] || fail "$mode: $mp + $up packets, want $((2 * NFRAG))"
    [ "$mb" = $((36 * NFRAG + 28 * (mp - NFRAG))) ] || fail "$mode: flow with ports has $mb bytes"
    [ "$ub" = $((28 * up)) ] || fail "$mode: port-less flow has $ub bytes for $up fragments"
    [ "$unmatched" = $((up + 2)) ] || fail "$mode: frags_unmatched = $unmatched, want $up + 2 (not silent)"
    case $mode in
    backend=*) min=$((NFRAG - 4096)) ;;
    workers=0) min=$((NFRAG - 2048)) ;;
    *) min=1 ;;
    esac
    [ "$up" -ge $min ] || fail "$mode: only $up unmatched, the table cannot hold $((NFRAG - min))"
    echo "$mode: ok"
done
echo PASS
