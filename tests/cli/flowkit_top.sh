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
# Every long option of --help is in the man page, and every one the man page
# documents is in --help.
MAN="$FLOWKIT_SOURCE_DIR/docs/man/flowkit-top.1"
help_opts=$("$TOP" --help | grep -oE '(^| )--[a-z][a-z-]*' | tr -d ' ' | sort -u)
man_opts=$(grep -oE '\\-\\-[a-z]([a-z]|\\-)*' "$MAN" | sed 's/\\-/-/g' | sort -u)
check "--help and the man page list the same long options ($(echo $help_opts | wc -w))" \
    test "$help_opts" = "$man_opts"
"$TOP" --help | grep -q -- '--connections' ; check "--help has --connections" test $? -eq 0

if [ "$(id -u)" -ne 0 ]; then
    echo "!!! SKIP: the capture parts of this test need root" >&2
    exit $([ $fail -eq 0 ] && echo 77 || echo 1)
fi
PIDS=()
WORK=$(mktemp -d)
SOCK=fktop$$
cleanup() {
    tmux -L "$SOCK" kill-server 2>/dev/null
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
( sleep 0.3; $PY -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5): s.sendto(b'x' * 500, ('127.0.0.1', $PORT))" ) &
"$TOP" -t -d 1 -c 1 --pcap-store "$WORK/snap.pcap" lo >/dev/null 2>&1
wait $!
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

# Curses under tmux, 80 columns.
traffic 30 c
tmux -L "$SOCK" new-session -d -x 80 -y 24 "$TOP -d 1 lo"
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
if [ $fail -ne 0 ]; then
    for f in "$WORK"/pane* "$WORK/trace" "$WORK"/*.err; do echo "--- $f"; cat "$f"; done
fi
exit $fail
