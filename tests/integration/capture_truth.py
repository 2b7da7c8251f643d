#!/usr/bin/python3
"""Compare capture_flows JSON lines with fk_pcapgen's ground truth.

  capture_truth.py TRUTH.jsonl OUT.jsonl

Every truth flow must appear once with the same 5-tuple (first-packet
direction), packets, bytes, TCP flags each way, end reason, start and end
(RFC 3339 ms); every truth event once with kind, time and 5-tuple; the
summary counters must equal the stats line. Exit 0 when all hold.
"""
import json
import sys
import time


def rfc3339(ns):
    t = time.gmtime(ns // 10**9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % ((ns % 10**9) // 10**6)


FLOW = ("src_addr", "dst_addr", "src_port", "dst_port", "proto", "bytes", "packets",
        "rev_bytes", "rev_packets", "tcp_flags", "rev_tcp_flags", "end_reason", "start", "end")
EVENT = ("event", "time", "src_addr", "dst_addr", "src_port", "dst_port", "proto")


def main(truth_path, out_path):
    tf, te, summary = [], [], None
    for line in open(truth_path):
        o = json.loads(line)
        if o["type"] == "flow":
            o["start"], o["end"] = rfc3339(o["start_ns"]), rfc3339(o["end_ns"])
            tf.append(tuple(o[k] for k in FLOW))
        elif o["type"] == "event":
            o["time"] = rfc3339(o["time_ns"])
            te.append(tuple(o[k] for k in EVENT))
        elif o["type"] == "summary":
            summary = o
    gf, ge, stats = [], [], None
    for line in open(out_path):
        o = json.loads(line)
        if o["type"] == "flow":
            gf.append(tuple(o.get(k, 0) for k in FLOW))
        elif o["type"] == "event":
            ge.append(tuple(o[k] for k in EVENT))
        elif o["type"] == "stats":
            stats = o
    ok = True
    for name, a, b in (("flows", tf, gf), ("events", te, ge)):
        a, b = sorted(a), sorted(b)
        print("%s: truth %d, flowkit %d" % (name, len(a), len(b)))
        if a != b:
            ok = False
            for x in sorted(set(a) - set(b))[:10]:
                print("  only in truth:  ", x)
            for x in sorted(set(b) - set(a))[:10]:
                print("  only in flowkit:", x)
    for tk, sk in (("packets", "packets"), ("non_ip", "non_ip"), ("flows", "flows_emitted"),
                   ("events", "session_events")):
        if summary[tk] != stats[sk]:
            print("summary %s = %s, flowkit %s = %s" % (tk, summary[tk], sk, stats[sk]))
            ok = False
    for k in ("decode_errors", "queue_drops", "event_drops", "flows_evicted"):
        if stats[k] != 0:
            print("flowkit %s = %s" % (k, stats[k]))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
