#!/usr/bin/python3
"""Write the examples' trace: one TCP session 10.0.0.1:40000 -> 10.0.0.2:80
(handshake, 5 bytes of data, both FINs; 8 packets 1 ms apart from
2023-11-14 22:13:20 UTC) as a classic pcap with Ethernet frames.

Usage: tcp_session_pcap.py OUT.pcap"""
import struct
import sys

CLIENT, SERVER = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
CPORT, SPORT = 40000, 80
START = 1700000000

# (from client?, seq, ack, flags, payload)
PACKETS = [
    (True, 100, 0, 0x02, b""),
    (False, 500, 101, 0x12, b""),
    (True, 101, 501, 0x10, b""),
    (True, 101, 501, 0x18, b"hello"),
    (False, 501, 106, 0x10, b""),
    (True, 106, 501, 0x11, b""),
    (False, 501, 107, 0x11, b""),
    (True, 107, 502, 0x10, b""),
]


def ip_checksum(hdr):
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(from_client, seq, ack, flags, payload):
    src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
    sport, dport = (CPORT, SPORT) if from_client else (SPORT, CPORT)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    # The same two made-up MACs on every frame: nothing reads them.
    eth = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"
    return eth + ip + tcp


def main():
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for i, p in enumerate(PACKETS):
        f = frame(*p)
        out += struct.pack("<IIII", START, i * 1000, len(f), len(f)) + f
    with open(sys.argv[1], "wb") as fh:
        fh.write(out)


if __name__ == "__main__":
    main()
