#!/bin/bash
# Live capture on the host end of a veth: known TCP/UDP/ICMP traffic from a
# netns; flows and session events must equal tcpdump's view of the same
# link (computed by capture_ref.py), the known facts of the traffic must
# hold, and nothing may be dropped. Once inline (workers=0), once with 2
# workers, once with flows counted in the kernel (backend=ebpf: tc on
# ingress and egress) and once with XDP (backend=xdp: ingress only, compared
# with tcpdump's view of the incoming packets); the eBPF runs are skipped
# loudly when the build or the kernel cannot load them. The traffic includes
# fragmented UDP datagrams: later fragments count on their first one's flow.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS=fkcf$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h
P4="10.213.$N."
P6="fd00:213:$N:"

# expect N JQ-FILTER WHAT: N lines of $OUT match JQ-FILTER (WHAT says what
# they are), else the test fails.
expect() {
    local c
    c=$(count_json "$OUT" "$2")
    [ "$c" = "$1" ] || fail "$mode: expected $3: $c lines match, not $1"
}

# frag_room: waits (at most the kernel's reassembly timeout + 5 s) until
# the host's IPv4 and IPv6 fragment memory (/proc/net/sockstat*) is clear of
# its high threshold by 64 KiB. Above it the kernel refuses every new
# reassembly and counts ReasmFails; the fragmented datagrams of the traffic
# would then go unanswered. A test that leaves incomplete datagrams to the
# host behind fills it for that timeout: capture_fragments' first fragments
# (4,195,080 bytes of 4,194,304 for 30 s after it; capture_flows run then
# timed out on its first fragmented echo).
frag_room() {
    local hi4 hi6 secs m4 m6 i
    hi4=$(sysctl -n net.ipv4.ipfrag_high_thresh)
    hi6=$(sysctl -n net.ipv6.ip6frag_high_thresh)
    secs=$(($(sysctl -n net.ipv4.ipfrag_time) + 5))
    for i in $(seq 1 $((secs * 10))); do
        m4=$(awk '/^FRAG:/ {print $5}' /proc/net/sockstat)
        m6=$(awk '/^FRAG6:/ {print $5}' /proc/net/sockstat6)
        [ $((m4 + 65536)) -lt "$hi4" ] && [ $((m6 + 65536)) -lt "$hi6" ] && return 0
        [ "$i" = 1 ] && echo "waiting for the host's fragment memory (IPv4 $m4, IPv6 $m6 bytes)"
        sleep 0.1
    done
    fail "the host's fragment memory stayed full for $secs s (IPv4 $m4 of $hi4, IPv6 $m6 of $hi6 bytes)"
}

TRAFFIC_FRAG=1
for mode in $(capture_modes "$IF"); do
    echo "=== $mode"
    name=${mode#*=}
    frag_room
    ref_and_cap_start w "$mode" "$IF"
    traffic "$NS" "$N"
    ref_stop "$WORK/ref$name.pcap"
    cap_stop
    OUT=$WORK/w$name.jsonl

    $PY "$SRC/tests/integration/capture_ref.py" compare "$WORK/ref$name.pcap" "$OUT" "$P4" "$P6" ||
        fail "flows/events differ from the reference ($mode)"

    # Nothing dropped anywhere.
    for k in kernel_drops queue_drops event_drops kernel_map_full kernel_events_lost; do
        [ "$(capstat "$OUT" $k)" = 0 ] || fail "$k = $(capstat "$OUT" $k)"
    done
    if [ "$mode" = backend=xdp ]; then
        # Ingress only: the server's replies are not seen.
        expect 4 ".type==\"flow\" and .direction==\"ingress\" and .proto==6 and .dst_port==8080 and .rev_packets==0" \
            "4 ingress-only TCP flows to 8080"
        echo "$mode: ok ($(capstat "$OUT" packets) packets)"
        continue
    fi
    if [ "$mode" = backend=ebpf ]; then
        expect 4 ".type==\"flow\" and .proto==6 and .dst_port==8080 and .direction==\"ingress\" and .in_if>0" \
            "4 TCP flows to 8080 started on ingress"
    fi

    # Known facts of the traffic.
    expect 4 ".type==\"event\" and .event==\"syn\" and .dst_port==8080 and (.src_addr|startswith(\"$P4\") or startswith(\"$P6\"))" \
        "4 SYN events to 8080"
    expect 8 ".type==\"event\" and .event==\"fin\" and (.src_port==8080 or .dst_port==8080)" \
        "8 FIN events (both sides of 4 sessions)"
    expect 1 ".type==\"event\" and .event==\"rst\" and .src_port==8081 and .src_addr==\"${P4}1\"" \
        "1 RST from the closed port"
    expect 4 ".type==\"flow\" and .proto==6 and .dst_port==8080 and .end_reason==3 and .bytes>1000 and .rev_bytes>2000" \
        "4 closed TCP flows with 1000/2000 payload bytes"
    expect 1 ".type==\"flow\" and .proto==17 and .src_addr==\"${P4}2\" and .dst_port==8080 and .packets==5 and .rev_packets==5 and .bytes==640 and .rev_bytes==640" \
        "the IPv4 UDP flow 5+5 packets, 640+640 bytes"
    expect 1 ".type==\"flow\" and .proto==17 and .src_addr==\"${P6}:2\" and .packets==2 and .rev_packets==2 and .bytes==296 and .rev_bytes==296" \
        "the IPv6 UDP flow 2+2 packets, 296+296 bytes"
    expect 1 ".type==\"flow\" and .proto==1 and .src_addr==\"${P4}2\" and .dst_port==2048 and .packets==3 and .rev_packets==3 and .bytes==252 and .rev_bytes==252 and .rev_icmp_type==0 and .rev_icmp_code==0" \
        "the ICMP echo flow 3+3 packets, 252+252 bytes, replies of type 0"
    # 3000 bytes + UDP header in 3 fragments each way: IPv4 1480+1480+48
    # bytes of data under 20-byte headers, IPv6 1448+1448+112 under 40 + 8
    # (fragment header).
    expect 1 ".type==\"flow\" and .proto==17 and .src_addr==\"${P4}2\" and .dst_port==8082 and .packets==3 and .rev_packets==3 and .bytes==3068 and .rev_bytes==3068" \
        "the fragmented IPv4 UDP flow 3+3 packets, 3068+3068 bytes"
    expect 1 ".type==\"flow\" and .proto==17 and .src_addr==\"${P6}:2\" and .dst_port==8082 and .packets==3 and .rev_packets==3 and .bytes==3152 and .rev_bytes==3152" \
        "the fragmented IPv6 UDP flow 3+3 packets, 3152+3152 bytes"
    expect 0 ".type==\"flow\" and .proto==17 and (.src_port==0 or .dst_port==0)" \
        "no UDP flow without ports (later fragments on their flow)"
    echo "$mode: ok ($(capstat "$OUT" packets) packets)"
done
echo PASS
