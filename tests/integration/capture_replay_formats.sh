#!/bin/bash
# Offline replay of one generated capture in the file formats flowkit reads
# itself (pcap µs, pcap ns, pcapng as editcap writes it) and in one it leaves
# to libpcap (modified "Kuznetzov" pcap): flows, events and counters equal the
# generator's ground truth in each; with a BPF filter ("udp or icmp") each
# format gives the same output, and the packet count equals tcpdump's with
# that filter. No root needed; skips without editcap and tcpdump.
# shellcheck source=capture_offline.bash
source "$(dirname "$0")/capture_offline.bash"
capture_offline_setup replay_formats editcap tcpdump

"$GEN" --seed 6 --flows 400 --packets 8000 "$WORK/t.pcap" "$WORK/t.truth" || fail "fk_pcapgen failed"
editcap -F pcapng "$WORK/t.pcap" "$WORK/t.pcapng" || fail "editcap pcapng"
editcap -F nsecpcap "$WORK/t.pcap" "$WORK/t-ns.pcap" || fail "editcap nsecpcap"
editcap -F modpcap "$WORK/t.pcap" "$WORK/t-mod.pcap" || fail "editcap modpcap"
[ "$(head -c 4 "$WORK/t.pcapng" | od -An -tx1 | tr -d ' ')" = 0a0d0d0a ] || fail "not pcapng"

FILTER="udp or icmp or icmp6"
want=$(tcpdump -r "$WORK/t.pcap" -n "$FILTER" 2>/dev/null | wc -l)
[ "$want" -gt 0 ] || fail "tcpdump saw no packet with the filter"
for f in t.pcap t-ns.pcap t.pcapng t-mod.pcap; do
    echo "=== $f"
    "$WORK/capture_flows" -r "$WORK/$f" -o active_timeout=0 -o idle_timeout=15 \
        >"$WORK/$f.jsonl" 2>"$WORK/err" || fail "$f: capture_flows: $(cat "$WORK/err")"
    $PY "$SRC/tests/integration/capture_truth.py" "$WORK/t.truth" "$WORK/$f.jsonl" ||
        fail "$f differs from the truth"
    "$WORK/capture_flows" -r "$WORK/$f" -o active_timeout=0 -o idle_timeout=15 \
        -o "filter=$FILTER" >"$WORK/$f.filtered" 2>"$WORK/err" ||
        fail "$f: capture_flows with a filter: $(cat "$WORK/err")"
    got=$(sed -n 's/.*"type":"stats","packets":\([0-9]*\).*/\1/p' "$WORK/$f.filtered")
    [ "$got" = "$want" ] || fail "$f: $got packets passed the filter, tcpdump says $want"
    grep -q '"proto":6' "$WORK/$f.filtered" && fail "$f: a TCP flow passed the filter"
    sort "$WORK/$f.filtered" >"$WORK/$f.sorted"
    cmp -s "$WORK/t.pcap.sorted" "$WORK/$f.sorted" 2>/dev/null || [ "$f" = t.pcap ] ||
        fail "$f: filtered output differs from the pcap's"
done
echo "PASS"
