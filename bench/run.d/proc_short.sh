#!/bin/bash
# Very short connections (issue #20): flowkit-top with attribution=bpf,
# flowkit-top with attribution=sockdiag and nethogs -t, all three on the
# same veth in the same run. Workload: 4 long TCP flows (2 MB up, 1 MB
# down), then 1000 TCP connections of a millisecond or two (1200 B up,
# 6000 B down) from 50 client processes that exit right after their last
# packet, over IPv4 and again over IPv6. Prints each tool's share of the
# short connections' bytes and of the long flows' bytes put on the right
# pid (against tcpdump on the veth; flowkit counts IP-layer bytes, nethogs
# frames, each against its own truth), and the CPU seconds each used.
# Needs root (netns + veth); traffic stays inside the pair.
set -u
[ "$(id -u)" -eq 0 ] || { echo "proc_short  SKIPPED (needs root)"; exit 0; }
command -v nethogs >/dev/null || { echo "proc_short  SKIPPED (nethogs not installed)"; exit 0; }
FLOWKIT_SOURCE_DIR=$ROOT FLOWKIT_BUILD_DIR=$BUILD_DIR
export FLOWKIT_SOURCE_DIR FLOWKIT_BUILD_DIR
. "$ROOT/tests/integration/proc_lib.bash"
TOP="$BUILD_DIR/cli/flowkit-top/flowkit-top"
BURST="$ROOT/tests/integration/proc_burst.py"
COUNT=${PROC_SHORT_COUNT:-1000}
make_netns
start_server ns tcp "$N4" 5001
start_server ns tcp "$N4" 5002
start_server ns tcp "$N6" 5003
start_server ns tcp "$N6" 5004

# --nice 0: the same priority as nethogs (flowkit-top raises its own by default).
"$TOP" -t -v -d 1 --nice 0 --attribution bpf "$VH" >"$WORK/bpf.out" 2>"$WORK/bpf.err" &
BPF=$!
PIDS+=($BPF)
"$TOP" -t -v -d 1 --nice 0 --attribution sockdiag "$VH" >"$WORK/sd.out" 2>"$WORK/sd.err" &
SD=$!
PIDS+=($SD)
nethogs -t -v 2 -d 1 "$VH" >"$WORK/nh.out" 2>/dev/null &
NH=$!
PIDS+=($NH)
tcpdump -i "$VH" -s 160 -U -n -w "$WORK/truth.pcap" tcp 2>/dev/null &
TD=$!
PIDS+=($TD)
sleep 2
kill -0 $BPF 2>/dev/null || { echo "proc_short  FAILED (flowkit-top --attribution bpf: $(cat "$WORK/bpf.err"))"; exit 1; }

$PY "$PEERS" move tcp "$H4" "$N4" 5001 2000000 1000000 4 100 >"$WORK/long"
$PY "$BURST" burst tcp "$H4" "$N4" 5002 "$COUNT" 50 1200 6000 20000 >"$WORK/short"
$PY "$PEERS" move tcp "$H6" "$N6" 5003 2000000 1000000 4 100 >"$WORK/long6"
$PY "$BURST" burst tcp "$H6" "$N6" 5004 "$COUNT" 50 1200 6000 23000 >"$WORK/short6"
sleep 2.5
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
BPF_CPU=$(cpu $BPF)
SD_CPU=$(cpu $SD)
NH_CPU=$(cpu $NH)
kill -INT $BPF $SD $NH $TD
wait $BPF $SD $NH $TD 2>/dev/null

$PY - "$WORK" "$BPF_CPU" "$SD_CPU" "$NH_CPU" "$H4" "$H6" "$ROOT/tests/integration" <<'PY'
import ipaddress, statistics, sys
work = sys.argv[1]
cpu = {"bpf": float(sys.argv[2]), "sockdiag": float(sys.argv[3]), "nethogs": float(sys.argv[4])}
h4, h6 = (ipaddress.ip_address(a).packed for a in sys.argv[5:7])
sys.path.insert(0, sys.argv[7])
from proc_truth import bytes_by_owner, trace_totals

owner, kind_pids, life = {}, {"long": set(), "short": set()}, []
for name, host, kind in (("long", h4, "long"), ("short", h4, "short"),
                         ("long6", h6, "long"), ("short6", h6, "short")):
    for line in open(work + "/" + name):
        p = line.split()
        owner[(host, int(p[1]))] = p[0]
        kind_pids[kind].add(p[0])
        if len(p) > 2:
            life.append(int(p[2]))
ip_bytes, l2_bytes = bytes_by_owner(work + "/truth.pcap", owner, (h4, h6))

def pct(rows, want, truth):
    # Each pid counts at most its own truth: bytes of others put on it are not "right".
    got = sum(min(rows.get(p, 0), truth.get(p, 0)) for p in want)
    total = sum(truth.get(p, 0) for p in want)
    return 100.0 * got / total if total else 0.0

def ratio(a, b):
    return "%.2f" % (a / b) if b else "inf"

rows = {"bpf": trace_totals(work + "/bpf.out"), "sockdiag": trace_totals(work + "/sd.out"),
        "nethogs": trace_totals(work + "/nh.out")}
truth = {"bpf": ip_bytes, "sockdiag": ip_bytes, "nethogs": l2_bytes}
life.sort()
print("# short connections: %d from %d processes, lifetime median %d us, 90th percentile %d us"
      % (len(life), len(kind_pids["short"]), life[len(life) // 2], life[len(life) * 9 // 10]))
for mode in ("bpf", "sockdiag"):
    print("proc_short_%s_cpu_seconds  flowkit=%.2f s  peer=%.2f s  ratio=%s"
          % (mode, cpu[mode], cpu["nethogs"], ratio(cpu[mode], cpu["nethogs"])))
    for kind in ("short", "long"):
        f = pct(rows[mode], kind_pids[kind], truth[mode])
        n = pct(rows["nethogs"], kind_pids[kind], truth["nethogs"])
        print("proc_short_%s_%s_bytes_to_owner  flowkit=%.2f %%  peer=%.2f %%  ratio=%s"
              % (mode, kind, f, n, ratio(f, n)))
PY
