#!/usr/bin/python3
"""Random nfdump-syntax flow filters over the addresses and ports of
tests/tools/ipfix_random.py's files, one per line (tests/cli/ipfix_query_fast.sh:
the query fast path's filter on raw records against the collector's path).

  random_filters.py --seed S --count N

Every primitive the raw form compiles (families, protocols, networks of
every prefix length, hosts, address lists, ports and port lists with every
comparator, counters, TOS, VLAN, interfaces, ICMP type and code, TCP flags,
the exporter), nested with and, or, not and parentheses."""
import argparse
import ipaddress
import random

V4 = ["10.0.0.1", "10.0.0.2", "10.9.8.7", "172.16.0.5", "192.0.2.1", "198.51.100.7", "0.0.0.0"]
V6 = ["2001:db8::1", "2001:db8::2", "2001:db8:ffff::9", "fd00::1", "::"]
PORTS = [0, 22, 53, 80, 443, 1024, 8080, 40000, 65535]
CMPS = ["", "= ", "> ", "< ", ">= ", "<= ", "gt ", "lt "]
DIRS = ["", "src ", "dst "]


def net(rnd):
    if rnd.random() < 0.5:
        a, bits = rnd.choice(V4), 32
    else:
        a, bits = rnd.choice(V6), 128
    n = rnd.choice([0, bits, bits // 2, rnd.randint(0, bits), 8, 24, 32])
    n = min(n, bits)
    return str(ipaddress.ip_network(f"{a}/{n}", strict=False))


def primitive(rnd):
    k = rnd.randrange(16)
    if k == 0:
        return rnd.choice(["ipv4", "ipv6", "inet", "inet6"])
    if k == 1:
        return "proto " + rnd.choice(["tcp", "udp", "icmp", "icmp6", "17", "0"])
    if k == 2:
        return f"{rnd.choice(DIRS)}net {net(rnd)}"
    if k == 3:
        return f"{rnd.choice(DIRS)}host {rnd.choice(V4 + V6)}"
    if k == 4:
        items = " ".join(rnd.choice([net(rnd), rnd.choice(V4 + V6)]) for _ in range(rnd.randint(1, 4)))
        return f"{rnd.choice(DIRS)}ip in [{items}]"
    if k == 5:
        return f"{rnd.choice(DIRS)}port {rnd.choice(CMPS)}{rnd.choice(PORTS)}"
    if k == 6:
        ports = " ".join(str(p) for p in rnd.sample(PORTS, rnd.randint(1, 4)))
        return f"{rnd.choice(DIRS)}port in [{ports}]"
    if k == 7:
        return f"{rnd.choice(['', 'in '])}{rnd.choice(['bytes', 'packets'])} {rnd.choice(CMPS)}" \
               f"{rnd.choice([0, 1, 100, 1000, '1k', '10m', 4096])}"
    if k == 8:
        return f"out bytes {rnd.choice(CMPS)}{rnd.choice([0, 1, 1000])}"
    if k == 9:
        return f"tos {rnd.choice([0, 1, 32])}"
    if k == 10:
        return f"vlan {rnd.choice([0, 1, 5, 4095])}"
    if k == 11:
        return f"{rnd.choice(['in ', 'out ', ''])}if {rnd.choice([0, 1, 2, 3])}"
    if k == 12:
        return f"icmp-{rnd.choice(['type', 'code'])} {rnd.choice([0, 3, 8, 128])}"
    if k == 13:
        return f"{rnd.choice(['', 'not '])}flags {rnd.choice(['S', 'A', 'AS', 'F', 'R', 'X'])}"
    if k == 14:
        return "any"
    return f"not {rnd.choice(DIRS)}net {net(rnd)}"


def expr(rnd, depth=0):
    if depth >= 3 or rnd.random() < 0.35:
        return primitive(rnd)
    a, b = expr(rnd, depth + 1), expr(rnd, depth + 1)
    return rnd.choice([f"{a} and {b}", f"{a} or {b}", f"not ({a}) and {b}", f"({a} or {b}) and not {a}"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=20)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    for _ in range(args.count):
        print(expr(rnd))


if __name__ == "__main__":
    main()
