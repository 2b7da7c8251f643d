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
