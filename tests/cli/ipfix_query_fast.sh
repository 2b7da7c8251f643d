#!/bin/bash
# flowkit-ipfix's query fast path (#19) gives the answer of the collector's
# path (--no-fast-path), output and counters, on random raw IPFIX files
# (tests/tools/ipfix_random.py): many templates of both families, reduced
# sizes, every time form, options records, origin elements and records
# (left on the fast path unless the filter reads the exporter), redefined
# and withdrawn templates, padding, sequence gaps; and, in the hostile
# files, what the fast path must leave to the general path (varlen and
# enterprise elements, mixed families, uptime times, boot time, data before
# its template, restarts, malformed sets, a file cut short), the query then
# answered from the start. -v says which path answered: the test requires
# both to have run (it cannot pass with the fast path never taken), and
# every clean file on the fast path. Random filters over clean files check
# the filter compiled for raw records (fk_filter_raw) the same way. Several files of one run form one
# session, as a directory of them.
set -u
B="$FLOWKIT_BUILD_DIR/cli/flowkit-ipfix/flowkit-ipfix"
GEN="$FLOWKIT_SOURCE_DIR/tests/tools/ipfix_random.py"
PY=/usr/bin/python3
[ -x "$B" ] || { echo "SKIP: $B not built"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

queries=(
    "-s srcip/bytes -s dstport/flows -s proto/packets -s ip/flows/bytes -n 0|any"
    "-s record/bytes -A srcip,dstport,proto -O bytes -n 0 -o csv|net 10.0.0.0/8 and port > 1024 or bytes > 1000 or icmp-type 8"
    "-A dstip,srcport -s port/packets -o json -n 0|flags S and not vlan 5 or in if 3 or out if 2 or duration > 1000"
    "-s srcport -t 2026/11/23.12:00:00-2026/11/23.12:01:00 -n 0|tos 0 and packets < 100000 and (proto tcp or proto udp)"
    "-s dstip/bytes -n 0|router ip 10.0.0.1 or router ip 0.0.0.0 and proto udp"
)

taken=0
general=0
compare_one() { # NAME OPTS FILTER PATH...: one query, both paths
    local name=$1 opts=$2 filter=$3
    shift 3
    # shellcheck disable=SC2086
    "$B" -v $opts -f "$filter" "$@" >"$T/fast.out" 2>"$T/fast.err"
    local rf=$?
    # shellcheck disable=SC2086
    "$B" --no-fast-path $opts -f "$filter" "$@" >"$T/gen.out" 2>"$T/gen.err"
    local rg=$?
    [ "$rf" = "$rg" ] || fail "$name: exit $rf vs $rg ($opts -f '$filter')"
    cmp -s "$T/fast.out" "$T/gen.out" ||
        { diff "$T/fast.out" "$T/gen.out" | head -20; fail "$name: output differs ($opts -f '$filter')"; }
    grep -v -e 'query fast path' -e ': frame [0-9]' "$T/fast.err" >"$T/fast.err2"
    grep -v -e ': frame [0-9]' "$T/gen.err" >"$T/gen.err2"
    cmp -s "$T/fast.err2" "$T/gen.err2" ||
        { diff "$T/fast.err2" "$T/gen.err2"; fail "$name: counters differ ($opts -f '$filter')"; }
    if grep -q 'query fast path taken' "$T/fast.err"; then
        taken=$((taken + 1))
    else
        grep -q 'query fast path not taken: ' "$T/fast.err" || fail "$name: -v did not say the path"
        # a filter on the exporter leaves files with origin elements, one
        # on the reverse counters files with reverse elements
        [ -z "${MUST_FAST:-}" ] || [[ "$filter" == *router* ]] ||
            { [[ "$filter" == *"out bytes"* || "$filter" == *"out packets"* ]] &&
                grep -q 'a reverse element' "$T/fast.err"; } ||
            fail "$name: a clean file left the fast path: $(grep 'fast path' "$T/fast.err")"
        general=$((general + 1))
    fi
}

compare() { # NAME PATH...: every query, both paths
    local name=$1
    shift
    for q in "${queries[@]}"; do
        compare_one "$name" "${q%%|*}" "${q#*|}" "$@"
    done
}

for seed in $(seq 1 12); do
    "$PY" "$GEN" "$T/c$seed.ipfix" --seed "$seed" --messages 80 || fail "generator"
    MUST_FAST=1 compare "clean seed $seed" "$T/c$seed.ipfix"
done
clean_taken=$taken
[ "$clean_taken" -gt 0 ] || fail "no query took the fast path"

# Random filters (tests/tools/random_filters.py): on the fast path the
# filter runs on raw records (fk_filter_raw) wherever a template allows;
# the answers must still be the collector's path's. -v counts the templates
# whose records the filter read raw: the test fails if none did.
raw_templates=0
mkdir "$T/rf"
cp "$T/c2.ipfix" "$T/c5.ipfix" "$T/c9.ipfix" "$T/rf/"
# The statistics change with each filter: every -s dimension alone (the
# fast path's one-table plan), together, and -A key sets that pack into
# 64 bits and into 128 (aggsmall: the packed tables).
stats=("-s srcip/bytes -s port/flows -A srcip,dstport,proto -n 0" "-s srcip/bytes -n 0"
    "-s dstip/packets -n 0" "-s ip/flows -n 0" "-s srcport/bytes -n 0" "-s dstport/flows -n 0"
    "-s port/packets -n 0" "-s proto/bytes -n 0" "-s record/flows -n 0"
    "-A srcip,dstip,dstport -n 0"
    "-A srcport,dstport,proto -O bytes -n 0" "-A dstip -s proto -s dstport -o csv -n 0")
i=0
while IFS= read -r filter; do
    MUST_FAST=1 compare_one "random filter" "${stats[i % ${#stats[@]}]}" "$filter" "$T/rf"
    i=$((i + 1))
    n=$(sed -n 's/.*raw records of \([0-9]*\) templates.*/\1/p' "$T/fast.err")
    raw_templates=$((raw_templates + ${n:-0}))
done < <("$PY" "$FLOWKIT_SOURCE_DIR/tests/tools/random_filters.py" --seed 19 --count 40)
[ "$raw_templates" -gt 0 ] || fail "the filter never ran on raw records"
clean_taken=$taken

for seed in $(seq 100 123); do
    "$PY" "$GEN" "$T/h$seed.ipfix" --seed "$seed" --hostile --messages 80 || fail "generator"
    compare "hostile seed $seed" "$T/h$seed.ipfix"
done
# several files, one session (templates of one file decode the next)
mkdir "$T/dir"
cp "$T/c3.ipfix" "$T/dir/a.ipfix"
cp "$T/c4.ipfix" "$T/dir/b.ipfix"
cp "$T/c5.ipfix" "$T/dir/c.ipfix"
MUST_FAST=1 compare "directory" "$T/dir"
compare "files" "$T/c7.ipfix" "$T/h101.ipfix" "$T/c8.ipfix"
[ "$general" -gt 0 ] || fail "no hostile file left the fast path: the test would not see a fallback"
[ "$taken" -gt "$clean_taken" ] || fail "no hostile file stayed on the fast path"
echo "PASS: $taken queries on the fast path, $general on the general path, same answers;" \
    "random filters read the raw records of $raw_templates templates"
