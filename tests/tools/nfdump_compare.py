#!/usr/bin/python3
"""Compare flow record sets: nfdump's `-o json` against flowkit's JSON lines.

  nfdump_compare.py records NFDUMP.json FLOWKIT.jsonl
      Both hold the records one filter selected. Exit 0 when the two sets of
      (src, dst, src port, dst port, proto, bytes, packets) are equal, else
      print the difference and exit 1. Prints the count on success.
  nfdump_compare.py stat NFDUMP.csv FLOWKIT.jsonl STAT ORDER
      NFDUMP.csv is `nfdump -s STAT/ORDER -o csv`, FLOWKIT.jsonl is
      `flowkit-ipfix -s STAT/ORDER -o json`: the rows (value, flows, packets,
      bytes) must be the same set, and the ORDER counter must fall in the same
      sequence (ties may list different values).
  nfdump_compare.py agg NFDUMP.txt FLOWKIT.jsonl KEYS
      NFDUMP.txt is `nfdump -A KEYS -N -q -o fmt:%sa|%sp|%da|%dp|%pr|%fl|%pkt|%byt`,
      FLOWKIT.jsonl `flowkit-ipfix -A KEYS -o json`: the same set of
      (keys, flows, packets, bytes).
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


STAT_KEYS = {"srcip": "src_addr", "dstip": "dst_addr", "ip": "addr", "srcport": "src_port",
             "dstport": "dst_port", "port": "port", "proto": "proto"}


def value(v):
    v = str(v).strip()
    try:
        return norm(v)
    except ValueError:
        return int(v)


def nfdump_stat(path):
    rows = []
    lines = open(path).read().splitlines()
    for line in lines[1:]:
        if not line.strip() or line.startswith("Summary"):
            break
        c = line.split(",")
        rows.append((value(c[4]), int(c[5]), int(c[7]), int(c[9])))
    return rows


def flowkit_stat(path, stat):
    rows = []
    for line in open(path):
        r = json.loads(line)
        if r.get("type") == "stat":
            rows.append((value(r[STAT_KEYS[stat]]), r["flows"], r["packets"], r["bytes"]))
    return rows


AGG = {"srcip": 0, "srcport": 1, "dstip": 2, "dstport": 3, "proto": 4}
AGG_JSON = {"srcip": "src_addr", "srcport": "src_port", "dstip": "dst_addr", "dstport": "dst_port",
            "proto": "proto"}


def nfdump_agg(path, keys):
    out = set()
    for line in open(path):
        c = [x.strip() for x in line.split("|")]
        if len(c) != 8:
            continue
        out.add(tuple(value(c[AGG[k]]) for k in keys) + (int(c[5]), int(c[6]), int(c[7])))
    return out


def flowkit_agg(path, keys):
    out = set()
    for line in open(path):
        r = json.loads(line)
        if r.get("type") == "aggregate":
            out.add(tuple(value(r[AGG_JSON[k]]) for k in keys) + (r["flows"], r["packets"], r["bytes"]))
    return out


def diff(a, b):
    if a == b:
        print(len(a))
        return 0
    for k in sorted(a - b, key=str)[:5]:
        print("  only nfdump: ", k)
    for k in sorted(b - a, key=str)[:5]:
        print("  only flowkit:", k)
    print("  nfdump %d rows, flowkit %d" % (len(a), len(b)))
    return 1


def main():
    if sys.argv[1] == "stat":
        a, b = nfdump_stat(sys.argv[2]), flowkit_stat(sys.argv[3], sys.argv[4])
        col = {"flows": 1, "packets": 2, "bytes": 3}[sys.argv[5]]
        if [r[col] for r in a] != [r[col] for r in b]:
            print("  %s sequence differs: nfdump %s, flowkit %s" % (
                sys.argv[5], [r[col] for r in a][:10], [r[col] for r in b][:10]))
            return 1
        return diff(set(a), set(b))
    if sys.argv[1] == "agg":
        keys = sys.argv[4].split(",")
        return diff(nfdump_agg(sys.argv[2], keys), flowkit_agg(sys.argv[3], keys))
    if sys.argv[1] == "keys":
        for k in sorted(nfdump_records(sys.argv[2])):
            print(k)
        return 0
    return diff(nfdump_records(sys.argv[2]), flowkit_records(sys.argv[3]))


if __name__ == "__main__":
    sys.exit(main())
