#!/bin/bash
# The eBPF backend's per-CPU flow cache (ebpf_cache_slots, docs/flows.md):
# flow records must equal the ground truth exactly whatever the cache did.
# capture_cache_traffic.py sends UDP flows from a netns while moving to the
# next CPU before every packet (veth hands each frame to the receive path
# of the sending CPU), so every flow is counted on every CPU:
#  - 16 flows colliding in one slot (ebpf_cache_slots=1: each CPU has one);
#  - an echoed flow (both key sides in the cache; ebpf only: xdp sees
#    ingress);
#  - a flow that idle-ends, whose slots are freed and claimed by another
#    flow, and whose key comes back as a new flow;
#  - a flow that the active timeout ends twice while it goes on.
# Each flow's records must hold exactly the packets and bytes sent (the
# active flow's records add up to them, and all but the last end by the
# active timeout), and its times within the sender's readings around its
# packets, as capture_ebpf.sh's clock check: start between the readings
# before and after the first send, end between one kernel tick (the coarse
# clock's bound) before the last send and the reading after it (a slot's
# time merged from another incarnation, later than the flow, fails); 2 ms
# for the JSON's ms and the monotonic-to-realtime conversion.
# The kernel's counters (read from the capture's fk_counters map) must show
# packets counted in the cache on every CPU and slots claimed again after
# they were freed. Runs on ebpf and xdp with 1 slot per CPU, and on ebpf
# with the default size. TCP through the cache (its port-reuse restart,
# whose slots the kernel marks on every CPU) is checked against tcpdump by
# capture_port_reuse.sh, whose connections hop CPUs the same way.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"
command -v bpftool >/dev/null || {
    echo "SKIP: bpftool is not installed" >&2
    exit 77
}

NS=fkec$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h
HOST=10.213.$N.1
ebpf_usable "$IF" || exit 77
NCPU=$(nproc)

run() {
    local name=$1
    shift
    $PY "$SRC/tests/integration/capture_cache_traffic.py" server "$HOST" 15 >"$WORK/$name.srv" 2>&1 &
    local spid=$!
    fk_netns_on_exit "kill -9 $spid"
    wait_for "$WORK/$name.srv" listening 10 || fail "$name: server did not start"
    cap_start "$name" -i "$IF" -o idle_timeout=2 -o active_timeout=3 "$@"
    fk_netns_exec "$NS" $PY "$SRC/tests/integration/capture_cache_traffic.py" client "$HOST" \
        >"$WORK/$name.sent" || fail "$name: client failed"
    sleep 0.5
    read -r -a kc <<<"$(kernel_counters "$CAP_PID")" || fail "$name: no fk_counters map"
    cap_stop
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    echo "$name: kernel packets ${kc[0]} created ${kc[1]} cache hits ${kc[2]} claims ${kc[3]}" \
        "hits per CPU ${kc[*]:4}"
    [ "${kc[2]}" -gt 0 ] || fail "$name: no packet was counted in the cache"
    local c
    for c in "${kc[@]:4:$NCPU}"; do
        [ "$c" -gt 0 ] || fail "$name: a CPU counted nothing in its cache: ${kc[*]:4}"
    done
    [ "${kc[3]}" -gt "$NCPU" ] || fail "$name: no slot was claimed again after being freed"
    $PY - "$name" "$WORK/$name.sent" "$WORK/$name.jsonl" <<'PY' || fail "$name: records differ from what was sent"
import calendar, json, sys
name, sent_path, out_path = sys.argv[1:]
xdp = "xdp" in name
def ms(text):
    import time
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(text[20:23])
recs = {}
for line in open(out_path):
    o = json.loads(line)
    if o.get("type") == "flow" and o["proto"] == 17 and 41000 <= o["src_port"] < 41400:
        recs.setdefault(o["src_port"], []).append(o)
for r in recs.values():
    r.sort(key=lambda o: ms(o["start"]))
phases = {}
for line in open(sent_path):
    t = json.loads(line)
    phases.setdefault(t["sport"], []).append(t)
bad = 0
def check(cond, what):
    global bad
    if not cond:
        print("%s: %s" % (name, what))
        bad += 1
check(len(phases) == 20, "%d flows sent, want 20" % len(phases))
for sport, sent in sorted(phases.items()):
    got = recs.pop(sport, [])
    role = sent[0]["role"]
    if role == "active":
        t = sent[0]
        check(len(got) >= 2 and sum(o["packets"] for o in got) == t["count"] and
              sum(o["bytes"] for o in got) == t["bytes"] and
              all(o["end_reason"] == 2 for o in got[:-1]),
              "active flow %d: %s, sent %d packets" %
              (sport, [(o["packets"], o["end_reason"]) for o in got], t["count"]))
        groups = [got]
        sent = [t]
    else:
        check(len(got) == len(sent), "flow %d: %d records, want %d: %s" %
              (sport, len(got), len(sent), [o["packets"] for o in got]))
        groups = [[o] for o in got]
    for t, g in zip(sent, groups):
        if role != "active":
            o = g[0]
            check(o["packets"] == t["count"] and o["bytes"] == t["bytes"],
                  "flow %d: %d packets %d bytes, want %d %d" %
                  (sport, o["packets"], o["bytes"], t["count"], t["bytes"]))
            want_rev = t["count"] if role == "echo" and not xdp else 0
            check(o["rev_packets"] == want_rev and o["rev_bytes"] == want_rev * (t["bytes"] // t["count"]),
                  "flow %d: %d reverse packets, want %d" % (sport, o["rev_packets"], want_rev))
        start, end = ms(g[0]["start"]), ms(g[-1]["end"])
        start_lo, start_hi = t["first"] // 10**6 - 2, t["first_after"] // 10**6 + 2
        end_lo, end_hi = (t["last"] - t["tick_ns"]) // 10**6 - 2, t["last_after"] // 10**6 + 2
        check(start_lo <= start <= start_hi and end_lo <= end <= end_hi and
              all(ms(o["end"]) >= ms(o["start"]) for o in g),
              "flow %d: start %d not in [%d, %d] or end %d not in [%d, %d]" %
              (sport, start, start_lo, start_hi, end, end_lo, end_hi))
check(not recs, "records of flows never sent: %s" % sorted(recs))
print("%s: %d flows checked, %d differences" % (name, len(phases), bad))
sys.exit(1 if bad else 0)
PY
}

run ebpf_one -o backend=ebpf -o ebpf_cache_slots=1
run xdp_one -o backend=xdp -o ebpf_cache_slots=1
run ebpf_default -o backend=ebpf

# An orphan slot: ACTIVE for a key and a gen no flow map entry has (what a
# claim through a reused hash-map element, or a torn read of an entry being
# remade, would leave: flow_cache.bpf.h). Planted into CPU 0's only slot
# with bpftool; 50 packets from CPU 0 then hit it and never reach the flow
# map. The sweep must drain it after two sweeps (a record of 50 packets,
# kernel_cache_orphans 1) and free it: 30 packets sent 3.5 s later make a
# flow of their own (with no safety net, or one only at the final flush,
# all 80 would be in one record, or none).
orphan() {
    cap_start orphan -i "$IF" -o backend=ebpf -o ebpf_cache_slots=1 -o idle_timeout=30
    local id="" f
    for f in /proc/"$CAP_PID"/fdinfo/*; do
        f=$(sed -n 's/^map_id:[[:space:]]*//p' "$f" 2>/dev/null)
        [ -n "$f" ] && [ "$(bpftool map show id "$f" -j | jq -r .name)" = fk_cache ] && id=$f
    done
    [ -n "$id" ] || fail "orphan: no fk_cache map"
    local value
    value=$($PY - "$HOST" "10.213.$N.2" <<'PY'
import socket, struct, sys
a, b = (socket.inet_aton(x) + bytes(12) for x in sys.argv[1:3])  # a: the host, the lower
key = a + b + struct.pack("<HHHBB", 7000, 5000, 0, 17, 4)
# state ACTIVE, sides 3, bytes, packets, last_ns, gen 12345, tcp_flags (flow_event.h)
slot = key + struct.pack("<IB3x6QQI", 1, 3, *[0] * 6, 12345, 0) + bytes(20)
assert len(slot) == 128
print(" ".join("0x%02x" % x for x in slot))
PY
)
    # shellcheck disable=SC2086
    bpftool map update id "$id" key 0 0 0 0 value $value || fail "orphan: cannot plant the slot"
    local send='import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[2], 5000))
for _ in range(int(sys.argv[3])):
    s.sendto(b"x" * 20, (sys.argv[1], 7000))
    time.sleep(0.002)'
    fk_netns_exec "$NS" taskset -c 0 $PY -c "$send" "$HOST" "10.213.$N.2" 50 || fail "orphan: send"
    sleep 3.5
    fk_netns_exec "$NS" taskset -c 0 $PY -c "$send" "$HOST" "10.213.$N.2" 30 || fail "orphan: send"
    sleep 0.5
    cap_stop
    local got orph
    got=$(jq -r 'select(.type == "flow" and .src_port == 5000) | .packets' "$WORK/orphan.jsonl" |
        sort -n | tr '\n' ' ')
    orph=$(capstat "$WORK/orphan.jsonl" kernel_cache_orphans)
    echo "orphan: records of 5000 -> 7000: $got(want 30 50), kernel_cache_orphans $orph"
    [ "$got" = "30 50 " ] || fail "orphan: records $got, want 30 and 50 packets"
    [ "$orph" = 1 ] || fail "orphan: kernel_cache_orphans = $orph, want 1"
}
orphan

# Frames that look like the hit path's common shape but are not
# (capture_lookalike.py: IPv4 options, fragments, VLAN tags, QinQ, IPv6
# destination options), each read as that shape would give a flow that
# holds its slot: every flow must still have exactly what was sent.
lookalike() {
    local name=$1
    shift
    cap_start "$name" -i "$IF" "$@"
    fk_netns_exec "$NS" taskset -c 0 $PY "$SRC/tests/integration/capture_lookalike.py" veth0 \
        "$(cat /sys/class/net/"$IF"/address)" "10.213.$N.2" "$HOST" "fd00:213:$N::2" \
        "fd00:213:$N::1" >"$WORK/$name.want" || fail "$name: sender failed"
    sleep 0.3
    read -r -a kc <<<"$(kernel_counters "$CAP_PID")" || fail "$name: no fk_counters map"
    cap_stop
    echo "$name: cache hits ${kc[2]}"
    [ "${kc[2]}" -ge 20 ] || fail "$name: only ${kc[2]} packets counted in the cache"
    $PY - "$name" "$WORK/$name.want" "$WORK/$name.jsonl" <<'PY' || fail "$name: records differ from what was sent"
import json, sys
name, want_path, out_path = sys.argv[1:]
got, unmatched = {}, None
for line in open(out_path):
    o = json.loads(line)
    if o.get("type") == "stats":
        unmatched = o["frags_unmatched"]
    if o.get("type") != "flow" or o["proto"] != 17:
        continue
    k = (o["src_addr"], o["src_port"], o["dst_addr"], o["dst_port"], o.get("vlan", 0))
    g = got.setdefault(k, [0, 0])
    g[0] += o["packets"]
    g[1] += o["bytes"]
bad = 0
for line in open(want_path):
    w = json.loads(line)
    if "frags_unmatched" in w:
        if unmatched != w["frags_unmatched"]:
            print("%s: frags_unmatched %s, want %d" % (name, unmatched, w["frags_unmatched"]))
            bad += 1
        continue
    k = (w["src"], w["sport"], w["dst"], w["dport"], w["vlan"])
    g = got.get(k, [0, 0])
    if g != [w["packets"], w["bytes"]]:
        print("%s: flow %s: %d packets %d bytes, want %d %d" % (name, k, g[0], g[1], w["packets"], w["bytes"]))
        bad += 1
print("%s: lookalike frames, %d differences" % (name, bad))
sys.exit(1 if bad else 0)
PY
}
lookalike look_ebpf -o backend=ebpf
lookalike look_xdp -o backend=xdp

# The parameter's checks.
"$CAPF" -i "$IF" -o backend=ebpf -o ebpf_cache_slots=3 >/dev/null 2>"$WORK/bad.err" &&
    fail "ebpf_cache_slots=3 was accepted"
grep -q "not 0 or a power of two" "$WORK/bad.err" || fail "ebpf_cache_slots=3: $(cat "$WORK/bad.err")"
echo "capture_ebpf_cache: ok"
