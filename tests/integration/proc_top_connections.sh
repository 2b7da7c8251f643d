#!/bin/bash
# flowkit-top --connections: two known processes each hold one TCP
# connection across a veth pair (one over IPv4, one over IPv6) after moving
# known payloads both ways. `flowkit-top --json --connections` must list
# each exact tuple (local/remote address and port) under the right pid,
# with sent/received bytes within 1 % of an independent tcpdump on the same
# veth (IP-layer bytes), plus the row keys uid/cmdline/EWMAs; and
# `flowkit-top -t -v --connections` must print each tuple's line under its
# process with the same bytes.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/integration/proc_lib.bash"
need_root proc_top_connections
TOP="$FLOWKIT_BUILD_DIR/cli/flowkit-top/flowkit-top"
[ -x "$TOP" ] || { echo "missing $TOP" >&2; exit 1; }
command -v tcpdump >/dev/null || { echo "!!! SKIP: tcpdump is needed for the ground truth" >&2; exit 77; }
make_netns

UP4=1500000 DOWN4=400000 UP6=300000 DOWN6=900000
start_server ns tcp "$N4" 5021
start_server ns tcp "$N6" 5022

tcpdump -i "$VH" -s 160 -U -n -w "$WORK/truth.pcap" tcp 2>"$WORK/tcpdump.err" &
TD=$!
PIDS+=($TD)
"$TOP" --json --connections -d 0.5 "$VH" >"$WORK/rank.json" 2>"$WORK/top.err" &
TOPJ=$!
PIDS+=($TOPJ)
"$TOP" -t -v --connections -d 0.5 "$VH" >"$WORK/trace.txt" 2>"$WORK/trace.err" &
TOPT=$!
PIDS+=($TOPT)
for _ in $(seq 100); do
    [ -s "$WORK/rank.json" ] && grep -q Refreshing "$WORK/trace.txt" &&
        grep -q listening "$WORK/tcpdump.err" && break
    sleep 0.1
done
[ -s "$WORK/rank.json" ] || { echo "flowkit-top --json did not start: $(cat "$WORK/top.err")"; exit 1; }
grep -q Refreshing "$WORK/trace.txt" || { echo "flowkit-top -t did not start: $(cat "$WORK/trace.err")"; exit 1; }

# Clients that move known payloads, then keep their sockets (proc_lib hold).
hold host tcp "$H4" "$N4" 5021 $UP4 $DOWN4
PID4=$HPID PORT4=$HPORT
hold host tcp "$H6" "$N6" 5022 $UP6 $DOWN6
PID6=$HPID PORT6=$HPORT
[ "$PORT4" -gt 0 ] && [ "$PORT6" -gt 0 ] || { echo "a client failed: $(cat "$WORK"/hold.*)"; exit 1; }
echo "clients: pid $PID4 port $PORT4 (IPv4), pid $PID6 port $PORT6 (IPv6)"
sleep 1.5 # a few refreshes while the connections are held
fail=0
for p in $TOPJ $TOPT; do
    kill -TERM "$p"
    wait "$p" || { echo "flowkit-top (pid $p) failed: $(cat "$WORK/top.err" "$WORK/trace.err")"; fail=1; }
done
sleep 0.2
kill -INT "$TD"
wait "$TD"

$PY - "$WORK/truth.pcap" "$WORK/rank.json" "$WORK/trace.txt" \
    "$PID4" "$H4" "$PORT4" "$N4" 5021 "$PID6" "$H6" "$PORT6" "$N6" 5022 <<'EOF' || fail=1
import ipaddress, json, sys
sys.path.insert(0, __import__("os").environ["FLOWKIT_SOURCE_DIR"] + "/tests/integration")
from proc_truth import packets

pcap, rank, trace = sys.argv[1:4]
a = sys.argv[4:]
conns = [(int(a[i]), a[i + 1], int(a[i + 2]), a[i + 3], int(a[i + 4])) for i in (0, 5)]
last = [l for l in open(rank) if l.startswith("{")][-1]
rows = {r["pid"]: r for r in json.loads(last)["processes"]}
lines = open(trace).read().split("\nRefreshing:\n")[-1].splitlines()
bad = 0

def check(ok, what):
    global bad
    print(("ok   " if ok else "FAIL ") + what)
    bad += not ok

def close(got, truth):
    return truth > 0 and abs(got - truth) <= truth / 100

for pid, local, lport, remote, rport in conns:
    lp, rp = ipaddress.ip_address(local).packed, ipaddress.ip_address(remote).packed
    sent = recv = 0
    for proto, src, sport, dst, dport, total, _ in packets(pcap):
        if proto != 6:
            continue
        if (src, sport, dst, dport) == (lp, lport, rp, rport):
            sent += total
        elif (src, sport, dst, dport) == (rp, rport, lp, lport):
            recv += total
    tup = "%s:%d -> %s:%d" % (local, lport, remote, rport)
    print("truth %s pid %d: sent %d received %d IP bytes" % (tup, pid, sent, recv))
    row = rows.get(pid)
    check(row is not None, "pid %d has a row" % pid)
    if row is None:
        continue
    check(row["uid"] == 0 and "proc_peers.py hold" in row["cmdline"]
          and isinstance(row["sent_ewma"], float) and isinstance(row["recv_ewma"], float),
          "pid %d: uid %r, cmdline %r, ewma %r/%r" % (pid, row["uid"], row["cmdline"][-60:],
                                                      row["sent_ewma"], row["recv_ewma"]))
    mine = [c for c in row.get("conns", []) if (c["proto"], c["local"], c["local_port"],
            c["remote"], c["remote_port"]) == ("tcp", local, lport, remote, rport)]
    check(len(mine) == 1 and row["connections"] >= 1,
          "pid %d lists %s in conns (%d conns of %d)" % (pid, tup, len(row.get("conns", [])),
                                                           row["connections"]))
    if mine:
        c = mine[0]
        check(close(c["sent_bytes"], sent) and close(c["recv_bytes"], recv),
              "%s bytes: sent %d (truth %d) received %d (truth %d)"
              % (tup, c["sent_bytes"], sent, c["recv_bytes"], recv))
        check(c["first"] <= c["last"] and c["last"].endswith("Z") and c["dev"] != "",
              "%s first %s last %s dev %r" % (tup, c["first"], c["last"], c["dev"]))
    # Trace: the tuple's line right under its process (after the process
    # line, before the next one).
    shown = "[%s]" % local if ":" in local else local
    shown_r = "[%s]" % remote if ":" in remote else remote
    want = "  tcp %s:%d -> %s:%d\t" % (shown, lport, shown_r, rport)
    owner = None
    hit = None
    for ln in lines:
        if not ln.startswith("  "):
            owner = ln
        elif ln.startswith(want):
            hit = (owner, ln)
    check(hit is not None and hit[0].split("\t")[0].endswith("/%d/0" % pid),
          "trace line %r under %r" % (hit and hit[1], hit and hit[0]))
    if hit:
        ts, tr = map(int, hit[1].split("\t")[1:3])
        check(close(ts, sent) and close(tr, recv),
              "trace bytes: sent %d (truth %d) received %d (truth %d)" % (ts, sent, tr, recv))
sys.exit(1 if bad else 0)
EOF
[ $fail -eq 0 ] || { echo "--- top.err"; cat "$WORK/top.err" "$WORK/trace.err"; }
exit $fail
