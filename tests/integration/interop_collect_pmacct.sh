#!/bin/bash
# flowkit-collect against pmacctd's nfprobe plugin (NetFlow v5, v9, IPFIX)
# reading a generated pcap with known ground truth; the flows must match the
# ground truth and what nfcapd + `nfdump -o csv` record from the same export.
set -u
# shellcheck source=collect_peer_common.bash
source "$(dirname "$0")/collect_peer_common.bash"
collect_peer_setup pmacctd

# pmacct PCAP PORT VERSION: run pmacctd over the pcap, exporting to PORT; it
# exits at the end of the file after flushing its flows. Under load its core
# now and then exits 1 at that point because its nfprobe plugin, which had
# already flushed and shut down on the core's own request, is gone
# ("connection lost to 'default_nfprobe-nfprobe'"): that exit is accepted,
# said out loud, and the export is then judged in full like any other.
pmacct() {
    cat >"$T/pm.conf" <<CONF
daemonize: false
pcap_savefile: $1
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:$2
nfprobe_version: $3
CONF
    timeout 60 pmacctd -f "$T/pm.conf" >"$T/pmacctd$3.log" 2>&1 && return 0
    if grep -q "nfprobe ): Shutting down on user request" "$T/pmacctd$3.log" &&
        grep -q "connection lost to" "$T/pmacctd$3.log"; then
        echo "NOTE v$3: pmacctd exited 1 after its nfprobe plugin shut down; judging its export"
        return 0
    fi
    return 1
}

for v in 5 9 10; do
    if [ $v = 5 ]; then pcap=v4.pcap truth=truth_v4 times="--times none";
    else pcap=all.pcap truth=truth_all times="--times conversation --time-tol-ms 1"; fi

    start_collect "fk$v"
    pmacct "$T/$pcap" "$CPORT" $v || fail "pmacctd v$v into flowkit-collect"
    stop_collect
    start_nfcapd $v
    pmacct "$T/$pcap" "$NPORT" $v || fail "pmacctd v$v into nfcapd"
    stop_nfcapd $v

    "$PY" "$S/tests/tools/collect_compare.py" "$T/$truth" "$T/fk$v.jsonl" --nfdump "$T/nf$v.csv" \
        --version $v $times || fail "pmacctd nfprobe v$v: flowkit-collect differs (above)"
    grep -q 'malformed=0 ' "$T/fk$v.err" || fail "v$v: malformed messages counted"
    echo "pmacctd nfprobe v$v: ok"
done
echo ok
