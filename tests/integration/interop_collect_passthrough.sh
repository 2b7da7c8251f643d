#!/bin/bash
# The ipfix: output's pass-through (collector parameter ipfix_passthrough,
# on by default) on real exports: softflowd's and pmacctd's IPFIX of a
# generated pcap, and the vendor captures in ../shared/data/vendor-captures
# when that folder is there. Each export, captured once, goes into
# flowkit-collect -o ipfix:FILE twice: with the pass-through (data sets
# stored as they came) and with --set ipfix_passthrough=0 (every record
# decoded and encoded again). Both files read back by flowkit-ipfix must
# give the same flows, and both collectors the same counters; the
# pass-through file must hold the exporter's sets in a domain of its own
# (> 0); tshark must read every flow of it.
set -u
# shellcheck source=collect_peer_common.bash
source "$(dirname "$0")/collect_peer_common.bash"
collect_peer_setup softflowd
FI="$FLOWKIT_BUILD_DIR/cli/flowkit-ipfix/flowkit-ipfix"
[ -x "$FI" ] || fail "flowkit-ipfix not built"

# capture NAME EXPORT [IDLE]: run the function EXPORT with the port of a
# capture as its argument; the datagrams land in $T/NAME.dg (the capture
# ends after IDLE seconds of silence, default 2).
capture() {
    local name=$1
    rm -f "$T/capport"
    "$PY" "$S/tests/tools/udp_dgrams.py" capture "$T/$name.dg" "$T/capport" "${3:-2}" &
    local cap=$!
    for _ in $(seq 100); do [ -s "$T/capport" ] && break; sleep 0.05; done
    "$2" "$(cat "$T/capport")" >"$T/$name.log" 2>&1
    wait $cap
    [ -s "$T/$name.dg" ] || fail "$name: nothing captured"
}
sf_export() { timeout 30 softflowd -d -r "$T/all.pcap" -n "127.0.0.1:$1" -v 10 -A milli; }
pm_export() {
    cat >"$T/pm.conf" <<CONF
daemonize: false
pcap_savefile: $T/all.pcap
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:$1
nfprobe_version: 10
CONF
    timeout 60 pmacctd -f "$T/pm.conf" # may exit 1 after its plugin shut down: judged by its export
}

# counters FILE: the collector's counters that must not depend on the path.
counters() {
    tr ' ' '\n' <"$1" | grep -E '^(datagrams|messages|records|malformed|pending_records|sequence_lost|options_records|records_after_export|sink_errors)=' | sort
}

# pair NAME [INPUT...]: replay $T/NAME.dg (or $T/INPUT.dg for each INPUT,
# each from a socket of its own: an exporter session each) into both
# collectors, compare what they wrote.
pair() {
    local name=$1 mode in
    shift
    local inputs=("${@:-$name}")
    for mode in pt dec; do
        local extra=()
        [ $mode = dec ] && extra=(--set ipfix_passthrough=0)
        start_collect "$name-$mode" -o "ipfix:$T/$name-$mode.ipfix" "${extra[@]}"
        for in in "${inputs[@]}"; do
            "$PY" "$S/tests/tools/udp_dgrams.py" replay "$T/$in.dg" "$CPORT" >/dev/null
        done
        stop_collect
        "$FI" "$T/$name-$mode.ipfix" >"$T/$name-$mode.read" 2>"$T/$name-$mode.readerr" ||
            fail "$name: flowkit-ipfix cannot read the $mode file"
    done
    diff <(counters "$T/$name-pt.err") <(counters "$T/$name-dec.err") ||
        fail "$name: counters differ with and without the pass-through"
    grep -q 'malformed=0 ' "$T/$name-pt.readerr" || fail "$name: the pass-through file is malformed"
    n=$("$PY" "$S/tests/tools/ipfix_file_compare.py" "$T/$name-pt.read" "$T/$name-dec.read") ||
        fail "$name: flows differ with and without the pass-through (above)"
    echo "$name: $n flows, the same either way"
}

# passed NAME: the pass-through file has a domain of its own (header odid > 0).
passed() {
    "$PY" - "$T/$1-pt.ipfix" <<'PY' || fail "$1: no data set was passed through"
import struct, sys
b = open(sys.argv[1], "rb").read()
i = 0
while i + 16 <= len(b):
    ln, odid = struct.unpack("!H", b[i + 2:i + 4])[0], struct.unpack("!I", b[i + 12:i + 16])[0]
    if odid > 0:
        sys.exit(0)
    i += max(ln, 16)
sys.exit(1)
PY
}

# softflowd: IPFIX with options (sampling, boot time), IPv4 and IPv6.
capture sf sf_export
pair sf
passed sf
if command -v tshark >/dev/null; then
    # tshark reads IPFIX files (RFC 5655) as they are: every flow of the
    # pass-through file must be there with its octets.
    want=$(grep -c '"type":"flow"' "$T/sf-pt.read")
    got=$(tshark -r "$T/sf-pt.ipfix" -T fields -e cflow.octets 2>"$T/tshark.err" |
        tr ',' '\n' | grep -c '[0-9]')
    [ "$got" = "$want" ] || fail "tshark read $got flows of the pass-through file, flowkit-ipfix $want"
    echo "tshark: $got flows in the pass-through file"
fi

# pmacctd's nfprobe: another exporter's templates.
if command -v pmacctd >/dev/null; then
    capture pm pm_export 6 # pmacctd sleeps 2 s before it reads a savefile
    pair pm
    # Three exporter sessions in one file, two of them with softflowd's
    # template ids: each gets a domain of the file's, records keep their
    # exporter (the same address, told apart by their domains' templates).
    pair mixed sf pm sf
    passed mixed
fi

# Vendor captures: each pcap's UDP payloads (templates first) in one session.
V="$S/../shared/data/vendor-captures/akvorado"
if [ -d "$V" ]; then
    for tmpl in "$V"/*template*.pcap; do
        base=$(basename "$tmpl" .pcap)
        data="$V/${base/template/data}.pcap"
        [[ $base == *templates* ]] && data="$V/${base/templates/data}.pcap"
        [ -f "$data" ] || continue
        "$PY" - "$tmpl" "$data" "$T/v-$base.dg" <<'PY' || fail "reading $tmpl"
import struct, sys
from scapy.all import UDP, rdpcap
out = b""
for path in sys.argv[1:3]:
    for p in rdpcap(path):
        if UDP in p:
            d = bytes(p[UDP].payload)
            out += struct.pack("!H", len(d)) + d
open(sys.argv[3], "wb").write(out)
PY
        pair "v-$base"
    done
else
    echo "NOTE: $V missing: vendor captures not compared"
fi
echo ok
