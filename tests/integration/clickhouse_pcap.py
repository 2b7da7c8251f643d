#!/usr/bin/python3
"""Write the pcap one "site" (exporter) sees for the ClickHouse test and print
its ground truth as JSON lines, one per flow direction:
{"src_addr","dst_addr","src_port","dst_port","proto","bytes","packets",
 "tcp_flags","conv_start_ms","conv_end_ms"}  (bytes at the IP layer).

Usage: clickhouse_pcap.py OUT.pcap SITE [--bulk N [--bulk-base B]]
Site 1 and 2 have their own clients (10.SITE.0.x) talking to shared servers
(10.9.0.x), so one server's peers come from both exporters. Site 1 has a
scanner sending 12 unanswered SYNs, site 2 one sending 3. --bulk N instead
writes N one-packet UDP flows (for volume and fault tests)."""
import argparse
import json

from scapy.all import IP, TCP, UDP, Ether, IPv6, wrpcap

BASE = 1795435200.0  # 2026-11-23T12:00:00Z
FLAGS = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("site", type=int)
    ap.add_argument("--bulk", type=int, default=0)
    ap.add_argument("--bulk-base", type=int, default=0)
    a = ap.parse_args()
    s = a.site
    pkts = []
    truth = {}
    conv_times = {}

    def add(conv, key, pkt, t):
        pkt.time = t
        pkts.append(pkt)
        ipl = len(pkt[IP]) if IP in pkt else len(pkt[IPv6])
        d = truth.setdefault(key, {"bytes": 0, "packets": 0, "tcp_flags": 0, "conv": conv})
        d["bytes"] += ipl
        d["packets"] += 1
        if TCP in pkt:
            d["tcp_flags"] |= sum(FLAGS[c] for c in str(pkt[TCP].flags) if c in FLAGS)
        ct = conv_times.setdefault(conv, [t, t])
        ct[0] = min(ct[0], t)
        ct[1] = max(ct[1], t)

    if a.bulk:
        t = BASE + 300 + s
        for i in range(a.bulk):
            n = a.bulk_base + i
            src = f"10.{100 + s}.{n // 250 % 250}.{n % 250 + 1}"
            key = (src, "10.9.1.1", 10000 + n % 50000, 9000, 17)
            add(("bulk", i), key,
                Ether() / IP(src=key[0], dst=key[1]) / UDP(sport=key[2], dport=key[3])
                / (b"b" * (20 + i % 100)), t)
            t += 0.001
    else:
        base = BASE + 7 * s
        for j in range(4):  # TCP conversations, one every 25 s
            t = base + 25 * j
            c = (f"10.{s}.0.{j + 1}", 40000 + j)
            v = (f"10.9.0.{j % 3 + 1}", 80)
            up, down = (c[0], v[0], c[1], v[1], 6), (v[0], c[0], v[1], c[1], 6)
            seq = [(up, "S", 0), (down, "SA", 0), (up, "A", 0), (up, "PA", 100 * (j + 1) * s),
                   (down, "PA", 500 * (j + 1)), (up, "FA", 0), (down, "FA", 0), (up, "A", 0)]
            for k, (key, fl, n) in enumerate(seq):
                add(("tcp", j), key, Ether() / IP(src=key[0], dst=key[1])
                    / TCP(sport=key[2], dport=key[3], flags=fl) / (b"x" * n), t + 0.01 * k)
        q = (f"10.{s}.0.9", "10.9.0.53", 5353, 53, 17)
        r = ("10.9.0.53", q[0], 53, 5353, 17)
        add("dns", q, Ether() / IP(src=q[0], dst=q[1]) / UDP(sport=q[2], dport=q[3]) / (b"q" * 40),
            base + 50)
        add("dns", r, Ether() / IP(src=r[0], dst=r[1]) / UDP(sport=r[2], dport=r[3]) / (b"r" * 120),
            base + 50.02)
        attempts = 12 if s == 1 else 3  # unanswered SYNs to distinct ports
        for k in range(attempts):
            key = (f"10.66.0.{s}", f"10.9.0.{s}", 33000 + k, 1000 + k, 6)
            add(("scan", k), key, Ether() / IP(src=key[0], dst=key[1])
                / TCP(sport=key[2], dport=key[3], flags="S"), base + 100 + 0.1 * k)
        six = (f"2001:db8::{s}", "2001:db8::99", 7000, 7001, 17)
        for k in range(3):
            add("v6", six, Ether() / IPv6(src=six[0], dst=six[1]) / UDP(sport=six[2], dport=six[3])
                / (b"6" * 60), base + 110 + 0.01 * k)
    pkts.sort(key=lambda p: p.time)
    wrpcap(a.out, pkts)
    for key, d in truth.items():
        ct = conv_times[d["conv"]]
        print(json.dumps({"src_addr": key[0], "dst_addr": key[1], "src_port": key[2],
                          "dst_port": key[3], "proto": key[4], "bytes": d["bytes"],
                          "packets": d["packets"], "tcp_flags": d["tcp_flags"],
                          "conv_start_ms": round(ct[0] * 1000), "conv_end_ms": round(ct[1] * 1000)}))


if __name__ == "__main__":
    main()
