#!/bin/bash
# Soak of flowkit-collect (issue 15): 200 UDP exporters with template churn
# and malformed datagrams mixed in, JSON lines output on a small tmpfs that
# fills up and is freed again, collector restarts. Bounded: MINUTES (default
# 10, at most 60) of traffic at about 400 datagrams (3,800 records) a second. Not part of CI
# (no ctest); run it by hand, as root (tmpfs):
#   bench/soak.sh [MINUTES]        BUILD_DIR (default build/release);
#   SOAK_FREE_SECS (default 45): the disk is freed this often;
#   SOAK_RESTART_SECS (default 150): the collector restarts this often.
# Prints one line per collector instance and a summary:
#   - RSS flat: the largest RSS in the last third of each instance's life is
#     at most 1.2 x (+ 4 MiB) the largest in its first third;
#   - every record accounted: records decoded = lines in the files +
#     sink_errors (records lost on the full disk), summed over instances;
#     records sent = records decoded when no datagram was dropped by the
#     kernel (socket_drops = 0), else the difference is at most 10 records
#     per dropped datagram.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
B="$BUILD_DIR/cli/flowkit-collect/flowkit-collect"
PY=/usr/bin/python3
MINUTES=${1:-10}
case "$MINUTES" in '' | *[!0-9]*) echo "usage: $0 [MINUTES 1..60]"; exit 2 ;; esac
[ "$MINUTES" -ge 1 ] && [ "$MINUTES" -le 60 ] || { echo "MINUTES must be 1..60"; exit 2; }
if [ "$(id -u)" != 0 ]; then
    echo "soak: needs root (a tmpfs for the disk-full phases); skipped"
    exit 77
fi
if [ ! -x "$B" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
        cmake --build "$BUILD_DIR" -j2 --target flowkit-collect >/dev/null || exit 1
fi
SECS=$((MINUTES * 60))
W=$(mktemp -d /tmp/flowkit-soak.XXXXXX)
PID=
GEN=
cleanup() {
    [ -n "$GEN" ] && kill "$GEN" 2>/dev/null
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    mountpoint -q "$W/disk" && umount "$W/disk"
    rm -rf "$W"
}
trap cleanup EXIT
mkdir "$W/disk"
mount -t tmpfs -o size=16m tmpfs "$W/disk" || { echo "soak: cannot mount a tmpfs"; exit 1; }
PORT=$((20000 + $$ % 20000))
OUT="$W/disk/flows.jsonl"

instance=0
start_collector() {
    instance=$((instance + 1))
    "$B" -l "udp://127.0.0.1:$PORT" -o "jsonl:$OUT" --stats 5 \
        --template-timeout 60 >/dev/null 2>"$W/err.$instance" &
    PID=$!
    for _ in $(seq 100); do
        grep -qs 'listening on' "$W/err.$instance" && return 0
        sleep 0.05
    done
    echo "soak: collector did not start: $(tail -2 "$W/err.$instance")"
    exit 1
}
rss_sample() { echo "$(awk '/^VmRSS/ { print $2 }' "/proc/$PID/status" 2>/dev/null)" >>"$W/rss.$instance"; }
stop_collector() {
    kill -TERM "$PID"
    wait "$PID"
    PID=
}

# Generator: 200 exporters, each datagram = its template set + a data set of
# 10 records; every 20 s an exporter switches to a new template id and
# layout (churn); 1 datagram in 20 is malformed. Sends nothing while
# $W/pause exists. Writes "datagrams records malformed" at the end.
"$PY" - "$PORT" "$SECS" "$W/pause" "$W/gen" <<'PYEOF' &
import os, random, socket, struct, sys, time
port, secs, pause, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
random.seed(15)
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(200)]
LAYOUTS = [  # (element id, length) after src, dst, octets
    [(7, 2), (11, 2), (4, 1)],
    [(7, 2), (11, 2), (4, 1), (2, 8)],
    [(4, 1), (6, 1), (2, 8)],
]
def dgram(exp, rnd, seq):
    tid = 256 + rnd % 1000
    lay = [(8, 4), (12, 4), (1, 8)] + LAYOUTS[rnd % len(LAYOUTS)]
    t = struct.pack("!HH", tid, len(lay)) + b"".join(struct.pack("!HH", i, l) for i, l in lay)
    tset = struct.pack("!HH", 2, 4 + len(t)) + t
    recs = b""
    for k in range(10):
        r = b""
        for i, l in lay:
            v = (exp << 16 | k) if i == 8 else (rnd * 10 + k) if i == 1 else k
            r += v.to_bytes(l, "big") if l != 4 or i != 12 else bytes([10, 9, exp & 255, k])
        recs += r
    dset = struct.pack("!HH", tid, 4 + len(recs)) + recs
    body = tset + dset
    return struct.pack("!HHIII", 10, 16 + len(body), int(time.time()), seq, 1) + body
sent = recs = bad = 0
seqs = [0] * 200
end = time.monotonic() + secs
while time.monotonic() < end:
    if os.path.exists(pause):
        time.sleep(0.05)
        continue
    t0 = time.monotonic()
    for e in range(200):
        rnd = int((time.monotonic() + e) // 20)
        if random.random() < 0.05:
            d = struct.pack("!HH", 10, 16 + random.randint(1, 900)) + os.urandom(random.randint(0, 200))
            bad += 1
        else:
            d = dgram(e, rnd, seqs[e])
            seqs[e] += 10
            recs += 10
        socks[e].sendto(d, ("127.0.0.1", port))
        sent += 1
    time.sleep(max(0, 0.5 - (time.monotonic() - t0)))  # ~400 datagrams/s
open(out, "w").write("%d %d %d\n" % (sent, recs, bad))
PYEOF
GEN=$!

start_collector
files=0
rotated=0
t0=$(date +%s)
FREE_SECS=${SOAK_FREE_SECS:-45}
RESTART_SECS=${SOAK_RESTART_SECS:-150}
next_free=$((t0 + FREE_SECS))
next_restart=$((t0 + RESTART_SECS))
while kill -0 "$GEN" 2>/dev/null; do
    sleep 5
    rss_sample
    now=$(date +%s)
    if [ "$now" -ge "$next_free" ]; then
        # Free the disk: move the file aside, reopen (SIGHUP), count, delete.
        rotated=$((rotated + 1))
        mv "$OUT" "$OUT.$rotated"
        kill -HUP "$PID"
        sleep 1
        files=$((files + $(wc -l <"$OUT.$rotated")))
        rm -f "$OUT.$rotated"
        next_free=$((now + FREE_SECS))
    fi
    if [ "$now" -ge "$next_restart" ]; then
        touch "$W/pause"
        sleep 0.5
        stop_collector
        start_collector
        rm -f "$W/pause"
        next_restart=$((now + RESTART_SECS))
    fi
done
wait "$GEN"
GEN=
sleep 1
stop_collector
[ -f "$OUT" ] && files=$((files + $(wc -l <"$OUT")))

"$PY" - "$W" "$instance" "$files" <<'PYEOF'
import re, sys
w, n, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sent, recs, bad = map(int, open(w + "/gen").read().split())
tot = {"records": 0, "sink_errors": 0, "socket_drops": 0, "malformed": 0, "datagrams": 0}
ok = True
for i in range(1, n + 1):
    err = open("%s/err.%d" % (w, i)).read()
    last = [l for l in err.splitlines() if " stats " in l][-1]
    st = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", last)}
    for k in tot:
        tot[k] += st[k]
    try:
        rss = [int(x) for x in open("%s/rss.%d" % (w, i)).read().split()]
    except FileNotFoundError:
        rss = []  # stopped before its first sample
    third = max(1, len(rss) // 3)
    first, lastp = max(rss[:third] or [0]), max(rss[-third:] or [0])
    flat = len(rss) < 3 or lastp <= first * 1.2 + 4096
    ok &= flat
    print("soak instance %d: records=%d sink_errors=%d socket_drops=%d rss_kb first_third_max=%d "
          "last_third_max=%d flat=%s" % (i, st["records"], st["sink_errors"], st["socket_drops"],
                                          first, lastp, "yes" if flat else "NO"))
files_ok = files + tot["sink_errors"] == tot["records"]
if tot["socket_drops"] == 0:
    sent_ok = recs == tot["records"]
else:
    sent_ok = 0 <= recs - tot["records"] <= 10 * tot["socket_drops"]
ok &= files_ok and sent_ok
print("soak total: datagrams sent=%d (malformed %d) received=%d; records sent=%d decoded=%d "
      "in_files=%d lost_on_full_disk=%d socket_drops=%d; files+lost=decoded: %s; sent=decoded: %s"
      % (sent, bad, tot["datagrams"], recs, tot["records"], files, tot["sink_errors"],
         tot["socket_drops"], files_ok, sent_ok))
print("soak verdict:", "ok" if ok else "FAIL")
sys.exit(0 if ok else 1)
PYEOF
