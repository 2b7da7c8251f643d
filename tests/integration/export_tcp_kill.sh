#!/bin/bash
# flowkit-export over TCP when the collector is killed with records in
# flight (issue 15, item 3). The exporter and the collector live in two
# network namespaces joined by a veth pair, so the test can hold records in
# flight: with the collector's end of the link down, what the exporter writes
# is never acknowledged; the collector is killed with SIGKILL (its receive
# buffer empty: it read everything before), the link comes back, the
# collector's kernel answers the retransmissions with a reset, and a new
# collector starts on the same port.
#   - every record arrives exactly once: the ones in flight at the kill are
#     sent again on the new connection (records_resent), none twice;
#   - records_in = records_sent + records_dropped, records_sent = what the
#     collectors wrote, and flowkit-export exits 0 (everything delivered).
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

N=$(($$ % 200 + 30))
NE="fkke$$"
NC="fkkc$$"
fk_netns_add "$NE" "$N" >/dev/null || { echo "FAIL: netns"; exit 1; }
fk_netns_add "$NC" $((N + 1)) >/dev/null || { echo "FAIL: netns"; exit 1; }
# The exporter-collector link: 10.214.N.1 (exporter) <-> 10.214.N.2 (collector).
ip -n "$NE" link add kille type veth peer name killc netns "$NC" || { echo "FAIL: veth"; exit 1; }
ip -n "$NE" addr add "10.214.$N.1/24" dev kille
ip -n "$NC" addr add "10.214.$N.2/24" dev killc
ip -n "$NE" link set kille up
ip -n "$NC" link set killc up
CADDR="10.214.$N.2"
W=$(mktemp -d /tmp/flowkit-export-kill.XXXXXX)
fk_netns_on_exit "rm -rf '$W'"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# (Background jobs call ip netns exec directly: it execs, so $! is the process itself.)
inns() { ip netns exec "$NE" "$@"; }

CPORT=4739
SPORT=7000
# A TCP server in the exporter's namespace whose SYNs are the events.
start_syn_server "$NE"

start_sink() {
    ip netns exec "$NC" $PY "$SINK" "$CADDR" $CPORT "$W/sink.txt" &
    SINKPID=$!
    fk_netns_on_exit "kill $SINKPID"
    for _ in $(seq 50); do
        ip netns exec "$NC" ss -ltnH "sport = :$CPORT" | grep -q LISTEN && return 0
        sleep 0.1
    done
    echo "FAIL: sink did not start"
    exit 1
}

: >"$W/sink.txt"
start_sink
ip netns exec "$NE" "$BIN" -i lo -f "tcp dst port $SPORT or tcp src port $SPORT" --events syn \
    -c "tcp://$CADDR:$CPORT" --interval 0.05 --chunk-size 1 \
    --set reconnect_min=100 --set reconnect_max=400 \
    --stats --drain-timeout 5000 >"$W/export.out" 2>"$W/export.err" &
EXP=$!
fk_netns_on_exit "kill $EXP"
sleep 1.5 # capture up

# 1. Collector up: 30 events arrive.
connect 30 21000 >"$W/p1"
wait_ports "$W/p1" 15 || bad "phase 1: events missing at the collector"

# 2. The collector's end of the link goes down: 30 more events are written
#    to the connection and never acknowledged. The collector is killed.
ip -n "$NC" link set killc down
connect 30 22000 >"$W/p2"
sleep 1 # every event exported (interval 0.05 s)
kill -KILL "$SINKPID"
wait "$SINKPID" 2>/dev/null
ip -n "$NC" link set killc up
start_sink
wait_ports "$W/p2" 15 || bad "phase 2: records in flight at the kill did not arrive"

# 3. The new connection carries on.
connect 30 23000 >"$W/p3"
wait_ports "$W/p3" 15 || bad "phase 3: events missing after the restart"
kill -TERM "$EXP"
wait "$EXP"
rc=$?
[ "$rc" = 0 ] || bad "flowkit-export exit $rc (everything was delivered): $(tail -3 "$W/export.err")"

$PY - "$W" <<'PY' || bad "accounting"
import re, sys
w = sys.argv[1]
p = [open('%s/p%d' % (w, k)).read().split() for k in (1, 2, 3)]
got = [l.split()[2] for l in open(w + '/sink.txt')]
err = open(w + '/export.err').read()
m = re.findall(r'export total records_in=(\d+) records_sent=(\d+) records_dropped=(\d+) .*'
               r'records_buffered=(\d+) records_resent=(\d+)', err)
if not m:
    sys.exit('no stats line:\n' + err)
rin, sent, dropped, buffered, resent = map(int, m[-1])
bad = 0
want = p[0] + p[1] + p[2]
dup = len(got) - len(set(got))
if dup:
    print('%d records arrived twice' % dup); bad += 1
missing = set(want) - set(got)
if missing:
    print('%d records never arrived' % len(missing)); bad += 1
if rin != len(want) or sent != len(got) or dropped != 0 or buffered != 0:
    print('records_in %d sent %d dropped %d buffered %d; produced %d, collector got %d'
          % (rin, sent, dropped, buffered, len(want), len(got))); bad += 1
if resent < len(p[1]):
    print('records_resent %d, want at least the %d in flight' % (resent, len(p[1]))); bad += 1
print('tcp kill: produced %d, collector got %d (%d distinct), records_sent %d, resent %d, dropped %d'
      % (len(want), len(got), len(set(got)), sent, resent, dropped))
sys.exit(1 if bad else 0)
PY
exit $fail
