#!/bin/bash
# flowkit-collect writing JSON lines and CSV onto a small tmpfs that fills
# up and is freed again (issue 15, item 2):
#   - each file ends at a record boundary and every line in it is whole
#     (a failed write never leaves half a line for the next one to glue on);
#   - records in the files + sink_errors (records lost) = records decoded,
#     for both outputs together;
#   - the failures are in the log, rate-limited, with the records lost;
#   - once the disk has room again, every later record is in both files.
set -uo pipefail
BUILD=${FLOWKIT_BUILD_DIR:?}
B="$BUILD/cli/flowkit-collect/flowkit-collect"
PY=/usr/bin/python3
[ -x "$B" ] || { echo "SKIP: $B not built"; exit 77; }
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: collect_disk_full needs root to mount a tmpfs"
    exit 77
fi
W=$(mktemp -d /tmp/flowkit-diskfull.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    mountpoint -q "$W/disk" && umount "$W/disk"
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -5 "$W/err"; exit 1; }

mkdir "$W/disk"
mount -t tmpfs -o size=1m tmpfs "$W/disk" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
# Leave about 96 KiB for the outputs; the filler is freed later.
dd if=/dev/zero of="$W/disk/filler" bs=1k count=$((1024 - 96)) status=none 2>/dev/null

"$B" -l udp://127.0.0.1:0 -o "jsonl:$W/disk/out.jsonl" -o "csv:$W/disk/out.csv" \
    --stats 1 >"$W/out" 2>"$W/err" &
PID=$!
for _ in $(seq 100); do
    PORT=$(grep -o 'listening on udp://127.0.0.1:[0-9]*' "$W/err" | sed 's/.*://')
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || fail "no listening line"

# send FIRST COUNT: COUNT NetFlow v5 datagrams of 30 records, record k
# (from FIRST*30) with source port k % 65536 and destination port k / 65536.
send() {
    "$PY" - "$PORT" "$1" "$2" <<'PYEOF'
import socket, struct, sys, time
port, first, count = map(int, sys.argv[1:4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for d in range(first, first + count):
    hdr = struct.pack("!HHIIIIBBH", 5, 30, 100000, 1795435200, 0, d * 30, 0, 0, 0)
    recs = b""
    for k in range(d * 30, d * 30 + 30):
        recs += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]),
                            bytes(4), 0, 0, 1, 100, 99000, 99000, k % 65536, k // 65536, 0, 0, 17,
                            0, 0, 0, 0, 0, 0)
    s.sendto(hdr + recs, ("127.0.0.1", port))
    if d % 20 == 0:
        time.sleep(0.01)
PYEOF
}
# wait_records N: until the stats line says records=N (and one more line,
# so that the writer's failures of those records are counted).
wait_records() {
    for _ in $(seq 200); do
        if grep -q " records=$1 " "$W/err"; then
            n=$(grep -c ' stats ' "$W/err")
            for _ in $(seq 40); do
                [ "$(grep -c ' stats ' "$W/err")" -gt $((n + 1)) ] && return 0
                sleep 0.1
            done
        fi
        sleep 0.1
    done
    fail "records=$1 never reported"
}

# 1. 200 datagrams = 6,000 records, far more than the disk holds.
send 0 200
wait_records 6000
grep -q 'records lost' "$W/err" || fail "no failure in the log"
# 2. Room again; 20 more datagrams (600 records) all fit.
rm -f "$W/disk/filler"
send 200 20
wait_records 6600
kill -TERM "$PID"
wait "$PID" || fail "exit status $?"
PID=

"$PY" - "$W" <<'PYEOF' || fail "accounting"
import csv, json, re, sys
w = sys.argv[1]
err = open(w + "/err").read()
stats = re.findall(r" stats .* records=(\d+) .* sink_errors=(\d+) ", err)[-1]
records, lost = int(stats[0]), int(stats[1])
bad = 0
def key(sport, dport):
    return int(dport) * 65536 + int(sport)
raw = open(w + "/disk/out.jsonl", "rb").read()
if raw and not raw.endswith(b"\n"):
    print("jsonl does not end at a record boundary"); bad += 1
jl = []
for n, line in enumerate(raw.split(b"\n")[:-1]):
    try:
        o = json.loads(line)
        jl.append(key(o["src_port"], o["dst_port"]))
    except Exception as e:
        print("jsonl line %d is not whole: %r (%s)" % (n + 1, line[:80], e)); bad += 1
raw = open(w + "/disk/out.csv", "rb").read()
if raw and not raw.endswith(b"\n"):
    print("csv does not end at a record boundary"); bad += 1
rows = list(csv.reader(raw.decode().splitlines()))
cv = []
for n, r in enumerate(rows):
    if n == 0 and r[0] == "start":
        continue
    if len(r) != 26:  # the last column: tags
        print("csv row %d is not whole: %r" % (n + 1, r[:4])); bad += 1
        continue
    cv.append(key(r[4], r[5]))
logged = sum(int(x) for x in re.findall(r"records lost: (\d+)", err))
print("records %d; jsonl %d + csv %d in the files; sink_errors %d; logged lost %d"
      % (records, len(jl), len(cv), lost, logged))
if records != 6600:
    print("records", records, "want 6600"); bad += 1
if len(jl) + len(cv) + lost != 2 * records:
    print("files + lost != 2 x records"); bad += 1
if logged != lost:
    print("the log names %d lost records, sink_errors %d" % (logged, lost)); bad += 1
if lost == 0 or len(jl) == 0 or len(cv) == 0:
    print("the disk was never full, or nothing was written"); bad += 1
for name, got in (("jsonl", jl), ("csv", cv)):
    if len(set(got)) != len(got):
        print(name, "has duplicates"); bad += 1
    if not set(range(6000, 6600)) <= set(got):
        print(name, "misses records sent after the disk had room"); bad += 1
sys.exit(1 if bad else 0)
PYEOF
echo ok
