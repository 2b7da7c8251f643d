#!/bin/bash
# pmacctd (Debian's pmacct, nfprobe plugin) turns a pcap of known traffic
# into NetFlow v5, v9 and IPFIX exports sent to a UDP socket on 127.0.0.1;
# the datagrams are written to a pcap, decoded by flowkit-ipfix and by tshark,
# and the records compared (addresses, ports, protocol, bytes, packets,
# start/end). flowkit's records are also checked against the ground truth of
# the generated traffic. The input is kept small (PEERS.md: pmacctd can lose
# flows on large savefiles). Skips (77) when pmacctd, tshark or Debian's
# python3 are missing.
set -uo pipefail

# shellcheck source=nf_decode_common.bash
source "$(dirname "$0")/nf_decode_common.bash"
nf_decode_setup pmacctd

failed=0 passed=0
for v in 5 9 10; do
    cat >"$WORK/pmacctd$v.conf" <<EOF
daemonize: false
pcap_savefile: $WORK/in.pcap
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:RECEIVER_PORT
nfprobe_version: $v
EOF
    # pmacctd reads the savefile (after a 2 s pause), exports and exits. It
    # reads its receiver from the file, so the port goes in there.
    nf_decode_export $v "$WORK/sfd$v.log" bash -c \
        'sed -i "s/RECEIVER_PORT/$1/" "$2" && exec timeout 60 pmacctd -f "$2"' _ @PORT@ "$WORK/pmacctd$v.conf"
    rc=$?
    # Under load pmacctd's core now and then exits 1 at the end of the
    # savefile because its nfprobe plugin, which had already flushed and shut
    # down on the core's own request, is gone ("connection lost to
    # 'default_nfprobe-nfprobe'"): that exit is accepted, said out loud, and
    # the export is then judged in full like any other.
    if [ $rc -ne 0 ] && grep -q "nfprobe ): Shutting down on user request" "$WORK/sfd$v.log" &&
        grep -q "connection lost to" "$WORK/sfd$v.log"; then
        echo "NOTE v$v: pmacctd exited $rc after its nfprobe plugin shut down; judging its export"
        rc=0
    fi
    if [ $rc -ne 0 ]; then
        echo "FAIL v$v: pmacctd exited $rc: $(tail -3 "$WORK/sfd$v.log")"
        failed=$((failed + 1))
        continue
    fi
    # pmacct's v5 export pairs the wall clock (unix_secs) and its own uptime
    # with First/Last taken from the pcap's times, so v5 absolute times are
    # not the pcap's (flowkit and tshark agree on them): check durations there.
    check=()
    [ $v = 5 ] && check=(--durations-only)
    if nf_decode_judge $v "${check[@]}"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done

echo "pmacctd exports: $passed equal, $failed different"
[ $failed -eq 0 ] || exit 1
[ $passed -gt 0 ] || exit 77
exit 0
