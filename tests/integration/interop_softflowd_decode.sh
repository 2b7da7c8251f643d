#!/bin/bash
# softflowd (Debian) turns a pcap of known traffic into NetFlow v5, v9 and
# IPFIX exports sent to a UDP socket on 127.0.0.1; the datagrams are written
# to a pcap, decoded by flowkit-ipfix and by tshark, and the records compared
# (addresses, ports, protocol, bytes, packets, start/end). flowkit's records
# are also checked against the ground truth of the generated traffic.
# Skips (77) when softflowd, tshark or Debian's python3 are missing.
set -uo pipefail

# shellcheck source=nf_decode_common.bash
source "$(dirname "$0")/nf_decode_common.bash"
nf_decode_setup softflowd

failed=0 passed=0 skipped=0
for v in 5 9 10; do
    rm -f "$WORK/port" "$WORK/stop"
    "$PY" "$HERE/nf_pcap_tools.py" recv "$WORK/export$v.pcap" "$WORK/port" "$WORK/stop" &
    RECV_PID=$!
    for _ in $(seq 100); do
        [ -f "$WORK/port" ] && break
        sleep 0.05
    done
    port=$(cat "$WORK/port" 2>/dev/null) || {
        echo "FAIL v$v: the UDP receiver did not start"
        failed=$((failed + 1))
        continue
    }
    # v5: -a takes flow times from the pcap; v9/IPFIX: -A milli exports
    # absolute milliseconds (see PEERS.md). Never -c/-p with -r.
    if [ $v = 5 ]; then opts=(-a); else opts=(-A milli); fi
    timeout 30 softflowd -d -r "$WORK/in.pcap" -n "127.0.0.1:$port" -v $v "${opts[@]}" \
        >"$WORK/sfd$v.log" 2>&1 &
    PEER_PID=$!
    wait "$PEER_PID"
    rc=$?
    PEER_PID=""
    touch "$WORK/stop"
    wait "$RECV_PID"
    RECV_PID=""
    if [ $rc -ne 0 ]; then
        echo "FAIL v$v: softflowd exited $rc: $(tail -3 "$WORK/sfd$v.log")"
        failed=$((failed + 1))
        continue
    fi

    ours="$WORK/ours$v.jsonl"
    if ! "$TOOL" "$WORK/export$v.pcap" >"$ours" 2>"$WORK/err$v"; then
        echo "FAIL v$v: flowkit-ipfix: $(cat "$WORK/err$v")"
        failed=$((failed + 1))
        continue
    fi
    if ! grep -q ' malformed=0 no_template=0 ' "$WORK/err$v"; then
        echo "FAIL v$v: $(tail -1 "$WORK/err$v")"
        failed=$((failed + 1))
        continue
    fi
    tshark -r "$WORK/export$v.pcap" -d "udp.port==$port,cflow" -T json --no-duplicate-keys \
        >"$WORK/tshark$v.json" 2>/dev/null
    ok=1
    if out=$("$PY" "$HERE/cflow_compare.py" "$ours" "$WORK/tshark$v.json"); then
        echo "v$v flowkit vs tshark: $out"
    else
        echo "FAIL v$v flowkit vs tshark:"
        echo "$out" | sed 's/^/    /'
        ok=0
    fi
    if out=$("$PY" "$HERE/nf_pcap_tools.py" check "$WORK/truth.json" "$ours"); then
        echo "v$v flowkit vs traffic: $out"
    else
        echo "FAIL v$v flowkit vs traffic:"
        echo "$out" | sed 's/^/    /'
        ok=0
    fi
    if [ $ok = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done

echo "softflowd exports: $passed equal, $failed different, $skipped skipped"
[ $failed -eq 0 ] || exit 1
[ $passed -gt 0 ] || exit 77
exit 0
