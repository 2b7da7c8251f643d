#!/bin/bash
# Live capture on the host end of a veth: known TCP/UDP/ICMP traffic from a
# netns; flows and session events must equal tcpdump's view of the same
# link (computed by capture_ref.py), the known facts of the traffic must
# hold, and nothing may be dropped. Once inline (workers=0), once with 2
# workers.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS=fkcf$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h
P4="10.213.$N."
P6="fd00:213:$N:"

for workers in 0 2; do
    echo "=== workers=$workers"
    ref_start "$IF" "$WORK/ref$workers.pcap"
    cap_start "w$workers" -i "$IF" -o "workers=$workers"
    traffic "$NS" "$N"
    ref_stop "$WORK/ref$workers.pcap"
    cap_stop
    OUT=$WORK/w$workers.jsonl

    $PY "$SRC/tests/integration/capture_ref.py" compare "$WORK/ref$workers.pcap" "$OUT" "$P4" "$P6" ||
        fail "flows/events differ from the reference (workers=$workers)"

    # Nothing dropped anywhere.
    for k in kernel_drops queue_drops event_drops; do
        [ "$(capstat "$OUT" $k)" = 0 ] || fail "$k = $(capstat "$OUT" $k)"
    done

    # Known facts of the traffic.
    c=$(count_json "$OUT" ".type==\"event\" and .event==\"syn\" and .dst_port==8080 and (.src_addr|startswith(\"$P4\") or startswith(\"$P6\"))")
    [ "$c" = 4 ] || fail "expected 4 SYN events to 8080, got $c"
    c=$(count_json "$OUT" ".type==\"event\" and .event==\"fin\" and (.src_port==8080 or .dst_port==8080)")
    [ "$c" = 8 ] || fail "expected 8 FIN events (both sides of 4 sessions), got $c"
    c=$(count_json "$OUT" ".type==\"event\" and .event==\"rst\" and .src_port==8081 and .src_addr==\"${P4}1\"")
    [ "$c" = 1 ] || fail "expected 1 RST from the closed port, got $c"
    c=$(count_json "$OUT" ".type==\"flow\" and .proto==6 and .dst_port==8080 and .end_reason==3 and .bytes>1000 and .rev_bytes>2000")
    [ "$c" = 4 ] || fail "expected 4 closed TCP flows with 1000/2000 payload bytes, got $c"
    c=$(count_json "$OUT" ".type==\"flow\" and .proto==17 and .src_addr==\"${P4}2\" and .dst_port==8080 and .packets==5 and .rev_packets==5 and .bytes==640 and .rev_bytes==640")
    [ "$c" = 1 ] || fail "expected the IPv4 UDP flow 5+5 packets, 640+640 bytes"
    c=$(count_json "$OUT" ".type==\"flow\" and .proto==17 and .src_addr==\"${P6}:2\" and .packets==2 and .rev_packets==2 and .bytes==296 and .rev_bytes==296")
    [ "$c" = 1 ] || fail "expected the IPv6 UDP flow 2+2 packets, 296+296 bytes"
    c=$(count_json "$OUT" ".type==\"flow\" and .proto==1 and .src_addr==\"${P4}2\" and .dst_port==2048 and .packets==3 and .rev_packets==3 and .bytes==252 and .rev_bytes==252")
    [ "$c" = 1 ] || fail "expected the ICMP echo flow 3+3 packets, 252+252 bytes"
    echo "workers=$workers: ok ($(capstat "$OUT" packets) packets)"
done
echo PASS
