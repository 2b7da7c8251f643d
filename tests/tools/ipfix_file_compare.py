#!/usr/bin/python3
"""Compare the flows of two flowkit-ipfix outputs (JSON lines) as an
ipfix: file keeps them: the same multiset of flows, compared on the keys
the collector's own file layout stores (a key the file lacks counts as 0
for in_if, out_if, sampling, end_reason, tcp_flags and the reverse
counters, as flowkit-ipfix prints a file written without them).
Usage: ipfix_file_compare.py A.jsonl B.jsonl   (exit 1 and the first
differences when they differ; prints the number of flows when equal)."""
import collections
import json
import sys

KEYS = ["src_addr", "dst_addr", "src_port", "dst_port", "proto", "bytes", "packets", "start",
        "end", "exporter", "odid", "version"]
ZERO = ["tcp_flags", "in_if", "out_if", "sampling", "end_reason", "rev_bytes", "rev_packets"]


def flows(path):
    out = collections.Counter()
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r.get("type") != "flow":
                continue
            out[tuple([r.get(k) for k in KEYS] + [r.get(k, 0) for k in ZERO])] += 1
    return out


def main():
    a, b = flows(sys.argv[1]), flows(sys.argv[2])
    if a == b:
        print(sum(a.values()))
        return 0
    names = KEYS + ZERO
    for what, x, y in (("only in", a, b), ("only in", b, a)):
        extra = x - y
        path = sys.argv[1] if x is a else sys.argv[2]
        for k, n in list(extra.items())[:5]:
            print("%s %s (%d): %s" % (what, path, n, dict(zip(names, k))))
    return 1


if __name__ == "__main__":
    sys.exit(main())
