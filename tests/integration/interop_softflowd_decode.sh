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

failed=0 passed=0
for v in 5 9 10; do
    # v5: -a takes flow times from the pcap; v9/IPFIX: -A milli exports
    # absolute milliseconds (see PEERS.md). Never -c/-p with -r.
    if [ $v = 5 ]; then opts=(-a); else opts=(-A milli); fi
    if ! nf_decode_export $v "$WORK/sfd$v.log" timeout 30 softflowd -d -r "$WORK/in.pcap" \
        -n "127.0.0.1:@PORT@" -v $v "${opts[@]}"; then
        echo "FAIL v$v: softflowd: $(tail -3 "$WORK/sfd$v.log")"
        failed=$((failed + 1))
        continue
    fi
    if nf_decode_judge $v; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done

echo "softflowd exports: $passed equal, $failed different"
[ $failed -eq 0 ] || exit 1
[ $passed -gt 0 ] || exit 77
exit 0
