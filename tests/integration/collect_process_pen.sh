#!/bin/bash
# flowkit-export -> flowkit-collect, both CLIs, over UDP on 127.0.0.1:
#   1. -r PCAP --flows --pen 12345 -> flowkit-collect --pen 12345: every flow of
#      the pcap arrives (packets/bytes match the ground truth) and none has
#      "pid"/"process" (a pcap has no processes: absent, not garbage);
#   2. live on lo with process attribution: a client process with a known
#      name and pid makes TCP connections; exported with --pen 12345, the
#      collector with --pen 12345 writes that pid, name, uid, user and
#      executable ("pid", "process", "uid", "user", "exe"); the same export
#      read by a collector with the default PEN has no "pid", "process",
#      "uid" or "exe" key (but "user": IANA userName has no PEN).
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
EXP="$BUILD/cli/flowkit-export/flowkit-export"
COL="$BUILD/cli/flowkit-collect/flowkit-collect"
PY=/usr/bin/python3
TOOLS="$SRC/tests/integration/nf_pcap_tools.py"
[ -x "$EXP" ] && [ -x "$COL" ] || { echo "SKIP: CLIs not built"; exit 77; }
[ -x "$PY" ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
W=$(mktemp -d /tmp/flowkit-colpen.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# start_collector NAME ARGS...: flowkit-collect on a free port; sets CPORT.
start_collector() {
    local name=$1
    shift
    "$COL" -l udp://127.0.0.1:0 -o "jsonl:$W/$name.jsonl" --stats 3600 "$@" \
        2>"$W/$name.err" &
    PIDS+=($!)
    CPORT=
    for _ in $(seq 100); do
        CPORT=$(sed -n 's/.*listening on udp:\/\/127.0.0.1:\([0-9][0-9]*\)$/\1/p' "$W/$name.err")
        [ -n "$CPORT" ] && return 0
        sleep 0.05
    done
    echo "collector $name did not start"
    cat "$W/$name.err"
    exit 1
}

# wait_lines FILE N: until FILE has N lines (at most 10 s).
wait_lines() {
    for _ in $(seq 200); do
        [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

# ---- 1. pcap ---------------------------------------------------------------
$PY "$TOOLS" gen "$W/in.pcap" "$W/truth.json" || { echo "FAIL: pcap generation"; exit 1; }
NTRUTH=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$W/truth.json")
start_collector pcap --pen 12345
"$EXP" -r "$W/in.pcap" -c "udp://127.0.0.1:$CPORT" --flows --events none --pen 12345 \
    --set biflow=0 >"$W/exp1.out" 2>&1 || bad "flowkit-export -r failed: $(cat "$W/exp1.out")"
wait_lines "$W/pcap.jsonl" "$NTRUTH" || bad "pcap: $(wc -l <"$W/pcap.jsonl") of $NTRUTH flows arrived"
$PY "$TOOLS" check "$W/truth.json" "$W/pcap.jsonl" >"$W/check.out" 2>&1 ||
    bad "pcap flows differ from the ground truth: $(tail -5 "$W/check.out")"
grep -q '"pid"\|"process"' "$W/pcap.jsonl" && bad "pcap flows carry process keys: $(head -2 "$W/pcap.jsonl")"

# ---- 2. live, with processes --------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP part 2: capturing on lo needs root"
    exit $fail
fi
"$EXP" --list-params 2>/dev/null | grep '^capture\.attribution' >/dev/null || {
    echo "SKIP part 2: the capture handle has no attribution parameter"
    exit $fail
}
start_collector match --pen 12345
PMATCH=$CPORT
start_collector other
POTHER=$CPORT
SPORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$EXP" -i lo -f "tcp port $SPORT" -c "udp://127.0.0.1:$PMATCH" -c "udp://127.0.0.1:$POTHER" \
    --flows --events none --pen 12345 --interval 0.1 --set idle_timeout=1 \
    >"$W/exp2.out" 2>"$W/exp2.err" &
PIDS+=($!)
sleep 1.5
# Client and server are one process named fkpencli (comm is the name it runs as).
ln -s "$PY" "$W/fkpencli"
"$W/fkpencli" -c "
import os, socket, sys, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', $SPORT)); srv.listen(16)
open(sys.argv[1], 'w').write(str(os.getpid()))
for i in range(5):
    c = socket.create_connection(('127.0.0.1', $SPORT)); a, _ = srv.accept()
    c.sendall(b'x' * 1000); a.recv(2000); time.sleep(0.05); c.close(); a.close()
time.sleep(0.3)
" "$W/client.pid" || bad "client failed"
CPID=$(cat "$W/client.pid")
wait_lines "$W/match.jsonl" 5 || bad "live: only $(wc -l <"$W/match.jsonl" 2>/dev/null) flows at --pen 12345"
wait_lines "$W/other.jsonl" 5 || bad "live: only $(wc -l <"$W/other.jsonl" 2>/dev/null) flows at the default PEN"
sleep 0.5
N=$(grep -c "\"pid\":$CPID,\"process\":\"fkpencli\"" "$W/match.jsonl")
[ "$N" -ge 5 ] || bad "--pen 12345: $N flows with pid $CPID and process fkpencli: $(head -3 "$W/match.jsonl")"
# The capture side fills in uid, user name and executable too: every flow
# of the client carries them (root, the interpreter /proc/PID/exe shows).
CEXE=$(readlink -f "$PY")
NFULL=$(grep "\"pid\":$CPID,\"process\":\"fkpencli\"" "$W/match.jsonl" |
    grep -c "\"user\":\"root\",\"uid\":0,\"exe\":\"$CEXE\"")
[ "$NFULL" -eq "$N" ] ||
    bad "--pen 12345: $NFULL of $N flows with user root, uid 0, exe $CEXE: $(grep "\"pid\":$CPID," "$W/match.jsonl" | head -1)"
grep -q '"user"' "$W/other.jsonl" ||
    bad "default PEN: the IANA userName is lost: $(head -1 "$W/other.jsonl")"
grep -q '"pid"\|"process"\|"uid"\|"exe"' "$W/other.jsonl" &&
    bad "default PEN: process keys from PEN 12345 elements: $(head -2 "$W/other.jsonl")"
[ "$fail" -eq 0 ] && echo "ok: pcap $NTRUTH flows without process keys; live pid $CPID at PEN 12345 only"
exit $fail
