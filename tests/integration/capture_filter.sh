#!/bin/bash
# BPF filter on a live device: with "tcp port 8080" only the four TCP
# sessions are seen (equal to tcpdump with the same filter); the "any"
# device with a filter sees exactly our UDP exchange; a bad
# expression fails activate with FK_EFILTER and libpcap's message; a missing
# device fails with FK_ENODEV "<dev>: no such device".
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS=fkcb$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h
P4="10.213.$N."
P6="fd00:213:$N:"

ref_start "$IF" "$WORK/ref.pcap" tcp port 8080
cap_start f -i "$IF" -o "filter=tcp port 8080"
traffic "$NS" "$N"
ref_stop "$WORK/ref.pcap"
cap_stop
OUT=$WORK/f.jsonl

$PY "$SRC/tests/integration/capture_ref.py" compare "$WORK/ref.pcap" "$OUT" "$P4" "$P6" ||
    fail "flows/events differ from tcpdump with the same filter"
ref_count=$($PY "$SRC/tests/integration/capture_ref.py" count "$WORK/ref.pcap")
[ "$(capstat "$OUT" packets)" = "$ref_count" ] ||
    fail "flowkit saw $(capstat "$OUT" packets) packets, tcpdump $ref_count"
c=$(count_json "$OUT" '.type=="flow" and .proto!=6')
[ "$c" = 0 ] || fail "$c non-TCP flows passed the filter"
c=$(count_json "$OUT" '.type=="flow" and .proto==6')
[ "$c" = 4 ] || fail "expected 4 TCP flows, got $c"
c=$(count_json "$OUT" '.type=="event" and (.src_port==8081 or .dst_port==8081)')
[ "$c" = 0 ] || fail "events of port 8081 passed the filter"
[ "$(capstat "$OUT" kernel_drops)" = 0 ] || fail "kernel drops"

# The "any" device (Linux cooked capture, SLL2) with a filter on our subnet.
cap_start any -i any -o "filter=net 10.213.$N.0/24 and udp port 8080"
traffic "$NS" "$N"
sleep 0.3
cap_stop
c=$(count_json "$WORK/any.jsonl" ".type==\"flow\" and .proto==17 and .src_addr==\"${P4}2\" and .packets==5 and .rev_packets==5 and .bytes==640 and .rev_bytes==640")
[ "$c" = 1 ] || fail "any: expected the IPv4 UDP flow 5+5 packets, 640+640 bytes: $(cat "$WORK/any.jsonl")"
c=$(count_json "$WORK/any.jsonl" '.type=="flow" and .proto!=17')
[ "$c" = 0 ] || fail "any: $c flows that are not UDP"

# A bad expression: activate fails, the message is libpcap's.
rc=0
"$CAPF" -i "$IF" -o "filter=tcp port" >/dev/null 2>"$WORK/bad.err" || rc=$?
[ $rc = 1 ] || fail "bad filter: exit $rc"
grep -q 'FK_EFILTER' "$WORK/bad.err" || fail "bad filter: $(cat "$WORK/bad.err")"
grep -q 'filter "tcp port": .*syntax error' "$WORK/bad.err" || fail "no pcap message: $(cat "$WORK/bad.err")"

# A missing device.
rc=0
"$CAPF" -i "fkno$$" >/dev/null 2>"$WORK/nodev.err" || rc=$?
[ $rc = 1 ] || fail "missing device: exit $rc"
grep -q "fkno$$: no such device (FK_ENODEV)" "$WORK/nodev.err" || fail "missing device: $(cat "$WORK/nodev.err")"
echo PASS
