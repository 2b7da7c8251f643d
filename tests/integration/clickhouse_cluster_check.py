#!/usr/bin/python3
"""Check a collector's console API, answering an old window from ClickHouse
history, against the ground truth of several replays (clickhouse_pcap.py
output, one record per direction), then the console pages in headless
Chromium against the same answers (screenshots in ARTIFACTS). Usage:
clickhouse_cluster_check.py CONSOLE_URL ARTIFACTS TRUTH... Exit 1 on a
difference (printed). Every answer must say "source": "clickhouse"."""
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request

BASE_MS = 1795435200000  # clickhouse_pcap.py's BASE
SINCE, UNTIL = "2026-11-23T11:00:00Z", "2026-11-23T13:00:00Z"


def packed(a):
    ip = ipaddress.ip_address(a)
    return ip.packed if ip.version == 6 else b"\0" * 10 + b"\xff\xff" + ip.packed


def chromium(url, art, name):
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-dev-shm-usage", "--window-size=1366,768", "--virtual-time-budget=8000"]
    subprocess.run(cmd + [f"--screenshot={art}/console-{name}.png", url], capture_output=True,
                   timeout=120)
    return subprocess.run(cmd + ["--dump-dom", url], capture_output=True, text=True,
                          timeout=120).stdout


def page_rows(dom, table_id):
    """(first address, first byte count) of each row of a page's table."""
    m = re.search(r'<table id="%s"[^>]*>(.*?)</table>' % table_id, dom, re.S)
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", m.group(1) if m else "", re.S):
        addrs = re.findall(r'class="addr">([^<]*)<', tr)
        nums = re.findall(r'data-bytes="(\d+)"', tr)
        if addrs and nums:
            rows.append((addrs[0], int(nums[0])))
    return rows


def main():
    url, art = sys.argv[1].rstrip("/"), sys.argv[2]
    truth = [json.loads(line) for f in sys.argv[3:] for line in open(f) if line.strip()]
    bad = []

    def get(path, **params):
        q = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{url}{path}?{q}", timeout=30) as r:
            body = json.loads(r.read())
        if body.get("source") != "clickhouse":
            bad.append(f"{path} {params}: source {body.get('source')!r}, not clickhouse")
        return body

    def same(name, got, want):
        if got != want:
            bad.append(f"{name}:\n  got  {got}\n  want {want}")
        else:
            print(f"{name}: ok ({len(want) if isinstance(want, list) else want})")

    # Top-K per dimension over the old window (no "source": the API picks
    # ClickHouse because the window is older than the store holds).
    dims = {
        "src": lambda t: (t["src_addr"],),
        "dst": lambda t: (t["dst_addr"],),
        "pair": lambda t: (t["src_addr"], t["dst_addr"]),
        "port": lambda t: (t["proto"], t["dst_port"]),
        "proto": lambda t: (t["proto"],),
        "exporter": lambda t: ("127.0.0.1",),
    }
    for by, keyf in dims.items():
        agg = {}
        for t in truth:
            a = agg.setdefault(keyf(t), [0, 0, 0])
            a[0] += t["bytes"]
            a[1] += t["packets"]
            a[2] += 1

        def order(kv):
            k = kv[0]
            if by in ("port", "proto"):
                return (-kv[1][0],) + k
            return (-kv[1][0],) + tuple(packed(x).hex() for x in k)
        want = [list(k) + v for k, v in sorted(agg.items(), key=order)]
        rows = get("/api/v1/top", by=by, since=SINCE, until=UNTIL, limit=1000)["rows"]
        keys = {"src": ["addr"], "dst": ["addr"], "exporter": ["addr"],
                "pair": ["src_addr", "dst_addr"], "port": ["proto", "port"], "proto": ["proto"]}
        got = [[r[k] for k in keys[by]] + [r["bytes"], r["packets"], r["flows"]] for r in rows]
        same(f"top by {by}", got, want)
        if any(r["error"] != 0 for r in rows):
            bad.append(f"top by {by}: a ClickHouse row with a non-zero error")

    # Throughput series, one-minute steps, by end time.
    agg = {}
    for t in truth:
        a = agg.setdefault(t["conv_end_ms"] // 60000 * 60000, [0, 0, 0])
        a[0] += t["bytes"]
        a[1] += t["packets"]
        a[2] += 1
    body = get("/api/v1/series", since="2026-11-23T12:00:00Z", until="2026-11-23T12:10:00Z",
               step=60)
    want = [[BASE_MS + 60000 * i] + agg.get(BASE_MS + 60000 * i, [0, 0, 0]) for i in range(10)]
    same("series", [[p["t"], p["bytes"], p["packets"], p["flows"]] for p in body["points"]], want)
    tcp = get("/api/v1/series", since="2026-11-23T12:00:00Z", until="2026-11-23T12:10:00Z",
              step=600, proto="tcp")["points"]
    same("series proto=tcp", [[p["bytes"], p["flows"]] for p in tcp],
         [[sum(t["bytes"] for t in truth if t["proto"] == 6),
           sum(1 for t in truth if t["proto"] == 6)]])

    # Log search: every flow of one server (fed by both replays), newest first.
    ip = "10.9.0.1"
    body = get("/api/v1/flows", addr=ip, since=SINCE, until=UNTIL, limit=1000)
    key = ("src_addr", "dst_addr", "src_port", "dst_port", "proto", "bytes", "packets")
    want = sorted(tuple(t[k] for k in key) for t in truth if ip in (t["src_addr"], t["dst_addr"]))
    got = sorted(tuple(f[k] for k in key) for f in body["flows"])
    same(f"flows of {ip}", got, want)
    same("flows count", body["count"], len(want))
    ends = [f["end"] for f in body["flows"]]
    same("flows newest first", ends, sorted(ends, reverse=True))
    both = {f["src_addr"].split(".")[1] for f in body["flows"]
            if f["dst_addr"] == ip and f["dst_port"] == 80}
    same("both sites' clients in the answer", sorted(both), ["1", "2"])
    web = get("/api/v1/flows", dst_port=80, proto="tcp", since=SINCE, until=UNTIL, limit=1000)
    same("flows dst_port=80", web["count"],
         sum(1 for t in truth if t["dst_port"] == 80 and t["proto"] == 6))

    # The pages, in headless Chromium: the overview for the old window and a
    # log search, their tables equal to the API's ClickHouse answers.
    if not shutil.which("chromium"):
        print("SKIP pages: chromium not installed (scripts/setup)")
    else:
        os.makedirs(art, exist_ok=True)
        rng = urllib.parse.quote(f"since={SINCE}&until={UNTIL}")
        dom = chromium(url + "/#overview=" + rng, art, "history-overview")
        same("overview page loaded from ClickHouse",
             ['data-loaded="overview"' in dom, 'data-source="clickhouse"' in dom], [True, True])
        top = get("/api/v1/top", by="src", since=SINCE, until=UNTIL, limit=20)["rows"]
        same("overview page top talkers = API", page_rows(dom, "top"),
             [(r["addr"], r["bytes"]) for r in top])
        q = urllib.parse.quote(f"addr={ip}&since={SINCE}&until={UNTIL}&limit=1000")
        dom = chromium(url + "/#search=" + q, art, "history-search")
        same("search page rows = ground truth", len(page_rows(dom, "search-results")), len(want))

    for b in bad:
        print("DIFF", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
