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

# A peer that keeps its connection: the server reads UP bytes, answers
# DOWN bytes, then waits for the client's close; the client sends UP,
# reads DOWN, prints "PID LPORT" and holds the connection until STOP exists.
cat >"$WORK/peer.py" <<'EOF'
import os, socket, sys, time

def fam(a):
    return socket.AF_INET6 if ":" in a else socket.AF_INET

def recv_exactly(s, n):
    got = 0
    while got < n:
        d = s.recv(min(65536, n - got))
        if not d:
            raise SystemExit("peer closed after %d of %d bytes" % (got, n))
        got += len(d)

mode = sys.argv[1]
if mode == "server":
    addr, port, up, down = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4)
    print("ready", flush=True)
    c, _ = s.accept()
    recv_exactly(c, up)
    c.sendall(b"d" * down)
    while c.recv(65536):
        pass
else:
    src, dst, port, up, down, stop = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
    s = socket.socket(fam(dst), socket.SOCK_STREAM)
    s.bind((src, 0))
    s.connect((dst, port))
    s.sendall(b"u" * up)
    recv_exactly(s, down)
    print(os.getpid(), s.getsockname()[1], flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(stop) and time.monotonic() < deadline:
        time.sleep(0.05)
    s.close()
EOF

# server NAME ADDR PORT UP DOWN (in the netns), waits for "ready"
server() {
    local out="$WORK/srv.$1"
    ip netns exec "$NS" $PY "$WORK/peer.py" server "$2" "$3" "$4" "$5" >"$out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do
        grep -q ready "$out" && return 0
        sleep 0.1
    done
    echo "server $1 did not start: $(cat "$out")" >&2
    exit 1
}
UP4=1500000 DOWN4=400000 UP6=300000 DOWN6=900000
server v4 "$N4" 5021 $UP4 $DOWN4
server v6 "$N6" 5022 $UP6 $DOWN6

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

STOP="$WORK/stop"
# client NAME SRC DST PORT UP DOWN: holds its connection in the background;
# sets CPID and CPORT once the payloads have moved.
client() {
    local out="$WORK/cli.$1"
    : >"$out"
    $PY "$WORK/peer.py" client "$2" "$3" "$4" "$5" "$6" "$STOP" >"$out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 200); do
        [ -s "$out" ] && break
        sleep 0.05
    done
    read -r CPID CPORT <"$out"
    [ -n "${CPORT:-}" ] && [ "$CPID" -gt 0 ] 2>/dev/null || { echo "client $1 failed: $(cat "$out")"; exit 1; }
}
client v4 "$H4" "$N4" 5021 $UP4 $DOWN4
PID4=$CPID PORT4=$CPORT
client v6 "$H6" "$N6" 5022 $UP6 $DOWN6
PID6=$CPID PORT6=$CPORT
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
touch "$STOP"

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
    check(row["uid"] == 0 and "peer.py client" in row["cmdline"]
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
