#!/bin/bash
# flowkit-collect against a real exporter: softflowd reads a generated pcap
# with known ground truth and exports NetFlow v5, v9 and IPFIX to
# flowkit-collect on 127.0.0.1. The flows must match the ground truth and
# what nfcapd + `nfdump -o csv` record from the same export. The v9 and
# IPFIX exports are also captured and replayed with every data set sent
# before its template: flowkit-collect must still produce every flow.
set -u
# shellcheck source=collect_peer_common.bash
source "$(dirname "$0")/collect_peer_common.bash"
collect_peer_setup softflowd

for v in 5 9 10; do
    if [ $v = 5 ]; then pcap=v4.pcap truth=truth_v4 sf_opts="-a" times="--times none";
    else pcap=all.pcap truth=truth_all sf_opts="-A milli" times="--times conversation --time-tol-ms 1"; fi

    # 1. flowkit-collect (IPFIX: also to an IPFIX file read back by libfixbuf)
    extra=()
    [ $v = 10 ] && extra=(-o "jsonl:-" -o "ipfix:$T/fk.ipfix")
    start_collect "fk$v" "${extra[@]}"
    timeout 30 softflowd -d -r "$T/$pcap" -n "127.0.0.1:$CPORT" -v $v $sf_opts >"$T/sf$v.log" 2>&1 \
        || fail "softflowd -v $v"
    stop_collect

    # 2. nfcapd on the same export
    start_nfcapd $v
    timeout 30 softflowd -d -r "$T/$pcap" -n "127.0.0.1:$NPORT" -v $v $sf_opts >/dev/null 2>&1
    stop_nfcapd $v

    "$PY" "$S/tests/tools/collect_compare.py" "$T/$truth" "$T/fk$v.jsonl" --nfdump "$T/nf$v.csv" \
        --version $v $times || fail "softflowd -v $v: flowkit-collect differs (above)"
    grep -q 'malformed=0 ' "$T/fk$v.err" || fail "v$v: malformed messages counted"
    if [ $v = 10 ] && pkg-config --exists libfixbuf; then
        # shellcheck disable=SC2046
        cc -O2 -Wall -Wextra -o "$T/fixbuf_reader" "$S/tests/integration/collect_fixbuf_reader.c" \
            $(pkg-config --cflags --libs libfixbuf) || fail "building the libfixbuf reader"
        "$T/fixbuf_reader" "$T/fk.ipfix" >"$T/fixbuf.jsonl" 2>"$T/fixbuf.err" || fail "libfixbuf reader"
        # The reader maps IPv4 fields only: the one IPv6 flow (template 257)
        # comes out with zero addresses; compare the IPv4 flows.
        grep -v '"2001:db8' "$T/$truth" >"$T/truth_v4only"
        [ "$(grep -c '"src_addr":"0.0.0.0"' "$T/fixbuf.jsonl")" = 1 ] || fail "libfixbuf: IPv6 record count"
        grep -v '"src_addr":"0.0.0.0"' "$T/fixbuf.jsonl" >"$T/fixbuf_v4.jsonl"
        "$PY" "$S/tests/tools/collect_compare.py" "$T/truth_v4only" "$T/fixbuf_v4.jsonl" $times \
            || fail "IPFIX file read by libfixbuf differs (above)"
        echo "ipfix file read back by libfixbuf: ok"
    fi

    # 3. data before template (v9, IPFIX): replay the export reordered.
    if [ $v != 5 ]; then
        "$PY" "$S/tests/tools/udp_dgrams.py" capture "$T/cap$v" "$T/capport" 2 &
        CAPPID=$!
        for _ in $(seq 100); do [ -s "$T/capport" ] && break; sleep 0.05; done
        timeout 30 softflowd -d -r "$T/$pcap" -n "127.0.0.1:$(cat "$T/capport")" -v $v $sf_opts \
            >/dev/null 2>&1
        wait $CAPPID
        rm -f "$T/capport"
        start_collect "dbt$v"
        "$PY" "$S/tests/tools/udp_dgrams.py" replay "$T/cap$v" "$CPORT" --reorder >/dev/null
        stop_collect
        "$PY" "$S/tests/tools/collect_compare.py" "$T/$truth" "$T/dbt$v.jsonl" --version $v $times \
            || fail "v$v data before template: flows differ (above)"
        grep -Eq 'pending_decoded=[1-9]' "$T/dbt$v.err" || fail "v$v: nothing was decoded late"
        grep -q 'pending_expired=0 pending_overflow=0' "$T/dbt$v.err" || fail "v$v: kept sets lost"
    fi
    echo "softflowd -v $v: ok"
done
echo ok
