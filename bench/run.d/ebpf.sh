#!/bin/bash
# ebpf: what a live capture costs the host per packet, kernel side included,
# for flowkit backend=pcap, backend=ebpf, backend=xdp and softflowd -i, live
# on the same veth with the same paced sender (bench_veth_send: 64-byte UDP
# datagrams from a netns into the host end of the veth).
#
# Method (bench/run.d/README.md says why):
#   - each run is one bounded send (EBPF_BENCH_RATE datagrams/s for
#     EBPF_BENCH_SECONDS); the capture is started before and measured over
#     the send plus 1 s, so start-up (BPF verifier, pcap open) and the final
#     flush are not counted;
#   - process = CPU of the capturing process (all its threads,
#     /proc/PID/task/*/schedstat, ns);
#   - kernel = CPU the kernel spends for the capture outside that process,
#     sampled: perf record -a -e cpu-clock (one sample per 0.5 ms of CPU on
#     every CPU, call graphs) over the same window; a sample counts when its
#     kernel stack holds the capture's own code: the packet socket
#     (tpacket_rcv, packet_rcv, dev_queue_xmit_nit: filter, copy into the
#     ring, wake-up) for pcap and softflowd, our tc or XDP programs
#     (bpf_prog_*_fk_*, with the helpers they call) for ebpf and xdp.
#     kernel seconds = samples x 0.5 ms. Other work on the machine does not
#     enter, however loaded it is;
#   - diff = the sender's CPU time (CLOCK_PROCESS_CPUTIME_ID, which on a
#     kernel without IRQ time accounting includes the softirq receive path
#     run on its behalf) plus ksoftirqd, minus the same in the no-capture run
#     of the same round: the whole kernel-side cost, XDP's switch of veth to
#     NAPI included, but noisy (other work changes the sender's cost per
#     packet by more than the capture does on a busy machine);
#   - modes alternate (none, pcap, ebpf, xdp, softflowd, rotated each round)
#     for EBPF_BENCH_ROUNDS rounds; medians are printed;
#   - then one more run of ebpf and xdp with the kernel's BPF run-time
#     statistics on (BPF_ENABLE_STATS, held by an fd, off afterwards): ns per
#     run inside our programs. The statistics cost time themselves (two
#     clock reads per run), so they stay off in the measured rounds.
# Figures are CPU seconds per million packets sent. Drops: kernel_drops
# (pcap), libpcap's drops (softflowd), kernel_map_full + kernel_events_lost
# (ebpf, xdp). Needs root, perf and a build with BPF.
# Environment: ROOT, BUILD_DIR, BENCH_TMP (from bench/run); EBPF_BENCH_RATE
# (default 200000 datagrams/s; "max": the sender unpaced, as fast as it
# goes for EBPF_BENCH_SECONDS, so each mode is measured at the highest rate
# the sender reaches beside it: what it sends then depends on the mode and
# the load, the figures are still per packet sent, and the table adds the
# total per packet seen; the result lines are named ebpf-live-veth-max-...),
# EBPF_BENCH_SECONDS (5), EBPF_BENCH_ROUNDS (3),
# EBPF_BENCH_MODES (default "none pcap ebpf xdp softflowd"), EBPF_BENCH_FLOWS
# (default 1: one UDP flow, every packet after its first a hit in the eBPF
# backend's per-CPU flow cache, the best case; N > 1: the datagrams go
# round-robin to N destination ports, N flows at once; above the cache's
# slots per CPU (ebpf_cache_slots, 1024) most packets miss it). With N > 1
# the result lines are named ebpf-live-veth-flowsN-... . EBPF_BENCH_OPTS:
# capture parameters (name=value, space-separated) added to the ebpf and
# xdp captures, e.g. "ebpf_cache_slots=4096" (added to the result names:
# ebpf-live-veth-ebpf_cache_slots4096-...).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
RATE=${EBPF_BENCH_RATE:-200000}
SECS=${EBPF_BENCH_SECONDS:-5}
ROUNDS=${EBPF_BENCH_ROUNDS:-3}
MODES=${EBPF_BENCH_MODES:-none pcap ebpf xdp softflowd}
FLOWS=${EBPF_BENCH_FLOWS:-1}
EBPF_OPTS=""
for o in ${EBPF_BENCH_OPTS:-}; do EBPF_OPTS="$EBPF_OPTS -o $o"; done
NAME=ebpf-live-veth
[ "$RATE" = max ] && NAME=$NAME-max
[ "$FLOWS" -gt 1 ] && NAME=$NAME-flows$FLOWS
# capture parameters in the name, so a run with other settings is not
# reported under the default's (ebpf_cache_slots=4096 -> -ebpf_cache_slots4096)
for o in ${EBPF_BENCH_OPTS:-}; do NAME=$NAME-${o//[^A-Za-z0-9_]/}; done
sender=$BUILD_DIR/bench/bench_veth_send
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
if [ "$(id -u)" -ne 0 ] || [ ! -x "$sender" ] || ! command -v bpftool >/dev/null ||
    ! command -v jq >/dev/null || ! command -v perf >/dev/null; then
    echo "$NAME  SKIPPED (needs root, bpftool, jq, perf and bench_veth_send)"
    exit 0
fi
if ! command -v softflowd >/dev/null || ! command -v softflowctl >/dev/null; then
    echo "# softflowd not installed: its row is left out"
    MODES=${MODES//softflowd/}
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
    echo "$NAME  SKIPPED ($(grep -m1 activate "$BENCH_TMP/probe.err"))"
    exit 0
fi

# CPU nanoseconds of every thread of a process (0 when it is gone).
proc_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'; }
SOFTIRQD=$(pgrep -x 'ksoftirqd/[0-9]+' | tr '\n' ' ')
softirqd_ns() {
    local p s=0
    for p in $SOFTIRQD; do s=$((s + $(awk '{ print $1 }' /proc/"$p"/schedstat 2>/dev/null || echo 0))); done
    echo "$s"
}
# Busy time of all CPUs (user nice system irq softirq steal), ns.
system_ns() {
    awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.0f", ($2 + $3 + $4 + $7 + $8 + $9) * 1e9 / hz }' /proc/stat
}
# Run time (ns) and runs of the BPF programs a process holds (each once:
# a program's fd and its links' fds all name it).
bpf_runtime() {
    local id ns=0 cnt=0 j
    for id in $(sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u); do
        j=$(bpftool prog show id "$id" -j 2>/dev/null) || continue
        ns=$((ns + $(echo "$j" | jq '.run_time_ns // 0')))
        cnt=$((cnt + $(echo "$j" | jq '.run_cnt // 0')))
    done
    echo "$ns $cnt"
}

# start_capture MODE: starts it, sets CPID (the capturing process), TPID.
start_capture() {
    local mode=$1 out=$BENCH_TMP/cap.out err=$BENCH_TMP/cap.err i
    : >"$err"
    CPID="" TPID=""
    case $mode in
    none) return 0 ;;
    ebpf | xdp)
        # shellcheck disable=SC2086
        "$capf" -i "$IF" -o backend="$mode" -o attribution=off $EBPF_OPTS >"$out" 2>"$err" &
        ;;
    pcap)
        "$capf" -i "$IF" -o backend=pcap -o attribution=off -o buffer_size=33554432 \
            >"$out" 2>"$err" &
        ;;
    softflowd)
        rm -f "$BENCH_TMP/sf.ctl"
        softflowd -d -i "$IF" -n "127.0.0.1:$((30000 + $$ % 20000))" -v 9 -m 65536 \
            -B 33554432 -c "$BENCH_TMP/sf.ctl" -p "$BENCH_TMP/sf.pid" >"$out" 2>"$err" &
        ;;
    esac
    CPID=$!
    fk_netns_on_exit "kill -9 $CPID"
    for i in $(seq 100); do grep -qE '^ready|starting data collection' "$err" && break; sleep 0.1; done
    sleep 0.3
}

# stop_capture MODE: stops it; sets SEEN and DROPS.
stop_capture() {
    local mode=$1 out=$BENCH_TMP/cap.out i st
    SEEN=0 DROPS=0
    case $mode in
    none) return 0 ;;
    softflowd)
        st=$(softflowctl -c "$BENCH_TMP/sf.ctl" statistics)
        SEEN=$(echo "$st" | sed -n 's/^Packets received by libpcap: //p')
        DROPS=$(($(echo "$st" | sed -n 's/^Packets dropped by libpcap: //p') + \
            $(echo "$st" | sed -n 's/^Packets dropped by interface: //p')))
        softflowctl -c "$BENCH_TMP/sf.ctl" shutdown >/dev/null 2>&1 || kill -TERM "$CPID"
        ;;
    *) kill -INT "$CPID" ;;
    esac
    for i in $(seq 100); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$CPID" 2>/dev/null && kill -9 "$CPID"
    wait "$CPID" 2>/dev/null
    if [ "$mode" != softflowd ]; then
        SEEN=$(jq -r 'select(.type=="stats") | .packets' "$out")
        DROPS=$(jq -r 'select(.type=="stats") | .kernel_drops + .kernel_map_full + .kernel_events_lost' "$out")
    fi
}

PERIOD_NS=500000
# The kernel functions that are the capture's own cost, per mode.
own_code() {
    case $1 in
    pcap | softflowd) echo '^(tpacket_rcv|packet_rcv|dev_queue_xmit_nit)$' ;;
    ebpf) echo '^bpf_prog_[0-9a-f]+_fk_tc_(ingress|egress|full|inner)$' ;;
    xdp) echo '^bpf_prog_[0-9a-f]+_fk_xdp(_full|_inner)?$' ;;
    *) echo '^(tpacket_rcv|packet_rcv|dev_queue_xmit_nit|bpf_prog_[0-9a-f]+_fk_.*)$' ;;
    esac
}
# Samples of perf.data whose call chain holds a symbol matching $1.
own_samples() {
    perf script -i "$BENCH_TMP/perf.data" -F ip,sym 2>/dev/null | awk -v re="$1" '
        NF == 0 { if (hit) n++; hit = 0; next }
        $2 ~ re { hit = 1 }
        END { if (hit) n++; printf "%d", n }'
}

# measure MODE [bpfstats]: one run; appends "mode sent seen drops proc_ns
# kern_ns diff_ns sys_ns bpf_ns bpf_runs" to $BENCH_TMP/runs (diff_ns: the
# sender and ksoftirqd, raw; the summary subtracts the round's no-capture run).
measure() {
    local mode=$1 p0=0 p1=0 k0 k1 s0 s1 b0="0 0" b1="0 0" res perf_pid samples
    start_capture "$mode"
    [ -n "$CPID" ] && [ "${2:-}" = bpfstats ] && b0=$(bpf_runtime "$CPID")
    perf record -q -a -e cpu-clock -c "$PERIOD_NS" -g -o "$BENCH_TMP/perf.data" \
        >/dev/null 2>&1 &
    perf_pid=$!
    fk_netns_on_exit "kill -9 $perf_pid"
    sleep 0.3
    [ -n "$CPID" ] && p0=$(proc_ns "$CPID")
    k0=$(softirqd_ns)
    s0=$(system_ns)
    res=$(fk_netns_exec "$NS" "$sender" "10.213.$N.1" 9999 "$RATE" "$SECS" 64 "$FLOWS")
    sleep 1
    s1=$(system_ns)
    k1=$(softirqd_ns)
    [ -n "$CPID" ] && p1=$(proc_ns "$CPID")
    kill -INT "$perf_pid"
    wait "$perf_pid" 2>/dev/null
    [ -n "$CPID" ] && [ "${2:-}" = bpfstats ] && b1=$(bpf_runtime "$CPID")
    # before the programs go: perf names them from /proc/kallsyms
    samples=$(own_samples "$(own_code "$mode")")
    stop_capture "$mode"
    local sent cpu
    sent=$(field "$res" sent)
    cpu=$(field "$res" cpu_ns)
    set -- $b0 $b1
    echo "$mode ${sent:-0} ${SEEN:-0} ${DROPS:-0} $((p1 - p0)) $((samples * PERIOD_NS)) $((${cpu:-0} + k1 - k0)) $((s1 - s0)) $(($3 - $1)) $(($4 - $2))" \
        >>"$BENCH_TMP/runs"
    echo "# run $mode: sent=$sent achieved=$(field "$res" pps) pkt/s seen=$SEEN drops=$DROPS process_ns=$((p1 - p0)) kernel_samples=$samples sender+softirqd_ns=$((${cpu:-0} + k1 - k0)) system_busy_ns=$((s1 - s0))"
}

: >"$BENCH_TMP/runs"
read -ra order <<<"$MODES"
for ((r = 0; r < ROUNDS; r++)); do
    n=${#order[@]}
    for ((i = 0; i < n; i++)); do measure "${order[(i + r) % n]}"; done
    : >"$BENCH_TMP/perf.data"
done

# Medians per mode. diff: the run's sender+ksoftirqd per packet it sent
# minus the same per packet of the same round's no-capture run (rows are in
# round order, a round's runs in a row). Per packet of each run, not the
# difference of the totals: unpaced, every run keeps the sender busy for the
# same time whatever its rate, so the totals are about equal and only the
# packets they bought differ.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print 0; exit } if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v m="$1" -v c="$2" '$1 == m { print $c }' "$BENCH_TMP/runs" | median; }
diffs() {
    awk -v m="$1" -v n="${#order[@]}" '
        { r = int((NR - 1) / n); if ($1 == "none") { base[r] = $7; bsent[r] = $2 } if ($1 == m) { mine[r] = $7; per[r] = $2 } }
        END { for (r in mine) if (r in base && per[r] > 0 && bsent[r] > 0) printf "%.3f\n", (mine[r] / per[r] - base[r] / bsent[r]) / 1e3 }' \
        "$BENCH_TMP/runs.rounds"
}
head -n $((ROUNDS * ${#order[@]})) "$BENCH_TMP/runs" >"$BENCH_TMP/runs.rounds"
declare -A TOTAL PPS
printf '# %-9s %9s %9s %6s %8s %8s %8s %8s   %s\n' mode sent seen drops process kernel total \
    total/seen "diff (median [min, max])"
for m in $MODES; do
    [ "$m" = none ] && continue
    sent=$(col "$m" 2)
    seen=$(col "$m" 3)
    line=$(awk -v sent="$sent" -v seen="$seen" -v p="$(col "$m" 5)" -v k="$(col "$m" 6)" '
        BEGIN { u = sent / 1e6; if (u <= 0) u = 1; v = seen / 1e6; if (v <= 0) v = 1
                printf "%.3f %.3f %.3f %.3f", p / 1e9 / u, k / 1e9 / u, (p + k) / 1e9 / u, (p + k) / 1e9 / v }')
    read -r a b c e <<<"$line"
    TOTAL[$m]=$c
    PPS[$m]=$(awk -v s="$sent" -v t="$SECS" 'BEGIN { printf "%.0f", s / t }')
    d="n/a"
    # unpaced the sender's cost per packet moves with its rate by far more
    # than a capture costs, so the cross-check says nothing there
    if [[ " $MODES " == *" none "* ]] && [ "$RATE" != max ]; then
        d=$(diffs "$m" | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%s [%s, %s]", v[int((NR + 1) / 2)], v[1], v[NR] }')
    fi
    printf '# %-9s %9.0f %9.0f %6.0f %8s %8s %8s %8s   %s\n' "$m" "$sent" "$seen" "$(col "$m" 4)" \
        "$a" "$b" "$c" "$e" "$d"
done
echo "# CPU s per Mpkt sent, medians of $ROUNDS rounds, $FLOWS flow(s) at once; kernel = perf samples in the capture's own kernel code"

# BPF run time inside our programs (statistics on: one run each).
if [[ " $MODES " == *" ebpf "* ]] || [[ " $MODES " == *" xdp "* ]]; then
    /usr/bin/python3 - >"$BENCH_TMP/stats.log" 2>&1 <<'PY' &
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_uint32 * 2)(0, 0)  # BPF_STATS_RUN_TIME
fd = libc.syscall(321, 32, ctypes.byref(attr), 8)  # SYS_bpf, BPF_ENABLE_STATS
if fd < 0:
    print("BPF_ENABLE_STATS failed: errno", ctypes.get_errno(), flush=True)
    sys.exit(1)
print("stats on", flush=True)
time.sleep(120)  # bounded; killed by the script
PY
    STATS_PID=$!
    fk_netns_on_exit "kill -9 $STATS_PID"
    for _ in $(seq 50); do grep -qs 'stats' "$BENCH_TMP/stats.log" && break; sleep 0.1; done
    if grep -q 'stats on' "$BENCH_TMP/stats.log"; then
        for m in ebpf xdp; do
            [[ " $MODES " == *" $m "* ]] || continue
            measure "$m" bpfstats >/dev/null
            tail -1 "$BENCH_TMP/runs" | awk '{ printf "# %s with BPF statistics on: %d program runs for %d packets sent, %.0f ns per run, %.3f s per Mpkt sent inside the programs\n", $1, $10, $2, ($10 > 0 ? $9 / $10 : 0), $9 / 1e9 / ($2 > 0 ? $2 / 1e6 : 1) }'
        done
    else
        echo "# BPF run-time statistics unavailable: $(cat "$BENCH_TMP/stats.log")"
    fi
    kill -9 "$STATS_PID" 2>/dev/null
    wait "$STATS_PID" 2>/dev/null
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b <= 0) { print "n/a"; exit } printf "%.2f", a / b }'; }
# Unpaced, each mode ran at the rate its own cost let the sender reach: the
# ratio lines say so and give both rates (a per-packet cost is lower where
# more packets share each softirq run and ring wake-up).
rates() {
    [ "$RATE" = max ] || return 0
    echo "# unpaced: $1 ${PPS[$1]:-?} pkt/s, $2 ${PPS[$2]:-?} pkt/s (the ratio below compares per-packet costs at these rates)"
}
# total CPU per Mpkt (process + kernel side); ratio = flowkit / peer (0.20 = 5x less)
E=${TOTAL[ebpf]:-}
[ -n "${TOTAL[pcap]:-}" ] && rates ebpf pcap &&
    echo "$NAME-total-cpu(flowkit-pcap)  flowkit=$E cpu_s/Mpkt  peer=${TOTAL[pcap]} cpu_s/Mpkt  ratio=$(ratio "$E" "${TOTAL[pcap]}")"
[ -n "${TOTAL[softflowd]:-}" ] && rates ebpf softflowd &&
    echo "$NAME-total-cpu(softflowd)  flowkit=$E cpu_s/Mpkt  peer=${TOTAL[softflowd]} cpu_s/Mpkt  ratio=$(ratio "$E" "${TOTAL[softflowd]}")"
[ -n "${TOTAL[xdp]:-}" ] && [ -n "${TOTAL[pcap]:-}" ] && rates xdp pcap &&
    echo "$NAME-total-cpu(xdp-vs-pcap)  flowkit=${TOTAL[xdp]} cpu_s/Mpkt  peer=${TOTAL[pcap]} cpu_s/Mpkt  ratio=$(ratio "${TOTAL[xdp]}" "${TOTAL[pcap]}")"
exit 0
