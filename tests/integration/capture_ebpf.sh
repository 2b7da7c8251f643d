#!/bin/bash
# The eBPF capture backend (backend=ebpf / xdp) beyond the flows that
# capture_flows.sh compares with tcpdump:
#  - a capture killed with SIGKILL leaves no program attached (tcx and xdp
#    links go away with their process): the link, program and map ids it
#    held (the inner-packet parser and its prog array among them) are gone,
#    and neither tc nor bpftool shows anything on the device; the same
#    after fk_capture_destroy in a process that goes on (Python binding);
#  - what only libpcap can do is refused at activate with a clear message
#    (filter, snaplen, pcap_store, files), a bad backend
#    name by the setter;
#  - a full flow map loses packets and counts them (kernel_map_full);
#  - VLAN-tagged traffic keeps its VLAN id (same flows as tcpdump's);
#  - the idle timeout ends flows on a quiet link, and flows are attributed
#    to their local process as on the pcap path;
#  - ebpf_clock: a flow's start is exact, its end never after its last
#    packet and, with coarse, at most one kernel tick before it;
#  - flowkit-top runs on it (its own small snaplen is for libpcap only)
#    and ranks the process that sends.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"
command -v bpftool >/dev/null || {
    echo "SKIP: bpftool is not installed" >&2
    exit 77
}

NS=fkeb$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h
P4="10.213.$N."
P6="fd00:213:$N:"
ebpf_usable "$IF" || exit 77

# --- no orphan programs after SIGKILL ---------------------------------------
# With decode_tunnels the capture also holds the inner-packet parser and
# the prog array that reaches it: every program and map it held goes too.
for backend in ebpf xdp; do
    cap_start "kill_$backend" -i "$IF" -o "backend=$backend" -o decode_tunnels=1
    links=() progs=() maps=() linked=()
    for f in /proc/$CAP_PID/fdinfo/*; do
        id=$(sed -n 's/^map_id:[[:space:]]*//p' "$f" 2>/dev/null)
        [ -n "$id" ] && maps+=("$id")
        id=$(sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null)
        [ -n "$id" ] && progs+=("$id")
        grep -q '^link_type:' "$f" 2>/dev/null || continue
        links+=("$(sed -n 's/^link_id:[[:space:]]*//p' "$f")")
        linked+=("$(sed -n 's/^prog_id:[[:space:]]*//p' "$f")") # the attached program
    done
    want=2 inner=fk_tc_inner
    [ $backend = xdp ] && want=1 inner=fk_xdp_inner
    [ ${#links[@]} = $want ] || fail "$backend: expected $want BPF links held by the capture, got ${#links[@]}"
    held=$(for id in "${progs[@]}"; do bpftool prog show id "$id"; done)
    grep -q "name $inner " <<<"$held" || fail "$backend: the capture holds no $inner program: $held"
    held=$(for id in "${maps[@]}"; do bpftool map show id "$id"; done)
    grep -q "prog_array  name fk_${inner#fk_}_pr" <<<"$held" ||
        fail "$backend: the capture holds no prog array for the inner parser: $held"
    if [ $backend = xdp ]; then
        shown=$(bpftool net show dev "$IF")
        grep -q "^$IF(.*id ${linked[0]}" <<<"$shown" ||
            fail "xdp: the program is not on $IF: $(bpftool net show dev "$IF")"
    fi
    kill -9 "$CAP_PID"
    wait "$CAP_PID" 2>/dev/null
    gone=0
    for _ in $(seq 50); do
        left=0
        for id in "${links[@]}"; do
            bpftool link show id "$id" >/dev/null 2>&1 && left=$((left + 1))
        done
        for id in "${progs[@]}"; do
            bpftool prog show id "$id" >/dev/null 2>&1 && left=$((left + 1))
        done
        for id in "${maps[@]}"; do
            bpftool map show id "$id" >/dev/null 2>&1 && left=$((left + 1))
        done
        [ $left = 0 ] && gone=1 && break
        sleep 0.1
    done
    if [ $gone = 0 ]; then
        for id in "${links[@]}"; do bpftool link show id "$id" 2>/dev/null; done
        for id in "${progs[@]}"; do bpftool prog show id "$id" 2>/dev/null; done
        for id in "${maps[@]}"; do bpftool map show id "$id" 2>/dev/null; done
        fail "$backend: links/programs/maps ${links[*]} / ${progs[*]} / ${maps[*]} outlived the killed capture"
    fi
    [ -z "$(tc filter show dev "$IF" ingress)$(tc filter show dev "$IF" egress)" ] ||
        fail "$backend: tc filters left on $IF"
    bpftool net show dev "$IF" | grep -q "^$IF(" && fail "$backend: a program is still attached to $IF"
    echo "$backend: SIGKILL left nothing attached or loaded (links ${links[*]}, programs ${progs[*]}, maps ${maps[*]})"
done

# --- nothing left after destroy, while the process lives (Python binding) -----
# A sanitizer build of the library needs its runtime loaded first.
PYPRE=(env)
sanrt() { # NAME...: the first runtime library the compiler knows
    local f
    for f in "$@"; do
        f=$($CC -print-file-name="$f")
        [ -f "$f" ] && echo "$f" && return
    done
}
case $SANFLAGS in
*address*) PYPRE=(env LD_PRELOAD="$(sanrt libclang_rt.asan-x86_64.so libasan.so)" ASAN_OPTIONS=detect_leaks=0) ;;
*thread*) PYPRE=(env LD_PRELOAD="$(sanrt libclang_rt.tsan-x86_64.so libtsan.so)") ;;
esac
for backend in ebpf xdp; do
    PYTHONPATH=$SRC/bindings/python FLOWKIT_LIBRARY=$LIBDIR/libflowkit.so "${PYPRE[@]}" $PY - "$IF" $backend <<'PY' ||
import os, subprocess, sys, time
from flowkit import Capture

def held():
    ids = []
    for fd in os.listdir("/proc/self/fdinfo"):
        try:
            text = open("/proc/self/fdinfo/" + fd).read()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, val = line.partition(":")
            if key in ("prog_id", "map_id", "link_id"):
                ids.append((key[:-3], val.strip()))
    return sorted(set(ids))

def alive(kind, i):
    return subprocess.run(["bpftool", kind, "show", "id", i], capture_output=True).returncode == 0

before = held()
cap = Capture(devices=[sys.argv[1]], backend=sys.argv[2], decode_tunnels=1).activate()
ids = [x for x in held() if x not in before]
names = subprocess.run(["bpftool", "prog", "show"], capture_output=True, text=True).stdout
inner = "fk_%s_inner" % ("xdp" if sys.argv[2] == "xdp" else "tc")
progs = [i for k, i in ids if k == "prog"]
assert any(("%s: " % i) in names and inner in names.split("%s: " % i)[1].splitlines()[0]
           for i in progs), "%s: %s not among the programs held: %s" % (sys.argv[2], inner, ids)
cap.close()
for _ in range(100):
    left = [(k, i) for k, i in ids if alive(k, i)]
    if not left:
        break
    time.sleep(0.05)
assert not left, "%s: still loaded after destroy: %s" % (sys.argv[2], left)
print("%s: destroy released %d programs, maps and links" % (sys.argv[2], len(ids)))
PY
        fail "$backend: BPF objects outlived fk_capture_destroy"
done

# --- refusals ------------------------------------------------------------------
refused() { # WHAT ARGS...: activate must fail (exit 1) naming WHAT
    local what=$1
    shift
    local rc=0
    "$CAPF" "$@" >/dev/null 2>"$WORK/refused.err" || rc=$?
    [ $rc -ne 0 ] || fail "accepted: $*"
    grep -q "$what" "$WORK/refused.err" || fail "no '$what' in the error of $*: $(cat "$WORK/refused.err")"
}
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\0\0\x01\0\0\0' >"$WORK/empty.pcap"
refused "filter applies to backend = pcap only" -i "$IF" -o backend=ebpf -o filter=tcp
refused "snaplen applies to backend = pcap only" -i "$IF" -o backend=ebpf -o snaplen=128
refused "pcap_store applies to backend = pcap only" -i "$IF" -o backend=ebpf -o "pcap_store=$WORK"
refused "reads live devices only" -r "$WORK/empty.pcap" -o backend=xdp
refused "is not one of pcap, ebpf, xdp" -i "$IF" -o backend=dpdk
refused "is not one of coarse, precise" -i "$IF" -o backend=ebpf -o ebpf_clock=fast
refused "no such device" -i fknodev$$ -o backend=ebpf
echo "refusals: ok"

# --- a full flow map is counted ---------------------------------------------
cap_start full -i "$IF" -o backend=ebpf -o max_flows=16
fk_netns_exec "$NS" $PY - "${P4}1" <<'PY' || fail "UDP sender failed"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in range(20000, 20040):  # 40 flows, 2 packets each
    for _ in range(2):
        s.sendto(b"x" * 10, (sys.argv[1], port))
PY
sleep 0.3
cap_stop
OUT=$WORK/full.jsonl
full=$(capstat "$OUT" kernel_map_full)
created=$(capstat "$OUT" flows_created)
[ "$full" -ge 48 ] || fail "map of 16 flows, 40 two-packet flows sent: kernel_map_full = $full"
[ "$created" -le 16 ] || fail "flows_created = $created in a map of 16"
udp=$(count_json "$OUT" ".type==\"flow\" and .proto==17 and .dst_port>=20000 and .dst_port<20040 and .packets==2")
[ $((udp * 2 + full)) -ge 80 ] || fail "flows ($udp) and lost packets ($full) do not cover the 80 sent"
echo "map full: $full packets counted as lost, $udp flows complete"

# --- VLAN ------------------------------------------------------------------------
# Tagged frames (VLAN 100) written raw into the netns side of the veth (this
# kernel may have no 8021q module): the host's tc ingress sees the tag in
# the frame; the host stack then drops them, which does not matter here.
HOSTMAC=$(cat "/sys/class/net/$IF/address")
ref_start "$IF" "$WORK/refv.pcap" --immediate-mode
cap_start vlan -i "$IF" -o backend=ebpf
fk_netns_exec "$NS" $PY - "$HOSTMAC" "${P4}2" "${P4}1" <<'PY' || fail "raw VLAN sender failed"
import socket, struct, sys
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
src, dst = socket.inet_aton(sys.argv[2]), socket.inet_aton(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("veth0", 0))
me = s.getsockname()[4]
payload = b"v" * 20
udp = struct.pack("!HHHH", 40000, 9999, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
frame = mac + me + struct.pack("!HH", 0x8100, 100) + struct.pack("!H", 0x0800) + ip + udp
for _ in range(3):
    s.send(frame)
PY
ref_stop "$WORK/refv.pcap"
cap_stop
c=$(count_json "$WORK/vlan.jsonl" ".type==\"flow\" and .proto==17 and .dst_port==9999 and .vlan==100 and .packets==3 and .bytes==144")
[ "$c" = 1 ] || fail "expected the VLAN 100 UDP flow, 3 packets, 144 bytes: $(grep 9999 "$WORK/vlan.jsonl")"
$PY "$SRC/tests/integration/capture_ref.py" compare "$WORK/refv.pcap" "$WORK/vlan.jsonl" "$P4" "$P6" ||
    fail "VLAN flows differ from the reference"
echo "vlan: ok"

# --- the clock (ebpf_clock) ---------------------------------------------------
# 20 UDP flows of 5 packets, 3 ms apart (over a few kernel ticks). The
# sender notes CLOCK_REALTIME before its first and its last send, and again
# after the sleep that follows each of them. A flow's start reads the
# precise clock in both modes: not before the first send, not after the
# reading that follows it. Its end is not after the reading that follows
# the last send (in both modes: a time is never later than the packet),
# not before the last send with ebpf_clock=precise, and with coarse not
# more than one kernel tick (1/HZ, from clock_getres of the tick clock)
# before it: the documented bound. Times are compared in ms (the JSON's):
# 1 ms for the capture's monotonic-to-realtime conversion and 1 ms for
# truncating to ms. The packet is counted inside the sender's sendto (veth
# runs the receive softirq on the sending CPU when bottom halves are
# enabled again), well within the 3 ms the sender sleeps.
for clock in coarse precise; do
    cap_start "clock_$clock" -i "$IF" -o backend=ebpf -o "ebpf_clock=$clock"
    fk_netns_exec "$NS" $PY - "${P4}1" >"$WORK/clock_$clock.sent" <<'PY' || fail "clock sender failed"
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tick = time.clock_getres(6)  # CLOCK_MONOTONIC_COARSE: one kernel tick
for port in range(21000, 21020):
    for i in range(5):
        before = time.clock_gettime_ns(time.CLOCK_REALTIME)
        s.sendto(b"t" * 10, (sys.argv[1], port))
        time.sleep(0.003)
        after = time.clock_gettime_ns(time.CLOCK_REALTIME)
        if i == 0:
            first, first_after = before, after
    print(json.dumps({"port": port, "first": first, "first_after": first_after,
                      "last": before, "last_after": after, "tick_ns": int(tick * 1e9)}))
PY
    sleep 0.2
    cap_stop
    $PY - "$clock" "$WORK/clock_$clock.sent" "$WORK/clock_$clock.jsonl" <<'PY' || fail "ebpf_clock=$clock: times out of their bounds"
import calendar, json, sys, time
clock, sent_path, out_path = sys.argv[1:]
def ms(text):
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(text[20:23])
flows = {}
for line in open(out_path):
    o = json.loads(line)
    if o.get("type") == "flow" and o["proto"] == 17 and 21000 <= o["dst_port"] < 21020:
        flows[o["dst_port"]] = o
bad = 0
margin = None  # the smallest distance of any time to its nearer bound, ms
for line in open(sent_path):
    t = json.loads(line)
    o = flows.get(t["port"])
    if not o or o["packets"] != 5:
        print("port %d: no flow of 5 packets: %s" % (t["port"], o))
        bad += 1
        continue
    start, end = ms(o["start"]), ms(o["end"])
    early = t["tick_ns"] if clock == "coarse" else 0
    start_lo, start_hi = t["first"] // 10**6 - 2, t["first_after"] // 10**6 + 2
    end_lo, end_hi = (t["last"] - early) // 10**6 - 2, t["last_after"] // 10**6 + 2
    if not (start_lo <= start <= start_hi and end_lo <= end <= end_hi and start <= end):
        print("port %d: start %d not in [%d, %d] or end %d not in [%d, %d]" %
              (t["port"], start, start_lo, start_hi, end, end_lo, end_hi))
        bad += 1
    m = min(start - start_lo, start_hi - start, end - end_lo, end_hi - end)
    margin = m if margin is None else min(margin, m)
print("ebpf_clock=%s: %d flows, %d out of bounds, smallest margin %s ms" % (clock, len(flows), bad, margin))
sys.exit(1 if bad else 0)
PY
done
echo "clock: ok"

# --- idle timeout and attribution -----------------------------------------------
cap_start idle -i "$IF" -o backend=ebpf -o idle_timeout=1 -o attribution=auto
traffic "$NS" "$N"
sleep 3 # past the idle timeout and a sweep: the UDP flows end by themselves
cap_stop
OUT=$WORK/idle.jsonl
c=$(count_json "$OUT" ".type==\"flow\" and .proto==17 and .dst_port==8080 and .end_reason==1")
[ "$c" = 2 ] || fail "expected the 2 UDP flows to end idle (end_reason 1), got $c"
c=$(count_json "$OUT" ".type==\"flow\" and .proto==6 and .dst_port==8080 and .end_reason==3 and .pid>0 and (.process|test(\"python\"))")
[ "$c" = 4 ] || fail "expected the 4 TCP flows attributed to the python server, got $c: $(grep '"proto":6' "$OUT")"
c=$(count_json "$OUT" ".type==\"event\" and .event==\"syn\" and .dst_port==8080 and .pid>0")
[ "$c" = 4 ] || fail "expected 4 attributed SYN events, got $c"
echo "idle timeout and attribution: ok"

# --- flowkit-top on the ebpf backend --------------------------------------------
TOP="$FLOWKIT_BUILD_DIR/cli/flowkit-top/flowkit-top"
"$TOP" --json -d 1 -c 4 --set backend=ebpf "$IF" >"$WORK/top.jsonl" 2>"$WORK/top.err" &
TOPPID=$!
sleep 1.5
traffic "$NS" "$N"
wait "$TOPPID" || fail "flowkit-top --set backend=ebpf exited $?: $(cat "$WORK/top.err")"
c=$(jq -c '.processes[] | select(.pid > 0 and (.cmdline | test("capture_traffic.py server")) and .sent_bytes > 0 and .recv_bytes > 0)' "$WORK/top.jsonl" | wc -l)
[ "$c" -gt 0 ] ||
    fail "flowkit-top (ebpf) ranked no python3 process: $(tail -c 600 "$WORK/top.jsonl")"
echo "flowkit-top on backend=ebpf: ok"
echo PASS
