#!/bin/bash
# flowkit-collect against pmacctd's nfprobe plugin (NetFlow v5, v9, IPFIX)
# reading a generated pcap with known ground truth; the flows must match the
# ground truth and what nfcapd + `nfdump -o csv` record from the same export.
set -u
S="$FLOWKIT_SOURCE_DIR"
B="$FLOWKIT_BUILD_DIR/cli/flowkit-collect/flowkit-collect"
PY=/usr/bin/python3
for t in pmacctd nfcapd nfdump; do
    command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
"$PY" -c 'import scapy' 2>/dev/null || { echo "SKIP: python3-scapy missing"; exit 77; }
[ -x "$B" ] || { echo "flowkit-collect not built"; exit 1; }
T=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.err "$T"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -5 "$f"; }; done; exit 1; }

"$PY" "$S/tests/tools/collect_pcap.py" "$T/all.pcap" >"$T/truth_all" 2>/dev/null || fail "pcap generator"
"$PY" "$S/tests/tools/collect_pcap.py" "$T/v4.pcap" --v4-only >"$T/truth_v4" 2>/dev/null || fail "pcap generator"

free_port() {
    "$PY" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

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

# wait_udp_bound PORT: wait (at most 10 s) until a socket is bound to the
# UDP port on 127.0.0.1, so no datagram is sent before the receiver exists.
wait_udp_bound() {
    for _ in $(seq 200); do
        ss -Hlun "sport = :$1" | grep -q . && return 0
        sleep 0.05
    done
    return 1
}

# flowkit_round V PCAP: flowkit-collect receives pmacctd's export into
# $T/fkV.jsonl; returns pmacct's status.
flowkit_round() {
    local v=$1 pcap=$2 rc CPID CPORT=
    "$B" -l udp://127.0.0.1:0 --duration 120 --stats 3600 >"$T/fk$v.jsonl" 2>"$T/fk$v.err" &
    CPID=$!
    PIDS+=("$CPID")
    for _ in $(seq 200); do
        CPORT=$(grep -o 'listening on udp://127.0.0.1:[0-9]*' "$T/fk$v.err" | sed 's/.*://')
        [ -n "$CPORT" ] && break
        sleep 0.05
    done
    [ -n "$CPORT" ] || fail "collector did not start"
    pmacct "$T/$pcap" "$CPORT" $v
    rc=$?
    sleep 0.5
    kill -TERM "$CPID"
    wait "$CPID" || fail "collector exit status $?"
    return $rc
}

# nfcapd_round V PCAP: nfcapd receives pmacctd's export into $T/nfV;
# returns pmacct's status.
nfcapd_round() {
    local v=$1 pcap=$2 rc NP NPID
    NP=$(free_port)
    rm -rf "$T/nf$v"
    mkdir -p "$T/nf$v"
    nfcapd -b 127.0.0.1 -p "$NP" -w "$T/nf$v" -t 3600 >"$T/nfcapd$v.log" 2>&1 &
    NPID=$!
    PIDS+=("$NPID")
    wait_udp_bound "$NP" || fail "nfcapd did not bind port $NP"
    pmacct "$T/$pcap" "$NP" $v
    rc=$?
    sleep 0.5
    kill -TERM "$NPID"
    wait "$NPID"
    return $rc
}

for v in 5 9 10; do
    if [ $v = 5 ]; then pcap=v4.pcap truth=truth_v4 times="--times none";
    else pcap=all.pcap truth=truth_all times="--times conversation --time-tol-ms 1"; fi

    flowkit_round $v "$pcap" || fail "pmacctd v$v into flowkit-collect"
    nfcapd_round $v "$pcap" || fail "pmacctd v$v into nfcapd"
    nfdump -R "$T/nf$v" -o csv >"$T/nf$v.csv" 2>"$T/nfdump$v.err" || fail "nfdump"

    "$PY" "$S/tests/tools/collect_compare.py" "$T/$truth" "$T/fk$v.jsonl" --nfdump "$T/nf$v.csv" \
        --version $v $times || fail "pmacctd nfprobe v$v: flowkit-collect differs (above)"
    grep -q 'malformed=0 ' "$T/fk$v.err" || fail "v$v: malformed messages counted"
    echo "pmacctd nfprobe v$v: ok"
done
echo ok
