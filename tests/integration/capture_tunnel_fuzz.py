#!/usr/bin/python3
"""Random VXLAN/GENEVE frames whose inner packets are valid or broken in
many ways (stdlib only, deterministic for a seed), for
capture_tunnel_parity.sh.

  capture_tunnel_fuzz.py IFACE SEED COUNT [outer]

Writes COUNT Ethernet frames on IFACE (AF_PACKET) to a MAC no host has
(the receiver drops them before IP, so nothing answers). Every outer
header is valid (IPv4, UDP to 4789 or 6081, source port 20000 + i, so a
datagram whose inner packet does not decode is a flow of its own); what
varies is the tunnel header and the inner packet. With "outer", the
random packets below are the frames themselves (0-9 VLAN tags on the
frame), and half their UDP datagrams carry VXLAN or GENEVE with a random
inner packet in turn, so the outer parsers meet every shape too:
  - VXLAN with or without its I flag; GENEVE of version 0 or 1, with 0-3
    words of options, carrying Ethernet, IPv4, IPv6 or another protocol;
  - 0-9 VLAN tags on the inner Ethernet frame;
  - inner IPv4 (options, fragments, a total length too long or too short)
    or IPv6 with 0-18 extension headers of every kind the decoders know
    (hop-by-hop also out of place, fragments first and later, AH), a
    payload length too long, too short or 0;
  - inner TCP, UDP, UDP-Lite, SCTP, ICMP, ICMPv6, no-next-header or an
    unknown protocol, whole or cut short.
"""
import random
import socket
import struct
import sys

EXT = [0, 43, 60, 44, 51, 135, 139, 140]
L4 = [6, 17, 136, 132, 58, 1, 59, 253]
L4_LEN = {6: 20, 17: 8, 136: 8, 132: 12, 58: 8, 1: 8, 59: 0, 253: 6}


def l4(rng, proto, sport, v6, tun=None):
    if tun is not None and proto == 17 and rng.random() < 0.5:
        dport, body = tun(rng, sport)
        body = struct.pack("!HHHH", sport, dport, 8 + len(body), 0) + body
    elif proto in (1, 58):
        body = struct.pack("!BBH", rng.choice([0, 8, 3, 128, 129, 135, 200]), rng.randrange(4), 0)
        body += bytes(4)
    elif proto == 6:
        body = struct.pack("!HHIIBBHHH", sport, 80, 1, 0, rng.choice([5, 5, 5, 4]) << 4,
                           rng.choice([0x02, 0x12, 0x10, 0x04, 0x11]), 0, 0, 0)
    elif proto == 59:
        body = b""
    else:
        body = struct.pack("!HH", sport, 7000 + proto) + bytes(L4_LEN[proto] - 4)
    body += bytes(rng.randrange(0, 24))
    if rng.random() < 0.1 and body:
        body = body[:rng.randrange(len(body))]  # cut short
    return body


def ipv6(rng, sport, tun=None):
    n = rng.choice([0, 1, 2, 3, 4, 5, 8, 15, 16, 17, 18])
    kinds = []
    for i in range(n):
        k = rng.choice(EXT)
        if k == 0 and i > 0 and rng.random() < 0.7:
            k = 60  # hop-by-hop out of place only sometimes
        kinds.append(k)
    proto = rng.choice(L4)
    frag_later = False
    hdrs = []
    for i, k in enumerate(kinds):
        nh = kinds[i + 1] if i + 1 < len(kinds) else proto
        if k == 44:
            later = rng.random() < 0.3
            frag_later = frag_later or later
            off = rng.randrange(1, 200) if later else 0
            hdrs.append(struct.pack("!BBHI", nh, 0, (off << 3) | rng.randrange(2),
                                    rng.randrange(1 << 32)))
        elif k == 51:
            words = rng.randrange(1, 6)  # AH: (len + 2) * 4 bytes
            hdrs.append(struct.pack("!BB", nh, words) + bytes((words + 2) * 4 - 2))
        else:
            units = rng.choice([0, 0, 1, 2])
            hdrs.append(struct.pack("!BBBB", nh, units, 1, (units + 1) * 8 - 4) +
                        bytes((units + 1) * 8 - 4))
    payload = b"".join(hdrs) + l4(rng, proto, sport, True, tun)
    if rng.random() < 0.08 and hdrs:  # a header length past the end
        j = rng.randrange(len(hdrs))
        at = sum(len(h) for h in hdrs[:j]) + 1
        payload = payload[:at] + bytes([rng.randrange(8, 256)]) + payload[at + 1:]
    plen = len(payload)
    r = rng.random()
    if r < 0.05:
        plen = 0
    elif r < 0.1:
        plen = max(0, plen - rng.randrange(1, 16))
    elif r < 0.15:
        plen += rng.randrange(1, 64)
    first = kinds[0] if kinds else proto
    return struct.pack("!IHBB16s16s", 0x60000000 | rng.randrange(1 << 20), plen, first, 64,
                       socket.inet_pton(socket.AF_INET6, "fd00:215::2"),
                       socket.inet_pton(socket.AF_INET6, "fd00:215::1")) + payload


def ipv4(rng, sport, tun=None):
    proto = rng.choice(L4[:6] + [253])
    opts = bytes(4 * rng.choice([0, 0, 1, 2]))
    ihl = 5 + len(opts) // 4
    r = rng.random()
    fword = 0
    if r < 0.15:
        fword = 0x2000  # first fragment
    elif r < 0.3:
        fword = rng.randrange(1, 0x1fff) | rng.choice([0, 0x2000])
    payload = l4(rng, proto, sport, False, tun)
    tot = ihl * 4 + len(payload)
    r = rng.random()
    if r < 0.05:
        tot = 0
    elif r < 0.1:
        tot = max(0, tot - rng.randrange(1, 30))
    elif r < 0.15:
        tot += rng.randrange(1, 64)
    if rng.random() < 0.03:
        ihl = rng.randrange(0, 5)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, rng.randrange(256), tot, rng.randrange(1 << 16),
                    fword, 64, proto, 0, socket.inet_aton("10.215.0.2"),
                    socket.inet_aton("10.215.0.1"))
    return h + opts + payload


def inner_eth(rng, ip, etype):
    tags = b""
    ntags = rng.choice([0, 0, 0, 1, 2, 3, 8, 9])
    for _ in range(ntags):
        tags += struct.pack("!HH", rng.choice([0x8100, 0x88a8, 0x9100]), rng.randrange(4096))
    # the ethertype after the tags: each tag's tpid is the type before it
    out = b"\x02\x00\x00\x00\x00\x0a\x02\x00\x00\x00\x00\x0b"
    if ntags:
        first = tags[0:2]
        out += first
        for i in range(ntags):
            vid = tags[4 * i + 2:4 * i + 4]
            nxt = tags[4 * (i + 1):4 * (i + 1) + 2] if i + 1 < ntags else struct.pack("!H", etype)
            out += vid + nxt
    else:
        out += struct.pack("!H", etype)
    return out + ip


def tunnel(rng, i):
    """(UDP destination port, VXLAN or GENEVE header and its random inner
    packet)."""
    sport = 30000 + i % 5000
    v6 = rng.random() < 0.7
    ip = ipv6(rng, sport) if v6 else ipv4(rng, sport)
    etype = 0x86dd if v6 else 0x0800
    if rng.random() < 0.03:
        etype = 0x0806  # not IP
    vni = rng.randrange(1 << 24)
    if rng.random() < 0.5:
        dport = 4789
        flags = 0x08 if rng.random() < 0.93 else 0x00
        tun = struct.pack("!BBHI", flags, 0, 0, vni << 8) + inner_eth(rng, ip, etype)
    else:
        dport = 6081
        ver = 0 if rng.random() < 0.93 else 1
        optw = rng.choice([0, 0, 1, 3])
        r = rng.random()
        if r < 0.6:
            ptype, body = 0x6558, inner_eth(rng, ip, etype)
        elif r < 0.95:
            ptype, body = etype, ip
        else:
            ptype, body = 0x88cc, ip
        tun = struct.pack("!BBHI", ver << 6 | optw, 0, ptype, vni << 8) + bytes(4 * optw) + body
    if rng.random() < 0.05:
        tun = tun[:rng.randrange(len(tun))]  # the datagram itself cut short
    return dport, tun


def frame(rng, i, me, src4, dst4):
    dport, tun = tunnel(rng, i)
    udp = struct.pack("!HHHH", 20000 + i, dport, 8 + len(tun), 0) + tun
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                    socket.inet_aton(src4), socket.inet_aton(dst4))
    return b"\x02\x00\x00\x00\x00\x99" + me + b"\x08\x00" + h + udp


def outer_frame(rng, i, me):
    """A random IPv4/IPv6 packet (as an inner one, tunnels inside its UDP
    datagrams) as the frame itself, after 0-9 VLAN tags."""
    v6 = rng.random() < 0.7
    ip = ipv6(rng, 40000 + i, tunnel) if v6 else ipv4(rng, 40000 + i, tunnel)
    etype = 0x86dd if v6 else 0x0800
    if rng.random() < 0.03:
        etype = 0x0806  # not IP
    return b"\x02\x00\x00\x00\x00\x99" + me + inner_eth(rng, ip, etype)[12:]


def main():
    ifc, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    outer = len(sys.argv) > 4 and sys.argv[4] == "outer"
    rng = random.Random(seed)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifc, 0))
    me = s.getsockname()[4]
    for i in range(count):
        if outer:
            s.send(outer_frame(rng, i, me))
        else:
            s.send(frame(rng, i, me, "10.216.0.2", "10.216.0.1"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
