#!/bin/bash
# End to end: flowkit-export -r a generated pcap with known ground truth
# (nf_pcap_tools.py gen: TCP closed by FIN, TCP reset, UDP, ICMP echo) →
#   (a) two UDP collectors at once, both decoded by flowkit's decoder
#       (flowkit-ipfix): every direction with exact packets, bytes, times;
#   (b) nfcapd, then nfdump -o csv (biflow records with RFC 5103 counters);
#   (c) tshark: the same octets and packets per record;
#   (d) a TCP collector whose stream libfixbuf reads;
#   (e) flowkit-collect listening on UDP and TCP at once;
# and --stdout prints exactly what was exported (flows and session events).
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
BIN="$BUILD/cli/flowkit-export/flowkit-export"
IPFIX="$BUILD/cli/flowkit-ipfix/flowkit-ipfix"
COLLECT="$BUILD/cli/flowkit-collect/flowkit-collect"
PY=/usr/bin/python3
TOOLS="$SRC/tests/integration/nf_pcap_tools.py"
[ -x "$BIN" ] || { echo "SKIP: $BIN not built"; exit 77; }
[ -x "$IPFIX" ] || { echo "SKIP: $IPFIX not built"; exit 77; }
[ -x "$COLLECT" ] || { echo "SKIP: $COLLECT not built"; exit 77; }
for t in nfcapd nfdump tshark cc pkg-config; do
    command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
pkg-config --exists libfixbuf || { echo "SKIP: libfixbuf-dev not installed"; exit 77; }

W=$(mktemp -d /tmp/flowkit-export-pcap.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
free_port() {
    $PY -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

$PY "$TOOLS" gen "$W/in.pcap" "$W/truth.json" || exit 1

# ---- (a) two UDP collectors, flowkit's decoder -----------------------------
for k in 1 2; do
    $PY "$TOOLS" recv "$W/a$k.pcap" "$W/a$k.port" "$W/a.stop" &
    PIDS+=("$!")
done
wait_file "$W/a1.port" && wait_file "$W/a2.port" || { echo "receivers did not start"; exit 1; }
"$BIN" -r "$W/in.pcap" -c "udp://127.0.0.1:$(cat "$W/a1.port")" \
    -c "udp://127.0.0.1:$(cat "$W/a2.port")" --set biflow=0 --stdout --stats \
    >"$W/stdout.jsonl" 2>"$W/stats.txt" || bad "flowkit-export exit $?"
touch "$W/a.stop"
wait "${PIDS[0]}" "${PIDS[1]}"
for k in 1 2; do
    "$IPFIX" "$W/a$k.pcap" >"$W/a$k.jsonl" 2>"$W/ipfix$k.err" || bad "flowkit-ipfix a$k: $(cat "$W/ipfix$k.err")"
    grep '"type":"flow"' "$W/a$k.jsonl" | grep -v '"bytes":0,"packets":0' >"$W/a$k.flows.jsonl"
    $PY "$TOOLS" check "$W/truth.json" "$W/a$k.flows.jsonl" || bad "collector $k: records differ from the truth"
done
cmp -s "$W/a1.flows.jsonl" "$W/a2.flows.jsonl" || bad "the two collectors got different records"
grep -q 'export total records_in=' "$W/stats.txt" || bad "--stats printed no export counters"
grep -Eq 'dest1 .*records_dropped=0 ' "$W/stats.txt" || bad "drops on dest1: $(cat "$W/stats.txt")"

# --stdout: the flows and events of the contract, the same flows the collectors decoded.
$PY - "$W/stdout.jsonl" "$W/a1.jsonl" <<'PY' || bad "--stdout differs from what was exported"
import json, sys
out = [json.loads(l) for l in open(sys.argv[1])]
dec = [json.loads(l) for l in open(sys.argv[2])]
flows = [o for o in out if o['type'] == 'flow']
events = [o for o in out if o['type'] == 'event']
bad = 0
# nf_pcap_tools gen: TCP FIN close (syn, fin, fin), TCP reset (syn, rst), UDP, ICMP.
kinds = sorted(e['event'] for e in events)
if kinds != ['fin', 'fin', 'rst', 'syn', 'syn']:
    print('events', kinds); bad += 1
if len(flows) != 4:
    print('stdout flows', len(flows)); bad += 1
for e in events:
    for k in ('time', 'src_addr', 'dst_addr', 'src_port', 'dst_port', 'proto'):
        if k not in e:
            print('event lacks', k, e); bad += 1
dec_flows = [o for o in dec if o['type'] == 'flow' and o['packets'] > 0]
# flowkit-ipfix reads the event elements under the default PEN: events come back as events.
dec_events = [o for o in dec if o['type'] == 'event']
ekey = lambda e: (e['time'], e['event'], e['src_addr'], e['dst_addr'], e['src_port'], e['dst_port'])
if sorted(map(ekey, dec_events)) != sorted(map(ekey, events)):
    print('decoded events', sorted(map(ekey, dec_events)), 'want', sorted(map(ekey, events)))
    bad += 1
if [o for o in dec if o['type'] == 'flow' and o['packets'] == 0]:
    print('decoded events as flows'); bad += 1
# biflow = 0: each stdout biflow is one or two decoded records.
want = sum(1 + (f.get('rev_packets', 0) > 0) for f in flows)
if len(dec_flows) != want:
    print('decoded flow records', len(dec_flows), 'want', want); bad += 1
for f in flows:
    m = [d for d in dec_flows if (d['src_addr'], d['dst_addr'], d['src_port'], d['dst_port']) ==
         (f['src_addr'], f['dst_addr'], f['src_port'], f['dst_port'])]
    if len(m) != 1 or (m[0]['bytes'], m[0]['packets'], m[0]['start'], m[0]['end']) != \
            (f['bytes'], f['packets'], f['start'], f['end']):
        print('stdout flow', f, 'decoded', m); bad += 1
print('stdout: %d flows, %d events, %d problems' % (len(flows), len(events), bad))
sys.exit(1 if bad else 0)
PY

# ---- (b) nfcapd + nfdump -o csv, biflows ----------------------------------
PORT=$(free_port)
mkdir -p "$W/nf"
nfcapd -b 127.0.0.1 -p "$PORT" -w "$W/nf" -t 3600 >"$W/nfcapd.log" 2>&1 &
NFPID=$!
PIDS+=("$NFPID")
sleep 1
"$BIN" -r "$W/in.pcap" --flows --biflow -c "udp://127.0.0.1:$PORT" 2>>"$W/export.log" || bad "flowkit-export (nfcapd) failed"
sleep 0.5
kill -TERM "$NFPID"
wait "$NFPID" 2>/dev/null
grep -q "Sequence Errors: 0" "$W/nfcapd.log" || bad "nfcapd: $(grep -i sequence "$W/nfcapd.log")"
TZ=UTC nfdump -R "$W/nf" -o csv >"$W/nf.csv" 2>"$W/nfdump.err"
$PY - "$W/truth.json" "$W/nf.csv" <<'PY' || bad "nfdump differs from the truth"
import calendar, csv, json, sys, time
truth = json.load(open(sys.argv[1]))
rows = [r for r in csv.reader(open(sys.argv[2])) if len(r) > 14 and r[11].isdigit()]
def sec(t):
    return calendar.timegm(time.strptime(t.split('.')[0], '%Y-%m-%d %H:%M:%S'))
dirs = []
for r in rows:   # ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt
    ts, te, sa, da, sp, dp = sec(r[0]), sec(r[1]), r[3], r[4], int(r[5]), int(r[6])
    dirs.append((sa, da, sp, dp, int(r[11]), int(r[12]), ts, te))
    if int(r[13]):
        dirs.append((da, sa, dp, sp, int(r[13]), int(r[14]), ts, te))
bad = 0
if len(rows) != 4:
    print('nfdump: %d records, want 4 biflows' % len(rows)); bad += 1
for src, dst, sp, dp, p, n, by, t0, t1 in truth:
    m = [d for d in dirs if d[:2] == (src, dst) and d[4:6] == (n, by)]
    if p not in (1, 58):   # nfdump folds ICMP type/code into its own ports
        m = [d for d in m if d[2:4] == (sp, dp)]
    if len(m) != 1:
        print('direction', src, dst, sp, dp, p, n, by, 'matches', m); bad += 1
    elif not (m[0][6] <= int(t0) + 1 and m[0][7] >= int(t1) - 1):
        print('times', m[0], t0, t1); bad += 1
print('nfdump: %d biflow records, %d directions, %d problems' % (len(rows), len(dirs), bad))
sys.exit(1 if bad else 0)
PY

# ---- (c) tshark ------------------------------------------------------------
CPORT=$(cat "$W/a1.port")
tshark -r "$W/a1.pcap" -d "udp.port==$CPORT,cflow" -T fields -e cflow.octets -e cflow.packets \
    >"$W/tshark.txt" 2>/dev/null
$PY - "$W/truth.json" "$W/tshark.txt" <<'PY' || bad "tshark differs from the truth"
import json, sys
truth = json.load(open(sys.argv[1]))
octets = packets = records = 0
for line in open(sys.argv[2]):
    parts = line.rstrip('\n').split('\t')
    if len(parts) < 2 or not parts[0]:
        continue
    for o, p in zip(parts[0].split(','), parts[1].split(',')):
        octets += int(o); packets += int(p); records += 1
want_o = sum(t[6] for t in truth)
want_p = sum(t[5] for t in truth)
print('tshark: %d records, %d octets, %d packets (truth %d, %d)' % (records, octets, packets, want_o, want_p))
sys.exit(0 if (octets, packets) == (want_o, want_p) and records >= len(truth) else 1)
PY

# ---- (d) TCP collector, libfixbuf ------------------------------------------
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -o "$W/fbreader" "$SRC/tests/integration/export_fixbuf_reader.c" \
    $(pkg-config --cflags --libs libfixbuf) || exit 1
$PY "$TOOLS" tcprecv "$W/d.ipfix" "$W/d.port" &
DPID=$!
PIDS+=("$DPID")
wait_file "$W/d.port" || { echo "TCP receiver did not start"; exit 1; }
"$BIN" -r "$W/in.pcap" -c "tcp://127.0.0.1:$(cat "$W/d.port")" --set biflow=0 2>>"$W/export.log" ||
    bad "flowkit-export (TCP) failed"
wait "$DPID"
"$W/fbreader" "$W/d.ipfix" 32473 >"$W/fixbuf.jsonl" 2>>"$W/export.log" || bad "libfixbuf reader failed"
$PY - "$W/truth.json" "$W/fixbuf.jsonl" <<'PY' || bad "libfixbuf differs from the truth"
import json, sys
truth = json.load(open(sys.argv[1]))
got = [json.loads(l) for l in open(sys.argv[2])]
flows = [g for g in got if g['kind'] == 0]
events = [g for g in got if g['kind'] != 0]
bad = 0
for src, dst, sp, dp, p, n, by, t0, t1 in truth:
    m = [g for g in flows if (g['src_addr'], g['dst_addr'], g['src_port'], g['dst_port'], g['proto'],
                              g['packets'], g['bytes']) == (src, dst, sp, dp, p, n, by)]
    if len(m) != 1:
        print('direction', src, dst, sp, dp, p, n, by, 'matches', len(m)); bad += 1
if len(flows) != len(truth) or len(events) != 5:
    print('libfixbuf: %d flows, %d events' % (len(flows), len(events))); bad += 1
print('libfixbuf: %d flow records, %d events, %d problems' % (len(flows), len(events), bad))
sys.exit(1 if bad else 0)
PY

# ---- (e) flowkit-collect, UDP and TCP listeners ---------------------------
UP=$(free_port)
TP=$(free_port)
# 2 exports x (8 directions + 5 events) records.
"$COLLECT" -l "udp://127.0.0.1:$UP" -l "tcp://127.0.0.1:$TP" -o "jsonl:$W/e.jsonl" --count 26 \
    --duration 30 2>"$W/collect.err" &
CPID=$!
PIDS+=("$CPID")
for _ in $(seq 50); do
    $PY -c "import socket; socket.create_connection(('127.0.0.1', $TP), 0.2).close()" 2>/dev/null && break
    sleep 0.1
done
"$BIN" -r "$W/in.pcap" -c "udp://127.0.0.1:$UP" --set biflow=0 2>>"$W/export.log" || bad "export to collect (UDP)"
"$BIN" -r "$W/in.pcap" -c "tcp://127.0.0.1:$TP" --set biflow=0 2>>"$W/export.log" || bad "export to collect (TCP)"
wait "$CPID" || bad "flowkit-collect exit $?: $(tail -2 "$W/collect.err")"
# The UDP export ends (drained) before the TCP one starts: the first half of
# the flow records came over UDP, the second over TCP.
$PY - "$W/e.jsonl" "$W/e" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
flows = [r for r in recs if r.get('packets', 0) > 0]
half = len(flows) // 2
for k, part in enumerate((flows[:half], flows[half:])):
    with open('%s%d.jsonl' % (sys.argv[2], k), 'w') as f:
        for r in part:
            f.write(json.dumps(r) + '\n')
print('flowkit-collect: %d records, %d flows' % (len(recs), len(flows)))
PY
for k in 0 1; do
    $PY "$TOOLS" check "$W/truth.json" "$W/e$k.jsonl" || bad "flowkit-collect ($k): records differ from the truth"
done

exit $fail
