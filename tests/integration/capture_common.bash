# Shared by tests/integration/capture_*.sh (sourced; not a test itself).
# Builds examples/capture_flows against the build tree, runs it in the
# background, runs tcpdump beside it as the reference, and drives the known
# traffic of capture_traffic.py between a netns and the host.
set -uo pipefail

SRC=${FLOWKIT_SOURCE_DIR:?FLOWKIT_SOURCE_DIR not set}
BUILD=${FLOWKIT_BUILD_DIR:?FLOWKIT_BUILD_DIR not set}
PY=/usr/bin/python3
. "$SRC/scripts/netns.sh"
fk_netns_require_root

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

for tool in tcpdump cc; do
    command -v $tool >/dev/null || {
        echo "SKIP: $tool is not installed" >&2
        exit 77
    }
done
[ -x $PY ] || {
    echo "SKIP: $PY is missing" >&2
    exit 77
}

WORK=$(mktemp -d /tmp/fk_capture_it.XXXXXX)
chmod 755 "$WORK"
fk_netns_on_exit "rm -rf '$WORK'"

LIBDIR=$(dirname "$(find "$BUILD/lib" -maxdepth 1 -name 'libflowkit.so' | head -1)")
[ -f "$LIBDIR/libflowkit.so" ] || fail "libflowkit.so not found under $BUILD/lib"
CAPF=$WORK/capture_flows
# A sanitizer build of the library needs the same compiler and runtime.
CC=cc
SANFLAGS=
if grep -q '^FLOWKIT_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
    SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer"
elif grep -q '^FLOWKIT_TSAN:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
    SANFLAGS="-fsanitize=thread -fno-omit-frame-pointer"
fi
$CC $SANFLAGS -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -I"$SRC/include" \
    -I"$BUILD/include" "$SRC/examples/capture_flows.c" -L"$LIBDIR" -lflowkit \
    -Wl,-rpath,"$LIBDIR" -o "$CAPF" || fail "cannot build examples/capture_flows.c"

# wait_for FILE PATTERN SECONDS
wait_for() {
    local i
    for i in $(seq 1 $(($3 * 10))); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "--- $1:" >&2
    cat "$1" >&2
    return 1
}

# cap_start NAME args...: capture_flows in the background, output in
# $WORK/NAME.jsonl and $WORK/NAME.err; sets CAP_PID. Exports
# FK_END_EARLY_MS for capture_ref.py compare: with backend=ebpf or xdp and
# the default ebpf_clock=coarse a flow's end may be up to one kernel tick
# early (docs/flows.md), else 0.
cap_start() {
    local name=$1 a coarse=0
    shift
    for a in "$@"; do
        case $a in
        backend=ebpf | backend=xdp) coarse=1 ;;
        ebpf_clock=precise) coarse=0 && break ;;
        esac
    done
    FK_END_EARLY_MS=0
    [ $coarse = 1 ] && FK_END_EARLY_MS=$(coarse_tick_ms)
    export FK_END_EARLY_MS
    "$CAPF" "$@" >"$WORK/$name.jsonl" 2>"$WORK/$name.err" &
    CAP_PID=$!
    fk_netns_on_exit "kill -9 $CAP_PID"
    wait_for "$WORK/$name.err" '^ready' 10 || fail "capture_flows did not start"
}

# cap_stop: SIGTERM (clean flush), wait, check the exit code.
cap_stop() {
    kill -TERM "$CAP_PID"
    local rc=0
    wait "$CAP_PID" || rc=$?
    [ $rc -eq 0 ] || fail "capture_flows exited with $rc"
}

# ref_start IFACE FILE [FILTER]: tcpdump writing FILE; sets REF_PID.
# --immediate-mode: each packet is handed over as it comes, not in blocks
# the kernel retires once a second, so none is still in one at ref_stop.
ref_start() {
    local ifc=$1 file=$2
    shift 2
    tcpdump -i "$ifc" -n -U --immediate-mode -w "$file" "$@" 2>"$file.err" &
    REF_PID=$!
    fk_netns_on_exit "kill -9 $REF_PID"
    wait_for "$file.err" 'listening on' 10 || fail "tcpdump did not start"
}

ref_stop() {
    sleep 0.3
    kill -INT "$REF_PID"
    wait "$REF_PID" || true
    grep -q '^0 packets dropped by kernel' "$1.err" || fail "tcpdump dropped packets: $(cat "$1.err")"
}

# traffic NS N: the known traffic (see capture_traffic.py), port 8080;
# TRAFFIC_FRAG=1 adds the fragmented UDP datagrams (port 8082).
TRAFFIC_RUNS=0
traffic() {
    local ns=$1 n=$2
    # A log of its own per run: "listening" of an earlier run must not count.
    TRAFFIC_RUNS=$((TRAFFIC_RUNS + 1))
    local log=$WORK/server-$n-$TRAFFIC_RUNS.log
    $PY "$SRC/tests/integration/capture_traffic.py" server "10.213.$n.1" "fd00:213:$n::1" 8080 4 \
        >"$log" 2>&1 &
    local spid=$!
    fk_netns_on_exit "kill -9 $spid"
    wait_for "$log" listening 10 || fail "traffic server did not start"
    fk_netns_exec "$ns" $PY "$SRC/tests/integration/capture_traffic.py" client "10.213.$n.1" \
        "fd00:213:$n::1" 8080 ${TRAFFIC_FRAG:+frag} || fail "traffic client failed"
    wait $spid || fail "traffic server failed: $(cat "$log")"
}

# capstat OUT KEY: a counter from the final stats line.
capstat() {
    jq -r "select(.type == \"stats\") | .$2" "$1"
}

# count_json OUT JQ-FILTER: number of lines matching.
count_json() {
    jq -c "select($2)" "$1" | wc -l
}

# coarse_tick_ms: the kernel's tick in ms, rounded up (the resolution of
# CLOCK_MONOTONIC_COARSE: 4 at HZ=250).
coarse_tick_ms() {
    $PY -c 'import math, time; print(math.ceil(time.clock_getres(6) * 1000))'
}

# capture_modes IFACE: the capture modes every capture test runs, one per
# word: the pcap path inline and with 2 workers, then the eBPF backend on
# tc and on xdp where it loads on IFACE (skipped loudly otherwise).
capture_modes() {
    local modes="workers=0 workers=2"
    ebpf_usable "$1" && modes="$modes backend=ebpf backend=xdp"
    echo "$modes"
}

# ref_and_cap_start PREFIX MODE IFACE: tcpdump's reference in
# $WORK/refNAME.pcap (ingress only for xdp, as the capture sees it) and
# capture_flows in mode MODE as PREFIXNAME, NAME being MODE's value.
ref_and_cap_start() {
    local name=${2#*=}
    local dir=()
    [ "$2" = backend=xdp ] && dir=(-Q in)
    ref_start "$3" "$WORK/ref$name.pcap" "${dir[@]}"
    cap_start "$1$name" -i "$3" -o "$2"
}

# ebpf_usable IFACE: 0 when the eBPF backend starts on IFACE (a short
# capture with backend=ebpf); otherwise says loudly why it is skipped (a
# build without BPF, a kernel without tcx links) and returns 1.
ebpf_usable() {
    local err=$WORK/ebpf_probe.err
    if "$CAPF" -i "$1" -o backend=ebpf -o duration=0.2 >/dev/null 2>"$err"; then
        return 0
    fi
    echo "################################################################" >&2
    echo "SKIP (backend=ebpf): $(grep -m1 'activate' "$err" || cat "$err")" >&2
    echo "################################################################" >&2
    return 1
}

# kernel_counters PID: "packets created cache_hits cache_claims" and the
# cache hits of each CPU, from the capture's fk_cpu (a line per CPU:
# packets, bytes, cache hits) and fk_counters maps (found among the maps
# its fds hold).
kernel_counters() {
    local id f name cpu="" cnt=""
    for f in /proc/"$1"/fdinfo/*; do
        id=$(sed -n 's/^map_id:[[:space:]]*//p' "$f" 2>/dev/null)
        [ -n "$id" ] || continue
        name=$(bpftool map show id "$id" -j | jq -r .name)
        [ "$name" = fk_cpu ] && cpu=$id
        [ "$name" = fk_counters ] && cnt=$id
    done
    [ -n "$cpu" ] && [ -n "$cnt" ] || return 1
    $PY - "$(bpftool map dump id "$cpu" -j)" "$(bpftool map dump id "$cnt" -j)" <<'PY'
import json, sys
def words(hexes):
    b = bytes(int(x, 16) for x in hexes)
    return [int.from_bytes(b[i:i + 8], "little") for i in range(0, len(b), 8)]
cpus = [words(e["value"]) for e in json.loads(sys.argv[1])]
tot = [0] * 14
for c in json.loads(sys.argv[2])[0]["values"]:
    tot = [t + w for t, w in zip(tot, words(c["value"]))]
hits = [c[2] for c in cpus]
print(sum(c[0] for c in cpus), tot[4], sum(hits), tot[13], *hits)
PY
}
