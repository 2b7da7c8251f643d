#!/bin/bash
# Live, with process attribution: in a test network namespace a client
# process with a known name and pid makes TCP connections through the
# namespace's veth to a server on the host side (so only the client end is
# local to the capture); flowkit-export -i veth0 (in the namespace) exports
# the SYN events and the flows over UDP on the namespace's loopback; tshark
# decodes the datagrams: every SYN event and flow of the client (running as
# user nobody) carries its pid, name, uid and executable as enterprise
# elements under the configured (non-default) PEN and its user name as IANA
# userName. The same records on --stdout carry "pid", "process", "uid",
# "user" and "exe".
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
BIN="$BUILD/cli/flowkit-export/flowkit-export"
PY=/usr/bin/python3
TOOLS="$SRC/tests/integration/nf_pcap_tools.py"
[ -x "$BIN" ] || { echo "SKIP: $BIN not built"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) not installed"; exit 77; }
"$BIN" --list-params | grep '^capture\.attribution' >/dev/null ||
    { echo "SKIP: the capture handle has no attribution parameter"; exit 77; }
. "$SRC/scripts/netns.sh"
fk_netns_require_root

NS="fkxp$$"
# flowkit-export enters only the namespace's network: `ip netns exec` also
# mounts a sysfs of its own over /sys, which hides /sys/fs/cgroup, so the
# BPF attribution could not attach and sock_diag (which misses sockets of
# short connections on a busy machine) would stand in.
INNS="nsenter --net=/run/netns/$NS"
SUB=$(($$ % 200 + 30))
fk_netns_add "$NS" $SUB >/dev/null
HOST=10.213.$SUB.1
W=$(mktemp -d /tmp/flowkit-export-proc.XXXXXX)
fk_netns_on_exit "rm -rf '$W'"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
PEN=12345 # not the default (32473): the configured one must be used
SPORT=7100
N=100
# Unattributed records allowed of the 2 * N: the bar is 99 % on the right
# pid. Measured under 3 busy loops on 2 cores (the flowkit-export defaults:
# nice -10, 1 ms kernel blocks): 3 misses in 4400 records, at most 2 of 200
# in one run; with --nice 0 --set buffer_timeout=10, 37 in 800 (connections
# of ~10 ms gone before their socket was looked up).
MAXMISS=$((2 * N / 100))
CUID=65534
CUSER=$(getent passwd $CUID | cut -d: -f1)
[ -n "$CUSER" ] || CUSER=$CUID # the attribution writes an unknown uid's number
CEXE=$(readlink -f "$PY")     # /proc/PID/exe of the client: the real interpreter

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

$INNS "$BIN" -i veth0 -f "tcp port $SPORT" -c "udp://127.0.0.1:$UPORT" \
    --events syn --flows --interval 0.1 --pen $PEN --set idle_timeout=1 --stats --stdout \
    >"$W/export.out" 2>"$W/export.err" &
EXP=$!
fk_netns_on_exit "kill $EXP"
sleep 1.5

# ... as user nobody (65534), so that uid and user name are not root's.
chmod 755 "$W"
ip netns exec "$NS" setpriv --reuid=$CUID --regid=$CUID --clear-groups "$W/fkexpcli" -c "
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
grep -m1 'attribution:' "$W/export.err" # which source (bpf where it loads)
touch "$W/u.stop"
wait "$RPID"

tshark -r "$W/u.pcap" -d "udp.port==$UPORT,cflow" -V >"$W/tshark.txt" 2>/dev/null
$PY - "$W/tshark.txt" "$(cat "$W/client.pid")" $N $SPORT $PEN $CUID "$CUSER" "$CEXE" $MAXMISS <<'PY' ||
import re, sys
text = open(sys.argv[1]).read()
pid, n, sport, pen, uid = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
user, exe, MAXMISS = sys.argv[7], sys.argv[8].encode(), int(sys.argv[9])
bad = 0
# Templates: processId (1), processName (2), processExecutable (4), userId (5)
# and sessionEventKind (10) as enterprise elements under the configured PEN;
# the user name as IANA userName (371), without a PEN.
spec = re.findall(r'= Type: (\d+) \[pen: [^\]]*\]\n\s+Length: [^\n]*\n\s+PEN: [^\n]*?(\d+)\)?\n', text)
pens = {}
for t, p in spec:
    pens.setdefault(int(t), set()).add(p)
for t in (1, 2, 4, 5, 10):
    if pens.get(t) != {pen}:
        print('enterprise element %d: PEN %s in the templates, want %s' % (t, pens.get(t), pen))
        bad += 1
if not re.search(r'Field \(\d+/\d+\): userName\n\s+0\.\.\. .* = Pen provided: No', text):
    print('no IANA userName field specifier in the templates'); bad += 1
syn = flows = unattributed = 0
missed = []
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
    users = re.findall(r'\n\s+User Name: ([^\n]*)', b)
    if 1 not in ent:
        # Attribution is the capture handle's job and may miss a socket;
        # such a record must then carry no process at all.
        unattributed += 1
        missed.append('%s:%s' % ('syn' if 10 in ent else 'flow',
                                 re.search(r'SrcPort: (\d+)', b).group(1)))
        if set(ent) - {10} or users:
            print('process fields without a pid:', ent, users); bad += 1
    elif (ent.get(2) != b'fkexpcli' or int.from_bytes(ent[1], 'big') != pid or
          int.from_bytes(ent.get(5, b''), 'big') != uid or users != [user] or ent.get(4) != exe):
        print('record with the wrong process:', ent, users); bad += 1
if syn != n or flows != n:
    print('SYN events %d, flows %d, want %d each' % (syn, flows, n)); bad += 1
if unattributed > MAXMISS:
    print('%d of %d records unattributed (at most %d allowed)' % (unattributed, 2 * n, MAXMISS))
    bad += 1
if missed:
    print('unattributed (kind:client port):', ' '.join(sorted(missed, key=lambda m: m[-5:])))
print('tshark: %d SYN events and %d flows; %d carry pid %d, name fkexpcli, uid %d, user %s and '
      'exe %s under PEN %s; %d unattributed; %d problems' % (
          syn, flows, syn + flows - unattributed, pid, uid, user, exe.decode(), pen,
          unattributed, bad))
sys.exit(1 if bad else 0)
PY
    bad "process fields at tshark"

# --stdout: the JSON lines of the same records carry the same process.
$PY - "$W/export.out" "$(cat "$W/client.pid")" $N $SPORT $CUID "$CUSER" "$CEXE" $MAXMISS <<'PY' ||
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
pid, n, sport, uid = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
user, exe, maxmiss = sys.argv[6], sys.argv[7], int(sys.argv[8])
mine = [j for j in lines if j.get('dst_port') == sport]
want = {'pid': pid, 'process': 'fkexpcli', 'uid': uid, 'user': user, 'exe': exe}
bad = miss = 0
for j in mine:
    got = {k: j[k] for k in want if k in j}
    if not got:
        miss += 1
    elif got != want:
        print('JSON line with the wrong process:', j); bad += 1
kinds = sorted(j['type'] for j in mine)
if kinds != ['event'] * n + ['flow'] * n:
    print('JSON lines: %d events and %d flows, want %d each' % (
        kinds.count('event'), kinds.count('flow'), n)); bad += 1
if miss > maxmiss:
    print('%d JSON lines without a process' % miss); bad += 1
print('stdout: %d lines, %d with %s, %d without a process' % (len(mine), len(mine) - miss, want, miss))
sys.exit(1 if bad else 0)
PY
    bad "process fields on --stdout"

# Both ends local (#21): on the namespace's loopback a server process
# ("fkexpsrv", root) and a client process ("fkexpcli", nobody). libpcap shows
# each loopback packet once; every flow and SYN event must carry the
# initiator's process (the client), never the responder's.
LPORT=7101
ln -s "$PY" "$W/fkexpsrv"
ip netns exec "$NS" "$W/fkexpsrv" -c "
import os, socket
print(os.getpid(), flush=True)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $LPORT)); s.listen(512)
while True:
    c, _ = s.accept(); c.recv(100); c.send(b'world' * 20); c.close()
" >"$W/server.pid" &
LSRV=$!
fk_netns_on_exit "kill $LSRV"
$INNS "$BIN" -i lo -f "tcp port $LPORT" -c "udp://127.0.0.1:$UPORT" \
    --events syn --flows --interval 0.1 --set idle_timeout=1 --stdout \
    >"$W/lo.out" 2>"$W/lo.err" &
EXP=$!
fk_netns_on_exit "kill $EXP"
sleep 1.5
ip netns exec "$NS" setpriv --reuid=$CUID --regid=$CUID --clear-groups "$W/fkexpcli" -c "
import os, socket, time
print(os.getpid(), flush=True)
for i in range(20):
    c = socket.create_connection(('127.0.0.1', $LPORT))
    c.send(b'hello'); c.recv(200); time.sleep(0.01); c.close()
time.sleep(0.2)
" >"$W/lo-client.pid" || bad "loopback client failed"
sleep 2.5
kill -TERM "$EXP"
wait "$EXP" || bad "flowkit-export on lo exit $?: $(tail -3 "$W/lo.err")"
$PY - "$W/lo.out" "$(cat "$W/lo-client.pid")" "$(cat "$W/server.pid")" $LPORT <<'PY' ||
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
cpid, spid, port = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mine = [j for j in lines if port in (j.get('dst_port'), j.get('src_port'))]
bad = 0
# What this part tests: a loopback record goes to the initiator, never to
# the responder (or anyone else). A record without a process (the sock_diag
# fallback's lag, where the BPF source cannot load) is allowed as in the
# first part: at most 2.
unattributed = [j for j in mine if 'pid' not in j]
for j in mine:
    if 'pid' in j and (j.get('pid') != cpid or j.get('process') != 'fkexpcli'):
        print('loopback record not on the initiator (client %d, server %d):' % (cpid, spid), j)
        bad += 1
if len(unattributed) > 2:
    print('loopback: %d records without a process (at most 2 allowed):' % len(unattributed),
          unattributed[:3])
    bad += 1
kinds = sorted(j['type'] for j in mine)
if kinds != ['event'] * 20 + ['flow'] * 20:
    print('loopback: %d events and %d flows, want 20 each' % (kinds.count('event'), kinds.count('flow')))
    bad += 1
print('loopback: %d records, %d on the client %d (server %d), %d without a process' %
      (len(mine), len(mine) - len(unattributed) - bad, cpid, spid, len(unattributed)))
sys.exit(1 if bad else 0)
PY
    bad "loopback records on the initiator"
exit $fail
