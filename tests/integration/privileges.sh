#!/bin/bash
# Least privilege (issue #15 item 4), read from /proc/PID/task/*/status of
# the running tools: after its capture is open, flowkit-export started as
# root runs as --user in every thread, keeps CAP_SYS_PTRACE and
# CAP_DAC_READ_SEARCH only where attribution needs them (none at all with
# attribution off), no ambient capabilities, no_new_privs; and with those two
# capabilities it still attributes the connection of a process of another
# user. flowkit-collect keeps none. An unknown --user is bad usage (exit 2).
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
. "$SRC/scripts/netns.sh"
fk_netns_require_root
EXPORT=$BUILD/cli/flowkit-export/flowkit-export
COLLECT=$BUILD/cli/flowkit-collect/flowkit-collect
for b in "$EXPORT" "$COLLECT"; do
    [ -x "$b" ] || { echo "SKIP: $b not built" >&2; exit 77; }
done
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) missing" >&2; exit 77; }
getent passwd nobody >/dev/null || { echo "SKIP: no user nobody" >&2; exit 77; }
NOBODY=$(id -u nobody)
fail() { echo "FAIL: $*" >&2; exit 1; }

WORK=$(mktemp -d /tmp/fk_privs.XXXXXX)
chmod 755 "$WORK"
fk_netns_on_exit "rm -rf '$WORK'"
NS=fkpv$$
N=$(fk_netns_free_subnet) || fail "no free subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
ATTR=0x80004 # CAP_SYS_PTRACE (19) | CAP_DAC_READ_SEARCH (2)

# field TASKDIR NAME: the value of "NAME:" in a task's status (first word)
field() { awk -v k="$2:" '$1 == k { print $2; exit }' "$1/status"; }
hex() { printf '%d' "0x$1"; }

# check_tasks PID UID ALLOWED MAIN_EFF: every thread runs as UID with no
# capability outside ALLOWED and none ambient; the main thread has exactly
# MAIN_EFF effective and permitted, and no_new_privs.
check_tasks() {
    local pid=$1 uid=$2 allowed=$3 main=$4 t n=0
    for t in /proc/"$pid"/task/*; do
        [ -r "$t/status" ] || continue
        n=$((n + 1))
        local uids eff prm amb
        uids=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "$t/status")
        [ "$uids" = "$uid $uid $uid $uid" ] || fail "task ${t##*/}: Uid $uids, expected $uid"
        eff=$(field "$t" CapEff)
        prm=$(field "$t" CapPrm)
        amb=$(field "$t" CapAmb)
        (($(hex "$eff") & ~allowed)) && fail "task ${t##*/}: CapEff $eff beyond $allowed"
        (($(hex "$prm") & ~allowed)) && fail "task ${t##*/}: CapPrm $prm beyond $allowed"
        (($(hex "$amb"))) && fail "task ${t##*/}: CapAmb $amb"
        echo "  task ${t##*/} ($(field "$t" Name)): Uid $uid CapEff $eff CapPrm $prm"
    done
    [ $n -ge 2 ] || fail "expected the capture's threads, saw $n task(s)"
    local m=/proc/$pid/task/$pid
    [ "$(hex "$(field "$m" CapEff)")" -eq $((main)) ] || fail "main CapEff $(field "$m" CapEff), expected $main"
    [ "$(hex "$(field "$m" CapPrm)")" -eq $((main)) ] || fail "main CapPrm $(field "$m" CapPrm), expected $main"
    [ "$(field "$m" NoNewPrivs)" = 1 ] || fail "main thread without no_new_privs"
}

# A server of another user (uid 4242) in the netns: its connection must
# still be attributed by flowkit-export running as nobody.
cat >"$WORK/server.py" <<'PY'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.213.%s.2" % sys.argv[1], 9099)); s.listen(4)
s.settimeout(1)
end = time.time() + 30
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    while c.recv(65536):
        pass
    c.close()
PY
# (ip execs setpriv, which execs python: $! is the server itself)
ip netns exec "$NS" setpriv --reuid 4242 --regid 4242 --clear-groups \
    /usr/bin/python3 "$WORK/server.py" "$N" </dev/null >/dev/null 2>&1 &
SERVER=$!
fk_netns_on_exit "kill $SERVER"

# run_export NAME ARGS...: flowkit-export on the ns side for 6 s in the
# background; EXP is its pid (the ip netns exec process execs it).
run_export() {
    local name=$1
    shift
    ip netns exec "$NS" "$EXPORT" -i veth0 --stdout --duration 6 --set workers=2 "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err" &
    EXP=$!
    fk_netns_on_exit "kill $EXP"
    sleep 2.5 # activate, the drop, one round of the watcher
}

echo "--- --user nobody, attribution on"
run_export user --user nobody
/usr/bin/python3 - "$N" <<'PY' &
import socket, sys, time
c = socket.create_connection(("10.213.%s.2" % sys.argv[1], 9099))
for _ in range(20):
    c.sendall(b"x" * 1000); time.sleep(0.1)
c.close()
PY
CLIENT=$!
kill -0 $EXP 2>/dev/null || fail "flowkit-export died: $(cat "$WORK/user.err")"
check_tasks $EXP "$NOBODY" $ATTR $ATTR
wait $CLIENT
wait $EXP || fail "flowkit-export --user nobody exit $?: $(cat "$WORK/user.err")"
grep -q '"dst_port":9099' "$WORK/user.out" || fail "no record of the connection: $(head -3 "$WORK/user.out")"
grep '"dst_port":9099' "$WORK/user.out" | grep -q '"pid":' ||
    fail "the server's connection (uid 4242) was not attributed after the drop: $(grep 9099 "$WORK/user.out" | head -2)"

echo "--- --user nobody, attribution off: no capability at all"
run_export off --user nobody --set attribution=off
check_tasks $EXP "$NOBODY" 0 0
wait $EXP || fail "flowkit-export (attribution off) exit $?: $(cat "$WORK/off.err")"

echo "--- unknown user"
"$EXPORT" -r /dev/null --stdout --user fk-no-such-user-$$ >/dev/null 2>"$WORK/bad.err"
rc=$?
[ $rc = 2 ] || fail "unknown --user: exit $rc, expected 2"
grep -q 'no such user' "$WORK/bad.err" || fail "unknown --user: $(cat "$WORK/bad.err")"

echo "--- flowkit-collect --user nobody: no capability"
ip netns exec "$NS" "$COLLECT" -l udp://127.0.0.1:29055 -o jsonl:/dev/null --workers 2 \
    --duration 4 --user nobody >/dev/null 2>"$WORK/collect.err" &
COL=$!
fk_netns_on_exit "kill $COL"
sleep 2
check_tasks $COL "$NOBODY" 0 0
wait $COL || fail "flowkit-collect exit $?: $(cat "$WORK/collect.err")"
echo "ok"
