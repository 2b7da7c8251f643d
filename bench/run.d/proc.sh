#!/bin/bash
# flowkit-top -t against nethogs -t on the same veth in the same run: CPU
# seconds each used, and the share of bytes (long flows) and of short
# connections (250 TCP connections of ~100 ms, 25 at a time) each attributed
# to the right process, over IPv4 and over IPv6 (one process per kind and
# family; "all" lines sum both families). Needs root (netns + veth); traffic stays inside the
# pair. Ground truth: the peers' own pids and ports + tcpdump on the veth.
set -u
[ "$(id -u)" -eq 0 ] || { echo "proc  SKIPPED (needs root)"; exit 0; }
command -v nethogs >/dev/null || { echo "proc  SKIPPED (nethogs not installed)"; exit 0; }
FLOWKIT_SOURCE_DIR=$ROOT FLOWKIT_BUILD_DIR=$BUILD_DIR
export FLOWKIT_SOURCE_DIR FLOWKIT_BUILD_DIR
. "$ROOT/tests/integration/proc_lib.bash"
TOP="$BUILD_DIR/cli/flowkit-top/flowkit-top"
make_netns
start_server ns tcp "$N4" 5001
start_server ns tcp "$N4" 5002
start_server ns tcp "$N6" 5003
start_server ns tcp "$N6" 5004

# --nice 0: the same priority as nethogs (flowkit-top raises its own by default).
"$TOP" -t -v -d 1 --nice 0 "$VH" >"$WORK/fk.out" 2>/dev/null &
FK=$!
PIDS+=($FK)
nethogs -t -v 2 -d 1 "$VH" >"$WORK/nh.out" 2>/dev/null &
NH=$!
PIDS+=($NH)
tcpdump -i "$VH" -s 160 -U -n -w "$WORK/truth.pcap" tcp 2>/dev/null &
TD=$!
PIDS+=($TD)
sleep 2

# Long flows: 4 connections of 2 MB up, 1 MB down; then the short burst.
$PY "$PEERS" move tcp "$H4" "$N4" 5001 2000000 1000000 4 100 >"$WORK/long"
$PY "$PEERS" move tcp "$H4" "$N4" 5002 2000 2000 250 100 25 >"$WORK/short"
$PY "$PEERS" move tcp "$H6" "$N6" 5003 2000000 1000000 4 100 >"$WORK/long6"
$PY "$PEERS" move tcp "$H6" "$N6" 5004 2000 2000 250 100 25 >"$WORK/short6"
sleep 2.5
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
FK_CPU=$(cpu $FK)
NH_CPU=$(cpu $NH)
kill -INT $FK $NH $TD
wait $FK $NH $TD 2>/dev/null

$PY - "$WORK" "$FK_CPU" "$NH_CPU" "$H4" "$H6" "$ROOT/tests/integration" <<'PY'
import ipaddress, sys
work = sys.argv[1]
fk_cpu, nh_cpu = float(sys.argv[2]), float(sys.argv[3])
h4, h6 = (ipaddress.ip_address(a).packed for a in sys.argv[4:6])
sys.path.insert(0, sys.argv[6])
from proc_truth import bytes_by_owner, trace_totals

owner, pids = {}, {}  # (host address, port) -> pid; (kind, family) -> pid
for name, host, kind, fam in (("long", h4, "long_flow", "v4"), ("short", h4, "short_conn", "v4"),
                              ("long6", h6, "long_flow", "v6"), ("short6", h6, "short_conn", "v6")):
    for line in open(work + "/" + name):
        pid, port = line.split()
        owner[(host, int(port))] = pid
        pids[(kind, fam)] = pid
ip_bytes, l2_bytes = bytes_by_owner(work + "/truth.pcap", owner, (h4, h6))

def ratio(a, b):
    return "%.2f" % (a / b) if b else "inf"

fk, nh = trace_totals(work + "/fk.out"), trace_totals(work + "/nh.out")
# flowkit counts IP-layer bytes, nethogs whole frames: each against its own truth.
# What the tool shows for the processes against their truth (over 100 %:
# it counted more than went through the device).
def pct(rows, want, truth):
    got = sum(rows.get(p, 0) for p in want)
    total = sum(truth.get(p, 0) for p in want)
    return 100.0 * got / total if total else 0.0
print("proc_cpu_seconds  flowkit=%.2f s  peer=%.2f s  ratio=%s" % (fk_cpu, nh_cpu, ratio(fk_cpu, nh_cpu)))
for kind in ("long_flow", "short_conn"):
    for fam in ("v4", "v6", "all"):
        want = [pids[(kind, f)] for f in (("v4", "v6") if fam == "all" else (fam,))]
        f, n = pct(fk, want, ip_bytes), pct(nh, want, l2_bytes)
        print("proc_%s_%s_bytes_to_owner  flowkit=%.1f %%  peer=%.1f %%  ratio=%s" % (kind, fam, f, n, ratio(f, n)))
PY
