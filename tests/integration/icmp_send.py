#!/usr/bin/python3
"""Known ICMP for capture_icmp_reverse.sh, from the host to the test's
netns: 2 echo requests (IPv4), 1 timestamp request (IPv4), 2 echo requests
(ICMPv6), and 1 UDP datagram to a closed port (the netns answers with a
port unreachable). Waits for the answers; prints what it got back."""
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def icmp4(typ, code, rest):
    h = struct.pack("!BBH", typ, code, 0) + rest
    return struct.pack("!BBH", typ, code, csum(h)) + rest


def main():
    v4, v6 = sys.argv[1], sys.argv[2]
    got = {}
    s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s4.settimeout(0.2)
    for seq in (1, 2):
        s4.sendto(icmp4(8, 0, struct.pack("!HH", 0x4B1D, seq) + b"flowkit" * 8), (v4, 0))
        time.sleep(0.05)
    s4.sendto(icmp4(13, 0, struct.pack("!HHIII", 0x4B1D, 3, 1000, 0, 0)), (v4, 0))
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s6.settimeout(0.2)
    for seq in (1, 2):
        # the kernel fills the ICMPv6 checksum of raw sockets
        s6.sendto(struct.pack("!BBHHH", 128, 0, 0, 0x4B1D, seq) + b"flowkit", (v6, 0))
        time.sleep(0.05)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"nobody listens", (v4, 9))
    deadline = time.time() + 2
    while time.time() < deadline:
        for s in (s4, s6):
            try:
                data, addr = s.recvfrom(2048)
            except socket.timeout:
                continue
            t = data[20] if s is s4 else data[0]
            got[t] = got.get(t, 0) + 1
        if got.get(0, 0) >= 2 and got.get(14, 0) >= 1 and got.get(129, 0) >= 2 and got.get(3, 0) >= 1:
            break
    print(" ".join("%d:%d" % kv for kv in sorted(got.items())))


main()
