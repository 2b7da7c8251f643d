#!/bin/bash
# filter: the cost of evaluating an nfdump-syntax flow filter per record, on
# the same records for both tools. tests/tools/filter_flows.py makes RECORDS
# IPFIX flow records (IPv4/IPv6, TCP/UDP/ICMP); nfcapd stores them, and the
# same records feed bench_filter (fk_filter_match in a loop, CPU time).
#   flowkit: ns per fk_filter_match() call (compiled once)
#   nfdump:  CPU of `nfdump -R DIR -o null EXPR` / RECORDS, best of 3: its
#            whole run per record (read the file, filter, sum what passed;
#            it cannot be asked for the filter alone). The comment line after
#            each gives the difference to the same run with the filter `any`,
#            the closest to nfdump's filter cost alone (noisy; may be ~0).
# One line per expression: filter-eval-<n>  flowkit=X ns/record  nfdump=Y ns/record.
# Then queries over the same records, CPU time, best of 3 (#19):
#   query-<name>  flowkit=records/s (flowkit-ipfix -s ... -f FILTER FILE: decode
#   the raw IPFIX file, filter, top-N)  nfdump=records/s (nfdump -R DIR -s ... FILTER
#   on nfcapd's files); whole runs, start-up included.
#   query-<name>-x10: the same query over ten copies of the same records (a
#   directory of ten copies of each tool's files). From the two sizes, a
#   comment line splits each tool's CPU into a fixed cost per run (exec,
#   loading libraries, buffers) and a cost per record:
#   t(N) = fixed + N * per_record.
#   With FILTER_BENCH_CALLGRIND=1 (valgrind installed), comment lines give
#   each tool's instructions per record from callgrind, the same under load:
#   the whole run over N records / N, and the per-record cost alone (the
#   run over 10 N minus the run over N, / 9 N), with their ratio.
# The load average is printed first; above 2 the figures are marked "loaded".
# Environment: ROOT, BUILD_DIR, BENCH_TMP; FILTER_BENCH_RECORDS (default 100000).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
RECORDS=${FILTER_BENCH_RECORDS:-100000}
PY=/usr/bin/python3
bench=$BUILD_DIR/bench/bench_filter
[ -x "$bench" ] || { echo "filter  SKIPPED (not built)"; exit 0; }
command -v nfcapd >/dev/null && command -v nfdump >/dev/null || { echo "filter  SKIPPED (nfdump not installed)"; exit 0; }

port=$($PY -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$BENCH_TMP/nf"
nfcapd -b 127.0.0.1 -p "$port" -w "$BENCH_TMP/nf" -t 3600 -B 16777216 >"$BENCH_TMP/nfcapd.log" 2>&1 &
npid=$!
for _ in $(seq 100); do ss -Hlun "sport = :$port" | grep -q . && break; sleep 0.05; done
$PY "$ROOT/tests/tools/filter_flows.py" "$BENCH_TMP/flows.ipfix" --count "$RECORDS" --send "$port" \
    >"$BENCH_TMP/flows.jsonl"
sleep 0.5
kill -TERM "$npid"
wait "$npid"
stored=$(nfdump -R "$BENCH_TMP/nf" -q -o 'fmt:%pr' | wc -l)
echo "# input: $RECORDS records generated, $stored stored by nfcapd"

# cpu CMD...: CPU seconds (user + system) of the command, best of 3.
cpu() {
    $PY - "$@" <<'PYEOF'
import resource, subprocess, sys
best = None
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    best = t if best is None else min(best, t)
print("%.6f" % best)
PYEOF
}
base=$(cpu nfdump -R "$BENCH_TMP/nf" -o null any)
n=0
for expr in 'proto tcp and dst port 443' \
    'src net 10.0.0.0/8 and dst port in [80 443] or icmp-type 8' \
    '(host 10.0.0.1 or host 10.0.0.2) and not (bytes < 1k or packets > 5000)' \
    'net 2001:db8::/32 and port > 1024 and flags S'; do
    n=$((n + 1))
    fk=$("$bench" "$BENCH_TMP/flows.jsonl" "$expr" | sed -n 's/.*ns_per_record=\([0-9.]*\).*/\1/p')
    t=$(cpu nfdump -R "$BENCH_TMP/nf" -o null "$expr")
    nf=$(awk -v t="$t" -v r="$stored" 'BEGIN { printf "%.1f", t * 1e9 / r }')
    delta=$(awk -v t="$t" -v b="$base" -v r="$stored" 'BEGIN { printf "%.1f", (t - b) * 1e9 / r }')
    ratio=$(awk -v a="$nf" -v b="$fk" 'BEGIN { if (b <= 0) { print "inf"; exit } printf "%.1f", a / b }')
    echo "# filter-eval-$n: $expr"
    echo "filter-eval-$n  flowkit=$fk ns/record  nfdump=$nf ns/record  ratio=$ratio"
    echo "#   nfdump minus its run with 'any': $delta ns/record"
done

ipfix=$BUILD_DIR/cli/flowkit-ipfix/flowkit-ipfix
[ -x "$ipfix" ] || { echo "query  SKIPPED (flowkit-ipfix not built)"; exit 0; }
cat "$BENCH_TMP/flows.ipfix" >/dev/null
load=$(cut -d' ' -f1 /proc/loadavg)
loaded=$(awk -v l="$load" 'BEGIN { print (l > 2) ? " (loaded)" : "" }')
echo "# queries: load average $load$loaded"
# Ten copies of the same records for each tool, in a directory.
mkdir -p "$BENCH_TMP/nf10" "$BENCH_TMP/fk10"
k=0
for i in 0 1 2 3 4 5 6 7 8 9; do
    cp "$BENCH_TMP/flows.ipfix" "$BENCH_TMP/fk10/flows-$i.ipfix"
    for f in "$BENCH_TMP"/nf/nfcapd.*; do
        k=$((k + 1))
        cp "$f" "$BENCH_TMP/nf10/nfcapd.$(printf '2026010100%02d' $k)"
    done
done
cat "$BENCH_TMP"/fk10/* "$BENCH_TMP"/nf10/* >/dev/null
rate() { awk -v r="$1" -v t="$2" 'BEGIN { if (t <= 0) t = 0.000001; printf "%.0f", r / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { print "inf"; exit } printf "%.1f", a / b }'; }
# split T1 T10: "fixed_ms per_record_ns" from runs over N and 10 N records.
split() {
    awk -v a="$1" -v b="$2" -v n="$stored" 'BEGIN {
        per = (b - a) / (9 * n); fixed = a - n * per
        printf "%.1f ms, %.0f ns/record", fixed * 1e3, per * 1e9 }'
}
# insns CMD...: instructions callgrind counts for the command (all threads).
insns() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
        sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' | head -1
}
while IFS='|' read -r name stat filter; do
    fk=$(cpu "$ipfix" -s "$stat" -n 10 -f "$filter" "$BENCH_TMP/flows.ipfix")
    nf=$(cpu nfdump -R "$BENCH_TMP/nf" -s "$stat" -n 10 "$filter")
    fk10=$(cpu "$ipfix" -s "$stat" -n 10 -f "$filter" "$BENCH_TMP/fk10")
    nf10=$(cpu nfdump -R "$BENCH_TMP/nf10" -s "$stat" -n 10 "$filter")
    fr=$(rate "$stored" "$fk")
    nr=$(rate "$stored" "$nf")
    echo "query-$name  flowkit=$fr records/s  nfdump=$nr records/s  ratio=$(ratio "$fr" "$nr")$loaded"
    fr=$(rate $((stored * 10)) "$fk10")
    nr=$(rate $((stored * 10)) "$nf10")
    echo "query-$name-x10  flowkit=$fr records/s  nfdump=$nr records/s  ratio=$(ratio "$fr" "$nr")$loaded"
    echo "#   fixed per run + per record: flowkit $(split "$fk" "$fk10"); nfdump $(split "$nf" "$nf10")"
    if [ "${FILTER_BENCH_CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
        fi1=$(insns "$ipfix" -s "$stat" -n 10 -f "$filter" "$BENCH_TMP/flows.ipfix")
        ni1=$(insns nfdump -R "$BENCH_TMP/nf" -s "$stat" -n 10 "$filter")
        fi10=$(insns "$ipfix" -s "$stat" -n 10 -f "$filter" "$BENCH_TMP/fk10")
        ni10=$(insns nfdump -R "$BENCH_TMP/nf10" -s "$stat" -n 10 "$filter")
        echo "#   callgrind: flowkit $((fi1 / stored)) instructions/record, nfdump $((ni1 / stored)) (whole run / records)"
        fp=$(((fi10 - fi1) / (9 * stored)))
        np=$(((ni10 - ni1) / (9 * stored)))
        echo "#   callgrind per record (x10 run minus x1, / 9 N): flowkit $fp, nfdump $np, ratio $(ratio "$np" "$fp")"
    fi
done <<'QUERIES'
srcip-bytes-all|srcip/bytes|any
srcip-bytes-tcp|srcip/bytes|proto tcp
dstport-flows-net|dstport/flows|src net 10.0.0.0/8 and dst port in [80 443 8080]
QUERIES
