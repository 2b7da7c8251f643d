#!/bin/bash
# export: flowkit-export -r big.pcap against softflowd -r big.pcap, both
# exporting IPFIX over UDP to the same collector (nfcapd on 127.0.0.1), on
# the same generated pcap (fk_pcapgen), in the same run.
#   export-pcap(softflowd)          packets / CPU second (user + system of the
#                                   exporter process alone; nfcapd not counted)
#   export-pcap-wall(softflowd)     packets / wall second
# Comparable settings: both export biflows (softflowd -b, RFC 5103 like
# flowkit), at most 65536 flows, idle timeout 15 s (softflowd: tcp, udp,
# icmp, general), active timeout 1800 s (softflowd: maxlife), closed TCP
# flows ended after 1 s (flowkit's linger; softflowd: tcp.fin, tcp.rst).
# Each tool runs EXPORT_BENCH_RUNS times (default 3), each into a fresh
# nfcapd; the run with the least CPU counts (the machine is shared).
# CPU and wall times come from bash's `time` (getrusage, ms resolution).
# Also printed as comments: CPU and wall seconds, flow records each tool
# exported as nfdump counts them at the collector, and the exporter alone
# (bench_export: records/s encoded and sent, no capture).
# Environment: ROOT, BUILD_DIR, BENCH_TMP (from bench/run);
#   EXPORT_BENCH_PACKETS (default 2000000), EXPORT_BENCH_FLOWS (30000),
#   EXPORT_BENCH_RUNS (3).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
PACKETS=${EXPORT_BENCH_PACKETS:-2000000}
FLOWS=${EXPORT_BENCH_FLOWS:-30000}
RUNS=${EXPORT_BENCH_RUNS:-3}
gen=$BUILD_DIR/tests/tools/fk_pcapgen
exp=$BUILD_DIR/cli/flowkit-export/flowkit-export
for need in "$gen" "$exp"; do
    [ -x "$need" ] || { echo "export-pcap  SKIPPED ($need not built)"; exit 0; }
done
for t in softflowd nfcapd nfdump; do
    command -v $t >/dev/null || { echo "export-pcap  SKIPPED ($t not installed)"; exit 0; }
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { print "inf"; exit } printf "%.2f", a / b }'; }
rate() { awk -v p="$1" -v c="$2" 'BEGIN { if (c <= 0) c = 0.001; printf "%.0f", p / c }'; }

pcap=$BENCH_TMP/export.pcap
"$gen" --seed 11 --flows "$FLOWS" --packets "$PACKETS" --span 60 --snaplen 128 --vlan 0 \
    --arp 0 --usec --summary-only "$pcap" "$BENCH_TMP/export.truth" || exit 1
pk=$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' "$BENCH_TMP/export.truth" | head -1)
cat "$pcap" >/dev/null # page cache: both tools read from memory

# once TOOL: one export into a fresh nfcapd; sets cpu, wall, recs.
once() {
    local tool=$1 port=$((30000 + $$ % 20000)) dir=$BENCH_TMP/nf-$1
    rm -rf "$dir"
    mkdir -p "$dir"
    nfcapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 -B 16777216 >"$BENCH_TMP/nfcapd-$tool.log" 2>&1 &
    local nf=$!
    sleep 1
    local TIMEFORMAT='%3U %3S %3R'
    if [ "$tool" = flowkit ]; then
        { time "$exp" -r "$pcap" --flows -c "udp://127.0.0.1:$port" --set max_flows=65536 \
            --stats >"$BENCH_TMP/$tool.out" 2>"$BENCH_TMP/$tool.err"; } 2>"$BENCH_TMP/$tool.time"
    else
        { time softflowd -d -r "$pcap" -n "127.0.0.1:$port" -v 10 -b -A milli -m 65536 \
            -t tcp=15 -t udp=15 -t icmp=15 -t general=15 -t maxlife=1800 -t tcp.fin=1 \
            -t tcp.rst=1 >"$BENCH_TMP/$tool.out" 2>&1; } 2>"$BENCH_TMP/$tool.time"
    fi
    sleep 1
    kill -TERM "$nf"
    wait "$nf" 2>/dev/null
    local u s
    read -r u s wall <"$BENCH_TMP/$tool.time"
    cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
    recs=$(nfdump -R "$dir" -q -o 'fmt:%pr' 2>/dev/null | wc -l)
}

# run TOOL: the least-CPU run of RUNS.
run() {
    local best_cpu="" best_wall best_recs i
    for i in $(seq "$RUNS"); do
        once "$1"
        echo "# $1 run $i: cpu_s=$cpu wall_s=$wall records_at_nfcapd=$recs"
        if [ -z "$best_cpu" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
            best_cpu=$cpu best_wall=$wall best_recs=$recs
        fi
    done
    cpu=$best_cpu wall=$best_wall recs=$best_recs
}

run flowkit
fk_cpu=$cpu fk_wall=$wall fk_recs=$recs
run softflowd
sf_cpu=$cpu sf_wall=$wall sf_recs=$recs
echo "# packets=$pk flows=$FLOWS (best of $RUNS runs each)"
echo "# flowkit-export cpu_s=$fk_cpu wall_s=$fk_wall records_at_nfcapd=$fk_recs" \
    "($(grep -o 'export total.*records_dropped=[0-9]*' "$BENCH_TMP/flowkit.err" | head -1))"
echo "# softflowd      cpu_s=$sf_cpu wall_s=$sf_wall records_at_nfcapd=$sf_recs"
fk=$(rate "$pk" "$fk_cpu")
sf=$(rate "$pk" "$sf_cpu")
echo "export-pcap(softflowd)  flowkit=$fk pkt/s  peer=$sf pkt/s  ratio=$(ratio "$fk" "$sf")"
if [ -x "$BUILD_DIR/bench/bench_export" ]; then
    echo "# exporter alone (bench/bench_export, UDP to loopback): $("$BUILD_DIR/bench/bench_export" 2000000)"
fi
fkw=$(rate "$pk" "$fk_wall")
sfw=$(rate "$pk" "$sf_wall")
echo "export-pcap-wall(softflowd)  flowkit=$fkw pkt/s  peer=$sfw pkt/s  ratio=$(ratio "$fkw" "$sfw")"
