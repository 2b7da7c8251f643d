#!/usr/bin/python3
"""Write a small pcap of known conversations for the collector interop tests
and print its ground truth as JSON lines, one per direction:
{"src_addr","dst_addr","src_port","dst_port","proto","bytes","packets",
 "start_ms","end_ms" (of the direction), "conv_start_ms","conv_end_ms"}.
Bytes are IP-layer bytes. Usage: collect_pcap.py OUT.pcap [--v4-only] [--base EPOCH]
(--base: time of the first packet, default 2026-11-23T12:00:00Z)."""
import json
import sys

from scapy.all import IP, TCP, UDP, Ether, IPv6, wrpcap

BASE = 1795435200.0  # 2026-11-23T12:00:00Z


def main():
    out = sys.argv[1]
    v4_only = "--v4-only" in sys.argv
    t = float(sys.argv[sys.argv.index("--base") + 1]) if "--base" in sys.argv else BASE
    pkts = []
    truth = {}

    def add(conv, key, pkt, gap=0.010):
        nonlocal t
        pkt.time = t
        pkts.append(pkt)
        ipl = len(pkt[IP]) if IP in pkt else len(pkt[IPv6])
        d = truth.setdefault(key, {"bytes": 0, "packets": 0, "start": t, "end": t,
                                   "conv": conv})
        d["bytes"] += ipl
        d["packets"] += 1
        d["end"] = t
        t += gap

    # TCP conversation: 5 packets out, 4 back.
    c, s = ("10.1.0.1", 40001), ("10.2.0.1", 80)
    k_out = (c[0], s[0], c[1], s[1], 6)
    k_in = (s[0], c[0], s[1], c[1], 6)
    seq = [(k_out, "S", 0), (k_in, "SA", 0), (k_out, "A", 0), (k_out, "PA", 300),
           (k_in, "PA", 1200), (k_in, "PA", 800), (k_out, "A", 0), (k_out, "FA", 0),
           (k_in, "FA", 0)]
    for key, flags, n in seq:
        src, dst, sp, dp, _ = key
        add("tcp1", key, Ether() / IP(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=flags)
            / (b"a" * n))
    # DNS-like UDP exchange.
    q = ("10.1.0.2", "10.2.0.53", 5353, 53, 17)
    r = ("10.2.0.53", "10.1.0.2", 53, 5353, 17)
    add("udp1", q, Ether() / IP(src=q[0], dst=q[1]) / UDP(sport=q[2], dport=q[3]) / (b"q" * 40))
    add("udp1", r, Ether() / IP(src=r[0], dst=r[1]) / UDP(sport=r[2], dport=r[3]) / (b"r" * 120))
    # One-way UDP stream, 6 packets.
    u = ("10.1.0.3", "10.2.0.3", 1234, 123, 17)
    for i in range(6):
        add("udp2", u, Ether() / IP(src=u[0], dst=u[1]) / UDP(sport=u[2], dport=u[3])
            / (b"u" * (50 + i)))
    # Second TCP conversation, one direction only (3 packets).
    k = ("10.1.0.4", "10.2.0.4", 40004, 443, 6)
    for flags in ("S", "A", "FA"):
        add("tcp2", k, Ether() / IP(src=k[0], dst=k[1]) / TCP(sport=k[2], dport=k[3],
                                                             flags=flags) / (b"t" * 100))
    if not v4_only:
        v6 = ("2001:db8::1", "2001:db8::2", 7000, 7001, 17)
        for i in range(3):
            add("udp6", v6, Ether() / IPv6(src=v6[0], dst=v6[1]) / UDP(sport=v6[2],
                                                                       dport=v6[3]) / (b"6" * 64))
    wrpcap(out, pkts)
    conv = {}
    for key, d in truth.items():
        cs, ce = conv.get(d["conv"], (d["start"], d["end"]))
        conv[d["conv"]] = (min(cs, d["start"]), max(ce, d["end"]))
    for key, d in sorted(truth.items()):
        cs, ce = conv[d["conv"]]
        print(json.dumps({"src_addr": key[0], "dst_addr": key[1], "src_port": key[2],
                          "dst_port": key[3], "proto": key[4], "bytes": d["bytes"],
                          "packets": d["packets"], "start_ms": round(d["start"] * 1000),
                          "end_ms": round(d["end"] * 1000), "conv_start_ms": round(cs * 1000),
                          "conv_end_ms": round(ce * 1000)}))


if __name__ == "__main__":
    main()
