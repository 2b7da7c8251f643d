#!/bin/bash
# ebpf: what a live capture costs per packet, in one run, on the same veth
# with the same paced sender (bench_veth_send, 64-byte UDP datagrams from a
# netns): flowkit with backend=ebpf (flows counted by tc programs in the
# kernel), flowkit with backend=pcap (libpcap, every packet to user space)
# and softflowd -i (libpcap) live on the device.
#
# For each: packets seen, drops, and CPU seconds per million packets seen:
# user + system time of the capturing process (/proc/PID/stat once the
# sender is done; start-up included, final flush not) plus, for ebpf, the time the kernel spent running its tc
# programs (BPF run-time statistics, switched on for this script through
# BPF_ENABLE_STATS: held by an fd, off again when the script ends). The
# kernel's cost of copying packets to libpcap's ring (AF_PACKET, in the
# sender's softirq) is not charged to pcap or softflowd: the figures favour
# them. Drops: kernel_drops (pcap), libpcap drops (softflowd),
# kernel_map_full + kernel_events_lost (ebpf).
# Needs root and a build with BPF; on a shared machine the figures move
# between runs. Environment: ROOT, BUILD_DIR, BENCH_TMP (from bench/run);
# EBPF_BENCH_RATE (datagrams/s, default 200000), EBPF_BENCH_SECONDS (5).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
RATE=${EBPF_BENCH_RATE:-200000}
SECONDS_=${EBPF_BENCH_SECONDS:-5}
sender=$BUILD_DIR/bench/bench_veth_send
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { print "inf"; exit } printf "%.2f", a / b }'; }
if [ "$(id -u)" -ne 0 ] || [ ! -x "$sender" ] || ! command -v bpftool >/dev/null ||
    [ ! -x /usr/bin/time ]; then
    echo "ebpf-live-veth  SKIPPED (needs root, bpftool, GNU time and bench_veth_send)"
    exit 0
fi
. "$ROOT/scripts/netns.sh"
NS=fkbe$$
N=$(fk_netns_free_subnet) || exit 1
fk_netns_add "$NS" "$N" || exit 1
IF=${NS}h
LIBDIR=$BUILD_DIR/lib
capf=$BENCH_TMP/capture_flows
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$ROOT/include" -I"$BUILD_DIR/include" \
    "$ROOT/examples/capture_flows.c" -L"$LIBDIR" -lflowkit -Wl,-rpath,"$LIBDIR" -o "$capf" || exit 1
if ! "$capf" -i "$IF" -o backend=ebpf -o duration=0.2 >/dev/null 2>"$BENCH_TMP/probe.err"; then
    echo "ebpf-live-veth  SKIPPED ($(grep -m1 activate "$BENCH_TMP/probe.err"))"
    exit 0
fi

# BPF run-time statistics for as long as this helper holds its fd.
/usr/bin/python3 - >"$BENCH_TMP/stats.log" 2>&1 <<'PY' &
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_uint32 * 2)(0, 0)  # BPF_STATS_RUN_TIME
fd = libc.syscall(321, 32, ctypes.byref(attr), 8)  # SYS_bpf, BPF_ENABLE_STATS
if fd < 0:
    print("BPF_ENABLE_STATS failed: errno", ctypes.get_errno(), flush=True)
    sys.exit(1)
print("stats on", flush=True)
time.sleep(600)  # bounded; killed by the script
PY
STATS_PID=$!
disown "$STATS_PID"
fk_netns_on_exit "kill -9 $STATS_PID"
for _ in $(seq 50); do grep -q 'stats' "$BENCH_TMP/stats.log" && break; sleep 0.1; done
grep -q 'stats on' "$BENCH_TMP/stats.log" || echo "# BPF run-time statistics unavailable: $(cat "$BENCH_TMP/stats.log")"

# run TOOL: one capture while the sender runs; sets SEEN DROPS CPU (seconds).
run() {
    local tool=$1 out=$BENCH_TMP/$1.out err=$BENCH_TMP/$1.err tf=$BENCH_TMP/$1.time
    local ctl=$BENCH_TMP/sf.ctl port=$((30000 + $$ % 20000))
    case $tool in
    ebpf) /usr/bin/time -f "%U %S" -o "$tf" "$capf" -i "$IF" -o backend=ebpf >"$out" 2>"$err" & ;;
    pcap)
        /usr/bin/time -f "%U %S" -o "$tf" "$capf" -i "$IF" -o backend=pcap \
            -o buffer_size=33554432 >"$out" 2>"$err" &
        ;;
    softflowd)
        /usr/bin/time -f "%U %S" -o "$tf" softflowd -d -i "$IF" -n "127.0.0.1:$port" -v 9 \
            -m 65536 -B 33554432 -c "$ctl" -p "$BENCH_TMP/sf.pid" >"$out" 2>"$err" &
        ;;
    esac
    local tpid=$! pid="" i
    fk_netns_on_exit "kill -9 $tpid"
    for i in $(seq 50); do
        pid=$(pgrep -P "$tpid" | head -1)
        [ -n "$pid" ] && break
        sleep 0.1
    done
    fk_netns_on_exit "kill -9 $pid"
    for i in $(seq 50); do grep -qE '^ready|starting data collection' "$err" && break; sleep 0.1; done
    sleep 0.3
    local res
    res=$(fk_netns_exec "$NS" "$sender" "10.213.$N.1" 9999 "$RATE" "$SECONDS_" 64)
    sleep 0.5
    BPF_S=0
    if [ "$tool" = ebpf ]; then
        local f id ns=0
        for f in /proc/$pid/fdinfo/*; do
            id=$(sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null)
            [ -n "$id" ] || continue
            ns=$((ns + $(bpftool prog show id "$id" -j | jq '.run_time_ns // 0')))
        done
        BPF_S=$(awk -v n="$ns" 'BEGIN { printf "%.3f", n / 1e9 }')
    fi
    if [ "$tool" = softflowd ]; then
        local st
        st=$(softflowctl -c "$ctl" statistics)
        SEEN=$(echo "$st" | sed -n 's/^Packets received by libpcap: //p')
        DROPS=$(($(echo "$st" | sed -n 's/^Packets dropped by libpcap: //p') + \
            $(echo "$st" | sed -n 's/^Packets dropped by interface: //p')))
    fi
    # CPU of the capturing process so far (all packets are in: the sender
    # is done and 0.5 s passed), from /proc before it is stopped.
    local u s
    read -r u s < <(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f %.2f\n", $14 / hz, $15 / hz }' \
        "/proc/$pid/stat")
    if [ "$tool" = softflowd ]; then
        softflowctl -c "$ctl" shutdown >/dev/null 2>&1 || kill -TERM "$pid"
    else
        kill -INT "$pid"
    fi
    for i in $(seq 100); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$tpid" 2>/dev/null && kill -9 "$pid"
    wait "$tpid"
    if [ "$tool" != softflowd ]; then
        SEEN=$(jq -r 'select(.type=="stats") | .packets' "$out")
        DROPS=$(jq -r 'select(.type=="stats") | .kernel_drops + .kernel_map_full + .kernel_events_lost' "$out")
    fi
    CPU=$(awk -v u="$u" -v s="$s" -v b="$BPF_S" 'BEGIN { printf "%.3f", u + s + b }')
    PER=$(awk -v c="$CPU" -v p="$SEEN" 'BEGIN { if (p <= 0) { print "inf"; exit } printf "%.3f", c / p * 1e6 }')
    UPER=$(awk -v u="$u" -v s="$s" -v p="$SEEN" 'BEGIN { if (p <= 0) { print "inf"; exit } printf "%.3f", (u + s) / p * 1e6 }')
    echo "# $tool rate=$RATE sent=$(field "$res" sent) achieved=$(field "$res" pps) pkt/s seen=$SEEN drops=$DROPS process_cpu_s=$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}') bpf_cpu_s=$BPF_S cpu_s_per_Mpkt=$PER"
}
run ebpf
E=$PER
EU=$UPER
run pcap
P=$PER
PU=$UPER
if command -v softflowd >/dev/null && command -v softflowctl >/dev/null; then
    run softflowd
    S=$PER
else
    S=
    echo "# softflowd not installed"
fi
# with the kernel's run time of the tc programs (charged to ebpf only)
echo "ebpf-live-veth-cpu(flowkit-pcap)  flowkit=$E cpu_s/Mpkt  peer=$P cpu_s/Mpkt  ratio=$(ratio "$E" "$P")"
# the capturing processes alone
echo "ebpf-live-veth-process-cpu(flowkit-pcap)  flowkit=$EU cpu_s/Mpkt  peer=$PU cpu_s/Mpkt  ratio=$(ratio "$EU" "$PU")"
[ -n "$S" ] &&
    echo "ebpf-live-veth-cpu(softflowd)  flowkit=$E cpu_s/Mpkt  peer=$S cpu_s/Mpkt  ratio=$(ratio "$E" "$S")"
exit 0
