#!/usr/bin/python3
"""Frames that look like the eBPF backend's hit path but are not (stdlib
only), for capture_ebpf_cache.sh.

  capture_lookalike.py IFACE DST_MAC C4 H4 C6 H6

Written as Ethernet frames on IFACE (AF_PACKET) to DST_MAC, from one CPU
(the caller pins it), so each flow's later packets hit its cache slot.
Each case first makes a flow with plain UDP frames (its slot claimed and
hit), then sends frames whose bytes, read as the common shape, would give
that flow's key, but which are not of that shape:
  1. IPv4 with options (IHL 6): the 4 option bytes are the flow's ports;
     the real UDP header after them has others;
  2. IPv4 fragments: a datagram of the flow in 2 fragments (the later
     one's payload starts with the flow's ports), and a later fragment of
     another datagram whose first fragment never comes (its payload too);
  3. VLAN: the same addresses and ports untagged, on VLAN 10, on VLAN 20
     (interleaved), and on VLAN 30 with a second tag (40) inside it;
  4. IPv6 with a destination options header whose first 4 bytes are the
     flow's ports, the real UDP header after it.
Prints one JSON line per flow that must be in the records (its key, vlan,
packets and IP bytes), and one line with the number of later fragments
that must be unmatched.
"""
import json
import socket
import struct
import sys


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def v4(src, dst, payload, options=b"", ident=1, fword=0, proto=17):
    ihl = 5 + len(options) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), ident, fword, 64,
                    proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + options
    return b"\x08\x00" + h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def v6(src, dst, nh, payload):
    h = struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                    socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return b"\x86\xdd" + h + payload


def tag(vid, tpid=0x8100):
    return struct.pack("!HH", tpid, vid)


def main():
    ifc, mac, c4, h4, c6, h6 = sys.argv[1:7]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifc, 0))
    head = bytes.fromhex(mac.replace(":", "")) + s.getsockname()[4]
    want = {}

    def send(frame, key, ip_len):
        # frame: from the ethertype (or the first tag) on
        s.send(head + frame)
        if key is not None:
            w = want.setdefault(key, [0, 0])
            w[0] += 1
            w[1] += ip_len

    data = b"x" * 20
    # 1. IPv4 options
    for _ in range(5):
        send(v4(c4, h4, udp(1000, 2000, data)), (c4, 1000, h4, 2000, 0), 48)
    for _ in range(3):
        send(v4(c4, h4, udp(3000, 4000, data), options=struct.pack("!HH", 1000, 2000)),
             (c4, 3000, h4, 4000, 0), 52)
    send(v4(c4, h4, udp(1000, 2000, data)), (c4, 1000, h4, 2000, 0), 48)
    # 2. IPv4 fragments: 1001 -> 2001's slot is claimed, then a datagram in
    # 2 fragments (24 + 8 payload bytes: 44 + 28 IP bytes), then a lone
    # later fragment (28 IP bytes) that goes to the port-less flow
    for _ in range(5):
        send(v4(c4, h4, udp(1001, 2001, data)), (c4, 1001, h4, 2001, 0), 48)
    dgram = udp(1001, 2001, b"y" * 16 + struct.pack("!HHHH", 1001, 2001, 0, 0))
    send(v4(c4, h4, dgram[:24], ident=0x777, fword=0x2000), (c4, 1001, h4, 2001, 0), 44)
    send(v4(c4, h4, dgram[24:], ident=0x777, fword=3), (c4, 1001, h4, 2001, 0), 28)
    send(v4(c4, h4, struct.pack("!HHHH", 1001, 2001, 0, 0), ident=0x999, fword=3),
         (c4, 0, h4, 0, 0), 28)
    send(v4(c4, h4, udp(1001, 2001, data)), (c4, 1001, h4, 2001, 0), 48)
    # 3. VLAN tags
    for i in range(6):
        send(v4(c4, h4, udp(1002, 2002, data)), (c4, 1002, h4, 2002, 0), 48)
        send(tag(10) + v4(c4, h4, udp(1002, 2002, data)), (c4, 1002, h4, 2002, 10), 48)
        send(tag(20) + v4(c4, h4, udp(1002, 2002, data)), (c4, 1002, h4, 2002, 20), 48)
        send(tag(30, 0x88a8) + tag(40) + v4(c4, h4, udp(1002, 2002, data)),
             (c4, 1002, h4, 2002, 30), 48)
    # 4. IPv6 destination options (next header UDP, PadN) before UDP
    for _ in range(5):
        send(v6(c6, h6, 17, udp(4352, 260, data)), (c6, 4352, h6, 260, 0), 68)
    dest_opts = bytes([17, 0, 1, 4, 0, 0, 0, 0])  # read as ports: 4352 -> 260
    assert struct.unpack("!HH", dest_opts[:4]) == (4352, 260)
    for _ in range(3):
        send(v6(c6, h6, 60, dest_opts + udp(5000, 6000, data)), (c6, 5000, h6, 6000, 0), 76)
    send(v6(c6, h6, 17, udp(4352, 260, data)), (c6, 4352, h6, 260, 0), 68)
    for (src, sport, dst, dport, vlan), (packets, nbytes) in sorted(want.items()):
        print(json.dumps({"src": src, "sport": sport, "dst": dst, "dport": dport, "vlan": vlan,
                          "packets": packets, "bytes": nbytes}))
    print(json.dumps({"frags_unmatched": 1}))


if __name__ == "__main__":
    main()
