#!/bin/bash
# flowkit-ipfix: options and exit codes (DESIGN §11), pcap and raw input, one
# session across files (templates from the first file decode the second), and
# the counters on stderr. Input pcaps are written here by a tiny generator.
set -uo pipefail

TOOL="${FLOWKIT_BUILD_DIR:?}/cli/flowkit-ipfix/flowkit-ipfix"
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fk-ipfix-cli.$$.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}

# --- options and exit codes
"$TOOL" --help >"$WORK/help" || fail "--help exit $?"
grep -q '^Usage: flowkit-ipfix' "$WORK/help" || fail "--help text"
"$TOOL" --version | grep -Eq '^flowkit-ipfix \(flowkit\) [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
"$TOOL" 2>"$WORK/err"
[ $? -eq 2 ] || fail "no file: want exit 2"
grep -q 'no input file' "$WORK/err" || fail "no file message"
"$TOOL" --bogus x 2>"$WORK/err"
[ $? -eq 2 ] || fail "unknown option: want exit 2"
grep -q 'unknown option --bogus' "$WORK/err" || fail "unknown option message: $(cat "$WORK/err")"
"$TOOL" -p 70000 x 2>/dev/null
[ $? -eq 2 ] || fail "bad port: want exit 2"
"$TOOL" -p 2>/dev/null
[ $? -eq 2 ] || fail "missing argument: want exit 2"
"$TOOL" "$WORK/does-not-exist" 2>"$WORK/err"
[ $? -eq 1 ] || fail "missing file: want exit 1"
grep -q 'does-not-exist: No such file' "$WORK/err" || fail "missing file message"

# --- inputs: v5 datagram, v9 template-only and data-only datagrams
"$PY" - "$WORK" <<'EOF' || fail "generator"
import struct, sys
w = sys.argv[1]
def v5():
    h = struct.pack('>HHIIIIBBH', 5, 2, 100000, 1700000000, 0, 1000, 0, 7, 0)
    r = lambda s, d, sp, dp, pr, pk, by: struct.pack('>4s4s4sHHIIIIHHBBBBHHBBH', bytes(s), bytes(d),
        bytes(4), 1, 2, pk, by, 40000, 99000, sp, dp, 0, 0x18, pr, 0, 0, 0, 24, 24, 0)
    return h + r([10,0,0,1],[10,0,0,2],1111,80,6,10,1500) + r([10,0,0,3],[10,0,0,4],53,2222,17,1,60)
def v9(seq, sets):
    return struct.pack('>HHIIII', 9, 1, 100000, 1700000000, seq, 3) + sets
def fset(fid, body):
    while (len(body) + 4) % 4: body += b'\0'
    return struct.pack('>HH', fid, len(body) + 4) + body
tmpl = fset(0, struct.pack('>HH', 256, 4) + struct.pack('>HHHHHHHH', 8, 4, 12, 4, 1, 4, 2, 4))
data = fset(256, bytes([192,0,2,1, 192,0,2,2]) + struct.pack('>II', 4000, 4))
def pcap(path, dgrams):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, (src, sport, dport, payload) in enumerate(dgrams):
            udp = struct.pack('>HHHH', sport, dport, 8 + len(payload), 0) + payload
            ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                             bytes(src), bytes([127,0,0,1])) + udp
            frame = b'\0' * 12 + b'\x08\x00' + ip
            f.write(struct.pack('<IIII', 1700000000 + i, 0, len(frame), len(frame)) + frame)
pcap(w + '/v5.pcap', [([127,0,0,2], 5000, 2055, v5())])
pcap(w + '/tmpl.pcap', [([127,0,0,2], 5001, 2055, v9(1, tmpl))])
# data from the same exporter, then from another port (other scope: no template)
pcap(w + '/data.pcap', [([127,0,0,2], 5001, 2055, v9(2, data)), ([127,0,0,2], 5002, 2055, v9(2, data)),
                        ([127,0,0,2], 5001, 9999, v9(3, data))])
open(w + '/v5.raw', 'wb').write(v5())
# two IPFIX messages in one raw file: template set, then a data set (domain 9)
def ipfix(seq, sets):
    return struct.pack('>HHIII', 10, 16 + len(sets), 1700000000, seq, 9) + sets
it = struct.pack('>HHHH', 2, 4 + 4 + 5 * 4, 300, 5) + struct.pack('>HHHHHHHHHH', 8, 4, 12, 4, 4, 1, 1, 8, 152, 8)
idata = bytes([198,51,100,1, 198,51,100,2, 17]) + struct.pack('>QQ', 123456, 1700000000250)
open(w + '/ipfix.raw', 'wb').write(ipfix(0, it) + ipfix(0, struct.pack('>HH', 300, 4 + len(idata)) + idata))
open(w + '/bad.raw', 'wb').write(v5()[:60])
EOF

# v5 from a pcap
"$TOOL" "$WORK/v5.pcap" >"$WORK/out" 2>"$WORK/err" || fail "v5 pcap exit $?"
[ "$(wc -l <"$WORK/out")" -eq 2 ] || fail "v5: want 2 lines, got: $(cat "$WORK/out")"
grep -q '"src_addr":"10.0.0.1","dst_addr":"10.0.0.2","src_port":1111,"dst_port":80,"proto":6,"bytes":1500,"packets":10,"start":"2023-11-14T22:12:20.000Z","end":"2023-11-14T22:13:19.000Z"' "$WORK/out" ||
    fail "v5 record 1: $(head -1 "$WORK/out")"
grep -q '"exporter":"127.0.0.2","odid":7,"version":5' "$WORK/out" || fail "v5 exporter"
grep -q 'datagrams=1 flows=2 .* malformed=0 ' "$WORK/err" || fail "v5 counters: $(cat "$WORK/err")"
# --filter (nfdump syntax): one of the two v5 records; a bad filter is a usage
# error that names the position.
"$TOOL" --filter 'proto udp and src port 53' "$WORK/v5.pcap" >"$WORK/out" 2>"$WORK/err" || fail "--filter exit $?"
[ "$(wc -l <"$WORK/out")" -eq 1 ] && grep -q '"src_addr":"10.0.0.3"' "$WORK/out" || fail "--filter: $(cat "$WORK/out")"
"$TOOL" -f 'not net 10.0.0.0/8' "$WORK/v5.pcap" >"$WORK/out" 2>/dev/null || fail "-f exit $?"
[ ! -s "$WORK/out" ] || fail "-f 'not net 10.0.0.0/8' printed: $(cat "$WORK/out")"
"$TOOL" -f 'proto udp and port dns' "$WORK/v5.pcap" >/dev/null 2>"$WORK/err"
[ $? -eq 2 ] || fail "bad filter: want exit 2"
grep -q 'position 20: expected a port number' "$WORK/err" || fail "bad filter message: $(cat "$WORK/err")"

# v9: template file then data file, one session; the datagram from another
# exporter port has no template; -p keeps only port 2055.
"$TOOL" "$WORK/tmpl.pcap" "$WORK/data.pcap" >"$WORK/out" 2>"$WORK/err" || fail "v9 exit $?"
[ "$(wc -l <"$WORK/out")" -eq 2 ] || fail "v9: want 2 lines, got: $(cat "$WORK/out")"
grep -q '"src_addr":"192.0.2.1","dst_addr":"192.0.2.2".*"bytes":4000,"packets":4' "$WORK/out" || fail "v9 record"
grep -q 'datagrams=4 flows=2 .*templates=1 .*no_template=1 ' "$WORK/err" || fail "v9 counters: $(cat "$WORK/err")"
"$TOOL" -p 2055 "$WORK/tmpl.pcap" "$WORK/data.pcap" >"$WORK/out" 2>"$WORK/err" || fail "v9 -p exit"
grep -q 'datagrams=3 flows=1 .*skipped_frames=1' "$WORK/err" || fail "-p counters: $(cat "$WORK/err")"
# data alone: nothing decodes, and that is counted, not an error
"$TOOL" "$WORK/data.pcap" >"$WORK/out" 2>"$WORK/err" || fail "data alone exit $?"
[ ! -s "$WORK/out" ] || fail "data alone printed records"
grep -q 'no_template=3 ' "$WORK/err" || fail "data alone counters: $(cat "$WORK/err")"

# raw files: one NetFlow datagram; a truncated one is counted as malformed
"$TOOL" -e 192.0.2.50 "$WORK/v5.raw" >"$WORK/out" 2>"$WORK/err" || fail "raw exit $?"
[ "$(wc -l <"$WORK/out")" -eq 2 ] || fail "raw: want 2 lines"
grep -q '"exporter":"192.0.2.50"' "$WORK/out" || fail "raw exporter"
"$TOOL" -v "$WORK/bad.raw" >"$WORK/out" 2>"$WORK/err" || fail "bad raw exit $?"
grep -q 'malformed=1 ' "$WORK/err" || fail "bad raw counters: $(cat "$WORK/err")"
grep -q 'count 2 needs 120 bytes, datagram has 60' "$WORK/err" || fail "bad raw message: $(cat "$WORK/err")"
# IPFIX raw stream: flows by default, every field by IANA name with --fields
"$TOOL" -e 192.0.2.60 "$WORK/ipfix.raw" >"$WORK/out" 2>"$WORK/err" || fail "ipfix raw exit $?"
grep -q '"src_addr":"198.51.100.1","dst_addr":"198.51.100.2",.*"proto":17,"bytes":123456,.*"start":"2023-11-14T22:13:20.250Z".*"exporter":"192.0.2.60","odid":9,"version":10' "$WORK/out" ||
    fail "ipfix flow: $(cat "$WORK/out")"
grep -q 'datagrams=2 flows=1 .*templates=1 .*malformed=0 .*ipfix_messages=2' "$WORK/err" || fail "ipfix counters: $(cat "$WORK/err")"
"$TOOL" --fields "$WORK/ipfix.raw" >"$WORK/out" 2>"$WORK/err" || fail "--fields exit $?"
grep -q '^{"type":"record","exporter":"0.0.0.0","version":10,"template_id":300,.*"sourceIPv4Address":"198.51.100.1".*"octetDeltaCount":123456' "$WORK/out" ||
    fail "--fields: $(cat "$WORK/out")"
echo "ok"
