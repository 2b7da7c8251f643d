#!/bin/bash
# flowkit-collect --prefix-stats: NetFlow v5 and IPFIX datagrams built here
# (from 127.0.0.1, with AS numbers) are counted per prefix of their sender
# in minute/hour/day/month/year buckets, and POST /stats/127.0.0.1 with
# wasted/netflow's body answers exactly what was sent: all, a field with
# its kept values and "other" (top_values = 2), one value, in and out,
# IPv4 and IPv6. The request is signed as /senders (X-Io-Auth, X-Io-Sign =
# hex HMAC-SHA256, computed here with Python's hmac module); a wrong
# signature is refused (401) and counted; bad bodies are 400, a prefix the
# sender does not have is 404. Records outside the sender's prefixes count
# nowhere.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_COLLECT"
. "$FLOWKIT_SOURCE_DIR/tests/cli/collect_http_lib.bash"

printf '127.0.0.1 10.0.0.0/8 2001:db8::/32\n' >"$T/senders"
printf 'auth = %s\nsign = %s\n' "authkey-0123456789abcdef" "signkey-fedcba9876543210" >"$T/keys"

# Usage errors first.
"$B" --prefix-stats -l udp://127.0.0.1:0 --duration 1 >/dev/null 2>"$T/u.err"
[ $? -eq 2 ] && grep -q -- "--prefix-stats needs --senders" "$T/u.err" ||
    fail "--prefix-stats without --senders: $(cat "$T/u.err")"
"$B" --senders "$T/senders" --prefix-stats --set prefixstats.top_values=0 -l udp://127.0.0.1:0 \
    --duration 1 >/dev/null 2>"$T/u.err"
[ $? -eq 2 ] && grep -q "out of range" "$T/u.err" || fail "top_values=0: $(cat "$T/u.err")"

start_collect --senders "$T/senders" --senders-keys "$T/keys" \
    --prefix-stats --set prefixstats.top_values=2 --stats 3600 --duration 120 -o "jsonl:$T/out.jsonl"

"$PY" - "$P" "$URL" "$T" <<'PYEOF' || fail "checks"
import hashlib, hmac, json, os, socket, struct, sys, time, urllib.error, urllib.request

port, url, tmp = int(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3]
AUTH, SIGN = b"authkey-0123456789abcdef", b"signkey-fedcba9876543210"
NOW = int(time.time())
bad = 0

def check(ok, what):
    global bad
    print(("ok   " if ok else "FAIL ") + what)
    bad += not ok

def v5(records):
    """A NetFlow v5 datagram exported at NOW; each record ends 1 s before."""
    h = struct.pack("!HHIIIIBBH", 5, len(records), 100000, NOW, 0, 1, 0, 0, 0)
    body = b""
    for src, dst, sport, dport, proto, pkts, octets, sas, das in records:
        body += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton(src),
                            socket.inet_aton(dst), bytes(4), 0, 0, pkts, octets, 98000, 99000,
                            sport, dport, 0, 0x18, proto, 0, sas, das, 8, 24, 0)
    return h + body

def ipfix_v6(src, dst, octets, packets):
    """An IPFIX message: template 256 (IPv6 addresses, octets, packets,
    flowEndSeconds) and one record ending at NOW."""
    tmpl = struct.pack("!HH", 256, 5) + b"".join(struct.pack("!HH", i, l) for i, l in
                                                  ((27, 16), (28, 16), (1, 8), (2, 8), (151, 4)))
    tset = struct.pack("!HH", 2, 4 + len(tmpl)) + tmpl
    rec = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
           + struct.pack("!QQI", octets, packets, NOW))
    dset = struct.pack("!HH", 256, 4 + len(rec)) + rec
    body = tset + dset
    return struct.pack("!HHIII", 10, 16 + len(body), NOW, 0, 1) + body

def send(payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.sendto(payload, ("127.0.0.1", port))
    s.close()

def out_lines():
    try:
        return [json.loads(l) for l in open(os.path.join(tmp, "out.jsonl")) if l.strip()]
    except FileNotFoundError:
        return []

def wait_for(pred, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    check(False, "timed out: " + what)
    return False

def metrics():
    m = {}
    for line in urllib.request.urlopen(url + "/metrics", timeout=10).read().decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    return m

def stats(body, sender="127.0.0.1", key=SIGN, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(url + "/stats/" + sender, data=data, method="POST")
    req.add_header("X-Io-Auth", AUTH.decode())
    req.add_header("X-Io-Sign", hmac.new(key, data, hashlib.sha256).hexdigest())
    try:
        r = urllib.request.urlopen(req, timeout=10)
        return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

# 10.0.0.0/8: two records out (dstports 443, 80, 22: three values), one in.
send(v5([("10.1.2.3", "192.0.2.10", 40000, 443, 6, 10, 5000, 64500, 64501),
         ("10.1.2.3", "192.0.2.11", 40001, 80, 6, 2, 300, 64500, 64502),
         ("10.1.2.4", "192.0.2.10", 40002, 22, 6, 1, 100, 64500, 64501),
         ("192.0.2.20", "10.9.9.9", 53, 5353, 17, 3, 700, 64999, 64500),
         ("203.0.113.1", "198.51.100.1", 1, 2, 6, 1, 99999, 1, 2)]))   # outside: dropped
send(ipfix_v6("2001:db8::1", "2001:db8:1::2", 1234, 4))               # both ends inside
wait_for(lambda: len(out_lines()) >= 5, "five accepted records")

t = time.gmtime(NOW - 1)
minute = time.strftime("%Y-%m-%d %H:%M", t)
buckets = [minute, minute[:13], minute[:10], minute[:7], minute[:4]]
tv6 = time.gmtime(NOW)
minute6 = time.strftime("%Y-%m-%d %H:%M", tv6)

def row(name, direction, b, p, f, values=None):
    r = {"name": name, "direction": direction, "bytes": b, "pkts": p, "flows": f}
    if values is not None:
        r["values"] = values
    return r

ALL = [row("all", "in", 700, 3, 1), row("all", "out", 5400, 13, 3)]
st, body = stats({"10.0.0.0/8": {"all": buckets, "dstport": [minute], "srcas:64500": [buckets[2]],
                                 "dstip:10.9.9.9": [buckets[4]], "proto:other": [buckets[3]]},
                  "2001:db8::/32": {"all": [minute6]}})
check(st == 200, "POST /stats/127.0.0.1 -> %d %s" % (st, body))
want = {"10.0.0.0/8": {
            "all": {b: ALL for b in buckets},
            # top_values = 2: 22 (100) arrives at {443, 80} and is folded;
            # 5353 (700) is heavier than 80 (300), which is folded in its
            # place: other holds 22 and 80.
            "dstport": {minute: [row("dstport:443", "out", 5000, 10, 1),
                                 row("dstport:5353", "in", 700, 3, 1),
                                 row("dstport:other", "out", 400, 3, 2, values=2)]},
            "srcas:64500": {buckets[2]: [row("srcas:64500", "out", 5400, 13, 3)]},
            "dstip:10.9.9.9": {buckets[4]: [row("dstip:10.9.9.9", "in", 700, 3, 1)]},
            "proto:other": {buckets[3]: []}},
        "2001:db8::/32": {"all": {minute6: [row("all", "in", 1234, 4, 1),
                                            row("all", "out", 1234, 4, 1)]}}}
got = json.loads(body) if st == 200 else None
check(got == want, "the answer is exactly what was sent:\n  got  %s\n  want %s" % (got, want))

m = metrics()
check(m.get("flowkit_prefixstats_accounted_total") == 5 and m.get("flowkit_prefixstats_unmatched_total") == 0
      and m.get("flowkit_prefixstats_prefixes") == 2 and m.get("flowkit_prefixstats_values_folded_total", 0) > 0,
      "/metrics: flowkit_prefixstats_* (5 records accounted, 2 prefixes)")

# Refusals.
st, _ = stats({"10.0.0.0/8": {"all": [minute]}}, key=b"wrong-key-wrong-key")
check(st == 401, "a wrong signature -> %d (want 401)" % st)
check(metrics().get("flowkit_http_prefix_stats_unauthorized_total", 0) == 1,
      "counted in flowkit_http_prefix_stats_unauthorized_total")
for raw, want_st in ((b'{"10.0.0.0/8":{"all":["2026-13"]}}', 400),
                     (b'{"10.0.0.0/8":{"port":["2026"]}}', 400),
                     (b'{"10.0.0.0/8":{"all":[2026]}}', 400),
                     (b'{"10.0.0.0/8":{"all":["2026"]}', 400),
                     (b'{"192.0.2.0/24":{"all":["2026"]}}', 404)):
    st, body = stats(None, raw=raw)
    check(st == want_st, "%s -> %d (want %d) %s" % (raw.decode(), st, want_st, body))
st, _ = stats({"10.0.0.0/8": {"all": [minute]}}, sender="127.0.0.9")
check(st == 404, "a sender without that prefix -> %d (want 404)" % st)
sys.exit(1 if bad else 0)
PYEOF
kill -TERM "$PID"
wait "$PID" || fail "collector exit $?"
PID=
grep -q 'prefixstats records=5 accounted=5 unmatched=0' "$T/err" ||
    fail "final prefixstats counters: $(grep prefixstats "$T/err" | tail -1)"
echo "PASS"
