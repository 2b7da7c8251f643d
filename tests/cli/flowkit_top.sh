#!/bin/bash
# flowkit-top as a user sees it: usage errors, trace mode (-t) and --json for
# scripts on loopback traffic of known processes, the automatic fallback to
# trace mode without a terminal, and the curses view under tmux (80x24):
# header, keys m (units), s/r (sort), q (quit).
set -u
TOP="$FLOWKIT_BUILD_DIR/cli/flowkit-top/flowkit-top"
PEERS="$FLOWKIT_SOURCE_DIR/tests/integration/proc_peers.py"
PY=/usr/bin/python3
[ -x "$TOP" ] || { echo "missing $TOP"; exit 1; }
fail=0
check() { # check DESCRIPTION COMMAND...
    if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}

# Usage (no privileges needed).
"$TOP" --help | grep -q '^Usage: flowkit-top' ; check "--help" test $? -eq 0
"$TOP" --version | grep -q flowkit ; check "--version" test $? -eq 0
"$TOP" --bogus >/dev/null 2>&1 ; check "unknown option exits 2" test $? -eq 2
"$TOP" -t --json >/dev/null 2>&1 ; check "-t with --json exits 2" test $? -eq 2
"$TOP" -d 0 >/dev/null 2>&1 ; check "-d 0 exits 2" test $? -eq 2
"$TOP" --history-seconds 0 >/dev/null 2>&1 ; check "--history-seconds 0 exits 2" test $? -eq 2
"$TOP" --help | grep -qE '^ +--snaplen N .*\(default 256\)$' ; check "--help shows the snaplen really used (256)" test $? -eq 0
"$TOP" --nice 20 >/dev/null 2>&1 ; check "--nice 20 exits 2" test $? -eq 2
# --set takes the names --list-params prints, with or without "capture.".
"$TOP" --list-params | grep -q '^capture\.queue_size	int	' ; check "--list-params" test $? -eq 0
"$TOP" --set capture.queue_size=8 2>&1 | grep -q 'queue_size = 8 is out of range' ; check "--set capture.queue_size=8 refused with the bounds" test $? -eq 0
"$TOP" --set queue-size=8 >/dev/null 2>&1 ; check "--set queue-size=8 exits 2" test $? -eq 2
"$TOP" --set exporter.mtu=1400 2>&1 | grep -q 'unknown parameter "exporter.mtu"' ; check "--set of another handle's name refused" test $? -eq 0
# Every long option of --help is in the man page, and every one the man page
# documents is in --help.
MAN="$FLOWKIT_SOURCE_DIR/docs/man/flowkit-top.1"
help_opts=$("$TOP" --help | grep -oE '(^| )--[a-z][a-z-]*' | tr -d ' ' | sort -u)
man_opts=$(grep -oE '\\-\\-[a-z]([a-z]|\\-)*' "$MAN" | sed 's/\\-/-/g' | sort -u)
check "--help and the man page list the same long options ($(echo $help_opts | wc -w))" \
    test "$help_opts" = "$man_opts"
"$TOP" --help | grep -q -- '--connections' ; check "--help has --connections" test $? -eq 0
# Bad values: one message naming the option, exit 2, before any capture.
while read -r args; do
    # shellcheck disable=SC2086
    timeout 5 "$TOP" $args >/dev/null 2>"${TMPDIR:-/tmp}/fktop_err.$$"
    rc=$?
    opt=${args%% *}
    check "'$args' exits 2 (got $rc)" test $rc -eq 2
    check "'$args': message names $opt" grep -q -- "^flowkit-top: $opt" "${TMPDIR:-/tmp}/fktop_err.$$"
done <<'BAD'
-d -1
-d abc
-d 1e9
-c 0
-c -5
--limit -1
--limit abc
-P abc
-P 0
--queue-size 0
--snaplen 1
--cpu-limit -1
--mem-limit 1
--workers 1000
BAD
rm -f "${TMPDIR:-/tmp}/fktop_err.$$"
"$TOP" $(for i in $(seq 65); do printf -- '-P %d ' "$i"; done) >/dev/null 2>&1
check "65 -P exit 2" test $? -eq 2
# An unknown option inside a group is named as itself.
msg=$("$TOP" -tx 2>&1 >/dev/null | head -1)
check "-tx: unknown option '-x' (got: $msg)" grep -q "unknown option '-x'" <<<"$msg"
msg=$("$TOP" -tc 2>&1 >/dev/null | head -1)
check "-tc: '-c' needs a value (got: $msg)" grep -q "option '-c' needs a value" <<<"$msg"

if [ "$(id -u)" -ne 0 ]; then
    echo "!!! SKIP: the capture parts of this test need root" >&2
    exit $([ $fail -eq 0 ] && echo 77 || echo 1)
fi
PIDS=()
WORK=$(mktemp -d)
SOCK=fktop$$
cleanup() {
    tmux -L "$SOCK" kill-server 2>/dev/null
    ip link del "fkt$$a" 2>/dev/null
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$((20000 + $$ % 20000))
$PY "$PEERS" server tcp 127.0.0.1 $PORT >"$WORK/srv" 2>&1 &
PIDS+=($!)
SRV=$!
for _ in $(seq 50); do grep -q ready "$WORK/srv" && break; sleep 0.1; done

# A client that keeps moving data for a few seconds (bounded).
traffic() {
    $PY "$PEERS" move tcp 127.0.0.1 127.0.0.1 $PORT 200000 100000 "$1" 100 1 >"$WORK/client.$2" &
    PIDS+=($!)
    CLIENT=$!
}

# Trace mode.
traffic 20 t
"$TOP" -t -d 1 -c 3 lo >"$WORK/trace" 2>"$WORK/trace.err"
check "trace mode exits 0" test $? -eq 0
check "trace mode prints 3 refreshes" test "$(grep -c '^Refreshing:' "$WORK/trace")" -eq 3
check "trace mode shows the client pid" grep -qE "/$CLIENT/0	[0-9.]+	[0-9.]+$" "$WORK/trace"
check "trace mode shows the server pid" grep -qE "/$SRV/0	" "$WORK/trace"
wait "$CLIENT"

# JSON lines.
traffic 20 j
"$TOP" --json -d 1 -c 2 lo >"$WORK/json" 2>"$WORK/json.err"
check "--json exits 0" test $? -eq 0
check "--json: 2 lines" test "$(wc -l <"$WORK/json")" -eq 2
check "--json: valid rank objects with the client" $PY -c "
import json, sys
rows = [json.loads(l) for l in open('$WORK/json')]
assert all(r['type'] == 'rank' and 'time' in r for r in rows)
p = [x for x in rows[-1]['processes'] if x['pid'] == $CLIENT]
assert p and p[0]['sent_bytes'] > 0 and p[0]['recv_bytes'] > 0, rows[-1]
assert set(p[0]) >= {'pid','name','user','exe','sent_bytes','recv_bytes','sent_rate','recv_rate'}
"
# -P keeps only the given pid; --limit cuts.
"$TOP" --json -d 1 -c 1 -P "$SRV" lo >"$WORK/onlysrv" 2>/dev/null
check "-P filters rows" $PY -c "
import json
r = json.loads(open('$WORK/onlysrv').read())
assert all(p['pid'] == $SRV for p in r['processes']), r"
check "--json: dev and devs of the client are lo" $PY -c "
import json
r = json.loads(open('$WORK/json').read().splitlines()[-1])
p = [x for x in r['processes'] if x['pid'] == $CLIENT][0]
assert p['dev'] == 'lo' and [d['name'] for d in p['devs']] == ['lo'] and p['devs'][0]['ifindex'] == 1, p"
# The snaplen in use is the one --help shows: the pcap store's header says it
# (the store opens its file on the first packet: a few UDP datagrams).
# Datagrams go on (every 0.1 s, at most 30 s) until flowkit-top has ended, so
# a capture that starts late on a loaded machine still sees some.
$PY -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(300):
    s.sendto(b'x' * 500, ('127.0.0.1', $PORT)); time.sleep(0.1)" &
SNAPSEND=$!
"$TOP" -t -d 1 -c 2 --pcap-store "$WORK/snap.pcap" lo >/dev/null 2>&1
kill "$SNAPSEND" 2>/dev/null
wait "$SNAPSEND" 2>/dev/null
check "captures 256 bytes per packet by default" test "$(od -An -tu4 -j16 -N4 "$WORK/snap.pcap" | tr -d ' ')" = 256
wait "$CLIENT"

# Every thread (dispatch, attribution watcher, workers) at the raised priority.
"$TOP" -t -d 1 -c 2 lo >/dev/null 2>&1 &
tp=$!
sleep 0.6
nices=$(for t in /proc/$tp/task/*/stat; do awk '{print $19}' "$t"; done | sort -u | tr '\n' ' ')
nthreads=$(ls /proc/$tp/task | wc -l)
wait $tp
check "all $nthreads threads run at nice -10 (got: $nices)" test "$nices" = "-10 "

# Not a terminal: trace mode without -t.
"$TOP" -d 1 -c 1 lo >"$WORK/notty" 2>/dev/null </dev/null
check "no tty falls back to trace mode" grep -q '^Refreshing:' "$WORK/notty"

# Curses under tmux, 80 columns (only this test's port: other tests use lo meanwhile).
traffic 30 c
tmux -L "$SOCK" new-session -d -x 80 -y 24 "$TOP -d 1 -f 'tcp port $PORT' lo"
sleep 2.5
tmux -L "$SOCK" capture-pane -p >"$WORK/pane1"
check "curses header" grep -qE 'PID +USER +PROGRAM +DEV +SENT +RECEIVED' "$WORK/pane1"
check "curses shows the client" grep -qE "^ *$CLIENT +root " "$WORK/pane1"
check "curses DEV of the client is lo" grep -qE "^ *$CLIENT +root +.* lo +[0-9.]+ +[0-9.]+ *$" "$WORK/pane1"
check "curses default units KB/sec" grep -q 'units: KB/sec' "$WORK/pane1"
check "fits 80 columns" test "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$WORK/pane1")" -le 80
tmux -L "$SOCK" send-keys m
sleep 1.2
tmux -L "$SOCK" capture-pane -p >"$WORK/pane2"
check "m cycles units to KB" grep -q 'units: KB ' "$WORK/pane2"
tmux -L "$SOCK" send-keys r
sleep 1.2
tmux -L "$SOCK" capture-pane -p >"$WORK/pane3"
check "r sorts by received" grep -q 'sort: received' "$WORK/pane3"
# line N of a pane: the row of a pid
row_line() { grep -nE "^ *$1 " "$2" | head -1 | cut -d: -f1; }
# The server receives twice what it sends, the client the other way round.
check "r puts the server (receives more) above the client" \
    test "$(row_line "$SRV" "$WORK/pane3")" -lt "$(row_line "$CLIENT" "$WORK/pane3")"
tmux -L "$SOCK" send-keys s
sleep 1.2
tmux -L "$SOCK" capture-pane -p >"$WORK/pane4"
check "s sorts by sent" grep -q 'sort: sent' "$WORK/pane4"
check "s puts the client (sends more) above the server" \
    test "$(row_line "$CLIENT" "$WORK/pane4")" -lt "$(row_line "$SRV" "$WORK/pane4")"
tmux -L "$SOCK" send-keys m
sleep 1.2
tmux -L "$SOCK" capture-pane -p >"$WORK/pane5"
check "m again: units B" grep -q 'units: B ' "$WORK/pane5"
tmux -L "$SOCK" send-keys m m
sleep 1.2
tmux -L "$SOCK" capture-pane -p >"$WORK/pane6"
check "m twice more: MB, then back to KB/sec" grep -q 'units: KB/sec' "$WORK/pane6"
tmux -L "$SOCK" send-keys q
sleep 1
tmux -L "$SOCK" has-session 2>/dev/null
check "q quits" test $? -ne 0
wait "$CLIENT"

# Curses with --connections: the client's connection to the server right
# under its row.
traffic 30 k
tmux -L "$SOCK" new-session -d -x 80 -y 24 "$TOP -d 1 --connections -f 'tcp port $PORT' lo"
sleep 2.5
tmux -L "$SOCK" capture-pane -p >"$WORK/pane7"
tmux -L "$SOCK" send-keys q
cl=$(row_line "$CLIENT" "$WORK/pane7")
conn_under() { # the line after the client's row is one of its connections
    sed -n "$((${cl:-0} + 1))p" "$WORK/pane7" |
        grep -qE "^ +tcp 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$PORT +[0-9.]+ +[0-9.]+ *$"
}
check "--connections: the client's connection under its row" conn_under
check "--connections: fits 80 columns" test "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$WORK/pane7")" -le 80
# Not root: a clear one-line error without CAP_NET_RAW; with it, a warning
# that other users' traffic lands in the unknown rows.
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
(cd / && timeout 10 "${NOBODY[@]}" "$TOP" -t -c 1 lo >/dev/null 2>"$WORK/nobody.err")
rc=$?
check "not root: exit 1 (got $rc)" test $rc -eq 1
check "not root: one line saying it needs root" \
    test "$(wc -l <"$WORK/nobody.err")" -eq 1 -a "$(grep -c 'needs root' "$WORK/nobody.err")" -eq 1
(cd / && timeout 10 "${NOBODY[@]}" --inh-caps +net_raw --ambient-caps +net_raw \
    "$TOP" -t -d 0.3 -c 1 lo >/dev/null 2>"$WORK/netraw.err")
check "CAP_NET_RAW only: exit 0" test $? -eq 0
check "CAP_NET_RAW only: says other users' traffic is unknown" \
    grep -q "not root: traffic of other users' processes counts as unknown" "$WORK/netraw.err"

# Devices: unknown, down.
"$TOP" -t -c 1 nosuchdev$$ >/dev/null 2>"$WORK/nodev.err"
check "unknown device: exit 1" test $? -eq 1
check "unknown device: one line naming it" \
    test "$(wc -l <"$WORK/nodev.err")" -eq 1 -a "$(grep -c "nosuchdev$$: no such device" "$WORK/nodev.err")" -eq 1
VETH=fkt$$
ip link add "${VETH}a" type veth peer name "${VETH}b" 2>/dev/null && {
    "$TOP" -t -c 1 "${VETH}a" >/dev/null 2>"$WORK/down.err"
    check "device down: exit 1" test $? -eq 1
    check "device down: says so" grep -q "${VETH}a: interface is down" "$WORK/down.err"
    ip link del "${VETH}a"
}

# A command line with a tab, a newline and a terminal escape: trace lines
# stay one line with two tabs, no escape reaches the terminal.
ODD=$(printf 'odd\targ\nwith\033[31mred')
$PY -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(60):
    s.sendto(b'x' * 200, ('127.0.0.1', $PORT)); time.sleep(0.05)" "$ODD" &
PIDS+=($!)
ODDPID=$!
"$TOP" -t -l -d 1 -c 2 lo >"$WORK/odd" 2>/dev/null
oddlines=$(grep -c "/$ODDPID/0	" "$WORK/odd")
check "odd command line: shown ($oddlines lines)" test "$oddlines" -ge 1
check "odd command line: every trace line has exactly 2 tabs" \
    test "$(awk -F'\t' 'NF > 1 && NF != 3' "$WORK/odd" | wc -l)" -eq 0
check "odd command line: no escape character" test "$(grep -c $'\033' "$WORK/odd")" -eq 0
check "odd command line: control characters as ?" grep -q 'odd?arg?with?\[31mred' "$WORK/odd"

# Drops are visible: stopped while 20000 datagrams arrive with a small
# kernel buffer, flowkit-top says how many packets its figures miss.
DPORT=$((PORT + 1))
flood() {
    timeout 10 $PY -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(20000): s.sendto(b'x' * 64, ('127.0.0.1', $DPORT))"
}
"$TOP" -t -d 1 -c 3 --buffer-size 65536 -f "udp port $DPORT" lo >/dev/null 2>"$WORK/drops.err" &
tp=$!
sleep 0.8
kill -STOP $tp
flood
kill -CONT $tp
wait $tp
check "drops: exit 0" test $? -eq 0
check "drops: told at the next refresh" grep -qE '^flowkit-top: [0-9]+ packets dropped so far \(kernel [0-9]+, queue [0-9]+\)$' "$WORK/drops.err"
check "drops: counted on stderr at exit" grep -qE '^flowkit-top: [0-9]+ packets dropped \(kernel [0-9]+, queue [0-9]+\)' "$WORK/drops.err"

# Curses in a tiny terminal (40x10): nothing wraps, the numbers stay
# visible; a resize redraws at once (long before the 5 s refresh) using
# the new width for PROGRAM.
wide() { awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$1"; }
tmux -L "$SOCK" new-session -d -x 40 -y 10 "exec $TOP -d 5 -l lo"
sleep 1.5
tmux -L "$SOCK" capture-pane -p >"$WORK/tiny1"
check "40x10: header on one line" grep -qE '^ +PID +PROGRAM +SENT +RECEIVED *$' "$WORK/tiny1"
check "40x10: status line not wrapped" test "$(sed -n 3p "$WORK/tiny1" | grep -c PID)" -eq 1
check "40x10: TOTAL with both numbers" grep -qE '^ +TOTAL +[0-9.]+ +[0-9.]+ *$' "$WORK/tiny1"
check "40x10: no line over 40 columns" test "$(wide "$WORK/tiny1")" -le 40
tmux -L "$SOCK" resize-window -x 120 -y 12
sleep 1
tmux -L "$SOCK" capture-pane -p >"$WORK/tiny2"
check "resized to 120: redrawn at once with USER and DEV" \
    grep -qE '^ +PID +USER +PROGRAM +DEV +SENT +RECEIVED *$' "$WORK/tiny2"
check "resized to 120: lines use the width" test "$(wide "$WORK/tiny2")" -gt 100
check "resized to 120: TOTAL on the last line" grep -qE '^ +TOTAL +[0-9.]+ +[0-9.]+ *$' <(sed -n 12p "$WORK/tiny2")
tmux -L "$SOCK" resize-window -x 12 -y 3
sleep 1
tmux -L "$SOCK" resize-window -x 80 -y 24
sleep 1
tmux -L "$SOCK" has-session 2>/dev/null
check "survives 12x3 and back" test $? -eq 0
tmux -L "$SOCK" send-keys q
sleep 0.5
tmux -L "$SOCK" kill-server 2>/dev/null

# Curses: library messages and drops go to the status line (not over the
# table), and the messages to stderr after the terminal is restored.
tmux -L "$SOCK" new-session -d -x 80 -y 24 \
    "exec $TOP -d 1 --buffer-size 65536 -f 'udp port $DPORT' --pcap-store /sys/fktop$$.pcap lo 2>$WORK/curses.err"
sleep 0.8
cpid=$(tmux -L "$SOCK" display -p '#{pane_pid}')
kill -STOP "$cpid"
flood
kill -CONT "$cpid"
sleep 1.5
tmux -L "$SOCK" capture-pane -p >"$WORK/status"
check "status line: DROPPED and the library's message" \
    grep -qE '^DROPPED [0-9]+ packets  flowkit\[capture\]: warn: pcap store' <(sed -n 2p "$WORK/status")
check "status line: table intact" grep -qE '^ +TOTAL +[0-9.]+ +[0-9.]+ *$' <(sed -n 24p "$WORK/status")
tmux -L "$SOCK" send-keys q
sleep 1
check "after quit: message and drops on stderr" \
    test "$(grep -c 'pcap store' "$WORK/curses.err")" -ge 1 -a "$(grep -c 'packets dropped' "$WORK/curses.err")" -eq 1
tmux -L "$SOCK" kill-server 2>/dev/null

if [ $fail -ne 0 ]; then
    for f in "$WORK"/pane* "$WORK"/tiny* "$WORK/status" "$WORK/trace" "$WORK"/*.err; do echo "--- $f"; cat "$f"; done
fi
exit $fail
