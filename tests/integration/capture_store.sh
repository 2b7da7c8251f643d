#!/bin/bash
# pcap store on a live device: files readable by tcpdump -r holding every
# captured packet, rotated by size (no file over the limit unless it holds a
# single packet), by time (no file spans a rotation period), and only the
# newest N kept.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS=fkcs$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h

# tcpdump_count FILE: packets tcpdump reads from FILE (fails on a bad file).
tcpdump_count() {
    local out
    out=$(tcpdump -n -q -r "$1" 2>"$WORK/tcpdump-r.err") || fail "tcpdump -r $1: $(cat "$WORK/tcpdump-r.err")"
    [ -z "$out" ] && echo 0 || echo "$out" | wc -l
}

echo "=== rotate by size (4000 bytes), directory target"
mkdir "$WORK/size"
cap_start size -i "$IF" -o "pcap_store=$WORK/size" -o pcap_rotate_bytes=4000
traffic "$NS" "$N"
cap_stop
OUT=$WORK/size.jsonl
files=("$WORK"/size/flowkit-*.pcap)
[ "${#files[@]}" = "$(capstat "$OUT" store_files)" ] || fail "${#files[@]} files, store_files $(capstat "$OUT" store_files)"
[ "${#files[@]}" -ge 3 ] || fail "expected several files, got ${#files[@]}"
total=0
for f in "${files[@]}"; do
    k=$(tcpdump_count "$f")
    [ "$k" -ge 1 ] || fail "$f is empty"
    size=$(stat -c %s "$f")
    [ "$size" -le 4000 ] || [ "$k" = 1 ] || fail "$f: $size bytes with $k packets"
    total=$((total + k))
done
[ "$total" = "$(capstat "$OUT" packets)" ] || fail "files hold $total packets, captured $(capstat "$OUT" packets)"
[ "$total" = "$(capstat "$OUT" store_packets)" ] || fail "store_packets $(capstat "$OUT" store_packets) != $total"
[ "$(capstat "$OUT" store_errors)" = 0 ] || fail "store errors"
echo "size: ${#files[@]} files, $total packets"

echo "=== keep 2 files, file pattern"
mkdir "$WORK/keep"
cap_start keep -i "$IF" -o "pcap_store=$WORK/keep/cap-%Y%m%d.pcap" -o pcap_rotate_bytes=3000 \
    -o pcap_keep_files=2
traffic "$NS" "$N"
cap_stop
OUT=$WORK/keep.jsonl
opened=$(capstat "$OUT" store_files)
[ "$opened" -ge 3 ] || fail "expected at least 3 files opened, got $opened"
day=$(ls "$WORK"/keep | head -1 | cut -d- -f2)
ls "$WORK"/keep
[ "$(ls "$WORK"/keep | wc -l)" = 2 ] || fail "expected 2 files kept"
for seq in $((opened - 2)) $((opened - 1)); do
    f=$(printf '%s/keep/cap-%s-%06d.pcap' "$WORK" "$day" "$seq")
    [ -f "$f" ] || fail "missing newest file $f"
    [ "$(tcpdump_count "$f")" -ge 1 ] || fail "$f unreadable or empty"
done

echo "=== rotate every second of packet time"
mkdir "$WORK/time"
cap_start time -i "$IF" -o "pcap_store=$WORK/time/" -o pcap_rotate_seconds=1
traffic "$NS" "$N"
sleep 1.2
traffic "$NS" "$N"
cap_stop
OUT=$WORK/time.jsonl
files=("$WORK"/time/flowkit-*.pcap)
[ "${#files[@]}" -ge 2 ] || fail "expected at least 2 files, got ${#files[@]}"
total=0
for f in "${files[@]}"; do
    span=$(tcpdump -n -tt -r "$f" 2>/dev/null | awk 'NR==1{a=$1} {b=$1} END{printf "%d", (b-a)*1000}')
    [ "$span" -lt 1000 ] || fail "$f spans $span ms"
    total=$((total + $(tcpdump_count "$f")))
done
[ "$total" = "$(capstat "$OUT" packets)" ] || fail "files hold $total packets, captured $(capstat "$OUT" packets)"
echo PASS
