#!/usr/bin/python3
"""Compare flow record sets: nfdump's `-o json` against flowkit's JSON lines.

  nfdump_compare.py records NFDUMP.json FLOWKIT.jsonl
      Both hold the records one filter selected. Exit 0 when the two sets of
      (src, dst, src port, dst port, proto, bytes, packets) are equal, else
      print the difference and exit 1. Prints the count on success.
  nfdump_compare.py keys NFDUMP.json
      Print the keys, one a line (for debugging)."""
import ipaddress
import json
import sys


def norm(a):
    return str(ipaddress.ip_address(a))


def nfdump_records(path):
    text = open(path).read()
    text = text.replace("No matching flows", "")
    data = json.loads(text) if text.strip() else []
    out = set()
    for r in data:
        if r.get("type") != "FLOW":
            continue
        src = r.get("src4_addr") or r.get("src6_addr")
        dst = r.get("dst4_addr") or r.get("dst6_addr")
        proto = r["proto"]
        if "icmp_type" in r:
            sp, dp = 0, r["icmp_type"] * 256 + r["icmp_code"]
        else:
            sp, dp = r.get("src_port", 0), r.get("dst_port", 0)
        out.add((norm(src), norm(dst), sp, dp, proto, r["in_bytes"], r["in_packets"]))
    return out


def flowkit_records(path):
    out = set()
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if r.get("type") != "flow":
            continue
        out.add((norm(r["src_addr"]), norm(r["dst_addr"]), r["src_port"], r["dst_port"], r["proto"],
                 r["bytes"], r["packets"]))
    return out


def main():
    if sys.argv[1] == "keys":
        for k in sorted(nfdump_records(sys.argv[2])):
            print(k)
        return 0
    a = nfdump_records(sys.argv[2])
    b = flowkit_records(sys.argv[3])
    if a == b:
        print(len(a))
        return 0
    for k in sorted(a - b)[:5]:
        print("  only nfdump: ", k)
    for k in sorted(b - a)[:5]:
        print("  only flowkit:", k)
    print("  nfdump %d records, flowkit %d" % (len(a), len(b)))
    return 1


if __name__ == "__main__":
    sys.exit(main())
