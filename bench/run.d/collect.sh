#!/bin/bash
# collect: the same IPFIX export stream (bench_collect_send: RECORDS records,
# 30 per 1400-byte message, IPv4 template) replayed over loopback UDP as fast
# as the sender can into flowkit-collect (jsonl to a file), nfcapd (its
# files) and nfacctd (print plugin, csv), one after the other in the same run.
# Each collector gets a 16 MiB receive buffer (flowkit: its default, via
# SO_RCVBUFFORCE as root; nfcapd -B; nfacctd_pipe_size).
#   collect-cpu:   records stored per CPU second of the collector process
#   collect-drops: records lost at full sender speed (sent - stored), and the
#                  kernel socket drops flowkit counted itself
# Environment: ROOT, BUILD_DIR, BENCH_TMP; COLLECT_BENCH_RECORDS (default 2000000).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
RECORDS=${COLLECT_BENCH_RECORDS:-2000000}
send=$BUILD_DIR/bench/bench_collect_send
fk=$BUILD_DIR/cli/flowkit-collect/flowkit-collect
[ -x "$send" ] && [ -x "$fk" ] || { echo "collect  SKIPPED (not built)"; exit 0; }
hz=$(getconf CLK_TCK)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { print "inf"; exit } printf "%.2f", a / b }'; }
# cpu_ticks PID: CPU ticks of the process and its children (plugins, writers).
cpu_ticks() {
    local t=0 p
    for p in $1 $(ps --ppid "$1" -o pid= 2>/dev/null); do
        t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo $t
}
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_idle PID: until the process has used no CPU for 1 s (at most 60 s).
wait_idle() {
    local last=-1 now
    for _ in $(seq 60); do
        now=$(cpu_ticks "$1")
        [ "$now" = "$last" ] && return 0
        last=$now
        sleep 1
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
# run NAME PID PORT: send, wait, record CPU seconds in $NAME.cpu.
run() {
    "$send" "$3" "$RECORDS" >"$BENCH_TMP/$1.send"
    wait_idle "$2"
    awk -v t="$(cpu_ticks "$2")" -v hz="$hz" 'BEGIN { printf "%.3f", t / hz }' >"$BENCH_TMP/$1.cpu"
    stop_tree "$2"
}

# ---- flowkit-collect
port=$(free_port)
"$fk" -l "udp://127.0.0.1:$port" -o "jsonl:$BENCH_TMP/fk.jsonl" --stats 3600 2>"$BENCH_TMP/fk.err" &
pid=$!
sleep 0.5
run fk $pid "$port"
fk_rec=$(wc -l <"$BENCH_TMP/fk.jsonl")
# The sender rounds up to whole messages: losses count from what it sent.
SENT=$(sed -n 's/.*sent_records=\([0-9]*\).*/\1/p' "$BENCH_TMP/fk.send")
SENT=${SENT:-$RECORDS}
fk_cpu=$(cat "$BENCH_TMP/fk.cpu")
fk_sockdrops=$(tr ' ' '\n' <"$BENCH_TMP/fk.err" | sed -n 's/^socket_drops=//p' | tail -1)
echo "# flowkit-collect: $(cat "$BENCH_TMP/fk.send") stored=$fk_rec cpu_s=$fk_cpu socket_drops=$fk_sockdrops"

# ---- flowkit-collect writing an IPFIX file (binary, like nfcapd's files)
port=$(free_port)
"$fk" -l "udp://127.0.0.1:$port" -o "ipfix:$BENCH_TMP/fk.ipfix" --stats 3600 2>"$BENCH_TMP/fki.err" &
pid=$!
sleep 0.5
run fki $pid "$port"
fki_rec=$(tr ' ' '\n' <"$BENCH_TMP/fki.err" | sed -n 's/^records=//p' | tail -1)
fki_cpu=$(cat "$BENCH_TMP/fki.cpu")
fki_sockdrops=$(tr ' ' '\n' <"$BENCH_TMP/fki.err" | sed -n 's/^socket_drops=//p' | tail -1)
echo "# flowkit-collect -o ipfix: $(cat "$BENCH_TMP/fki.send") stored=$fki_rec cpu_s=$fki_cpu socket_drops=$fki_sockdrops"

# ---- nfcapd
if command -v nfcapd >/dev/null && command -v nfdump >/dev/null; then
    port=$(free_port)
    mkdir -p "$BENCH_TMP/nf"
    nfcapd -b 127.0.0.1 -p "$port" -w "$BENCH_TMP/nf" -t 3600 -B 16777216 >"$BENCH_TMP/nf.log" 2>&1 &
    pid=$!
    sleep 1
    run nf $pid "$port"
    nf_rec=$(nfdump -R "$BENCH_TMP/nf" -q -o csv 2>/dev/null | grep -c '^[0-9]')
    nf_cpu=$(cat "$BENCH_TMP/nf.cpu")
    echo "# nfcapd: $(cat "$BENCH_TMP/nf.send") stored=$nf_rec cpu_s=$nf_cpu"
    fk_rate=$(awk -v r="$fk_rec" -v c="$fk_cpu" 'BEGIN { if (c <= 0) c = 0.001; printf "%.0f", r / c }')
    nf_rate=$(awk -v r="$nf_rec" -v c="$nf_cpu" 'BEGIN { if (c <= 0) c = 0.001; printf "%.0f", r / c }')
    echo "collect-cpu(nfcapd)  flowkit=$fk_rate rec/cpu-s  peer=$nf_rate rec/cpu-s  ratio=$(ratio "$fk_rate" "$nf_rate")"
    fki_rate=$(awk -v r="$fki_rec" -v c="$fki_cpu" 'BEGIN { if (c <= 0) c = 0.001; printf "%.0f", r / c }')
    echo "collect-cpu-ipfixfile(nfcapd)  flowkit=$fki_rate rec/cpu-s  peer=$nf_rate rec/cpu-s  ratio=$(ratio "$fki_rate" "$nf_rate")"
    echo "collect-drops(nfcapd)  flowkit=$((SENT - fk_rec)) lost  peer=$((SENT - nf_rec)) lost  ratio=$(ratio $((SENT - fk_rec)) $((SENT - nf_rec)))"
    echo "collect-drops-ipfixfile(nfcapd)  flowkit=$((SENT - fki_rec)) lost  peer=$((SENT - nf_rec)) lost  ratio=$(ratio $((SENT - fki_rec)) $((SENT - nf_rec)))"
else
    echo "collect(nfcapd)  SKIPPED (nfdump not installed)"
fi

# ---- nfacctd (print plugin; identical records aggregate, so count packets / 3)
if command -v nfacctd >/dev/null; then
    port=$(free_port)
    cat >"$BENCH_TMP/nfacctd.conf" <<CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $port
nfacctd_pipe_size: 16777216
plugin_pipe_size: 102400000
plugin_buffer_size: 102400
plugins: print
print_output: csv
print_output_file: $BENCH_TMP/nfacctd.csv
print_refresh_time: 2
aggregate: src_host, dst_host, src_port, dst_port, proto
CONF
    nfacctd -f "$BENCH_TMP/nfacctd.conf" >"$BENCH_TMP/nfacctd.log" 2>&1 &
    pid=$!
    sleep 1
    "$send" "$port" "$RECORDS" >"$BENCH_TMP/na.send"
    wait_idle $pid
    sleep 3 # the print plugin writes every 2 s
    awk -v t="$(cpu_ticks $pid)" -v hz="$hz" 'BEGIN { printf "%.3f", t / hz }' >"$BENCH_TMP/na.cpu"
    stop_tree $pid
    na_pk=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "PACKETS") c = i; next } c { s += $c } END { print s + 0 }' "$BENCH_TMP/nfacctd.csv" 2>/dev/null)
    na_rec=$((na_pk / 3))
    na_cpu=$(cat "$BENCH_TMP/na.cpu")
    echo "# nfacctd: stored=$na_rec (packets $na_pk / 3) cpu_s=$na_cpu"
    fk_rate=$(awk -v r="$fk_rec" -v c="$fk_cpu" 'BEGIN { if (c <= 0) c = 0.001; printf "%.0f", r / c }')
    na_rate=$(awk -v r="$na_rec" -v c="$na_cpu" 'BEGIN { if (c <= 0) c = 0.001; printf "%.0f", r / c }')
    echo "collect-cpu(nfacctd)  flowkit=$fk_rate rec/cpu-s  peer=$na_rate rec/cpu-s  ratio=$(ratio "$fk_rate" "$na_rate")"
    echo "collect-drops(nfacctd)  flowkit=$((SENT - fk_rec)) lost  peer=$((SENT - na_rec)) lost  ratio=$(ratio $((SENT - fk_rec)) $((SENT - na_rec)))"
else
    echo "collect(nfacctd)  SKIPPED (pmacct not installed)"
fi
