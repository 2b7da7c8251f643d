#!/bin/bash
# Flow filters against nfdump's own answers: filter_flows.py makes 400 IPFIX
# flow records with distinct 5-tuples (IPv4/IPv6, TCP/UDP/ICMP, bytes from
# 40 B to GBs), sends them to nfcapd on 127.0.0.1 and writes the same
# messages to a raw file (nfdump_flows.bash). For every expression of the table below,
# `nfdump -R DIR -o json EXPR` and `flowkit-ipfix --filter EXPR FILE` must
# select exactly the same records. Expressions nfdump refuses must be
# refused by flowkit too (exit 2), and the table must split the flows (no
# expression may be vacuous across the table).
set -uo pipefail
# shellcheck source=nfdump_flows.bash
source "$(dirname "$0")/nfdump_flows.bash"
nfdump_flows_setup 400
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# One expression a line; blank lines and lines starting with ';' are skipped.
cat >"$W/table" <<'EOF'
any
proto tcp
proto udp
proto icmp
proto 17
PROTO TCP
not proto tcp
ipv4
ipv6
inet6
host 10.0.0.1
ip 2001:db8::1
src ip 192.0.2.80
dst host 172.16.0.5
src net 10.0.0.0/8
dst net 172.16.0.0/12
net 192.0.2.0/25
net 10.0.0.0 255.0.0.0
src net 10.1.2.3/8
net 2001:db8::/32
src net 2001:db8:1::/48
dst net fd00::/8
ip in [10.0.0.1 2001:db8::2]
src ip in [192.0.2.80, 2001:db8:ffff::9]
port 53
src port 443
dst port 80
port > 1024
dst port < 1024
src port >= 40000
dst port <= 123
port eq 8080
src port gt 50000
port in [22 53 80]
dst port in [443,8080,65535]
src port in [ 0 ]
bytes > 1k
bytes > 1000
bytes >= 1000
bytes < 1000
bytes = 1500
bytes > 1M
bytes > 1G
packets > 1000
packets = 1
packets < 10
packets >= 1k
in bytes > 100k
flags S
flags SA
flags F
flags X
not flags AFRPU
not (flags SF)
proto tcp and not flags S
flags S and not flags AFRPU
tos 32
tos 184
in if 3
out if 7
if 2
icmp-type 3
icmp-type 8
icmp-code 1
duration > 1000
duration < 1000
duration = 1500
router ip 127.0.0.1
proto tcp and dst port 443
proto tcp or proto udp and port 53
(proto tcp or proto udp) and port 53
not (proto tcp or ipv6)
not proto tcp and not proto udp
proto tcp && port 80
proto udp || port 80
! ipv4
src net 10.0.0.0/8 and dst port in [80 443] or icmp-type 8
(host 10.0.0.1 or host 10.0.0.2) and not (bytes < 1k or packets > 5000)
net 192.0.2.0/24 and (port 22 or port 123) and proto tcp
EOF

n=0
counts=()
while IFS= read -r expr; do
    case "$expr" in '' | ';'*) continue ;; esac
    n=$((n + 1))
    nfdump -R "$W/nf" -o json "$expr" >"$W/nf.json" 2>"$W/nf.err" ||
        { bad "nfdump refused \"$expr\": $(cat "$W/nf.err")"; continue; }
    "$IPFIX" -e 127.0.0.1 --filter "$expr" "$W/flows.ipfix" >"$W/fk.jsonl" 2>"$W/fk.err" ||
        { bad "flowkit-ipfix refused \"$expr\": $(cat "$W/fk.err")"; continue; }
    if out=$($PY "$SRC/tests/tools/nfdump_compare.py" records "$W/nf.json" "$W/fk.jsonl"); then
        counts+=("$out")
        printf '  %-70s %s\n' "$expr" "$out"
    else
        bad "\"$expr\": record sets differ"
        echo "$out"
    fi
done <"$W/table"

# The table must discriminate: several distinct counts, none of them all
# for most rows.
distinct=$(printf '%s\n' "${counts[@]}" | sort -u | wc -l)
[ "$distinct" -ge 20 ] || bad "only $distinct distinct match counts over $n expressions"

# Syntax errors: nfdump refuses these, and flowkit-ipfix must too (exit 2,
# message naming the position).
for expr in 'port http' 'proto tcp and' 'host 10.0.0.256' '(proto tcp' 'bytes > 1x' 'net 10.0.0.0/33'; do
    nfdump -R "$W/nf" -o json "$expr" >/dev/null 2>&1 && bad "nfdump accepted \"$expr\"?"
    "$IPFIX" --filter "$expr" "$W/flows.ipfix" >/dev/null 2>"$W/fk.err"
    rc=$?
    [ $rc -eq 2 ] || bad "flowkit-ipfix --filter \"$expr\": exit $rc, want 2"
    grep -q 'filter: position [0-9]' "$W/fk.err" || bad "\"$expr\": no position in $(cat "$W/fk.err")"
done

[ $fail -eq 0 ] && echo "PASS: $n filter expressions agree with nfdump"
exit $fail
