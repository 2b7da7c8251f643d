#!/bin/bash
# collect: the same IPFIX export stream (bench_collect_send: RECORDS records,
# 30 per 1400-byte message, IPv4 template) replayed over loopback UDP into
# flowkit-collect, nfcapd and nfacctd, one after the other in the same run,
# each twice: once as fast as the sender can ("full"), once paced at
# COLLECT_BENCH_RATE records/s ("paced"). Every collector gets a 16 MiB
# receive buffer (flowkit: its default, SO_RCVBUFFORCE as root; nfcapd -B;
# nfacctd_pipe_size) and writes to files in BENCH_TMP:
#   flowkit -o jsonl:FILE (text), flowkit -o ipfix:FILE (binary, RFC 5655),
#   nfcapd (its binary nffile), nfacctd (print plugin, csv, aggregated).
# Figures (full-speed run unless named "paced"):
#   collect-rate-*:  records stored / seconds from the first message sent to
#                    the end of the collector's last busy interval
#   collect-cpu-*:   records stored per CPU second of the collector process
#                    (all threads and child processes, schedstat ns)
#   collect-drops-*: records lost (sent - stored)
#   collect-drops-paced-*: records lost with the sender paced at RATE
#   collect-cpu-paced-*: records stored per CPU second with the sender paced
#                    at RATE (the steady rate: there the cost per wake-up
#                    counts, which flowkit's recv_interval batches)
# "recvonly" (bench_collect_send --recv) only receives and counts: the CPU
# floor of any collector on this machine, printed as a comment.
# Environment: ROOT, BUILD_DIR, BENCH_TMP; COLLECT_BENCH_RECORDS (default
# 2000000), COLLECT_BENCH_RATE (records/s, default 1200000: 40,000
# datagrams/s, the steady rate of #18),
# COLLECT_BENCH_ONLY (e.g. "fkjson nfcapd": run only these),
# COLLECT_BENCH_REPEAT (rounds, default 1; figures are medians over rounds).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
RECORDS=${COLLECT_BENCH_RECORDS:-2000000}
RATE=${COLLECT_BENCH_RATE:-1200000}
REPEAT=${COLLECT_BENCH_REPEAT:-1}
PPS=$(awk -v r="$RATE" 'BEGIN { printf "%.0f", r / 30 }')
send=$BUILD_DIR/bench/bench_collect_send
fk=$BUILD_DIR/cli/flowkit-collect/flowkit-collect
[ -x "$send" ] && [ -x "$fk" ] || { echo "collect  SKIPPED (not built)"; exit 0; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { print "inf"; exit } printf "%.2f", a / b }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 0.001; printf "%.0f", a / b }'; }
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cpu_ns() { "$send" --cpu "$1"; }
# wait_idle PID: until the process (and children) used < 5 ms CPU in 0.5 s (at most 60 s).
wait_idle() {
    local last now
    last=$(cpu_ns "$1")
    for _ in $(seq 120); do
        sleep 0.5
        now=$(cpu_ns "$1")
        [ $((now - last)) -lt 5000000 ] && return 0
        last=$now
    done
}
# stop_tree PID: SIGTERM, then SIGKILL to it and its children after 5 s
# (nfacctd does not always exit on SIGTERM).
stop_tree() {
    local kids
    kids=$(ps --ppid "$1" -o pid= 2>/dev/null)
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL "$1" $kids 2>/dev/null
    wait "$1" 2>/dev/null
}
field() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | tail -1; }

# start_COLLECTOR TAG PORT: start it in the background, set $pid.
start_fkjson() {
    "$fk" -l "udp://127.0.0.1:$2" -o "jsonl:$BENCH_TMP/$1.jsonl" --stats 3600 2>"$BENCH_TMP/$1.err" &
    pid=$!
}
start_fkipfix() {
    "$fk" -l "udp://127.0.0.1:$2" -o "ipfix:$BENCH_TMP/$1.ipfix" --stats 3600 2>"$BENCH_TMP/$1.err" &
    pid=$!
}
# The same without receive batching (--recv-interval 0: a wake-up per
# datagram or two at a steady rate), to price recv_interval (#18).
start_fkipfix0() {
    "$fk" -l "udp://127.0.0.1:$2" -o "ipfix:$BENCH_TMP/$1.ipfix" --stats 3600 --recv-interval 0 \
        2>"$BENCH_TMP/$1.err" &
    pid=$!
}
# flowkit with the console on (--http): the same IPFIX output plus the live
# flow store and the HTTP server, to price them (collect-cpu-http).
start_fkhttp() {
    "$fk" -l "udp://127.0.0.1:$2" -o "ipfix:$BENCH_TMP/$1.ipfix" --stats 3600 --http 127.0.0.1:0 \
        2>"$BENCH_TMP/$1.err" &
    pid=$!
}
start_nfcapd() {
    mkdir -p "$BENCH_TMP/$1"
    nfcapd -b 127.0.0.1 -p "$2" -w "$BENCH_TMP/$1" -t 3600 -B 16777216 >"$BENCH_TMP/$1.log" 2>&1 &
    pid=$!
}
start_nfacctd() {
    cat >"$BENCH_TMP/$1.conf" <<CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $2
nfacctd_pipe_size: 16777216
plugin_pipe_size: 102400000
plugin_buffer_size: 102400
plugins: print
print_output: csv
print_output_file: $BENCH_TMP/$1.csv
print_refresh_time: 2
aggregate: src_host, dst_host, src_port, dst_port, proto
CONF
    nfacctd -f "$BENCH_TMP/$1.conf" >"$BENCH_TMP/$1.log" 2>&1 &
    pid=$!
}
# The floor of any collector: recvmmsg and count, nothing else.
start_recvonly() {
    "$send" --recv "$2" >"$BENCH_TMP/$1.out" &
    pid=$!
}
# stored_COLLECTOR TAG: records it stored.
stored_fkjson() { wc -l <"$BENCH_TMP/$1.jsonl"; }
stored_fkipfix() { field "$BENCH_TMP/$1.err" records; }
stored_fkhttp() { field "$BENCH_TMP/$1.err" records; }
stored_fkipfix0() { field "$BENCH_TMP/$1.err" records; }
stored_recvonly() { sed -n 's/^records=\([0-9]*\).*/\1/p' "$BENCH_TMP/$1.out"; }
stored_nfcapd() { nfdump -R "$BENCH_TMP/$1" -q -o csv 2>/dev/null | grep -c '^[0-9]'; }
# nfacctd aggregates the identical records: each stream record has 3 packets.
stored_nfacctd() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "PACKETS") c = i; next }
             c { s += $c } END { printf "%d", s / 3 }' "$BENCH_TMP/$1.csv" 2>/dev/null || echo 0
}

# measure COLLECTOR MODE (full|paced): sets R_rate R_cpu R_lost R_stored R_note.
measure() {
    local c=$1 mode=$2 tag=$1-$2 port pps=0 cpu0 cpu1 out
    [ "$mode" = paced ] && pps=$PPS
    port=$(free_port)
    "start_$c" "$tag" "$port"
    sleep 1
    cpu0=$(cpu_ns "$pid")
    out=$("$send" "$port" "$RECORDS" "$pps" "$pid")
    wait_idle "$pid"
    [ "$c" = nfacctd ] && sleep 3 # the print plugin writes every 2 s
    cpu1=$(cpu_ns "$pid")
    if [ "$c" = recvonly ]; then
        wait "$pid" # it prints its count when the stream has ended
    else
        stop_tree "$pid"
    fi
    local sent busy
    sent=$(echo "$out" | sed -n 's/.*sent_records=\([0-9]*\).*/\1/p')
    busy=$(echo "$out" | sed -n 's/.*busy_s=\([0-9.]*\).*/\1/p')
    R_stored=$("stored_$c" "$tag")
    R_stored=${R_stored:-0}
    # Output files go once counted: their dirty pages would otherwise be
    # written back during the next collector's run.
    rm -rf "$BENCH_TMP/$tag.jsonl" "$BENCH_TMP/$tag.ipfix" "$BENCH_TMP/$tag.csv" "${BENCH_TMP:?}/$tag"
    R_cpu=$(div "$R_stored" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print (b - a) / 1e9 }')")
    R_rate=$(div "$R_stored" "$busy")
    R_lost=$((sent - R_stored))
    R_note="$out stored=$R_stored cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
    if [ -f "$BENCH_TMP/$tag.err" ]; then
        R_note="$R_note socket_drops=$(field "$BENCH_TMP/$tag.err" socket_drops) udp_wakeups=$(field "$BENCH_TMP/$tag.err" udp_wakeups)"
    fi
    echo "# $c $mode: $R_note"
}

declare -A rate cpu lost lostp
collectors="fkjson fkipfix fkipfix0 fkhttp"
command -v nfcapd >/dev/null && command -v nfdump >/dev/null && collectors="$collectors nfcapd"
command -v nfacctd >/dev/null && collectors="$collectors nfacctd"
collectors=${COLLECT_BENCH_ONLY:-$collectors recvonly}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Rounds: every collector once per round (so slow drifts of the shared
# machine hit all of them alike); figures are the medians over the rounds.
declare -A rates cpus losts lostps cpups cpup
for round in $(seq "$REPEAT"); do
    for c in $collectors; do
        measure "$c" full
        rates[$c]="${rates[$c]:-} $R_rate" cpus[$c]="${cpus[$c]:-} $R_cpu" losts[$c]="${losts[$c]:-} $R_lost"
        measure "$c" paced
        lostps[$c]="${lostps[$c]:-} $R_lost" cpups[$c]="${cpups[$c]:-} $R_cpu"
    done
done
for c in $collectors; do
    rate[$c]=$(echo "${rates[$c]}" | median)
    cpu[$c]=$(echo "${cpus[$c]}" | median)
    lost[$c]=$(echo "${losts[$c]}" | median)
    lostp[$c]=$(echo "${lostps[$c]}" | median)
    cpup[$c]=$(echo "${cpups[$c]}" | median)
done

printf '# %-8s %12s %14s %10s %16s %18s   (medians of %s rounds)\n' collector rec/s rec/cpu-s lost \
    "lost@$RATE/s" "rec/cpu-s@$RATE/s" "$REPEAT"
for c in $collectors; do
    printf '# %-8s %12s %14s %10s %16s %18s\n' "$c" "${rate[$c]}" "${cpu[$c]}" "${lost[$c]}" \
        "${lostp[$c]}" "${cpup[$c]}"
done
if [ -n "${cpu[recvonly]:-}" ] && [ -n "${cpu[nfcapd]:-}" ]; then
    echo "# receive floor (recvmmsg + count only): ${cpu[recvonly]} rec/cpu-s =" \
        "$(ratio "${cpu[recvonly]}" "${cpu[nfcapd]}") x nfcapd (a collector's ratio per CPU-s cannot go far beyond it)"
fi
if [ -n "${cpup[fkipfix0]:-}" ] && [ -n "${cpup[fkipfix]:-}" ]; then
    # "peer" here is flowkit itself reading each datagram at once: the gain of recv_interval.
    echo "collect-cpu-paced-batching(ipfix)  flowkit=${cpup[fkipfix]} rec/cpu-s  peer=${cpup[fkipfix0]} rec/cpu-s  ratio=$(ratio "${cpup[fkipfix]}" "${cpup[fkipfix0]}")"
fi
if [ -n "${cpu[fkhttp]:-}" ] && [ -n "${cpu[fkipfix]:-}" ]; then
    # "peer" here is flowkit itself without --http: the cost of the store + server.
    echo "collect-cpu-http(ipfix)  flowkit=${cpu[fkhttp]} rec/cpu-s  peer=${cpu[fkipfix]} rec/cpu-s  ratio=$(ratio "${cpu[fkhttp]}" "${cpu[fkipfix]}")"
fi
for peer in nfcapd nfacctd; do
    if [ -z "${rate[$peer]:-}" ]; then
        echo "collect($peer)  SKIPPED (not installed)"
        continue
    fi
    for c in fkjson fkipfix; do
        [ -n "${rate[$c]:-}" ] || continue
        sink=${c#fk}
        echo "collect-rate-$sink($peer)  flowkit=${rate[$c]} rec/s  peer=${rate[$peer]} rec/s  ratio=$(ratio "${rate[$c]}" "${rate[$peer]}")"
        echo "collect-cpu-$sink($peer)  flowkit=${cpu[$c]} rec/cpu-s  peer=${cpu[$peer]} rec/cpu-s  ratio=$(ratio "${cpu[$c]}" "${cpu[$peer]}")"
        echo "collect-cpu-paced-$sink($peer)  flowkit=${cpup[$c]} rec/cpu-s  peer=${cpup[$peer]} rec/cpu-s  ratio=$(ratio "${cpup[$c]}" "${cpup[$peer]}")"
        echo "collect-drops-$sink($peer)  flowkit=${lost[$c]} lost  peer=${lost[$peer]} lost  ratio=$(ratio "${lost[$c]}" "${lost[$peer]}")"
        echo "collect-drops-paced-$sink($peer)  flowkit=${lostp[$c]} lost  peer=${lostp[$peer]} lost  ratio=$(ratio "${lostp[$c]}" "${lostp[$peer]}")"
    done
done
