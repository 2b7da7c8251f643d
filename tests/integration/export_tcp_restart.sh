#!/bin/bash
# flowkit-export over TCP while the collector restarts (live capture on the
# loopback of a test network namespace, TCP connections made by the test):
#   1. collector up: every SYN event arrives;
#   2. collector down: SYN events of new connections wait in the buffer and
#      arrive once the collector is back (same port), none lost;
#   3. collector down again, more events than the buffer holds: what arrives
#      plus what --stats reports as dropped is exactly what was produced,
#      and the dropped ones are the newest (the buffer keeps what it has).
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
BIN="$BUILD/cli/flowkit-export/flowkit-export"
PY=/usr/bin/python3
SINK="$SRC/tests/integration/ipfix_tcp_sink.py"
[ -x "$BIN" ] || { echo "SKIP: $BIN not built"; exit 77; }
. "$SRC/scripts/netns.sh"
. "$SRC/tests/integration/export_tcp_lib.bash"
fk_netns_require_root

NS="fkxr$$"
fk_netns_add "$NS" $(($$ % 200 + 30)) >/dev/null
W=$(mktemp -d /tmp/flowkit-export-tcp.XXXXXX)
fk_netns_on_exit "rm -rf '$W'"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# (Background jobs call ip netns exec directly: it execs, so $! is the process itself.)
inns() { ip netns exec "$NS" "$@"; }

CPORT=4739
SPORT=7000
# A TCP server in the namespace that accepts and closes.
start_syn_server "$NS"

start_sink() {
    ip netns exec "$NS" $PY "$SINK" 127.0.0.1 $CPORT "$W/sink.txt" &
    SINKPID=$!
    fk_netns_on_exit "kill $SINKPID"
    for _ in $(seq 50); do
        inns $PY -c "import socket; socket.create_connection(('127.0.0.1', $CPORT), 0.2).close()" \
            2>/dev/null && return 0
        sleep 0.1
    done
    echo "sink did not start"
    exit 1
}
stop_sink() {
    kill -TERM "$SINKPID"
    wait "$SINKPID" 2>/dev/null
}

: >"$W/sink.txt"
start_sink
# The test's probe connections to the sink are not SYNs to $SPORT: the filter excludes them.
ip netns exec "$NS" "$BIN" -i lo -f "tcp dst port $SPORT or tcp src port $SPORT" --events syn \
    -c "tcp://127.0.0.1:$CPORT" --interval 0.05 --chunk-size 1 \
    --set reconnect_min=100 --set reconnect_max=400 --set buffer_bytes=2000 \
    --stats --drain-timeout 3000 >"$W/export.out" 2>"$W/export.err" &
EXP=$!
fk_netns_on_exit "kill $EXP"
sleep 1.5 # capture up

# 1. collector up
connect 20 21000 >"$W/p1"
wait_ports "$W/p1" 10 || bad "phase 1: events missing at the collector"

# 2. collector down, back within the buffer
stop_sink
sleep 0.3
connect 20 22000 >"$W/p2"
sleep 1
$PY -c "
import sys
want = set(open('$W/p2').read().split())
got = set(l.split()[2] for l in open('$W/sink.txt'))
sys.exit(1 if want & got else 0)" || bad "phase 2: events arrived while the collector was down?"
start_sink
wait_ports "$W/p2" 10 || bad "phase 2: buffered events did not arrive after the restart"

# 3. collector down, more than the buffer (2000 bytes = 43 one-record messages)
stop_sink
sleep 0.3
connect 150 23000 >"$W/p3"
sleep 1
# SIGUSR1: counters now, while the collector is down (drops already counted).
kill -USR1 "$EXP"
sleep 0.5
grep -Eq 'export total .*records_dropped=[1-9]' "$W/export.err" ||
    bad "SIGUSR1 printed no drop count: $(cat "$W/export.err")"
start_sink
sleep 2
kill -TERM "$EXP"
wait "$EXP"
rc=$?
# Records were dropped (phase 3): the exit status says not everything was delivered.
[ "$rc" = 1 ] || bad "flowkit-export exit $rc, want 1 (records dropped): $(tail -3 "$W/export.err")"
grep -Eq "not delivered: [1-9][0-9]* records dropped" "$W/export.err" || bad "no message about the undelivered records"

$PY - "$W" <<'PY' || bad "accounting"
import re, sys
w = sys.argv[1]
p = [open('%s/p%d' % (w, k)).read().split() for k in (1, 2, 3)]
lines = [l.split() for l in open(w + '/sink.txt')]
got = [l[2] for l in lines]
err = open(w + '/export.err').read()
m = re.findall(r'export total records_in=(\d+) records_sent=(\d+) records_dropped=(\d+)', err)
if len(m) != 2:
    sys.exit('want 2 stats reports (SIGUSR1, exit), got %d:\n%s' % (len(m), err))
m = m[-1]
rin, sent, dropped = map(int, m)
bad = 0
for k in (0, 1):
    missing = set(p[k]) - set(got)
    if missing:
        print('phase %d: %d events missing' % (k + 1, len(missing))); bad += 1
dup = len(got) - len(set(got))
if dup:
    print('%d duplicate records' % dup); bad += 1
got3 = [x for x in p[2] if x in set(got)]
if rin != 190:
    print('records_in', rin, 'want 190'); bad += 1
if dropped == 0 or len(got3) + dropped != 150:
    print('phase 3: %d arrived + %d dropped != 150' % (len(got3), dropped)); bad += 1
if got3 != p[2][:len(got3)]:
    print('phase 3: the buffer did not keep the oldest events'); bad += 1
if sent != len(got):
    print('records_sent', sent, 'collector got', len(got)); bad += 1
# One record per message: sequence numbers 0, 1, 2, ... across both restarts
# (the dropped messages are the newest, so no gap shows before them).
seqs = [int(l[1]) for l in lines]
if seqs != list(range(len(seqs))):
    print('sequence numbers', seqs[:5], '...', seqs[-5:]); bad += 1
print('tcp restart: phase 1 %d, phase 2 %d, phase 3 %d arrived + %d dropped; records_in %d sent %d'
      % (len(set(p[0]) & set(got)), len(set(p[1]) & set(got)), len(got3), dropped, rin, sent))
sys.exit(1 if bad else 0)
PY
exit $fail
