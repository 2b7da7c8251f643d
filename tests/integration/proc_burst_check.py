#!/usr/bin/env python3
"""Score process attribution per connection, from flowkit-export's flow
records (JSON lines with "pid") against what the processes did.

usage: proc_burst_check.py FLOWS CONNS MIN_PERCENT HOST_ADDR...
  FLOWS: flowkit-export --stdout --flows output;
  CONNS: lines "PID PROTO LOCAL_PORT LOCAL_ADDR LABEL": the host-side socket
         of the workload's connections (a server's listening port stands for
         all the connections it accepted);
  MIN_PERCENT: every label must have at least this share of its bytes and
         of its connections on the right pid, and nothing on a wrong pid;
         0 only reports.
A connection (one 5-tuple) is right when all its bytes are on its pid,
wrong when any byte is on another pid, unknown otherwise; a connection of
CONNS that no flow shows counts as missed (not captured)."""
import ipaddress, json, sys
from collections import defaultdict


def main():
    flows, conns, minimum = sys.argv[1], sys.argv[2], float(sys.argv[3])
    hosts = {ipaddress.ip_address(a) for a in sys.argv[4:]}
    truth = {}  # (proto, local addr, local port) -> (pid, label)
    expected = defaultdict(int)  # label -> connections the workload made
    for line in open(conns):
        p = line.split()
        if len(p) != 5:
            continue
        key = (6 if p[1] == "tcp" else 17, ipaddress.ip_address(p[3]), int(p[2]))
        truth[key] = (int(p[0]), p[4])
        expected[p[4]] += 1
    per_conn = {}  # 5-tuple -> [pid, label, right, wrong, unknown]
    for line in open(flows):
        if not line.startswith("{"):
            continue
        f = json.loads(line)
        if f.get("type") != "flow" or f["proto"] not in (6, 17):
            continue
        src, dst = ipaddress.ip_address(f["src_addr"]), ipaddress.ip_address(f["dst_addr"])
        if src in hosts:
            local, remote = (src, f["src_port"]), (dst, f["dst_port"])
        elif dst in hosts:
            local, remote = (dst, f["dst_port"]), (src, f["src_port"])
        else:
            continue
        t = truth.get((f["proto"],) + local)
        if not t:
            continue
        c = per_conn.setdefault((f["proto"],) + local + remote, [t[0], t[1], 0, 0, 0])
        n = f["bytes"] + f.get("rev_bytes", 0)
        pid = f.get("pid", 0)
        c[2 if pid == t[0] else 3 if pid else 4] += n
    bad = 0
    labels = sorted(expected)
    for label in labels:
        rows = [c for c in per_conn.values() if c[1] == label]
        right_b = sum(c[2] for c in rows)
        wrong_b = sum(c[3] for c in rows)
        unk_b = sum(c[4] for c in rows)
        total_b = right_b + wrong_b + unk_b
        right_c = sum(1 for c in rows if c[3] == 0 and c[4] == 0)
        wrong_c = sum(1 for c in rows if c[3])
        seen = len(rows)
        # A server's port stands for many connections: count what was seen.
        want = max(expected[label], seen)
        byte_pct = 100.0 * right_b / total_b if total_b else 0.0
        conn_pct = 100.0 * right_c / want if want else 0.0
        ok = minimum <= 0 or (byte_pct >= minimum and conn_pct >= minimum and wrong_b == 0)
        bad += not ok
        print("%s %-22s connections %d/%d right (%.2f %%), %d wrong, %d not captured; "
              "bytes %.3f %% right, %d wrong, %d unknown of %d" %
              ("ok  " if ok else "FAIL", label, right_c, want, conn_pct, wrong_c,
               want - seen, byte_pct, wrong_b, unk_b, total_b))
    sys.exit(1 if bad or not per_conn else 0)


if __name__ == "__main__":
    main()
