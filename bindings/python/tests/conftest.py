"""Shared helpers for the binding tests (run by scripts/test with
FLOWKIT_LIBRARY and PYTHONPATH set)."""

import os
import struct

import pytest

import flowkit


def need(*functions):
    """Skip the calling test when the loaded library lacks a function
    (a module not merged yet); the reason names what is missing."""
    missing = [f for f in functions if not flowkit.available(f)]
    if missing:
        pytest.skip(f"{flowkit.library_path()} lacks {', '.join(missing)}")


def source_dir():
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def netflow_v5(records, unix_secs=1700000000, uptime_ms=100000, seq=0, sampling=0):
    """A NetFlow v5 datagram (RFC-less but fixed Cisco format) built by hand.
    records: dicts with src, dst (dotted), sport, dport, proto, packets,
    octets, first_ms, last_ms (sysUptime), in_if, out_if, flags."""
    hdr = struct.pack(
        "!HHIIIIBBH", 5, len(records), uptime_ms, unix_secs, 0, seq, 0, 0, sampling
    )
    body = b""
    for r in records:
        body += struct.pack(
            "!4s4s4sHHIIIIHHBBBBHHBBH",
            bytes(int(x) for x in r["src"].split(".")),
            bytes(int(x) for x in r["dst"].split(".")),
            b"\0\0\0\0",
            r.get("in_if", 0),
            r.get("out_if", 0),
            r["packets"],
            r["octets"],
            r["first_ms"],
            r["last_ms"],
            r["sport"],
            r["dport"],
            0,
            r.get("flags", 0),
            r["proto"],
            0,
            0,
            0,
            0,
            0,
            0,
        )
    return hdr + body


def _ip_checksum(hdr):
    s = sum(struct.unpack(f"!{len(hdr) // 2}H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp_packet(src, dst, sport, dport, flags, payload=b"", seq=0, ack=0):
    """An Ethernet + IPv4 + TCP frame (flags: S, A, F, R, P letters)."""
    bits = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}
    f = sum(bits[c] for c in flags)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, f, 65535, 0, 0) + payload
    total = 20 + len(tcp)
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        total,
        1,
        0,
        64,
        6,
        0,
        bytes(int(x) for x in src.split(".")),
        bytes(int(x) for x in dst.split(".")),
    )
    ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"
    return eth + ip + tcp


def write_pcap(path, packets):
    """packets: list of (time_ns, frame). Writes a microsecond pcap (Ethernet)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for t, frame in packets:
            f.write(struct.pack("<IIII", t // 10**9, (t % 10**9) // 1000, len(frame), len(frame)))
            f.write(frame)


def tcp_conversation(t0=1_700_000_000_000_000_000, payload=b"hello"):
    """A complete TCP session 10.0.0.1:40000 -> 10.0.0.2:80 with data and FINs."""
    a, b = "10.0.0.1", "10.0.0.2"
    ms = 1_000_000
    return [
        (t0, tcp_packet(a, b, 40000, 80, "S", seq=100)),
        (t0 + 1 * ms, tcp_packet(b, a, 80, 40000, "SA", seq=500, ack=101)),
        (t0 + 2 * ms, tcp_packet(a, b, 40000, 80, "A", seq=101, ack=501)),
        (t0 + 3 * ms, tcp_packet(a, b, 40000, 80, "PA", payload, seq=101, ack=501)),
        (t0 + 4 * ms, tcp_packet(b, a, 80, 40000, "A", seq=501, ack=101 + len(payload))),
        (t0 + 5 * ms, tcp_packet(a, b, 40000, 80, "FA", seq=101 + len(payload), ack=501)),
        (t0 + 6 * ms, tcp_packet(b, a, 80, 40000, "FA", seq=501, ack=102 + len(payload))),
        (t0 + 7 * ms, tcp_packet(a, b, 40000, 80, "A", seq=102 + len(payload), ack=502)),
    ]
