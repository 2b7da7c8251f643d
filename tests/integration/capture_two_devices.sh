#!/bin/bash
# Two devices at once (two netns, one veth each), with 2 workers: the flows
# and events of each link equal tcpdump's view of that link; the pcap store
# writes one file series per device (the device name in the file names),
# together holding every packet.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS1=fkc1$$
NS2=fkc2$$
N1=$(fk_netns_free_subnet) || fail "no free subnet"
fk_netns_add "$NS1" "$N1" || fail "cannot create netns 1"
N2=$(fk_netns_free_subnet) || fail "no free subnet"
fk_netns_add "$NS2" "$N2" || fail "cannot create netns 2"

ref_start "${NS1}h" "$WORK/ref1.pcap"
R1=$REF_PID
ref_start "${NS2}h" "$WORK/ref2.pcap"
R2=$REF_PID
mkdir "$WORK/store"
cap_start two -i "${NS1}h" -i "${NS2}h" -o workers=2 -o "pcap_store=$WORK/store"
grep -q "source ${NS1}h" "$WORK/two.err" && grep -q "source ${NS2}h" "$WORK/two.err" ||
    fail "sources not listed: $(cat "$WORK/two.err")"
traffic "$NS1" "$N1"
traffic "$NS2" "$N2"
REF_PID=$R1 ref_stop "$WORK/ref1.pcap"
REF_PID=$R2 ref_stop "$WORK/ref2.pcap"
cap_stop
OUT=$WORK/two.jsonl

$PY "$SRC/tests/integration/capture_ref.py" compare "$WORK/ref1.pcap" "$OUT" "10.213.$N1." "fd00:213:$N1:" ||
    fail "link 1 differs"
$PY "$SRC/tests/integration/capture_ref.py" compare "$WORK/ref2.pcap" "$OUT" "10.213.$N2." "fd00:213:$N2:" ||
    fail "link 2 differs"
for n in $N1 $N2; do
    c=$(count_json "$OUT" ".type==\"event\" and .event==\"syn\" and (.src_addr|startswith(\"10.213.$n.\"))")
    [ "$c" = 4 ] || fail "subnet $n: expected 4 IPv4 SYN events (3 to 8080, 1 to 8081), got $c"
done
for k in kernel_drops queue_drops event_drops; do
    [ "$(capstat "$OUT" $k)" = 0 ] || fail "$k = $(capstat "$OUT" $k)"
done
total=0
for ns in "$NS1" "$NS2"; do
    files=("$WORK/store/flowkit-${ns}h-"*.pcap)
    [ -f "${files[0]}" ] || fail "no pcap store file for ${ns}h: $(ls "$WORK/store")"
    for f in "${files[@]}"; do
        k=$(tcpdump -n -q -r "$f" 2>/dev/null | wc -l)
        # Every IPv4 packet in this device's file belongs to its subnet.
        other=$(tcpdump -n -q -r "$f" ip 2>/dev/null | grep -vc "10\.213\.$([ "$ns" = "$NS1" ] && echo "$N1" || echo "$N2")\." || true)
        [ "$other" = 0 ] || fail "$f holds $other IPv4 packets of another link"
        total=$((total + k))
    done
done
[ "$total" = "$(capstat "$OUT" packets)" ] || fail "store files hold $total packets, captured $(capstat "$OUT" packets)"
echo PASS
