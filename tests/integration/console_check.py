#!/usr/bin/python3
"""Checks of flowkit-collect --http against ground truth (console_http.sh).

  console_check.py api URL TRUTH        API answers vs the softflowd truth plus
                                        flows this script posts to /ingest;
                                        bad input; the live feed
  console_check.py metrics URL HEADER   /metrics is Prometheus text and has
                                        every fk_collector_stats counter
  console_check.py browser URL OUTDIR   headless Chromium renders the pages;
                                        the numbers shown equal the API's
  console_check.py auth URL TOKEN       bearer token rules
Exit 0 when every check holds; each failure is printed."""
import datetime
import gzip
import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def req(url, path, method="GET", body=None, headers=None):
    """(status, parsed JSON or text, response headers)."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    hdrs = dict(r.getheaders())
    c.close()
    if hdrs.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    text = data.decode("utf-8", "replace")
    try:
        return r.status, json.loads(text), hdrs
    except ValueError:
        return r.status, text, hdrs


def get(url, path, **params):
    q = urllib.parse.urlencode(params)
    return req(url, path + ("?" + q if q else ""))


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def gen_flows(now):
    """Known flows for POST /ingest: talkers 10.50.0.1..12 with distinct
    totals, a scanner (SYN only, 15 ports) and a UDP prober (biflows without
    reverse packets), all within the last minute."""
    flows = []
    for i in range(1, 13):
        for j in range(i):
            flows.append({"type": "flow", "src_addr": "10.50.0.%d" % i, "dst_addr": "10.60.0.%d" % (j % 3 + 1),
                          "src_port": 40000 + j, "dst_port": 443 if i % 2 else 80, "proto": 6,
                          "bytes": 1000 * i + j, "packets": 3 + j, "tcp_flags": 0x1b,
                          "start": rfc3339(now - 30), "end": rfc3339(now - 20 + j % 5)})
    for p in range(15):
        flows.append({"src_addr": "10.66.6.6", "dst_addr": "10.60.0.9", "src_port": 50000,
                      "dst_port": 1000 + p, "proto": "tcp", "bytes": 44, "packets": 1,
                      "tcp_flags": 2, "end": rfc3339(now - 10)})
    for p in range(12):
        flows.append({"SourceAddress": "10.77.7.7", "DestinationAddress": "10.60.0.9",
                      "SourcePort": 5353, "DestinationPort": 2000 + p, "Protocol": "udp",
                      "Bytes": 60, "Packets": 1, "rev_bytes": 0, "rev_packets": 0,
                      "LastSeen": now - 5})
    return flows


def truth_of(records):
    by = {"src": {}, "dst": {}, "port": {}}
    total = 0
    for r in records:
        b = r["bytes"]
        total += b
        by["src"][r["src"]] = by["src"].get(r["src"], 0) + b
        by["dst"][r["dst"]] = by["dst"].get(r["dst"], 0) + b
        key = (r["proto"], r["dport"])
        by["port"][key] = by["port"].get(key, 0) + b
    return by, total


def norm(f):
    proto = f.get("proto", f.get("Protocol"))
    proto = {"tcp": 6, "udp": 17}.get(proto, proto)
    return {"src": f.get("src_addr", f.get("SourceAddress")), "dst": f.get("dst_addr", f.get("DestinationAddress")),
            "proto": proto, "dport": f.get("dst_port", f.get("DestinationPort", 0)),
            "bytes": f.get("bytes", f.get("Bytes"))}


def cmd_api(url, truth_file):
    sf = []
    with open(truth_file) as fh:
        for line in fh:
            t = json.loads(line)
            sf.append({"src": t["src_addr"], "dst": t["dst_addr"], "proto": t["proto"],
                       "dport": t["dst_port"], "bytes": t["bytes"]})
    # softflowd's export arrived (the shell waited for it): every truth record is counted
    st, stats, _ = get(url, "/api/v1/stats")
    check(st == 200 and stats["flows_kept"] == len(sf),
          "softflowd export: %d flows in the store (truth %d)" % (stats.get("flows_kept", -1), len(sf)))

    # live feed: subscribe before posting, expect the posted flows
    feed_lines = []
    u = urllib.parse.urlsplit(url)
    ready = threading.Event()

    def listen():
        s = socket.create_connection((u.hostname, u.port), timeout=20)
        s.sendall(b"GET /api/v1/feed?after=%d HTTP/1.1\r\nHost: x\r\n\r\n" % len(sf))
        ready.set()
        buf = b""
        end = time.time() + 15
        while time.time() < end and buf.count(b"data: ") < 40:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
        s.close()
        feed_lines.extend(l[6:] for l in buf.decode().split("\n") if l.startswith("data: "))

    th = threading.Thread(target=listen)
    th.start()
    ready.wait(5)

    now = time.time()
    posted = gen_flows(now)
    st, body, _ = req(url, "/api/v1/ingest", "POST", json.dumps(posted), {"Content-Type": "application/json"})
    check(st == 200 and body.get("accepted") == len(posted), "POST /ingest accepted %s of %d" % (body, len(posted)))
    th.join()
    got = [json.loads(x) for x in feed_lines]
    check(len(got) >= 40 and got[0]["src_addr"] == posted[0]["src_addr"],
          "live feed delivered the posted flows in order (%d events)" % len(got))

    recs = sf + [norm(f) for f in posted]
    by, total = truth_of(recs)

    for dim in ("src", "dst"):
        st, top, _ = get(url, "/api/v1/top", by=dim, window="15m", limit=1000)
        rows = {r["addr"]: r["bytes"] for r in top["rows"]}
        check(st == 200 and rows == by[dim], "top by %s (15m) equals the truth (%d keys)" % (dim, len(rows)))
        order = [r["bytes"] for r in top["rows"]]
        check(order == sorted(order, reverse=True), "top by %s is sorted by bytes" % dim)
        check(all(r["error"] == 0 for r in top["rows"]), "top by %s is exact (no eviction)" % dim)
    st, top, _ = get(url, "/api/v1/top", by="port", window="1h", limit=1000)
    rows = {(r["proto"], r["port"]): r["bytes"] for r in top["rows"]}
    check(rows == by["port"], "top by port (1h) equals the truth")
    st, top, _ = get(url, "/api/v1/top", by="src", window="8h", limit=3)
    want = sorted(by["src"].items(), key=lambda kv: -kv[1])[:3]
    check([(r["addr"], r["bytes"]) for r in top["rows"]] == want, "top 3 sources (8h): %s" % want)

    st, ser, _ = get(url, "/api/v1/series", since=int(now - 600), step=60)
    check(st == 200 and sum(p["bytes"] for p in ser["points"]) == total,
          "series total over 10 min = %d bytes (truth)" % total)
    check(all(p["t"] % 60000 == 0 for p in ser["points"]), "series points on 60 s steps")
    st, ser, _ = get(url, "/api/v1/series", since=int(now - 600), proto="udp")
    udp = sum(r["bytes"] for r in recs if r["proto"] == 17)
    check(sum(p["bytes"] for p in ser["points"]) == udp, "series for udp = %d bytes" % udp)

    st, ip, _ = get(url, "/api/v1/ip", addr="10.50.0.7")
    sent = sum(r["bytes"] for r in recs if r["src"] == "10.50.0.7")
    check(st == 200 and ip["bytes_out"] == sent and ip["flows_src"] == 7, "ip 10.50.0.7 sent %d bytes in 7 flows" % sent)
    st, peers, _ = get(url, "/api/v1/ip/peers", addr="10.50.0.7")
    want = {}
    for r in recs:
        if r["src"] == "10.50.0.7":
            want[r["dst"]] = want.get(r["dst"], 0) + r["bytes"]
    check({r["addr"]: r["bytes"] for r in peers["rows"]} == want, "peers of 10.50.0.7")
    st, protos, _ = get(url, "/api/v1/ip/protocols", addr="10.60.0.9")
    check({r["proto"]: r["bytes"] for r in protos["rows"]} == {6: 15 * 44, 17: 12 * 60},
          "protocols of 10.60.0.9")
    st, ips, _ = get(url, "/api/v1/ips", limit=1000)
    addrs = {r["src"] for r in recs} | {r["dst"] for r in recs}
    check({i["addr"] for i in ips["ips"]} == addrs, "ips seen: %d addresses" % len(addrs))

    st, fl, _ = get(url, "/api/v1/flows", port=443, proto="tcp", limit=1000)
    n443 = sum(1 for r in recs if r["dport"] == 443 and r["proto"] == 6)
    check(st == 200 and fl["count"] == n443, "log search port 443/tcp: %d flows" % n443)
    st, fl, _ = get(url, "/api/v1/flows", addr="10.66.6.6", limit=1000)
    check(fl["count"] == 15 and all(f["src_addr"] == "10.66.6.6" for f in fl["flows"]), "log search by address")
    st, fl, _ = get(url, "/api/v1/flows", since=rfc3339(now - 12), until=rfc3339(now), limit=1000)
    check(fl["count"] == 15 + 12, "log search by time (since/until): %d" % fl["count"])
    st, se, _ = get(url, "/api/v1/sessions", seconds=120, limit=1000)
    check(se["count"] == len(recs), "live sessions (last 120 s): %d" % se["count"])

    st, bad, _ = get(url, "/api/v1/bad")
    got = {b["addr"]: (b["tcp_attempts"], b["udp_attempts"]) for b in bad["ips"]}
    check(got == {"10.66.6.6": (15, 0), "10.77.7.7": (0, 12)}, "bad IPs: %s" % got)

    # bad input: each gets its 4xx and a counter; the collector keeps going
    cases = [("/api/v1/top?by=nope", "GET", None, 400), ("/api/v1/top?window=-5", "GET", None, 400),
             ("/api/v1/flows?port=70000", "GET", None, 400), ("/api/v1/flows?since=yesterday", "GET", None, 400),
             ("/api/v1/ip?addr=10.0.0", "GET", None, 400), ("/api/v1/ip", "GET", None, 400),
             ("/api/v1/ip?addr=192.0.2.99", "GET", None, 404),
             ("/api/v1/ingest", "POST", b'{"src_addr":"10.0.0.1"', 400),
             ("/api/v1/ingest", "POST", b'{"src_addr":"10.0.0.1","dst_addr":"10.0.0.2","bytes":"x"}', 400),
             ("/api/v1/ingest", "POST", b"[" + b"1," * 10 + b"1]", 400),
             ("/api/v1/ingest", "POST", b"x" * 70000, 413),
             ("/api/v1/ingest", "GET", None, 405), ("/api/v1/top", "POST", b"", 405),
             ("/console/../../../etc/passwd", "GET", None, 404), ("/console/%2e%2e/x", "GET", None, 404),
             ("/js/chart.js/../../../etc/passwd", "GET", None, 404), ("/nope", "GET", None, 404)]
    for path, method, body, want in cases:
        st, _, _ = req(url, path, method, body)
        check(st == want, "%s %s -> %d (want %d)" % (method, path[:50], st, want))
    # too many feed clients: the server allows 2
    socks = []
    for _ in range(2):
        s = socket.create_connection((u.hostname, u.port), timeout=5)
        s.sendall(b"GET /api/v1/feed HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(100)
        socks.append(s)
    st, body, _ = get(url, "/api/v1/feed")
    check(st == 503, "third live feed client refused with 503 (%s)" % st)
    for s in socks:
        s.close()
    st, m, _ = get(url, "/metrics")
    for name, least in (("flowkit_http_bad_requests_total", 8), ("flowkit_http_not_found_total", 5),
                        ("flowkit_http_too_large_total", 1), ("flowkit_http_feeds_refused_total", 1),
                        ("flowkit_http_ingest_rejected_total", 3), ("flowkit_http_ingest_flows_total", len(posted))):
        v = re.search(r"^%s (\d+)$" % name, m, re.M)
        check(v is not None and int(v.group(1)) >= least, "%s >= %d" % (name, least))
    st, h, _ = get(url, "/healthz")
    check(st == 200 and h["status"] == "ok" and h["flows"] == len(recs), "healthz after bad input: %s" % h)
    st, body, hdrs = req(url, "/api/v1/flows?limit=1000", headers={"Accept-Encoding": "gzip"})
    check(hdrs.get("Content-Encoding") == "gzip" and body["count"] == len(recs), "gzip when accepted")


def cmd_metrics(url, header):
    st, text, hdrs = get(url, "/metrics")
    check(st == 200 and hdrs.get("Content-Type", "").startswith("text/plain; version=0.0.4"), "content type")
    names, helps, types = [], set(), {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+]+|NaN|[+-]Inf)$')
    ok = True
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, n, t = line.split()
            types[n] = t
            ok &= t in ("counter", "gauge")
        elif line:
            m = line_re.match(line)
            ok &= m is not None
            if m:
                names.append(m.group(1))
    check(ok, "every line is a sample, # HELP or # TYPE")
    check(all(n in helps and n in types for n in names), "every sample has HELP and TYPE")
    check(all(n.endswith("_total") for n in names if types.get(n) == "counter"), "counters end in _total")
    check(len(names) == len(set(names)), "no sample repeats")
    src = open(header).read()
    body = src[src.index("typedef struct fk_collector_stats"):]
    body = body[:body.index("} fk_collector_stats;")]
    fields = re.findall(r"uint64_t (\w+);", body)
    missing = [f for f in fields if "flowkit_collector_%s_total" % f not in names and "flowkit_collector_%s" % f not in names]
    check(fields and not missing, "every fk_collector_stats counter (%d) is exported; missing %s" % (len(fields), missing))
    check(any(n.startswith("flowkit_store_") for n in names), "store counters exported")


def chromium_dom(url, outdir, name, shot=True):
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-dev-shm-usage", "--window-size=1366,768", "--virtual-time-budget=8000"]
    dom = subprocess.run(cmd + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    if shot:
        subprocess.run(cmd + ["--screenshot=%s/console-%s.png" % (outdir, name), url],
                       capture_output=True, timeout=120)
    with open("%s/console-%s.html" % (outdir, name), "w") as fh:
        fh.write(dom)
    return dom


def table_rows(dom, table_id):
    m = re.search(r'<table id="%s"[^>]*>(.*?)</table>' % table_id, dom, re.S)
    if not m:
        return []
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S):
        addrs = re.findall(r'class="addr">([^<]*)<', tr)
        nums = re.findall(r'data-bytes="(\d+)"', tr)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        if cells:
            rows.append((addrs, [int(n) for n in nums], cells))
    return rows


def cmd_browser(url, outdir):
    dom = chromium_dom(url + "#overview", outdir, "overview")
    check('data-loaded="overview"' in dom, "overview page loaded without error")
    check("<canvas" in dom and "chart-total" in dom, "throughput chart present")
    st, top, _ = get(url, "/api/v1/top", by="src", window="15m", limit=20)
    shown = [(r[0][0], r[1][0]) for r in table_rows(dom, "top")]
    want = [(r["addr"], r["bytes"]) for r in top["rows"]]
    check(shown == want and len(shown) > 3, "overview top talkers = API (%d rows)" % len(shown))

    dom = chromium_dom(url + "#ip=10.50.0.7", outdir, "ip")
    st, peers, _ = get(url, "/api/v1/ip/peers", addr="10.50.0.7")
    shown = [(r[0][0], r[1][0]) for r in table_rows(dom, "ip-peers")]
    check(shown == [(r["addr"], r["bytes"]) for r in peers["rows"]] and shown, "ip page peers = API")

    dom = chromium_dom(url + "#bad", outdir, "bad")
    shown = sorted(r[0][0] for r in table_rows(dom, "bad-ips"))
    st, bad, _ = get(url, "/api/v1/bad")
    check(shown == sorted(b["addr"] for b in bad["ips"]) and shown, "bad IPs page = API: %s" % shown)

    dom = chromium_dom(url + "#search=addr%3D10.66.6.6", outdir, "search", False)
    rows = table_rows(dom, "search-results")
    check(len(rows) == 15 and all("10.66.6.6" in r[0] for r in rows), "log search page: 15 rows of 10.66.6.6")

    dom = chromium_dom(url + "#live=snapshot", outdir, "live", False)
    st, se, _ = get(url, "/api/v1/sessions", seconds=300, limit=200)
    check(len(table_rows(dom, "live")) == min(se["count"], 200), "live sessions page rows = API")


def cmd_auth(url, token):
    check(get(url, "/healthz")[0] == 200, "healthz needs no token")
    check(get(url, "/console/console.js")[0] == 200, "pages need no token (they hold no data)")
    for path in ("/api/v1/top", "/metrics", "/api/v1/feed"):
        check(get(url, path)[0] == 401, "%s without token -> 401" % path)
    st, _, _ = req(url, "/api/v1/top", headers={"Authorization": "Bearer wrong-token-wrong-token"})
    check(st == 401, "wrong token -> 401")
    st, _, _ = req(url, "/api/v1/ingest", "POST", b'{"src_addr":"10.0.0.1","dst_addr":"10.0.0.2"}')
    check(st == 401, "POST /ingest without token -> 401")
    st, _, _ = req(url, "/api/v1/top", headers={"Authorization": "Bearer " + token})
    check(st == 200, "right token in the header -> 200")
    check(get(url, "/api/v1/top", access_token=token)[0] == 200, "right token as access_token -> 200")


def main():
    cmd = sys.argv[1]
    {"api": cmd_api, "metrics": cmd_metrics, "browser": cmd_browser, "auth": cmd_auth}[cmd](*sys.argv[2:])
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)


if __name__ == "__main__":
    main()
