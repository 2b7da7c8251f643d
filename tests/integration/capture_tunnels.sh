#!/bin/bash
# Tunnels on the pcap path (decode_tunnels=1): the flow key is the inner
# tuple, and the record carries the tunnel kind, the outer addresses and the
# VNI ("tunnel", "outer_src_addr", "outer_dst_addr", "vni").
#  - VXLAN: a real kernel vxlan device in each of two netns (A, B) joined by
#    a veth; B pings A and sends UDP over the tunnel; the capture runs in A
#    on its veth end.
#  - GENEVE: this kernel may have no geneve module, so B writes GENEVE
#    frames (RFC 8926, Ethernet payload, VNI 777) raw onto its veth end.
#  - Both backends: libpcap, and flows counted in the kernel (backend=ebpf,
#    skipped loudly where it cannot load).
#  - Direction: a capture on "any" (cooked headers) says which way each
#    flow's first packet went ("direction").
# Every figure is the traffic's own ground truth (sizes and counts the test
# chose). Everything lives in the two netns the test makes.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

N=$(fk_netns_free_subnet) || fail "no free subnet number"
A=fkta$$
B=fktb$$
GA=10.215.$N.1 GB=10.215.$N.2 # inner (GENEVE)
fk_netns_add_vxlan_pair "$A" "$B" "$N" # sets OA OB (outer) IA IB (inner, VXLAN)
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "cannot create the two netns and their vxlan"

# echo_icmp NS DST COUNT: COUNT ICMP echo requests of 56 data bytes (84 IP
# bytes) from NS, each answered before the next (no ping binary needed).
echo_icmp() {
    ip netns exec "$1" $PY - "$2" "$3" <<'PY'
import os, socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(3)
ident = os.getpid() & 0xFFFF
for seq in range(1, int(sys.argv[2]) + 1):
    payload = bytes(range(56))
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + payload, (sys.argv[1], 0))
    while True:
        data, _ = s.recvfrom(2048)
        ihl = (data[0] & 15) * 4
        if data[ihl] == 0 and struct.unpack("!HH", data[ihl + 4:ihl + 8]) == (ident, seq):
            break
    time.sleep(0.1)
PY
}

# capture NAME ARGS...: capture_flows inside A in the background.
capture() {
    local name=$1
    shift
    ip netns exec "$A" "$CAPF" "$@" >"$WORK/$name.jsonl" 2>"$WORK/$name.err" &
    CAP_PID=$!
    fk_netns_on_exit "kill -9 $CAP_PID"
    wait_for "$WORK/$name.err" '^ready' 10 || fail "capture_flows did not start"
}

# tunnel_run BACKEND: VXLAN and GENEVE traffic, captured in A with BACKEND.
tunnel_run() {
    capture "tun$1" -i va -o decode_tunnels=1 -o "backend=$1"
    echo_icmp "$B" "$IA" 3 || fail "ping over the vxlan"
    ip netns exec "$B" $PY - "$IA" <<'PY' || fail "UDP over the vxlan"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40001))
for _ in range(4):
    s.sendto(b"u" * 100, (sys.argv[1], 7777))
PY
    VAMAC=$(ip netns exec "$A" cat /sys/class/net/va/address)
    ip netns exec "$B" $PY - "$VAMAC" "$OB" "$OA" "$GB" "$GA" <<'PY' || fail "raw GENEVE sender"
import socket, struct, sys

def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF

def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload

mac = bytes.fromhex(sys.argv[1].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("vb", 0))
me = s.getsockname()[4]
inner = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00" + \
    ipv4(sys.argv[4], sys.argv[5], 17, udp(1234, 4321, b"g" * 30))
geneve = struct.pack("!BBH", 0, 0, 0x6558) + struct.pack("!I", 777 << 8)
frame = mac + me + b"\x08\x00" + ipv4(sys.argv[2], sys.argv[3], 17, udp(5555, 6081, geneve + inner))
for _ in range(3):
    s.send(frame)
PY
    sleep 0.3
    kill -TERM "$CAP_PID"
    wait "$CAP_PID" || fail "capture_flows failed"
    OUT=$WORK/tun$1.jsonl

    c=$(count_json "$OUT" ".type==\"flow\" and .proto==1 and .src_addr==\"$IB\" and .dst_addr==\"$IA\" and .packets==3 and .rev_packets==3 and .bytes==252 and .rev_bytes==252 and .tunnel==\"vxlan\" and .vni==4242 and .outer_src_addr==\"$OB\" and .outer_dst_addr==\"$OA\"")
    [ "$c" = 1 ] || fail "$1: expected the inner ICMP echo flow over VXLAN 4242 (3+3 packets, 252+252 bytes, outer $OB -> $OA): $(grep '"proto":1' "$OUT")"
    c=$(count_json "$OUT" ".type==\"flow\" and .proto==17 and .src_addr==\"$IB\" and .src_port==40001 and .dst_port==7777 and .packets==4 and .bytes==512 and .tunnel==\"vxlan\" and .vni==4242 and .outer_src_addr==\"$OB\"")
    [ "$c" = 1 ] || fail "$1: expected the inner UDP flow over VXLAN (4 packets, 512 bytes): $(grep 7777 "$OUT")"
    c=$(count_json "$OUT" ".type==\"flow\" and .proto==17 and .src_addr==\"$GB\" and .dst_addr==\"$GA\" and .src_port==1234 and .dst_port==4321 and .packets==3 and .bytes==174 and .tunnel==\"geneve\" and .vni==777 and .outer_src_addr==\"$OB\" and .outer_dst_addr==\"$OA\"")
    [ "$c" = 1 ] || fail "$1: expected the inner UDP flow over GENEVE 777 (3 packets, 174 bytes): $(grep 4321 "$OUT")"
    c=$(count_json "$OUT" ".type==\"flow\" and .proto==17 and .src_addr==\"$OB\" and .tunnel")
    [ "$c" = 0 ] || fail "$1: a flow of outer addresses carries a tunnel"
    if [ "$1" = ebpf ]; then
        c=$(count_json "$OUT" ".type==\"flow\" and .tunnel and .direction==\"ingress\" and .in_if>0")
        [ "$c" -ge 3 ] || fail "ebpf: expected the tunnelled flows from B to start on ingress"
    fi
    echo "$1: vxlan and geneve: ok"
}
tunnel_run pcap
if ip netns exec "$A" "$CAPF" -i va -o backend=ebpf -o duration=0.2 >/dev/null 2>"$WORK/probe.err"; then
    tunnel_run ebpf
else
    echo "################################################################" >&2
    echo "SKIP (backend=ebpf): $(cat "$WORK/probe.err")" >&2
    echo "################################################################" >&2
fi

# Without decode_tunnels the outer datagrams are the flows, without tunnel keys.
capture plain -i va
echo_icmp "$B" "$IA" 2 || fail "ping over the vxlan"
sleep 0.3
kill -TERM "$CAP_PID"
wait "$CAP_PID" || fail "capture_flows failed"
c=$(count_json "$WORK/plain.jsonl" ".type==\"flow\" and .proto==17 and .dst_port==4789 and .src_addr==\"$OB\"")
[ "$c" -ge 1 ] || fail "expected outer VXLAN datagrams as flows without decode_tunnels"
c=$(count_json "$WORK/plain.jsonl" ".type==\"flow\" and (.tunnel or .vni)")
[ "$c" = 0 ] || fail "tunnel keys without decode_tunnels"
echo "without decode_tunnels: ok"

# Direction from cooked headers: on "any" in A, B's ping arrives (ingress)
# and A's own UDP datagrams leave (egress); outer traffic only (filter).
capture any -i any -o "filter=(icmp or udp port 9) and host $OB" -o decode_tunnels=1
echo_icmp "$B" "$OA" 2 || fail "outer ping B -> A"
ip netns exec "$A" $PY -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(2):
    s.sendto(b'd' * 10, ('$OB', 9))
" || fail "outer UDP A -> B"
sleep 0.3
kill -TERM "$CAP_PID"
wait "$CAP_PID" || fail "capture_flows failed"
c=$(count_json "$WORK/any.jsonl" ".type==\"flow\" and .proto==1 and .dst_port==2048 and .src_addr==\"$OB\" and .direction==\"ingress\" and .packets==2")
[ "$c" = 1 ] || fail "expected B's ping as an ingress flow: $(grep '"proto":1' "$WORK/any.jsonl")"
c=$(count_json "$WORK/any.jsonl" ".type==\"flow\" and .proto==17 and .src_addr==\"$OA\" and .dst_port==9 and .direction==\"egress\" and .packets==2")
[ "$c" = 1 ] || fail "expected A's datagrams as an egress flow: $(grep '"proto":17' "$WORK/any.jsonl")"
echo "direction: ok"
echo PASS
