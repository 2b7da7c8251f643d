#!/usr/bin/python3
"""Raw IP fragments in a chosen order (stdlib only), for
capture_fragments.sh.

  capture_frags.py IFACE DST_MAC C4 H4 O4 X4 C6 H6 NFRAG

Written as Ethernet frames on IFACE (AF_PACKET) to DST_MAC:
  1. C4 -> H4 and C6 -> H6: one UDP datagram 4001 -> 5001 of 40 data bytes
     in 3 fragments (24, 16 and 8 bytes of the IP payload), sent in the
     order 2, 1, 3;
  2. C6 -> H6: a UDP datagram 4002 -> 5002 of 32 data bytes whose
     fragmentable part starts with a destination options header, in 2
     fragments (32 and 16 bytes) in order: both fragment headers name
     destination options (60), not UDP, as next header;
  3. O4 -> X4: NFRAG UDP datagrams 6000 -> 7000 of 8 data bytes, ids 1..NFRAG,
     each in 2 fragments (16 bytes, then 8): every first fragment, then
     every last fragment, in the same order. X4 is an address of the
     veth's subnet that no one owns: the host routes these fragments away
     instead of holding them for reassembly, so its reassembly memory
     (ipfrag_high_thresh, per netns) is not left full for 30 s (ipfrag_time)
     and the tests after this one can still send fragmented datagrams to it.
"""
import socket
import struct
import sys


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF


def v4_frag(src, dst, ident, off8, more, payload):
    fword = (0x2000 if more else 0) | off8
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, fword, 64, 17, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return b"\x08\x00", h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def v6_frag(src, dst, ident, off8, more, payload, nh=17):
    fh = struct.pack("!BBHI", nh, 0, (off8 << 3) | (1 if more else 0), ident)
    h = struct.pack("!IHBB16s16s", 0x60000000, 8 + len(payload), 44, 64,
                    socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return b"\x86\xdd", h + fh + payload


def main():
    ifc, mac, c4, h4, o4, x4, c6, h6, nfrag = sys.argv[1:10]
    nfrag = int(nfrag)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifc, 0))
    dst = bytes.fromhex(mac.replace(":", ""))
    me = s.getsockname()[4]

    def send(frame):
        etype, ip = frame
        s.send(dst + me + etype + ip)

    udp = struct.pack("!HHHH", 4001, 5001, 8 + 40, 0) + b"d" * 40
    for make, src, dst_ip in ((v4_frag, c4, h4), (v6_frag, c6, h6)):
        parts = [make(src, dst_ip, 0x4242, 0, True, udp[:24]),
                 make(src, dst_ip, 0x4242, 3, True, udp[24:40]),
                 make(src, dst_ip, 0x4242, 5, False, udp[40:])]
        for i in (1, 0, 2):
            send(parts[i])
    part = struct.pack("!BBBB", 17, 0, 1, 4) + bytes(4)  # destination options (PadN), then UDP
    part += struct.pack("!HHHH", 4002, 5002, 8 + 32, 0) + b"e" * 32
    send(v6_frag(c6, h6, 0x4343, 0, True, part[:32], nh=60))
    send(v6_frag(c6, h6, 0x4343, 4, False, part[32:], nh=60))
    for i in range(1, nfrag + 1):
        send(v4_frag(o4, x4, i, 0, True, struct.pack("!HHHH", 6000, 7000, 16, 0) + b"o" * 8))
    for i in range(1, nfrag + 1):
        send(v4_frag(o4, x4, i, 2, False, b"p" * 8))
    return 0


if __name__ == "__main__":
    sys.exit(main())
