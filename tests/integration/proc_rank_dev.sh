#!/bin/bash
# flowkit-top's DEV per process: two veth pairs into one netns, one host
# process talking over each. Every row must name the device its traffic
# used (its interface index too), on the "any" device (the cooked v2 header
# carries the interface of each packet) and with the two devices named.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/integration/proc_lib.bash"
need_root proc_rank_dev
TOP="$FLOWKIT_BUILD_DIR/cli/flowkit-top/flowkit-top"
[ -x "$TOP" ] || { echo "missing $TOP" >&2; exit 1; }

# Pair 2 inside pair 1's subnets, more specific: 10.213.OCT.128/25 and
# fd00:213:0:OCT:1::/80 route through it, the rest of the /24 and /64
# through pair 1.
VH2=fkpH$$
VN2=fkpN$$
H4B=10.213.$OCT.129
N4B=10.213.$OCT.130
H6B=fd00:213:0:$OCT:1::1
N6B=fd00:213:0:$OCT:1::2
trap 'ip link del "$VH2" 2>/dev/null; cleanup' EXIT
make_netns
ip link add "$VH2" type veth peer name "$VN2" &&
    ip link set "$VN2" netns "$NS" &&
    ip addr add "$H4B/25" dev "$VH2" &&
    ip -6 addr add "$H6B/80" dev "$VH2" nodad &&
    ip link set "$VH2" up &&
    ip -n "$NS" addr add "$N4B/25" dev "$VN2" &&
    ip -n "$NS" -6 addr add "$N6B/80" dev "$VN2" nodad &&
    ip -n "$NS" link set "$VN2" up || {
    echo "cannot create the second veth pair" >&2
    exit 1
}
sleep 0.2
IF1=$(cat "/sys/class/net/$VH/ifindex")
IF2=$(cat "/sys/class/net/$VH2/ifindex")

start_server ns tcp "$N4" 5201
start_server ns tcp "$N4B" 5202
start_server ns udp "$N6B" 5203
start_server ns tcp "$N6" 5204

# mover ARGS...: a peer "move"; prints its pid.
mover() {
    timeout 30 $PY "$PEERS" move "$@" >"$WORK/mover.out" || return 1
    head -1 "$WORK/mover.out" | cut -d' ' -f1
}

# one_run LABEL DEVICE...: flowkit-top on the devices, three processes move
# data (one per pair, plus UDP over IPv6 on pair 2 and TCP over IPv6 on
# pair 1), then the last rank must show each on its own device.
one_run() {
    local label=$1
    shift
    local out="$WORK/rank.$label.json"
    # Only this test's subnets (other tests may run at the same time).
    FLOWKIT_TOP_DEBUG=1 "$TOP" --json -d 0.5 -f "net 10.213.$OCT.0/24 or net fd00:213:0:$OCT::/64" \
        "$@" >"$out" 2>"$WORK/top.$label.err" &
    local top=$!
    PIDS+=($top)
    for _ in $(seq 100); do
        [ -s "$out" ] && break
        sleep 0.1
    done
    [ -s "$out" ] || { echo "flowkit-top ($label) did not start: $(cat "$WORK/top.$label.err")"; exit 1; }
    local a b c d
    a=$(mover tcp "$H4" "$N4" 5201 200000 50000 3 20)
    b=$(mover tcp "$H4B" "$N4B" 5202 100000 80000 3 20)
    c=$(mover udp "$H6B" "$N6B" 5203 1000 1000 5 50 5)
    d=$(mover tcp "$H6" "$N6" 5204 50000 5000 2 20)
    [ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] && [ -n "$d" ] || { echo "a peer failed"; exit 1; }
    # A loaded machine may lag: wait (bounded) until every mover has a row.
    local i
    for i in $(seq 60); do
        grep '^{' "$out" | tail -1 | $PY -c '
import json, sys
pids = {r["pid"] for r in json.load(sys.stdin)["processes"]}
sys.exit(0 if all(int(p) in pids for p in sys.argv[1:]) else 1)' "$a" "$b" "$c" "$d" && break
        sleep 0.25
    done
    sleep 0.5
    kill -TERM "$top"
    wait "$top" || { echo "flowkit-top ($label) failed: $(cat "$WORK/top.$label.err")"; exit 1; }
    grep '^{' "$out" | tail -1 | $PY -c '
import json, sys
label, want = sys.argv[1], sys.argv[2:]
rows = {r["pid"]: r for r in json.load(sys.stdin)["processes"]}
bad = 0
for w in want:
    pid, dev, ifx = w.split(":")
    r = rows.get(int(pid))
    got = (r["dev"], [(d["name"], d["ifindex"]) for d in r["devs"]]) if r else None
    ok = r is not None and r["dev"] == dev and got[1] == [(dev, int(ifx))]
    bad += not ok
    print("%s %s: pid %s wants DEV %s (ifindex %s), got %s" % ("ok  " if ok else "FAIL", label, pid, dev, ifx, got))
if bad:
    for r in rows.values():
        print("     row pid %d %s dev %r bytes %d/%d conns %d" % (r["pid"], r["name"], r["dev"], r["sent_bytes"], r["recv_bytes"], r["connections"]))
sys.exit(1 if bad else 0)
' "$label" "$a:$VH:$IF1" "$b:$VH2:$IF2" "$c:$VH2:$IF2" "$d:$VH:$IF1" || {
        FAIL=1
        grep -E "attribution:|packets|exact query|udp" "$WORK/top.$label.err" | head -20
    }
}

FAIL=0
one_run any -a
one_run named "$VH" "$VH2"
exit $FAIL
