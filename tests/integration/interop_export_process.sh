#!/bin/bash
# Live, with process attribution: in a test network namespace a client
# process with a known name and pid makes TCP connections through the
# namespace's veth to a server on the host side (so only the client end is
# local to the capture); flowkit-export -i veth0 (in the namespace) exports
# the SYN events and the flows over UDP on the namespace's loopback; tshark
# decodes the datagrams: every SYN event of the client carries its pid and
# name as enterprise elements with the configured PEN in the template.
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
BIN="$BUILD/cli/flowkit-export/flowkit-export"
PY=/usr/bin/python3
TOOLS="$SRC/tests/integration/nf_pcap_tools.py"
[ -x "$BIN" ] || { echo "SKIP: $BIN not built"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }
"$BIN" --list-params | grep -q '^capture\.attribution' ||
    { echo "SKIP: the capture handle has no attribution parameter"; exit 77; }
. "$SRC/scripts/netns.sh"
fk_netns_require_root

NS="fkxp$$"
SUB=$(($$ % 200 + 30))
fk_netns_add "$NS" $SUB >/dev/null
HOST=10.213.$SUB.1
W=$(mktemp -d /tmp/flowkit-export-proc.XXXXXX)
fk_netns_on_exit "rm -rf '$W'"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
PEN=32473
SPORT=7100
N=30

# The client runs as "fkexpcli" (comm comes from the name it is executed by).
ln -s "$PY" "$W/fkexpcli"

$PY -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$HOST', $SPORT)); s.listen(512)
while True:
    c, _ = s.accept(); c.recv(100); c.close()
" &
fk_netns_on_exit "kill $!"

ip netns exec "$NS" $PY "$TOOLS" recv "$W/u.pcap" "$W/u.port" "$W/u.stop" &
RPID=$!
fk_netns_on_exit "kill $RPID"
for _ in $(seq 50); do [ -s "$W/u.port" ] && break; sleep 0.1; done
UPORT=$(cat "$W/u.port")

ip netns exec "$NS" "$BIN" -i veth0 -f "tcp port $SPORT" -c "udp://127.0.0.1:$UPORT" \
    --events syn --flows --interval 0.1 --pen $PEN --set idle_timeout=1 --stats \
    >"$W/export.out" 2>"$W/export.err" &
EXP=$!
fk_netns_on_exit "kill $EXP"
sleep 1.5

ip netns exec "$NS" "$W/fkexpcli" -c "
import os, socket, time
print(os.getpid(), flush=True)
for i in range($N):
    c = socket.create_connection(('$HOST', $SPORT))
    c.send(b'hello'); time.sleep(0.01); c.close()
time.sleep(0.2)
" >"$W/client.pid" || bad "client failed"
sleep 2.5 # flows end after the 1 s idle timeout
kill -TERM "$EXP"
wait "$EXP" || bad "flowkit-export exit $?: $(tail -3 "$W/export.err")"
touch "$W/u.stop"
wait "$RPID"

tshark -r "$W/u.pcap" -d "udp.port==$UPORT,cflow" -V >"$W/tshark.txt" 2>/dev/null
$PY - "$W/tshark.txt" "$(cat "$W/client.pid")" $N $SPORT <<'PY' || bad "process fields at tshark"
import re, sys
text, pid, n, sport = open(sys.argv[1]).read(), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
bad = 0
pens = set(re.findall(r'PEN: .*\((\d+)\)', text))
if '32473' not in pens:
    print('no field specifier with PEN 32473:', pens); bad += 1
syn = flows = unattributed = 0
for b in re.split(r'\n\s+Flow \d+\n', text)[1:]:
    ent = {int(t): bytes.fromhex(h.replace(' ', '')) for t, h in re.findall(
        r'Enterprise Private entry: \(.*?\) Type (\d+): Value \(hex bytes\): ([0-9a-f ]+)', b)}
    dport = re.search(r'DstPort: (\d+)', b)
    if not dport or dport.group(1) != sport:
        continue
    if ent.get(10) == b'\x01':      # SYN events of client connections
        syn += 1
    elif 'Octets:' in b:
        flows += 1
    else:
        continue
    if 1 not in ent:
        # Attribution is the capture handle's job and may miss a socket
        # under load; such a record must then carry no process at all.
        unattributed += 1
        if set(ent) - {10}:
            print('process fields without a pid:', ent); bad += 1
    elif ent.get(2) != b'fkexpcli' or int.from_bytes(ent[1], 'big') != pid:
        print('record with the wrong process:', ent); bad += 1
if syn != n or flows != n:
    print('SYN events %d, flows %d, want %d each' % (syn, flows, n)); bad += 1
if unattributed > (2 * n) // 10:
    print('%d of %d records unattributed' % (unattributed, 2 * n)); bad += 1
print('tshark: %d SYN events and %d flows; %d carry pid %d and name fkexpcli under PEN 32473, '
      '%d unattributed, %d problems' % (syn, flows, syn + flows - unattributed, pid,
                                        unattributed, bad))
sys.exit(1 if bad else 0)
PY
exit $fail
