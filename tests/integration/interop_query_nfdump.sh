#!/bin/bash
# flowkit-ipfix's nfdump-style queries against nfdump's own answers on the
# same 400 flows (nfdump_flows.bash): statistics -s STAT/ORDER (every row,
# and the order of the top N), aggregation -A KEYS, the time window -t, each
# combined with filters; the text output's summary; bad options are usage
# errors (exit 2).
set -uo pipefail
# shellcheck source=nfdump_flows.bash
source "$(dirname "$0")/nfdump_flows.bash"
nfdump_flows_setup 400
export TZ=UTC # nfdump reads -t in local time; flowkit-ipfix in UTC
fail=0
bad() { echo "FAIL: $*"; fail=1; }
cmp_tool="$SRC/tests/tools/nfdump_compare.py"

# -s STAT/ORDER [filter]: all rows (-n 0), then the top 5.
while IFS='|' read -r st order filter; do
    [ -z "$st" ] && continue
    for n in 0 5; do
        nfdump -R "$W/nf" -s "$st/$order" -n $n -o csv ${filter:+"$filter"} >"$W/n.csv" 2>"$W/n.err" ||
            { bad "nfdump -s $st/$order: $(cat "$W/n.err")"; continue; }
        "$IPFIX" -s "$st/$order" -n $n -o json ${filter:+-f "$filter"} "$W/flows.ipfix" \
            >"$W/f.jsonl" 2>"$W/f.err" || { bad "flowkit-ipfix -s $st/$order: $(cat "$W/f.err")"; continue; }
        if out=$($PY "$cmp_tool" stat "$W/n.csv" "$W/f.jsonl" "$st" "$order"); then
            printf '  -s %-16s -n %s %-36s %s rows\n' "$st/$order" $n "${filter:+'$filter'}" "$out"
        else
            bad "-s $st/$order -n $n ${filter:+'$filter'}"
            echo "$out"
        fi
    done
done <<'TABLE'
srcip|bytes|
dstip|flows|
ip|packets|
srcport|bytes|
dstport|flows|proto tcp or proto udp
port|bytes|
proto|packets|
srcip|flows|proto udp and bytes > 1M
dstport|bytes|dst net 192.0.2.0/24
ip|flows|ipv6
TABLE

# -A KEYS [filter] (ICMP left out of port keys: nfdump folds some ICMP
# type/code values into port 0 when aggregating).
while IFS='|' read -r keys filter; do
    [ -z "$keys" ] && continue
    nfdump -R "$W/nf" -A "$keys" -N -q -o 'fmt:%sa|%sp|%da|%dp|%pr|%fl|%pkt|%byt' "$filter" \
        >"$W/n.txt" 2>"$W/n.err" || { bad "nfdump -A $keys: $(cat "$W/n.err")"; continue; }
    "$IPFIX" -A "$keys" -o json -f "$filter" "$W/flows.ipfix" >"$W/f.jsonl" 2>"$W/f.err" ||
        { bad "flowkit-ipfix -A $keys: $(cat "$W/f.err")"; continue; }
    if out=$($PY "$cmp_tool" agg "$W/n.txt" "$W/f.jsonl" "$keys"); then
        printf '  -A %-28s %-30s %s rows\n' "$keys" "'$filter'" "$out"
    else
        bad "-A $keys '$filter'"
        echo "$out"
    fi
done <<'TABLE'
srcip|any
srcip,dstip|any
srcip,dstport|not proto icmp
proto,dstport|not proto icmp
srcip,srcport,dstip,dstport,proto|not proto icmp
dstip,proto|bytes > 10k
TABLE

# -t windows (with and without a filter): the same records.
for win in 2026/01/01.00:10:00-2026/01/01.00:20:00 2026/01/01.00:30 2026/01/01.00:50-2026/01/01.02:00; do
    for filter in any 'proto tcp'; do
        nfdump -R "$W/nf" -t "$win" -o json "$filter" >"$W/n.json" 2>"$W/n.err" ||
            { bad "nfdump -t $win: $(cat "$W/n.err")"; continue; }
        "$IPFIX" -e 127.0.0.1 -t "$win" -f "$filter" "$W/flows.ipfix" >"$W/f.jsonl" 2>"$W/f.err" ||
            { bad "flowkit-ipfix -t $win: $(cat "$W/f.err")"; continue; }
        if out=$($PY "$cmp_tool" records "$W/n.json" "$W/f.jsonl"); then
            printf '  -t %-42s %-12s %s records\n' "$win" "'$filter'" "$out"
            [ "$out" -gt 0 ] && [ "$out" -lt 400 ] || bad "-t $win '$filter': $out records, want some but not all"
        else
            bad "-t $win '$filter'"
            echo "$out"
        fi
    done
done

# Text output: tables and the summary agree with the JSON.
"$IPFIX" -s proto/bytes -f 'proto tcp' "$W/flows.ipfix" >"$W/t.txt" 2>/dev/null || bad "text exit $?"
grep -q '^Top 1 proto ordered by bytes:' "$W/t.txt" || bad "text header: $(head -2 "$W/t.txt")"
want=$($PY -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["proto"] == 6))' "$W/truth.jsonl")
grep -q "^Summary: flows $want," "$W/t.txt" || bad "text summary: $(tail -1 "$W/t.txt"), want $want flows"

# -o csv: the same rows as -o json (a statistic, an aggregation, the flows
# a filter passes), with a header row naming the columns.
$PY - "$IPFIX" "$W/flows.ipfix" <<'PYEOF' || bad "-o csv differs from -o json"
import csv, json, subprocess, sys
tool, path = sys.argv[1:]
def run(*args):
    return subprocess.run([tool, *args, path], capture_output=True, text=True, check=True).stdout
def same(args, keys, kind):
    js = [json.loads(l) for l in run(*args, "-o", "json").splitlines()]
    js = [j for j in js if j.get("type", kind) == kind]
    rows = list(csv.DictReader(run(*args, "-o", "csv").splitlines()))
    assert rows and len(rows) == len(js), (args, len(rows), len(js))
    for j, r in zip(js, rows):
        for k in keys:
            assert str(j[k]) == r[k], (args, k, j[k], r[k])
    print("  -o csv %-40s %d rows as -o json" % (" ".join(args), len(rows)))
same(["-s", "srcip/bytes", "-n", "0"], ["src_addr", "flows", "packets", "bytes", "start", "end"], "stat")
same(["-s", "port/flows", "-n", "5"], ["port", "flows", "bytes"], "stat")
same(["-A", "srcip,dstport", "-O", "bytes"], ["src_addr", "dst_port", "flows", "bytes", "end"], "aggregate")
same(["-f", "proto tcp and bytes > 10k"], ["start", "end", "src_addr", "dst_addr", "src_port",
     "dst_port", "proto", "bytes", "packets", "tcp_flags"], "flow")
PYEOF

# A directory reads every file below it: the same statistics as the file.
mkdir -p "$W/dir/b" "$W/dir/a"
cp "$W/flows.ipfix" "$W/dir/b/flows.ipfix"
"$IPFIX" -s srcip/bytes -o json "$W/flows.ipfix" >"$W/file.jsonl" 2>/dev/null || bad "file exit $?"
"$IPFIX" -s srcip/bytes -o json "$W/dir" >"$W/dir.jsonl" 2>/dev/null || bad "dir exit $?"
cmp -s "$W/file.jsonl" "$W/dir.jsonl" || bad "a directory reads differently from its file"

# Usage errors.
for args in "-s bogus" "-s srcip/tend" "-A srcip,nope" "-O sideways" "-n -1" "-o xml" "-t 2026/13/01" "-t 2026/01/02-2026/01/01"; do
    # shellcheck disable=SC2086
    "$IPFIX" $args "$W/flows.ipfix" >/dev/null 2>"$W/f.err"
    rc=$?
    [ $rc -eq 2 ] || bad "flowkit-ipfix $args: exit $rc, want 2"
done

[ $fail -eq 0 ] && echo "PASS: statistics, aggregation and time windows agree with nfdump"
exit $fail
