#!/usr/bin/python3
"""Inner packets with IPv6 extension headers and fragments, sent over a
real kernel vxlan device (stdlib only), for capture_tunnel_ext.sh.

  capture_tunnel_ext.py frames VXDEV DST_MAC SRC6 DST6
      Ethernet frames written on VXDEV (AF_PACKET): the kernel's vxlan
      device wraps each in VXLAN. Every one goes from SRC6 to DST6; their
      checksums are left 0, so the receiver drops them without a reply.
        1. UDP 41001 -> 7001, 20 data bytes, after hop-by-hop (8),
           routing (24) and destination options (16): 3 packets of 116 IP
           bytes;
        2. ICMPv6 type 200 code 7 (private, silently discarded), 4 data
           bytes, after destination options (8): 2 packets of 56 bytes;
        3. TCP RST 41003 -> 7003 after a routing header (8): 1 packet of 68;
        4. UDP 41004 -> 7004 of 40 data bytes, in 3 fragments behind a
           hop-by-hop header (24, 16 and 8 bytes of the fragmentable part),
           sent in the order 2, 1, 3: 80, 72 and 64 IP bytes;
        5. UDP 41005 -> 7005, 4 data bytes, after 16 extension headers
           (hop-by-hop, then 15 destination options): 1 packet of 180;
        6. three inner packets that do not decode, each counted as its outer
           datagram: 17 extension headers (UDP 41006), hop-by-hop after
           destination options (UDP 41007), and destination options whose
           length runs past the datagram (UDP 41008).
  capture_tunnel_ext.py kernel SRC4 DST4 SRC6 DST6 BYTES
      Datagrams of BYTES data bytes that the kernel fragments itself: UDP
      41010 -> 7010 over IPv4, and UDP 41011 -> 7011 over IPv6 with a
      hop-by-hop header (8 bytes, set on the socket) in every fragment.
  capture_tunnel_ext.py plain VXDEV DST_MAC SRC6 DST6 COUNT
      COUNT frames of item 1 (UDP 41001 -> 7001), for the tail-call check.
"""
import socket
import struct
import sys

HBH, ROUTING, FRAG, DSTOPTS, UDP, TCP, ICMP6 = 0, 43, 44, 60, 17, 6, 58


def ext(nh, length, kind):
    """An extension header of `length` bytes (a multiple of 8) of kind
    (HBH/DSTOPTS: PadN; ROUTING: type 0 with no segment left)."""
    body = length - 2
    if kind == ROUTING:
        return struct.pack("!BBBB", nh, length // 8 - 1, 0, 0) + bytes(body - 2)
    return struct.pack("!BBBB", nh, length // 8 - 1, 1, body - 2) + bytes(body - 2)


def chain(kinds, lengths, last):
    """Extension headers of kinds/lengths, in order, the last one before `last`."""
    out = b""
    for i, (k, ln) in enumerate(zip(kinds, lengths)):
        nh = kinds[i + 1] if i + 1 < len(kinds) else last
        out += ext(nh, ln, k)
    return out


def ipv6(src, dst, first_nh, payload, plen=None):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload) if plen is None else plen,
                       first_nh, 64, socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def frames(dev, mac, src, dst):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    me = s.getsockname()[4]
    to = bytes.fromhex(mac.replace(":", ""))

    def send(ip):
        s.send(to + me + b"\x86\xdd" + ip)

    # 1: hop-by-hop, routing, destination options
    kinds = [HBH, ROUTING, DSTOPTS]
    for _ in range(3):
        send(ipv6(src, dst, HBH, chain(kinds, [8, 24, 16], UDP) + udp(41001, 7001, b"a" * 20)))
    # 2: ICMPv6 behind destination options
    for _ in range(2):
        send(ipv6(src, dst, DSTOPTS, ext(ICMP6, 8, DSTOPTS) + struct.pack("!BBHI", 200, 7, 0, 1)))
    # 3: TCP RST behind a routing header
    tcp = struct.pack("!HHIIBBHHH", 41003, 7003, 1, 0, 5 << 4, 0x04, 0, 0, 0)
    send(ipv6(src, dst, ROUTING, ext(TCP, 8, ROUTING) + tcp))
    # 4: fragments behind hop-by-hop, out of order
    dgram = udp(41004, 7004, b"f" * 40)
    parts = [(0, True, dgram[:24]), (3, True, dgram[24:40]), (5, False, dgram[40:])]
    for i in (1, 0, 2):
        off8, more, chunk = parts[i]
        fh = struct.pack("!BBHI", UDP, 0, (off8 << 3) | (1 if more else 0), 0x5151)
        send(ipv6(src, dst, HBH, ext(FRAG, 8, HBH) + fh + chunk))
    # 5: 16 extension headers
    kinds = [HBH] + [DSTOPTS] * 15
    send(ipv6(src, dst, HBH, chain(kinds, [8] * 16, UDP) + udp(41005, 7005, b"x" * 4)))
    # 6: three that do not decode
    kinds = [HBH] + [DSTOPTS] * 16
    send(ipv6(src, dst, HBH, chain(kinds, [8] * 17, UDP) + udp(41006, 7006, b"y" * 4)))
    send(ipv6(src, dst, DSTOPTS, chain([DSTOPTS, HBH], [8, 8], UDP) + udp(41007, 7007, b"z" * 4)))
    bad = ext(UDP, 8, DSTOPTS)
    bad = bad[:1] + b"\x07" + bad[2:]  # 64 bytes long, the datagram has 20 after it
    send(ipv6(src, dst, DSTOPTS, bad + udp(41008, 7008, b"w" * 4)))


def kernel(src4, dst4, src6, dst6, nbytes):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src4, 41010))
    s.sendto(b"k" * nbytes, (dst4, 7010))
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s6.bind((src6, 41011))
    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, ext(0, 8, HBH))
    s6.sendto(b"K" * nbytes, (dst6, 7011))


def plain(dev, mac, src, dst, count):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    me = s.getsockname()[4]
    to = bytes.fromhex(mac.replace(":", ""))
    kinds = [HBH, ROUTING, DSTOPTS]
    for _ in range(count):
        s.send(to + me + b"\x86\xdd" +
               ipv6(src, dst, HBH, chain(kinds, [8, 24, 16], UDP) + udp(41001, 7001, b"a" * 20)))


def main():
    what = sys.argv[1]
    if what == "frames":
        frames(*sys.argv[2:6])
    elif what == "kernel":
        kernel(*sys.argv[2:6], int(sys.argv[6]))
    elif what == "plain":
        plain(*sys.argv[2:6], int(sys.argv[6]))
    else:
        sys.exit("unknown mode " + what)
    return 0


if __name__ == "__main__":
    sys.exit(main())
