#!/usr/bin/python3
"""API latency of flowkit-collect --http under load: CLIENTS threads each
send REQUESTS GETs (top by src/dst/port over 15 min, series, search) on
their own keep-alive connection, while one thread keeps posting batches of
flows to /ingest ("while collecting"). Prints p50/p99/max in ms and the
ingest rate reached meanwhile.
Usage: console_latency.py URL [CLIENTS] [REQUESTS]"""
import http.client
import json
import sys
import threading
import time
import urllib.parse


def batch(k, now):
    return json.dumps([{"src_addr": "10.%d.%d.%d" % (k % 200, (i >> 8) & 255, i & 255),
                        "dst_addr": "192.168.%d.%d" % (i % 7, i % 250 + 1), "proto": 6,
                        "dst_port": 443, "bytes": 100 + i, "packets": 2, "end": now}
                       for i in range(500)])


def main():
    url = urllib.parse.urlsplit(sys.argv[1])
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    requests = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    paths = ["/api/v1/top?by=src&window=15m&limit=20", "/api/v1/top?by=dst&window=1h",
             "/api/v1/top?by=port&window=8h", "/api/v1/series?step=60", "/api/v1/flows?port=443&limit=50"]
    lat, errors = [], [0]
    lock = threading.Lock()
    stop = threading.Event()
    posted = [0]

    def ingest():
        c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        k = 0
        while not stop.is_set():
            c.request("POST", "/ingest", batch(k, time.time()))
            r = c.getresponse()
            r.read()
            if r.status == 200:
                posted[0] += 500
            k += 1

    def client(n):
        c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        mine = []
        for i in range(requests):
            t = time.perf_counter()
            try:
                c.request("GET", paths[(n + i) % len(paths)])
                r = c.getresponse()
                r.read()
                ok = r.status == 200
            except OSError:
                ok = False
                c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            mine.append((time.perf_counter() - t) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            lat.extend(mine)

    for k in range(20):  # 10 000 flows in the store first
        http.client.HTTPConnection(url.hostname, url.port).request("POST", "/ingest", batch(k, time.time()))
    time.sleep(1)
    ing = threading.Thread(target=ingest)
    ing.start()
    t0 = time.time()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    stop.set()
    ing.join()
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print("api_latency clients=%d requests=%d errors=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f "
          "ingest_flows_per_s=%.0f" % (clients, len(lat), errors[0], pct(0.50), pct(0.99), lat[-1],
                                       posted[0] / elapsed))


if __name__ == "__main__":
    main()
