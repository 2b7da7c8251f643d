#!/bin/bash
# #21's loopback bug: flowkit-top -a ("any", Linux cooked v2) and a local
# TCP connection whose client and server are two processes. libpcap shows
# each loopback packet once, marked incoming; each end must still be
# accounted: the client's sent bytes are exactly the IP-layer bytes it sent
# (a tcpdump on lo, started first, is the ground truth), the server's
# received bytes the same, and the other way round. Naming lo must agree.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/integration/proc_lib.bash"
need_root proc_rank_loopback
TOP="$FLOWKIT_BUILD_DIR/cli/flowkit-top/flowkit-top"
[ -x "$TOP" ] || { echo "missing $TOP" >&2; exit 1; }
command -v tcpdump >/dev/null || { echo "!!! SKIP: tcpdump not installed" >&2; exit 77; }

# truth PCAP PORT: "C2S S2C" IP-layer bytes of the server port's traffic
# (Ethernet frames on lo: the IP total length, or payload length + 40).
truth() {
    $PY - "$1" "$2" <<'PYEOF'
import struct, sys
path, port = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" or data[:4] == b"\x4d\x3c\xb2\xa1" else ">"
off, c2s, s2c = 24, 0, 0
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
    f = data[off + 16:off + 16 + incl]
    off += 16 + incl
    et = struct.unpack("!H", f[12:14])[0]
    ip = f[14:]
    if et == 0x0800:
        n, ihl, l4 = struct.unpack("!H", ip[2:4])[0], (ip[0] & 15) * 4, ip[9]
    elif et == 0x86DD:
        n, ihl, l4 = struct.unpack("!H", ip[4:6])[0] + 40, 40, ip[6]
    else:
        continue
    if l4 != 6:
        continue
    sp, dp = struct.unpack("!HH", ip[ihl:ihl + 4])
    if dp == port:
        c2s += n
    elif sp == port:
        s2c += n
print(c2s, s2c)
PYEOF
}

FAIL=0
# one_run LABEL ADDR DEVICE-ARGS...: server and client on ADDR (127.0.0.1 or
# ::1), flowkit-top and tcpdump on the port, then compare per pid.
one_run() {
    local label=$1 addr=$2
    shift 2
    local port out="$WORK/rank.$label.json" pcap="$WORK/lo.$label.pcap"
    port=$(free_port tcp)
    start_server host tcp "$addr" "$port"
    local spid=${PIDS[-1]}
    tcpdump -i lo -U -s 128 -w "$pcap" "tcp port $port" 2>"$WORK/tcpdump.$label.err" &
    local dump=$!
    PIDS+=($dump)
    "$TOP" --json -d 0.5 --rank-history 30 --connections -f "tcp port $port" "$@" >"$out" \
        2>"$WORK/top.$label.err" &
    local top=$!
    PIDS+=($top)
    local i
    for i in $(seq 100); do
        [ -s "$out" ] && grep -q listening "$WORK/tcpdump.$label.err" && break
        sleep 0.1
    done
    [ -s "$out" ] || { echo "flowkit-top ($label) did not start: $(cat "$WORK/top.$label.err")"; exit 1; }
    local cpid
    timeout 30 $PY "$PEERS" move tcp "$addr" "$addr" "$port" 30000 70000 3 >"$WORK/move.$label" ||
        { echo "the client failed"; exit 1; }
    cpid=$(head -1 "$WORK/move.$label" | cut -d' ' -f1)
    [ -n "$cpid" ] || { echo "the client failed"; exit 1; }
    # Both ends in the rank (a loaded machine may lag), then one more refresh.
    for i in $(seq 60); do
        grep '^{' "$out" | tail -1 | $PY -c '
import json, sys
pids = {r["pid"] for r in json.load(sys.stdin)["processes"]}
sys.exit(0 if all(int(p) in pids for p in sys.argv[1:]) else 1)' "$cpid" "$spid" && break
        sleep 0.25
    done
    sleep 1.2
    kill -TERM "$top"
    wait "$top" || { echo "flowkit-top ($label) failed: $(cat "$WORK/top.$label.err")"; exit 1; }
    kill -TERM "$dump"
    wait "$dump" 2>/dev/null
    local c2s s2c
    read -r c2s s2c < <(truth "$pcap" "$port")
    grep '^{' "$out" | tail -1 | $PY -c '
import json, sys
label, c, s, c2s, s2c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows = {r["pid"]: r for r in json.load(sys.stdin)["processes"]}
bad = 0
for pid, who, sent, recv in ((c, "client", c2s, s2c), (s, "server", s2c, c2s)):
    r = rows.get(pid)
    got = (r["sent_bytes"], r["recv_bytes"]) if r else None
    ok = got == (sent, recv)
    bad += not ok
    print("%s %s: %s pid %d wants sent %d received %d (tcpdump), got %s" % ("ok  " if ok else "FAIL", label, who, pid, sent, recv, got))
    if not r:
        continue
    # --rank-history 30: the traffic is all inside the last 30 complete
    # seconds, so the bytes of each second add up to the totals.
    h = r.get("history") or {}
    hist = (sum(h.get("sent", [])), sum(h.get("recv", [])), len(h.get("sent", [])))
    if hist != (sent, recv, 30):
        print("FAIL %s: %s history sums (sent, recv, seconds) %s, want %s" % (label, who, hist, (sent, recv, 30)))
        bad += 1
    # --connections: every connection ended with FINs both ways.
    states = sorted({c.get("state") for c in r.get("conns", [])})
    if states != ["closed"]:
        print("FAIL %s: %s connection states %s, want only closed" % (label, who, states))
        bad += 1
if bad:
    for r in rows.values():
        print("     row pid %d %s bytes %d/%d" % (r["pid"], r["name"], r["sent_bytes"], r["recv_bytes"]))
sys.exit(1 if bad else 0)
' "$label" "$cpid" "$spid" "$c2s" "$s2c" || FAIL=1
}

one_run any4 127.0.0.1 -a
one_run any6 ::1 -a
one_run named4 127.0.0.1 lo
exit $FAIL
