#!/usr/bin/python3
"""Check a ClickHouse flow table against ground truth (clickhouse_pcap.py
output): totals, every flow row, and each query documented in
docs/clickhouse.md, run as written there, against answers computed from the
truth. Usage: clickhouse_check.py DOC PORT DB.TABLE TRUTH... Exit 1 on a
difference (printed)."""
import ipaddress
import json
import re
import sys
import urllib.request

BASE_MS = 1795435200000


def query(port, sql):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=sql.encode(), method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
    return [line.split("\t") for line in text.splitlines()]


def doc_queries(path):
    text = open(path).read()
    return dict(re.findall(r"<!-- query: (\w+) -->\s*```sql\n(.*?)```", text, re.S))


def packed(a):
    ip = ipaddress.ip_address(a)
    return ip.packed if ip.version == 6 else b"\0" * 10 + b"\xff\xff" + ip.packed


def main():
    doc, port, table = sys.argv[1], sys.argv[2], sys.argv[3]
    truth = [json.loads(line) for f in sys.argv[4:] for line in open(f) if line.strip()]
    for t in truth:
        t["start_ms"], t["end_ms"] = t["conv_start_ms"], t["conv_end_ms"]
    bad = []

    def same(name, got, want):
        if got != want:
            bad.append(f"{name}:\n  got  {got}\n  want {want}")
        else:
            print(f"{name}: ok ({len(want) if isinstance(want, list) else want})")

    # Totals and every row (times: softflowd reports the conversation's).
    tot = query(port, f"SELECT count(), sum(bytes), sum(packets) FROM {table}")[0]
    same("totals", [int(x) for x in tot],
         [len(truth), sum(t["bytes"] for t in truth), sum(t["packets"] for t in truth)])
    rows = query(port, "SELECT replaceRegexpOne(IPv6NumToString(src_addr), '^::ffff:', ''), "
                 "replaceRegexpOne(IPv6NumToString(dst_addr), '^::ffff:', ''), src_port, dst_port, "
                 f"proto, bytes, packets, start_ms, end_ms FROM {table}")
    key = ("src_addr", "dst_addr", "src_port", "dst_port", "proto", "bytes", "packets")
    got = {}
    for r in rows:
        k = tuple(r[:2]) + tuple(int(x) for x in r[2:7])
        got.setdefault(k, []).append((int(r[7]), int(r[8])))
    missing = 0
    for t in truth:
        k = tuple(t[f] for f in key)
        times = got.get(k, [])
        match = [x for x in times if abs(x[0] - t["start_ms"]) <= 1 and abs(x[1] - t["end_ms"]) <= 1]
        if not match:
            missing += 1
            if missing <= 5:
                bad.append(f"flow not stored as in the truth: {t} (stored: {times})")
        else:
            times.remove(match[0])
    extra = sum(len(v) for v in got.values())
    same("per-flow rows missing/extra", [missing, extra], [0, 0])

    q = doc_queries(doc)
    same("documented queries", sorted(q), ["bad_ips", "flows_of_ip", "peers", "per_minute",
                                           "top_talkers"])
    frm, to = BASE_MS + 30000, BASE_MS + 300000
    ip = "10.9.0.1"
    subst = {"{table}": table, "{from_ms}": str(frm), "{to_ms}": str(to),
             "{ip}": "::ffff:" + ip, "{min_attempts}": "5"}

    def run(name):
        sql = q[name]
        for a, b in subst.items():
            sql = sql.replace(a, b)
        return query(port, sql)

    win = [t for t in truth if frm <= t["start_ms"] < to]
    # top talkers
    agg = {}
    for t in win:
        a = agg.setdefault(t["src_addr"], [0, 0, 0])
        a[0] += t["bytes"]
        a[1] += t["packets"]
        a[2] += 1
    want = sorted(agg.items(), key=lambda kv: (-kv[1][0], packed(kv[0])))[:10]
    same("top_talkers", [[r[0]] + [int(x) for x in r[1:]] for r in run("top_talkers")],
         [[k] + v for k, v in want])
    # peers of one IP
    agg = {}
    for t in win:
        if ip in (t["src_addr"], t["dst_addr"]):
            peer = t["dst_addr"] if t["src_addr"] == ip else t["src_addr"]
            a = agg.setdefault((peer, t["proto"]), [0, 0, 0])
            a[0] += t["bytes"]
            a[1] += t["packets"]
            a[2] += 1
    want = sorted(agg.items(), key=lambda kv: (-kv[1][0], packed(kv[0][0]), kv[0][1]))
    same("peers", [[r[0]] + [int(x) for x in r[1:]] for r in run("peers")],
         [[k[0], k[1]] + v for k, v in want])
    # throughput per minute
    agg = {}
    for t in win:
        a = agg.setdefault(t["start_ms"] // 60000 * 60, [0, 0])
        a[0] += t["bytes"]
        a[1] += t["packets"]
    want = [[m, a[0], a[1], round(a[0] * 8 / 60)] for m, a in sorted(agg.items())]
    same("per_minute", [[int(float(x)) for x in r] for r in run("per_minute")], want)
    # flows of one IP overlapping the window
    want = sorted([t["start_ms"], t["end_ms"], t["src_addr"], t["src_port"], t["dst_addr"],
                   t["dst_port"], t["proto"], t["bytes"], t["packets"], "127.0.0.1"]
                  for t in truth if ip in (t["src_addr"], t["dst_addr"])
                  and t["start_ms"] < to and t["end_ms"] >= frm)
    got = [[int(r[0]), int(r[1]), r[2], int(r[3]), r[4], int(r[5]), int(r[6]), int(r[7]),
            int(r[8]), r[9]] for r in run("flows_of_ip")]
    same("flows_of_ip", sorted(got), want)
    # bad IPs: SYN-only TCP flows per source, at least 5
    agg = {}
    for t in win:
        if t["proto"] == 6 and t["tcp_flags"] & 18 == 2:
            agg.setdefault(t["src_addr"], set()).add((t["dst_addr"], t["dst_port"]))
    want = sorted([[k, len(v), len(v)] for k, v in agg.items() if len(v) >= 5],
                  key=lambda r: (-r[1], packed(r[0])))
    same("bad_ips", [[r[0], int(r[1]), int(r[2])] for r in run("bad_ips")], want)
    if not want or want[0][0] != "10.66.0.1":
        bad.append(f"ground truth has no scanner in the window: {want}")
    for b in bad:
        print("DIFF", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
