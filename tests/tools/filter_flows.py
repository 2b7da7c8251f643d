#!/usr/bin/python3
"""Deterministic IPFIX flows for the filter and query tests (nfdump parity).

  filter_flows.py OUT.ipfix [--count N] [--seed S] [--send PORT] [--start EPOCH]

Writes N flow records (IPv4 TCP/UDP/ICMP, IPv6 TCP/UDP) as concatenated IPFIX
messages to OUT.ipfix (flowkit-ipfix reads such raw files) and, with --send,
sends every message as one UDP datagram to 127.0.0.1:PORT (nfcapd). Every
record has a distinct 5-tuple, so record sets can be compared by key.
Addresses come from small pools (10.0.0.0/8, 172.16.0.0/12, 192.0.2.0/24,
2001:db8::/32) so net, host and statistics queries have several hits; byte
counts span 40 B to ~5 GB so k/M/G comparisons split them. Ground truth
(one JSON object per record) goes to stdout."""
import argparse
import ipaddress
import json
import random
import socket
import struct
import time

# (id, length) of each template's fields
T4 = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (5, 1), (10, 4), (14, 4),
      (1, 8), (2, 8), (152, 8), (153, 8)]
T6 = [(27, 16), (28, 16), (7, 2), (11, 2), (4, 1), (6, 1), (5, 1), (10, 4), (14, 4),
      (1, 8), (2, 8), (152, 8), (153, 8)]
T4ICMP = [(8, 4), (12, 4), (32, 2), (4, 1), (5, 1), (10, 4), (14, 4),
          (1, 8), (2, 8), (152, 8), (153, 8)]
TEMPLATES = {256: T4, 257: T6, 258: T4ICMP}

V4_POOL = ["10.0.0.1", "10.0.0.2", "10.1.2.3", "10.200.0.9", "172.16.0.5", "172.31.255.1",
           "192.0.2.1", "192.0.2.80", "192.0.2.200", "198.51.100.7"]
V6_POOL = ["2001:db8::1", "2001:db8::2", "2001:db8:1::53", "2001:db8:ffff::9", "fd00::1"]
PORTS = [22, 53, 80, 123, 443, 8080, 1024, 1025, 5353, 40000, 51000, 65535]


def template_set():
    body = b""
    for tid, fields in TEMPLATES.items():
        body += struct.pack("!HH", tid, len(fields))
        for ie, ln in fields:
            body += struct.pack("!HH", ie, ln)
    return struct.pack("!HH", 2, 4 + len(body)) + body


def encode(fields, rec):
    out = b""
    for ie, ln in fields:
        v = rec[ie]
        if isinstance(v, bytes):
            out += v
        else:
            out += v.to_bytes(ln, "big")
    return out


def make(count, seed, start_ms):
    rnd = random.Random(seed)
    seen = set()
    flows = []
    while len(flows) < count:
        kind = rnd.choice(["t4", "t4", "u4", "t6", "u6", "i4"])
        v6 = kind.endswith("6")
        pool = V6_POOL if v6 else V4_POOL
        src, dst = rnd.choice(pool), rnd.choice(pool)
        proto = {"t": 6, "u": 17, "i": 1}[kind[0]]
        if proto == 1:
            sp, dp = 0, rnd.choice([0, 3 * 256 + 1, 3 * 256 + 3, 8 * 256, 11 * 256])
        else:
            sp = rnd.choice(PORTS + [rnd.randrange(1, 65536)])
            dp = rnd.choice(PORTS + [rnd.randrange(1, 65536)])
        key = (src, dst, sp, dp, proto)
        if key in seen:
            continue
        seen.add(key)
        packets = rnd.choice([1, 2, 10, 999, 1000, 1001, 5000, 2000000])
        bpp = rnd.choice([40, 64, 100, 576, 1000, 1024, 1500])
        byts = packets * bpp + rnd.choice([0, 0, 1, 24])
        st = start_ms + rnd.randrange(0, 3600 * 1000)
        en = st + rnd.choice([0, 1, 999, 1000, 1500, 60000, 300000])
        flags = rnd.choice([0x02, 0x12, 0x10, 0x11, 0x18, 0x1b, 0x04, 0x14, 0x3f]) if proto == 6 else 0
        flows.append(dict(src=src, dst=dst, sp=sp, dp=dp, proto=proto, bytes=byts, packets=packets,
                          start=st, end=en, flags=flags, tos=rnd.choice([0, 0, 8, 32, 184]),
                          in_if=rnd.choice([1, 2, 3]), out_if=rnd.choice([0, 2, 7])))
    return flows


def record(f):
    v6 = ":" in f["src"]
    a = lambda s: ipaddress.ip_address(s).packed
    rec = {7: f["sp"], 11: f["dp"], 4: f["proto"], 6: f["flags"], 5: f["tos"], 10: f["in_if"],
           14: f["out_if"], 1: f["bytes"], 2: f["packets"], 152: f["start"], 153: f["end"]}
    if v6:
        rec.update({27: a(f["src"]), 28: a(f["dst"])})
        return 257, encode(T6, rec)
    rec.update({8: a(f["src"]), 12: a(f["dst"])})
    if f["proto"] == 1:
        rec[32] = f["dp"]
        return 258, encode(T4ICMP, rec)
    return 256, encode(T4, rec)


def messages(flows, export_s):
    seq = 0
    per_msg = 20
    for i in range(0, len(flows), per_msg):
        chunk = flows[i:i + per_msg]
        sets = {}
        for f in chunk:
            tid, data = record(f)
            sets.setdefault(tid, b"")
            sets[tid] += data
        body = template_set()
        for tid, data in sets.items():
            body += struct.pack("!HH", tid, 4 + len(data)) + data
        hdr = struct.pack("!HHIII", 10, 16 + len(body), export_s, seq, 1)
        seq += len(chunk)
        yield hdr + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--send", type=int)
    ap.add_argument("--start", type=int, default=1767225600)  # 2026-01-01T00:00:00Z
    args = ap.parse_args()
    flows = make(args.count, args.seed, args.start * 1000)
    msgs = list(messages(flows, args.start + 7200))
    with open(args.out, "wb") as fh:
        for m in msgs:
            fh.write(m)
    if args.send:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for m in msgs:
            s.sendto(m, ("127.0.0.1", args.send))
            time.sleep(0.002)  # paced: nfcapd's socket buffer is small
    for f in flows:
        print(json.dumps(f))


if __name__ == "__main__":
    main()
