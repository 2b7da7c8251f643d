#!/bin/bash
# flow-pcap: a generated pcap -> flows, on one core, same file, same run.
#   flowkit    bench_flow: libpcap read + fk__packet_decode + flow table (+ flush)
#   softflowd  softflowd -d -r FILE (NetFlow v9 export to a 127.0.0.1 port nobody reads)
#   pmacctd    pcap_savefile + nfprobe plugin (same kind of export)
# Rate = packets / CPU seconds (user + system, children included). pmacctd's
# fixed 2 s start-up sleep is wall time, not CPU, so it does not count.
# Environment: ROOT, BUILD_DIR, BENCH_TMP (from bench/run);
#   FLOW_BENCH_FLOWS (default 30000), FLOW_BENCH_PACKETS (default 3000000).
set -euo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
FLOWS=${FLOW_BENCH_FLOWS:-30000}
PACKETS=${FLOW_BENCH_PACKETS:-3000000}
gen=$BUILD_DIR/tests/tools/fk_pcapgen
bench=$BUILD_DIR/bench/bench_flow
pcap=$BENCH_TMP/flow.pcap
truth=$BENCH_TMP/flow.truth

# No VLAN tags and no ARP: every tool sees the same IPv4/IPv6 packets.
"$gen" --seed 42 --flows "$FLOWS" --packets "$PACKETS" --span 60 --snaplen 128 --vlan 0 \
    --arp 0 --usec --summary-only "$pcap" "$truth"
packets=$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' "$truth")
echo "# input: $packets packets, $FLOWS flows, $(du -m "$pcap" | cut -f1) MB ($pcap)"
cat "$pcap" >/dev/null # page cache: every tool reads from memory

rate() { awk -v p="$1" -v c="$2" 'BEGIN { if (c <= 0) c = 0.001; printf "%.0f", p / c }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { print "inf"; exit } printf "%.1f", a / b }'; }

# flowkit
out=$("$bench" --max-flows 65536 "$pcap")
echo "$out" | sed 's/^/# flowkit /'
fk_cpu=$(echo "$out" | awk '/^flow/ { for (i = 1; i <= NF; i++) if ($i ~ /^cpu_s=/) { sub("cpu_s=", "", $i); print $i } }')
fk_rate=$(rate "$packets" "$fk_cpu")

port=$((30000 + $$ % 20000))
# softflowd
if command -v softflowd >/dev/null; then
    /usr/bin/time -f "%U %S %e" -o "$BENCH_TMP/sf.time" \
        softflowd -d -r "$pcap" -n "127.0.0.1:$port" -v 9 -A milli -m 65536 \
        >"$BENCH_TMP/sf.log" 2>&1 || true
    read -r u s w <"$BENCH_TMP/sf.time"
    sf_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
    sf_seen=$(sed -n 's/^Packets processed: \([0-9]*\).*/\1/p' "$BENCH_TMP/sf.log")
    echo "# softflowd cpu_s=$sf_cpu wall_s=$w packets_processed=${sf_seen:-?}"
    sf_rate=$(rate "$packets" "$sf_cpu")
    echo "flow-pcap(softflowd)  flowkit=$fk_rate pkt/s  peer=$sf_rate pkt/s  ratio=$(ratio "$fk_rate" "$sf_rate")"
else
    echo "flow-pcap(softflowd)  SKIPPED (softflowd not installed)"
fi

# pmacctd
if command -v pmacctd >/dev/null; then
    cat >"$BENCH_TMP/pm.conf" <<CONF
daemonize: false
pcap_savefile: $pcap
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:$((port + 1))
nfprobe_version: 9
nfprobe_maxflows: 65536
CONF
    /usr/bin/time -f "%U %S %e" -o "$BENCH_TMP/pm.time" \
        timeout 600 pmacctd -f "$BENCH_TMP/pm.conf" >"$BENCH_TMP/pm.log" 2>&1 || true
    read -r u s w <"$BENCH_TMP/pm.time"
    pm_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
    echo "# pmacctd cpu_s=$pm_cpu wall_s=$w"
    pm_rate=$(rate "$packets" "$pm_cpu")
    echo "flow-pcap(pmacctd)  flowkit=$fk_rate pkt/s  peer=$pm_rate pkt/s  ratio=$(ratio "$fk_rate" "$pm_rate")"
else
    echo "flow-pcap(pmacctd)  SKIPPED (pmacctd not installed)"
fi
