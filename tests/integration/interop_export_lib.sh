#!/bin/bash
# Interop: what fk_exporter sends (examples/export_flows: flows with RFC 5103
# reverse counters and SYN events, all with process pid/uid/name/user/exe)
# read by real peers, every record compared with the ground truth:
#   (b) nfcapd over UDP, then nfdump -o csv;
#   (c) tshark on the UDP datagrams: enterprise fields carry the PEN, values
#       decode to the process fields;
#   (d) libfixbuf 2.4 reading the TCP stream, with flowkit's elements added
#       to its information model.
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
PY=/usr/bin/python3
TOOLS="$SRC/tests/integration/nf_pcap_tools.py"
for t in nfcapd nfdump tshark cc pkg-config; do
    command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
pkg-config --exists libfixbuf || { echo "SKIP: libfixbuf-dev not installed"; exit 77; }
[ -e "$BUILD/lib/libflowkit.so" ] || { echo "SKIP: $BUILD/lib/libflowkit.so not built"; exit 77; }

W=$(mktemp -d /tmp/flowkit-export-lib.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

cc -O2 -Wall -Wextra -Werror -o "$W/export_flows" "$SRC/examples/export_flows.c" \
    -I"$SRC/include" -I"$BUILD/include" -L"$BUILD/lib" -lflowkit -Wl,-rpath,"$BUILD/lib" || exit 1
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -o "$W/fbreader" "$SRC/tests/integration/export_fixbuf_reader.c" \
    $(pkg-config --cflags --libs libfixbuf) || exit 1

free_port() {
    $PY -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

N=60
PEN=32473

# ---- (b) nfcapd + nfdump -o csv --------------------------------------------
PORT=$(free_port)
mkdir -p "$W/nf"
nfcapd -b 127.0.0.1 -p "$PORT" -w "$W/nf" -t 3600 >"$W/nfcapd.log" 2>&1 &
NFPID=$!
PIDS+=("$NFPID")
sleep 1
"$W/export_flows" "udp://127.0.0.1:$PORT" $N $PEN >"$W/truth_b.jsonl" 2>>"$W/export.log" || bad "export_flows (nfcapd)"
sleep 0.5
kill -TERM "$NFPID"
wait "$NFPID" 2>/dev/null
TZ=UTC nfdump -R "$W/nf" -o csv -q >"$W/nf.csv" 2>"$W/nfdump.err" ||
    TZ=UTC nfdump -R "$W/nf" -o csv >"$W/nf.csv" 2>"$W/nfdump.err"
$PY - "$W/truth_b.jsonl" "$W/nf.csv" <<'PY' || bad "nfdump records differ from the truth"
import csv, json, sys, calendar, time
truth = [json.loads(l) for l in open(sys.argv[1]) if '"flow"' in l]
rows = [r for r in csv.reader(open(sys.argv[2])) if len(r) > 14 and r[11].isdigit()]
# nfdump -o csv: ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,...
flows = [r for r in rows if int(r[11]) > 0]
events = [r for r in rows if int(r[11]) == 0]
bad = 0
if len(flows) != len(truth):
    print("nfdump: %d flow records, want %d" % (len(flows), len(truth))); bad += 1
if len(events) != len(truth):
    print("nfdump: %d event records (0 packets), want %d" % (len(events), len(truth))); bad += 1
def sec(t):
    return calendar.timegm(time.strptime(t.split('.')[0], '%Y-%m-%d %H:%M:%S'))
idx = {(r[3], r[4], int(r[5]), int(r[6])): r for r in flows}
for t in truth:
    r = idx.get((t['src_addr'], t['dst_addr'], t['src_port'], t['dst_port']))
    if not r:
        print("missing", t); bad += 1; continue
    got = (int(r[11]), int(r[12]), int(r[13]), int(r[14]))
    want = (t['packets'], t['bytes'], t['rev_packets'], t['rev_bytes'])
    if got != want:
        print("counters", got, "want", want); bad += 1
    if abs(sec(r[0]) - t['start_ms'] // 1000) > 1 or abs(sec(r[1]) - t['end_ms'] // 1000) > 1:
        print("times", r[0], r[1], "want", t['start_ms'], t['end_ms']); bad += 1
print("nfdump: %d flows, %d events, %d problems" % (len(flows), len(events), bad))
sys.exit(1 if bad else 0)
PY
# nfcapd counts sequence errors per exporter: ours must be 0 (RFC 7011 counting).
grep -q "Sequence Errors: 0" "$W/nfcapd.log" || bad "nfcapd: $(grep -i sequence "$W/nfcapd.log")"

# ---- (c) tshark on the UDP datagrams ---------------------------------------
rm -f "$W/c.port"
$PY "$TOOLS" recv "$W/c.pcap" "$W/c.port" "$W/c.stop" &
PIDS+=("$!")
RPID=$!
wait_file "$W/c.port" || { echo "receiver did not start"; exit 1; }
CPORT=$(cat "$W/c.port")
"$W/export_flows" "udp://127.0.0.1:$CPORT" $N 4711 >"$W/truth_c.jsonl" 2>>"$W/export.log" || bad "export_flows (tshark)"
touch "$W/c.stop"
wait "$RPID"
tshark -r "$W/c.pcap" -d "udp.port==$CPORT,cflow" -V >"$W/tshark.txt" 2>/dev/null
$PY - "$W/truth_c.jsonl" "$W/tshark.txt" <<'PY' || bad "tshark view differs from the truth"
import json, re, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
text = open(sys.argv[2]).read()
bad = 0
# Templates: every enterprise field specifier names PEN 4711 or 29305.
pens = re.findall(r'PEN: .*\((\d+)\)', text)
mine = [p for p in pens if p == '4711']
if not mine or any(p not in ('4711', '29305') for p in pens):
    print("template PENs:", sorted(set(pens))); bad += 1
# Data: each record's enterprise entries, in order.
blocks = re.split(r'\n\s+Flow \d+\n', text)[1:]
recs = []
for b in blocks:
    ent = dict()
    for typ, hexv in re.findall(r'Enterprise Private entry: \(.*?\) Type (\d+): Value \(hex bytes\): ([0-9a-f ]+)', b):
        ent[int(typ)] = bytes.fromhex(hexv.replace(' ', ''))
    user = re.search(r'User Name: (\S+)', b)
    src = re.search(r'SrcAddr: (\S+)', b)
    octets = re.search(r'\n\s+Octets: (\d+)\n', b)
    recs.append((ent, user.group(1) if user else None, src.group(1) if src else None,
                 int(octets.group(1)) if octets else None))
if len(recs) != len(truth):
    print("tshark: %d records, want %d" % (len(recs), len(truth))); bad += 1
for (ent, user, src, octets), t in zip(recs, truth):
    want = {1: t['pid'].to_bytes(4, 'big'), 5: t['uid'].to_bytes(4, 'big'),
            2: t['process'].encode(), 4: t['exe'].encode()}
    if t['type'] == 'event':
        want[10] = b'\x01'
    if ent != want or user != t['user'] or src != t['src_addr']:
        print("record", ent, user, src, "want", want, t['user'], t['src_addr']); bad += 1
    if t['type'] == 'flow' and octets != t['bytes']:
        print("octets", octets, "want", t['bytes']); bad += 1
print("tshark: %d records, PEN 4711 in %d field specifiers, %d problems" % (len(recs), len(mine), bad))
sys.exit(1 if bad else 0)
PY

# ---- (d) libfixbuf reading the TCP stream ----------------------------------
rm -f "$W/d.port"
$PY "$TOOLS" tcprecv "$W/d.ipfix" "$W/d.port" &
DPID=$!
PIDS+=("$DPID")
wait_file "$W/d.port" || { echo "TCP receiver did not start"; exit 1; }
"$W/export_flows" "tcp://127.0.0.1:$(cat "$W/d.port")" $N $PEN >"$W/truth_d.jsonl" 2>>"$W/export.log" || bad "export_flows (TCP)"
wait "$DPID"
"$W/fbreader" "$W/d.ipfix" $PEN >"$W/fixbuf.jsonl" 2>>"$W/export.log" || bad "libfixbuf reader failed"
$PY - "$W/truth_d.jsonl" "$W/fixbuf.jsonl" <<'PY' || bad "libfixbuf records differ from the truth"
import json, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
bad = 0
if len(got) != len(truth):
    print("libfixbuf: %d records, want %d" % (len(got), len(truth))); bad += 1
for g, t in zip(got, truth):
    keys = ['src_addr', 'dst_addr', 'src_port', 'dst_port', 'pid', 'uid', 'process', 'user', 'exe']
    if t['type'] == 'flow':
        keys += ['packets', 'bytes', 'rev_packets', 'rev_bytes', 'start_ms', 'end_ms']
        if g['reason'] != 3 or g['kind'] != 0:
            print("flow reason/kind", g); bad += 1
    else:
        keys += ['time_ms']
        if g['kind'] != 1 or g['flags'] != 2:
            print("event kind/flags", g); bad += 1
    diff = {k: (g.get(k), t[k]) for k in keys if g.get(k) != t[k]}
    if diff:
        print("record differs:", diff); bad += 1
print("libfixbuf: %d records, %d problems" % (len(got), bad))
sys.exit(1 if bad else 0)
PY

exit $fail
