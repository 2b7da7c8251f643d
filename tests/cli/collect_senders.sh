#!/bin/bash
# flowkit-collect --senders FILE --senders-keys FILE --http: records from a
# sender that is not in the registry, or outside its sender's prefixes, are
# dropped and counted; the registry changes over wasted/netflow's signed
# API (PUT/DELETE/GET /senders[/IP], X-Io-Auth + X-Io-Sign = hex
# HMAC-SHA256, computed here with Python's hmac module): a wrong signature
# is refused (401) and counted; SIGHUP reads the file again, and a broken
# file leaves the registry as it was. NetFlow v5 datagrams built here come
# from 127.0.0.1 and from 127.0.0.2 (both loopback).
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_COLLECT"
. "$FLOWKIT_SOURCE_DIR/tests/cli/collect_http_lib.bash"

cat >"$T/senders" <<'EOF'
# sender     prefixes it may report
127.0.0.1    10.0.0.0/8 2001:db8::/32
EOF
printf 'auth = %s\nsign = %s\n' "authkey-0123456789abcdef" "signkey-fedcba9876543210" >"$T/keys"

# Usage errors first.
"$B" --senders "$T/nope" -l udp://127.0.0.1:0 --duration 1 >/dev/null 2>"$T/u.err"
[ $? -eq 2 ] && grep -q -- "--senders $T/nope" "$T/u.err" || fail "missing file: $(cat "$T/u.err")"
printf '127.0.0.1 10.0.0.0/99\n' >"$T/bad"
"$B" --senders "$T/bad" -l udp://127.0.0.1:0 --duration 1 >/dev/null 2>"$T/u.err"
[ $? -eq 2 ] && grep -q "line 1" "$T/u.err" || fail "bad file: $(cat "$T/u.err")"
"$B" --senders "$T" -l udp://127.0.0.1:0 --duration 1 >/dev/null 2>"$T/u.err"
[ $? -eq 2 ] && grep -q "regular file" "$T/u.err" || fail "directory: $(cat "$T/u.err")"
"$B" --senders-keys "$T/keys" -l udp://127.0.0.1:0 --duration 1 >/dev/null 2>"$T/u.err"
[ $? -eq 2 ] || fail "--senders-keys alone: $(cat "$T/u.err")"

start_collect --senders "$T/senders" --senders-keys "$T/keys" \
    --stats 3600 --duration 120 -o "jsonl:$T/out.jsonl"

"$PY" - "$P" "$URL" "$PID" "$T" <<'PYEOF' || fail "checks"
import hashlib, hmac, json, os, signal, socket, struct, sys, time, urllib.error, urllib.request

port, url, pid, tmp = int(sys.argv[1]), sys.argv[2].rstrip("/"), int(sys.argv[3]), sys.argv[4]
AUTH, SIGN = b"authkey-0123456789abcdef", b"signkey-fedcba9876543210"
bad = 0
seq = [0]

def check(ok, what):
    global bad
    print(("ok   " if ok else "FAIL ") + what)
    bad += not ok

def v5(src, dst):
    """One NetFlow v5 datagram with one record src -> dst (TCP, 1000 bytes)."""
    seq[0] += 1
    h = struct.pack("!HHIIIIBBH", 5, 1, 100000, int(time.time()), 0, seq[0], 0, 0, 0)
    r = struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton(src), socket.inet_aton(dst),
                    bytes(4), 0, 0, 10, 1000, 90000, 99000, 40000, 443, 0, 0x18, 6, 0, 0, 0,
                    24, 24, 0)
    return h + r

def send(sender, src, dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sender, 0))
    s.sendto(v5(src, dst), ("127.0.0.1", port))
    s.close()

def out_lines():
    try:
        return [json.loads(l) for l in open(os.path.join(tmp, "out.jsonl")) if l.strip()]
    except FileNotFoundError:
        return []

def metrics():
    req = urllib.request.Request(url + "/metrics")
    m = {}
    for line in urllib.request.urlopen(req, timeout=10).read().decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    return m

def wait_for(pred, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    check(False, "timed out: " + what)
    return False

def api(method, path, body=None, sign=True, auth=AUTH, key=SIGN):
    data = json.dumps(body).encode() if body is not None else b""
    req = urllib.request.Request(url + path, data=data if body is not None else None,
                                 method=method)
    if sign:
        mac = hmac.new(key, data if data else auth, hashlib.sha256).hexdigest()
        req.add_header("X-Io-Auth", auth.decode())
        req.add_header("X-Io-Sign", mac)
    try:
        r = urllib.request.urlopen(req, timeout=10)
        return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

def dropped():
    m = metrics()
    return (int(m.get("flowkit_collector_sender_unknown_total", -1)),
            int(m.get("flowkit_collector_sender_outside_total", -1)))

# 1. From the file: 127.0.0.1 may report 10/8; 127.0.0.2 is nobody.
send("127.0.0.1", "10.1.2.3", "192.0.2.10")      # inside (source)
send("127.0.0.1", "192.0.2.11", "10.9.9.9")      # inside (destination)
send("127.0.0.1", "203.0.113.5", "198.51.100.7") # outside
send("127.0.0.2", "10.1.2.3", "192.0.2.10")      # unknown sender
wait_for(lambda: len(out_lines()) >= 2, "two accepted records")
wait_for(lambda: dropped() == (1, 1), "the drop counters")
check(sorted(l["src_addr"] for l in out_lines()) == ["10.1.2.3", "192.0.2.11"],
      "only the records inside 127.0.0.1's prefixes: %s" % [l["src_addr"] for l in out_lines()])
check(dropped() == (1, 1), "sender_unknown=1 sender_outside=1 in /metrics: %s" % (dropped(),))

# 2. The API: unsigned and wrongly signed requests are refused and counted.
st, _ = api("GET", "/senders", sign=False)
check(st == 401, "GET /senders without a signature -> %d (want 401)" % st)
st, _ = api("GET", "/senders", key=b"wrong-key-wrong-key")
check(st == 401, "GET /senders with a wrong signature -> %d (want 401)" % st)
st, _ = api("PUT", "/senders/127.0.0.2", {"prefixes": [{"prefix": "203.0.113.0", "prefixLen": 24}]},
            auth=b"not-the-auth-key-at-all")
check(st == 401, "PUT with a wrong auth key -> %d (want 401)" % st)
check(metrics().get("flowkit_http_senders_unauthorized_total", 0) >= 3,
      "refusals counted in flowkit_http_senders_unauthorized_total")
st, body = api("GET", "/senders")
check(st == 200 and json.loads(body)[0]["sender"] == "127.0.0.1"
      and json.loads(body)[0]["prefixes"] == [{"prefix": "10.0.0.0", "prefixLen": 8},
                                              {"prefix": "2001:db8::", "prefixLen": 32}]
      and json.loads(body)[0]["accepted"] == 2 and json.loads(body)[0]["outside"] == 1,
      "GET /senders (signed): %s" % body)
for bad_body in ('{"prefixes":[{"prefix":"203.0.113.0"}]}', '{"prefixes":[{"prefix":"x","prefixLen":8}]}',
                 '{"prefixes":"all"}', '{"prefixes":[{"prefix":"203.0.113.0","prefixLen":77}]}'):
    req = urllib.request.Request(url + "/senders/127.0.0.2", data=bad_body.encode(), method="PUT")
    req.add_header("X-Io-Auth", AUTH.decode())
    req.add_header("X-Io-Sign", hmac.new(SIGN, bad_body.encode(), hashlib.sha256).hexdigest())
    try:
        st = urllib.request.urlopen(req, timeout=10).status
    except urllib.error.HTTPError as e:
        st = e.code
    check(st == 400, "PUT %s -> %d (want 400)" % (bad_body, st))
st, _ = api("GET", "/senders/127.0.0.2")
check(st == 404, "a refused PUT added nothing: GET /senders/127.0.0.2 -> %d" % st)

# 3. PUT a sender with its prefix: its records in that prefix now pass.
st, body = api("PUT", "/senders/127.0.0.2", {"prefixes": [{"prefix": "203.0.113.0", "prefixLen": 24}]})
check(st == 200 and json.loads(body)["prefixes"] == [{"prefix": "203.0.113.0", "prefixLen": 24}],
      "PUT /senders/127.0.0.2 -> %d %s" % (st, body))
send("127.0.0.2", "203.0.113.5", "198.51.100.7")
wait_for(lambda: len(out_lines()) >= 3, "the record of the new sender")
check(out_lines()[-1]["src_addr"] == "203.0.113.5", "127.0.0.2's record in its prefix passes")
# DELETE the prefix: the sender stays, reporting nothing now passes.
st, _ = api("DELETE", "/senders/127.0.0.2", {"prefixes": [{"prefix": "203.0.113.0", "prefixLen": 24}]})
check(st == 200, "DELETE a prefix -> %d" % st)
st, body = api("GET", "/senders/127.0.0.2")
check(st == 200 and json.loads(body)["prefixes"] == [], "the sender stays without prefixes: %s" % body)
st, _ = api("DELETE", "/senders/127.0.0.2")
check(st == 200, "DELETE the sender -> %d" % st)
st, _ = api("DELETE", "/senders/127.0.0.2")
check(st == 404, "DELETE it again -> %d (want 404)" % st)
send("127.0.0.2", "203.0.113.5", "198.51.100.7")
wait_for(lambda: dropped()[0] == 2, "the deleted sender's record counted as unknown")

# 4. SIGHUP reads the file again (the API's changes go); a broken file keeps the registry.
with open(os.path.join(tmp, "senders"), "w") as f:
    f.write("127.0.0.1 10.0.0.0/8\n127.0.0.2\n")
os.kill(pid, signal.SIGHUP)
wait_for(lambda: api("GET", "/senders/127.0.0.2")[0] == 200, "the reloaded file")
send("127.0.0.2", "203.0.113.9", "198.51.100.7")   # no prefixes: any address
wait_for(lambda: any(l["src_addr"] == "203.0.113.9" for l in out_lines()), "a record after SIGHUP")
with open(os.path.join(tmp, "senders"), "w") as f:
    f.write("127.0.0.1 10.0.0.0/8\nthis is not an address\n")
os.kill(pid, signal.SIGHUP)
time.sleep(0.5)
st, body = api("GET", "/senders")
check(st == 200 and len(json.loads(body)) == 2, "a broken file on SIGHUP changes nothing: %s" % body)
sys.exit(1 if bad else 0)
PYEOF
grep -q "SIGHUP: --senders .*line 2" "$T/err" || fail "the broken file was not reported: $(tail -3 "$T/err")"
kill -TERM "$PID"
wait "$PID" || fail "collector exit $?"
PID=
grep -q 'sender_unknown=2 sender_outside=1' "$T/err" || fail "final counters: $(tail -1 "$T/err")"
echo "PASS"
