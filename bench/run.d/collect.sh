#!/bin/bash
# collect: the same IPFIX export stream replayed over loopback UDP into
# flowkit-collect, nfcapd and nfacctd, one after the other in the same run,
# each twice: once as fast as the sender can ("full"), once paced at
# COLLECT_BENCH_PPS datagrams/s ("paced", default 40,000: the steady rate of
# #18), RECORDS records each time. Two inputs (COLLECT_BENCH_INPUTS):
#   synthetic  bench_collect_send's own stream: 30 records per 1400-byte
#              message, one IPv4 template of 9 fields;
#   softflowd  a real export: softflowd -v 10 -A milli reading a pcap made
#              by fk_pcapgen (COLLECT_BENCH_FLOWS flows, 10x as many
#              packets, 30 % IPv6), captured once (bench_collect_send
#              --dump) and replayed in a loop with rewritten sequence
#              numbers (--replay): its templates, options records and
#              message sizes as softflowd sends them.
# Every collector gets a 16 MiB
# receive buffer (flowkit: its default, SO_RCVBUFFORCE as root; nfcapd -B;
# nfacctd_pipe_size) and writes to files in BENCH_TMP:
#   flowkit -o jsonl:FILE (text), flowkit -o ipfix:FILE (binary, RFC 5655:
#   data sets stored as they came, "pass-through"), flowkit -o ipfix:FILE
#   --set ipfix_passthrough=0 ("fkipfixdec": decoded and encoded again),
#   nfcapd (its binary nffile), nfacctd (print plugin, csv, aggregated;
#   records stored = its packets / the input's packets per record; the
#   plugin appends each refresh to the file: by default it overwrites it,
#   and all but the last refresh's flows read as lost; its pipe from the
#   core holds 100 MB: with 10 MB a burst of 200,000 records lost 50-90 %
#   of them inside nfacctd, with no socket drop and no word in its log).
# Figures (full-speed run unless named "paced"):
#   collect-rate-*:  records stored / seconds from the first message sent to
#                    the end of the collector's last busy interval
#   collect-cpu-*:   records stored per CPU second of the collector process
#                    (all threads and child processes, schedstat ns)
#   collect-drops-*: records lost (sent - stored)
#   collect-drops-paced-*: records lost with the sender paced at PPS
#   collect-cpu-paced-*: records stored per CPU second with the sender paced
#                    at PPS (the steady rate: there the cost per wake-up
#                    counts, which flowkit's recv_interval batches)
#   collect-cpu-http, collect-cpu-http-decoded: flowkit itself with
#                    --http (live store + HTTP server: fkhttp, fkhttpdec) against
#                    without (fkipfix, fkipfixdec) (#17)
# Each collector is sent to once it is ready (its port bound; flowkit's
# "listening on" printed; its start-up CPU spent): the sender's "refused"
# counts datagrams that still met a closed port (lost, no collector counter).
# "recvonly" (bench_collect_send --recv) only receives and counts: the CPU
# floor of any collector on this machine, printed as a comment.
# Environment: ROOT, BUILD_DIR, BENCH_TMP; COLLECT_BENCH_RECORDS (default
# 2000000), COLLECT_BENCH_PPS (datagrams/s of the paced runs, default 40000),
# COLLECT_BENCH_INPUTS (default "synthetic softflowd"; softflowd is skipped
# when not installed), COLLECT_BENCH_FLOWS (default 20000),
# COLLECT_BENCH_ONLY (e.g. "fkjson nfcapd": run only these),
# COLLECT_BENCH_REPEAT (rounds, default 1; figures are medians over rounds).
# Lines are named NAME[input] (e.g. collect-cpu-ipfix[softflowd](nfcapd)).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
RECORDS=${COLLECT_BENCH_RECORDS:-2000000}
PPS=${COLLECT_BENCH_PPS:-40000}
REPEAT=${COLLECT_BENCH_REPEAT:-1}
INPUTS=${COLLECT_BENCH_INPUTS:-synthetic softflowd}
FLOWS=${COLLECT_BENCH_FLOWS:-20000}
send=$BUILD_DIR/bench/bench_collect_send
fk=$BUILD_DIR/cli/flowkit-collect/flowkit-collect
[ -x "$send" ] && [ -x "$fk" ] || { echo "collect  SKIPPED (not built)"; exit 0; }
# Fair socket buffers: nfcapd (-B) and nfacctd (nfacctd_pipe_size) ask with
# SO_RCVBUF, which net.core.rmem_max caps, while flowkit-collect as root
# uses SO_RCVBUFFORCE. For the run, rmem_max is raised to the 16 MiB all
# three ask for (as an operator of nfcapd would), and put back on exit.
orig_rmem=$(sysctl -n net.core.rmem_max 2>/dev/null)
if [ "$(id -u)" = 0 ] && [ -n "$orig_rmem" ] && [ "$orig_rmem" -lt 16777216 ] &&
    sysctl -qw net.core.rmem_max=16777216 2>/dev/null; then
    trap 'sysctl -qw net.core.rmem_max="$orig_rmem"' EXIT
    echo "# net.core.rmem_max raised from $orig_rmem to 16777216 for this run"
fi
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
# udp_bound PORT: some socket is bound to 127.0.0.1:PORT (or the wildcard).
udp_bound() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
        /proc/net/udp /proc/net/udp6 2>/dev/null
}
# wait_ready PID PORT [ERRFILE]: until the collector's socket is bound (and,
# for flowkit, ERRFILE says "listening on": its store and server are up), then
# until its start-up work is done (wait_idle), so that no datagram is sent
# to a port nobody holds yet (lost without any counter: the collector never
# sees it) and no start-up CPU counts as the cost of records. A slow start
# (flowkit-collect --http zeroes its store, ~100 MB, before it binds; the
# machine is loaded) used to lose part or all of a paced replay. Returns 1
# after 60 s or when the process died.
wait_ready() {
    for _ in $(seq 600); do
        kill -0 "$1" 2>/dev/null || return 1
        if udp_bound "$2" && { [ -z "${3:-}" ] || grep -q 'listening on' "$3"; }; then
            wait_idle "$1"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# start_COLLECTOR TAG PORT: start it in the background, set $pid.
start_fkjson() {
    "$fk" -l "udp://127.0.0.1:$2" -o "jsonl:$BENCH_TMP/$1.jsonl" --stats 3600 2>"$BENCH_TMP/$1.err" &
    pid=$!
}
start_fkipfix() {
    "$fk" -l "udp://127.0.0.1:$2" -o "ipfix:$BENCH_TMP/$1.ipfix" --stats 3600 2>"$BENCH_TMP/$1.err" &
    pid=$!
}
# The IPFIX file without the pass-through: every record decoded and encoded
# again in flowkit's own layout (the path of filters and other outputs).
start_fkipfixdec() {
    "$fk" -l "udp://127.0.0.1:$2" -o "ipfix:$BENCH_TMP/$1.ipfix" --stats 3600 \
        --set ipfix_passthrough=0 2>"$BENCH_TMP/$1.err" &
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
# The same with the pass-through off: the store's cost on top of a collector
# that decodes every record anyway (fkipfixdec), i.e. the store and server
# alone, without the decode --http forces on the pass-through.
start_fkhttpdec() {
    "$fk" -l "udp://127.0.0.1:$2" -o "ipfix:$BENCH_TMP/$1.ipfix" --stats 3600 --http 127.0.0.1:0 \
        --set ipfix_passthrough=0 2>"$BENCH_TMP/$1.err" &
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
plugin_buffer_size: 10240
plugins: print
print_output: csv
print_output_file: $BENCH_TMP/$1.csv
print_output_file_append: true
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
stored_fkhttpdec() { field "$BENCH_TMP/$1.err" records; }
stored_fkipfix0() { field "$BENCH_TMP/$1.err" records; }
stored_fkipfixdec() { field "$BENCH_TMP/$1.err" records; }
stored_recvonly() { sed -n 's/^records=\([0-9]*\).*/\1/p' "$BENCH_TMP/$1.out"; }
stored_nfcapd() { nfdump -R "$BENCH_TMP/$1" -q -o csv 2>/dev/null | grep -c '^[0-9]'; }
# nfacctd aggregates records: its packets over the input's packets per
# record (PKT_PER_REC, from the sender's sent_packets / sent_records).
stored_nfacctd() {
    awk -F, -v ppr="$PKT_PER_REC" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "PACKETS") c = i; next }
             c { s += $c } END { printf "%d", s / ppr + 0.5 }' "$BENCH_TMP/$1.csv" 2>/dev/null || echo 0
}

# measure COLLECTOR MODE (full|paced) INPUT: sets R_rate R_cpu R_lost R_stored R_note.
measure() {
    local c=$1 mode=$2 tag=$1-$2 port pps=0 cpu0 cpu1 out replay=()
    [ "$mode" = paced ] && pps=$PPS
    [ "$3" = synthetic ] || replay=(--replay "$BENCH_TMP/$3.dgrams")
    port=$(free_port)
    "start_$c" "$tag" "$port"
    local ready=1
    local says=
    case $c in fk*) says=$BENCH_TMP/$tag.err ;; esac
    wait_ready "$pid" "$port" "$says" || ready=0
    cpu0=$(cpu_ns "$pid")
    out=$("$send" "${replay[@]}" "$port" "$RECORDS" "$pps" "$pid")
    PKT_PER_REC=$(echo "$out" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.6f", v["sent_records"] ? v["sent_packets"] / v["sent_records"] : 1 }')
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
    local cpu_s
    cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print (b - a) / 1e9 }')
    # recvonly exits a second after the stream, often before cpu1 is read:
    # the sender's own reading of its CPU (schedstat, to its last busy
    # interval) counts then.
    [ "$c" = recvonly ] && cpu_s=$(echo "$out" | sed -n 's/.*busy_s=[0-9.]* cpu_s=\([0-9.]*\).*/\1/p')
    R_cpu=$(div "$R_stored" "$cpu_s")
    R_rate=$(div "$R_stored" "$busy")
    R_lost=$((sent - R_stored))
    R_note="$out stored=$R_stored cpu_s=$cpu_s"
    if [ -f "$BENCH_TMP/$tag.err" ]; then
        R_note="$R_note socket_drops=$(field "$BENCH_TMP/$tag.err" socket_drops) udp_wakeups=$(field "$BENCH_TMP/$tag.err" udp_wakeups)"
    fi
    [ "$ready" = 1 ] || R_note="$R_note NOT-READY(no bound socket within 60 s)"
    echo "# $c $mode [$3]: $R_note"
}

# The real export: softflowd's IPFIX of a generated pcap, captured once.
capture_softflowd() {
    local gen=$BUILD_DIR/tests/tools/fk_pcapgen port dpid
    command -v softflowd >/dev/null && [ -x "$gen" ] || return 1
    "$gen" --seed 18 --flows "$FLOWS" --packets $((FLOWS * 10)) --span 60 --snaplen 128 --vlan 0 \
        --arp 0 --usec --summary-only "$BENCH_TMP/softflowd.pcap" "$BENCH_TMP/softflowd.truth" \
        >/dev/null || return 1
    "$send" --dump 0 "$BENCH_TMP/softflowd.dgrams" >"$BENCH_TMP/dump.out" 2>/dev/null &
    dpid=$!
    for _ in $(seq 50); do
        port=$(sed -n 's/^port=//p' "$BENCH_TMP/dump.out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    timeout 120 softflowd -d -r "$BENCH_TMP/softflowd.pcap" -n "127.0.0.1:$port" -v 10 -A milli \
        -m 65536 >/dev/null 2>&1
    wait "$dpid" # 2 s of silence ends the capture
    rm -f "$BENCH_TMP/softflowd.pcap"
    [ -s "$BENCH_TMP/softflowd.dgrams" ]
}

collectors="fkjson fkipfix fkipfixdec fkipfix0 fkhttp fkhttpdec"
# nfacctd lives in /usr/sbin, which a user's PATH may lack
PATH=$PATH:/usr/sbin:/sbin
declare -A installed
command -v nfcapd >/dev/null && command -v nfdump >/dev/null && installed[nfcapd]=1
command -v nfacctd >/dev/null && installed[nfacctd]=1
for peer in nfcapd nfacctd; do
    [ -n "${installed[$peer]:-}" ] && collectors="$collectors $peer"
done
collectors=${COLLECT_BENCH_ONLY:-$collectors recvonly}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# report INPUT: the table and the comparison lines of one input.
report() {
    local in=$1 c peer sink
    printf '# [%s] %-10s %12s %14s %10s %16s %18s   (medians of %s rounds)\n' "$in" collector rec/s \
        rec/cpu-s lost "lost@${PPS}dg/s" "rec/cpu-s@${PPS}dg/s" "$REPEAT"
    for c in $collectors; do
        printf '# [%s] %-10s %12s %14s %10s %16s %18s\n' "$in" "$c" "${rate[$c]}" "${cpu[$c]}" \
            "${lost[$c]}" "${lostp[$c]}" "${cpup[$c]}"
    done
    if [ -n "${cpu[recvonly]:-}" ] && [ -n "${cpu[nfcapd]:-}" ]; then
        echo "# [$in] receive floor (recvmmsg + count only): ${cpu[recvonly]} rec/cpu-s =" \
            "$(ratio "${cpu[recvonly]}" "${cpu[nfcapd]}") x nfcapd at full speed," \
            "${cpup[recvonly]} rec/cpu-s = $(ratio "${cpup[recvonly]}" "${cpup[nfcapd]}") x paced"
    fi
    if [ -n "${cpup[fkipfix0]:-}" ] && [ -n "${cpup[fkipfix]:-}" ]; then
        # "peer" here is flowkit itself reading each datagram at once: the gain of recv_interval.
        echo "collect-cpu-paced-batching[$in](ipfix)  flowkit=${cpup[fkipfix]} rec/cpu-s  peer=${cpup[fkipfix0]} rec/cpu-s  ratio=$(ratio "${cpup[fkipfix]}" "${cpup[fkipfix0]}")"
    fi
    if [ -n "${cpu[fkipfixdec]:-}" ] && [ -n "${cpu[fkipfix]:-}" ]; then
        # "peer" here is flowkit itself decoding and encoding again: the gain of the pass-through.
        echo "collect-cpu-passthrough[$in](ipfix)  flowkit=${cpu[fkipfix]} rec/cpu-s  peer=${cpu[fkipfixdec]} rec/cpu-s  ratio=$(ratio "${cpu[fkipfix]}" "${cpu[fkipfixdec]}")"
    fi
    if [ -n "${cpu[fkhttp]:-}" ] && [ -n "${cpu[fkipfix]:-}" ]; then
        # "peer" here is flowkit itself without --http: the cost of the store + server.
        echo "collect-cpu-http[$in](ipfix)  flowkit=${cpu[fkhttp]} rec/cpu-s  peer=${cpu[fkipfix]} rec/cpu-s  ratio=$(ratio "${cpu[fkhttp]}" "${cpu[fkipfix]}")"
        echo "collect-cpu-paced-http[$in](ipfix)  flowkit=${cpup[fkhttp]} rec/cpu-s  peer=${cpup[fkipfix]} rec/cpu-s  ratio=$(ratio "${cpup[fkhttp]}" "${cpup[fkipfix]}")"
    fi
    if [ -n "${cpu[fkhttpdec]:-}" ] && [ -n "${cpu[fkipfixdec]:-}" ]; then
        # The same without the pass-through (both decode every record): the store + server alone.
        echo "collect-cpu-http-decoded[$in](ipfix)  flowkit=${cpu[fkhttpdec]} rec/cpu-s  peer=${cpu[fkipfixdec]} rec/cpu-s  ratio=$(ratio "${cpu[fkhttpdec]}" "${cpu[fkipfixdec]}")"
        echo "collect-cpu-paced-http-decoded[$in](ipfix)  flowkit=${cpup[fkhttpdec]} rec/cpu-s  peer=${cpup[fkipfixdec]} rec/cpu-s  ratio=$(ratio "${cpup[fkhttpdec]}" "${cpup[fkipfixdec]}")"
    fi
    for peer in nfcapd nfacctd; do
        if [ -z "${rate[$peer]:-}" ]; then
            # A peer left out of COLLECT_BENCH_ONLY was not run: say which.
            if [ -z "${installed[$peer]:-}" ]; then
                echo "collect[$in]($peer)  SKIPPED (not installed)"
            else
                echo "collect[$in]($peer)  SKIPPED (not in COLLECT_BENCH_ONLY)"
            fi
            continue
        fi
        for c in fkjson fkipfix; do
            [ -n "${rate[$c]:-}" ] || continue
            sink=${c#fk}
            echo "collect-rate-$sink[$in]($peer)  flowkit=${rate[$c]} rec/s  peer=${rate[$peer]} rec/s  ratio=$(ratio "${rate[$c]}" "${rate[$peer]}")"
            echo "collect-cpu-$sink[$in]($peer)  flowkit=${cpu[$c]} rec/cpu-s  peer=${cpu[$peer]} rec/cpu-s  ratio=$(ratio "${cpu[$c]}" "${cpu[$peer]}")"
            echo "collect-cpu-paced-$sink[$in]($peer)  flowkit=${cpup[$c]} rec/cpu-s  peer=${cpup[$peer]} rec/cpu-s  ratio=$(ratio "${cpup[$c]}" "${cpup[$peer]}")"
            echo "collect-drops-$sink[$in]($peer)  flowkit=${lost[$c]} lost  peer=${lost[$peer]} lost  ratio=$(ratio "${lost[$c]}" "${lost[$peer]}")"
            echo "collect-drops-paced-$sink[$in]($peer)  flowkit=${lostp[$c]} lost  peer=${lostp[$peer]} lost  ratio=$(ratio "${lostp[$c]}" "${lostp[$peer]}")"
        done
    done
}

for in in $INPUTS; do
    if [ "$in" = softflowd ] && ! capture_softflowd; then
        echo "collect[softflowd]  SKIPPED (softflowd or fk_pcapgen missing, or nothing captured)"
        continue
    fi
    unset rate cpu lost lostp rates cpus losts lostps cpups cpup
    declare -A rate cpu lost lostp rates cpus losts lostps cpups cpup
    # Rounds: every collector once per round (so slow drifts of the shared
    # machine hit all of them alike); figures are the medians over the rounds.
    for round in $(seq "$REPEAT"); do
        for c in $collectors; do
            measure "$c" full "$in"
            rates[$c]="${rates[$c]:-} $R_rate" cpus[$c]="${cpus[$c]:-} $R_cpu" losts[$c]="${losts[$c]:-} $R_lost"
            measure "$c" paced "$in"
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
    report "$in"
done
