#!/bin/bash
# capture: the public capture handle (fk_capture) end to end.
#
# capture-pcap: a generated pcap (fk_pcapgen) -> flows through fk_capture
#   (libpcap read, decode, flow table, event delivery) with workers=0, and
#   with workers=2 (wall clock), against softflowd -r on the same file.
#   Rate = packets / CPU second (workers=0, softflowd) or / wall second
#   (workers=2: what two threads deliver).
# capture-live-veth: the highest paced UDP rate (64-byte payloads) pushed
#   from a netns through a veth that the capture sees completely, with 0
#   kernel drops, for flowkit (examples/capture_flows) and for tcpdump
#   (-w /dev/null), each at 50k, 100k, 200k, ... packets/s for 2 s.
#   Needs root; on a shared 2-core machine the figures move between runs.
# Environment: ROOT, BUILD_DIR, BENCH_TMP (from bench/run);
#   CAPTURE_BENCH_PACKETS (default 2000000), CAPTURE_BENCH_FLOWS (30000).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
PACKETS=${CAPTURE_BENCH_PACKETS:-2000000}
FLOWS=${CAPTURE_BENCH_FLOWS:-30000}
gen=$BUILD_DIR/tests/tools/fk_pcapgen
bench=$BUILD_DIR/bench/bench_capture
sender=$BUILD_DIR/bench/bench_veth_send
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { print "inf"; exit } printf "%.2f", a / b }'; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# ---- capture-pcap
if [ -x "$gen" ]; then
    pcap=$BENCH_TMP/capture.pcap
    "$gen" --seed 7 --flows "$FLOWS" --packets "$PACKETS" --span 60 --snaplen 128 --vlan 0 \
        --arp 0 --usec --summary-only "$pcap" "$BENCH_TMP/capture.truth"
    cat "$pcap" >/dev/null
    w0=$("$bench" --workers 0 "$pcap")
    w2=$("$bench" --workers 2 "$pcap")
    echo "# $w0"
    echo "# $w2"
    pk=$(field "$w0" packets)
    if command -v softflowd >/dev/null; then
        port=$((30000 + $$ % 20000))
        /usr/bin/time -f "%U %S %e" -o "$BENCH_TMP/sf.time" softflowd -d -r "$pcap" \
            -n "127.0.0.1:$port" -v 9 -m 65536 >"$BENCH_TMP/sf.log" 2>&1 || true
        read -r u s w <"$BENCH_TMP/sf.time"
        sf=$(awk -v p="$pk" -v u="$u" -v s="$s" 'BEGIN { c = u + s; if (c <= 0) c = 0.001; printf "%.0f", p / c }')
        echo "# softflowd cpu_s=$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}') wall_s=$w"
        echo "capture-pcap-w0(softflowd)  flowkit=$(field "$w0" pps_cpu) pkt/s  peer=$sf pkt/s  ratio=$(ratio "$(field "$w0" pps_cpu)" "$sf")"
        echo "capture-pcap-w2-wall(softflowd)  flowkit=$(field "$w2" pps_wall) pkt/s  peer=$sf pkt/s  ratio=$(ratio "$(field "$w2" pps_wall)" "$sf")"
    else
        echo "capture-pcap  SKIPPED (softflowd not installed)"
    fi
else
    echo "capture-pcap  SKIPPED ($gen not built)"
fi

# ---- capture-live-veth
if [ "$(id -u)" -ne 0 ] || [ ! -x "$sender" ]; then
    echo "capture-live-veth  SKIPPED (needs root and bench_veth_send)"
    exit 0
fi
. "$ROOT/scripts/netns.sh"
NS=fkbn$$
N=$(fk_netns_free_subnet) || exit 1
fk_netns_add "$NS" "$N" || exit 1
IF=${NS}h
LIBDIR=$BUILD_DIR/lib
capf=$BENCH_TMP/capture_flows
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$ROOT/include" -I"$BUILD_DIR/include" \
    "$ROOT/examples/capture_flows.c" -L"$LIBDIR" -lflowkit -Wl,-rpath,"$LIBDIR" -o "$capf" || exit 1
FILTER="udp dst port 9999"

# step TOOL RATE: 0 when every packet was seen with 0 kernel drops.
step() {
    local tool=$1 rate=$2 log=$BENCH_TMP/step.err out=$BENCH_TMP/step.out pid i
    if [ "$tool" = flowkit ]; then
        "$capf" -i "$IF" -o "filter=$FILTER" -o buffer_size=33554432 >"$out" 2>"$log" &
    else
        tcpdump -i "$IF" -n -B 32768 -w - $FILTER 2>"$log" >/dev/null &
    fi
    pid=$!
    fk_netns_on_exit "kill -9 $pid"
    for i in $(seq 50); do grep -qE '^ready|listening on' "$log" && break; sleep 0.1; done
    local res
    res=$(fk_netns_exec "$NS" "$sender" "10.213.$N.1" 9999 "$rate" 2 64)
    sleep 0.5
    kill -INT "$pid"
    wait "$pid"
    local sent got drops
    sent=$(field "$res" sent)
    if [ "$tool" = flowkit ]; then
        got=$(jq -r 'select(.type=="stats") | .packets' "$out")
        drops=$(jq -r 'select(.type=="stats") | .kernel_drops' "$out")
    else
        # Packets the kernel handed to tcpdump's socket (those still
        # buffered at SIGINT are not "captured" but were not dropped).
        got=$(sed -n 's/^\([0-9]*\) packets received by filter.*/\1/p' "$log")
        drops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$log")
    fi
    STEP_PPS=$(field "$res" pps)
    echo "# $tool rate=$rate sent=$sent achieved=$STEP_PPS pps seen=$got kernel_drops=$drops"
    [ "$got" = "$sent" ] && [ "$drops" = 0 ]
}

best() {
    local tool=$1 rate=50000 ok=0
    while [ $rate -le 3200000 ]; do
        step "$tool" $rate || break
        ok=$(awk -v a="$ok" -v b="$STEP_PPS" 'BEGIN { printf "%.0f", (b > a ? b : a) }')
        # The sender could not reach the rate: the sender is the ceiling.
        if awk -v a="$STEP_PPS" -v r=$rate 'BEGIN { exit !(a < 0.9 * r) }'; then
            echo "# $tool: sender-bound at $STEP_PPS pkt/s (asked $rate)"
            break
        fi
        rate=$((rate * 2))
    done
    BEST=$ok
}
best flowkit
fk=$BEST
best tcpdump
td=$BEST
echo "capture-live-veth(tcpdump)  flowkit=$fk pkt/s  peer=$td pkt/s  ratio=$(ratio "$fk" "$td")"
