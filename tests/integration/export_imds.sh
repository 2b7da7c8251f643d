#!/bin/bash
# flowkit-export --imds-url against an IMDSv2 stand-in (imds_standin.py)
# served on 127.0.0.1 inside the test's own netns:
#  - the stand-in itself refuses a GET without a token and one with a wrong
#    token (401);
#  - two exporters capture UDP on the netns' loopback (vpcflow lines and
#    JSON lines, refresh every second); the JSON one has --tag region=...,
#    which wins over the metadata, and also exports IPFIX to a
#    flowkit-collect in the netns: its records carry the same tags
#    (metadataTags), changed at run time;
#  - phase 1: a datagram from port 40001: its lines carry the first values;
#  - phase 2: the stand-in revokes every token (so the exporters' next GET
#    is refused, 401) and serves a new instance id and subnet: both get a
#    new token and the datagram from port 40002 carries the new values;
#  - phase 3: the stand-in is stopped: the exporters keep running, count
#    the failed refreshes, and the datagram from port 40003 keeps the last
#    values; at exit --stats says refreshes, failures, tokens and refusals.
# Every field is checked against the stand-in's values. Bad --imds-url
# values exit 2.
. "$FLOWKIT_SOURCE_DIR/scripts/netns.sh"
fk_netns_require_root
set -uo pipefail
PY=/usr/bin/python3
EXP="$FLOWKIT_BUILD_DIR/cli/flowkit-export/flowkit-export"
STANDIN="$FLOWKIT_SOURCE_DIR/tests/integration/imds_standin.py"
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
WORK=$(mktemp -d /tmp/fk_imds_it.XXXXXX)
fk_netns_on_exit "rm -rf '$WORK'"

# Refused settings (no network involved).
for bad in "ftp://127.0.0.1" "http://metadata.example" "http://127.0.0.1:0" \
    "http://127.0.0.1/latest"; do
    "$EXP" -r /dev/null --stdout --imds-url "$bad" >/dev/null 2>"$WORK/bad.err"
    rc=$?
    [ $rc -eq 2 ] || fail "--imds-url $bad: exit $rc, expected 2"
done
"$EXP" -r /dev/null --stdout --imds-refresh 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--imds-refresh 0 was not refused"
"$EXP" -r /dev/null --stdout --imds --check >"$WORK/check.out" 2>&1 ||
    fail "--imds --check: $(cat "$WORK/check.out")"
grep -q 'http://169.254.169.254' "$WORK/check.out" || fail "--check without the default URL"

NS=fkimds$$
fk_netns_on_exit "ip netns del $NS"
ip netns add "$NS" || fail "cannot create the netns"
ip -n "$NS" link set lo up || fail "lo up"

ip netns exec "$NS" "$PY" "$STANDIN" "$WORK/imds.log" >"$WORK/standin.out" 2>&1 &
SRV=$!
fk_netns_on_exit "kill -9 $SRV"
for _ in $(seq 100); do grep -q '^port ' "$WORK/standin.out" && break; sleep 0.05; done
PORT=$(awk '/^port /{print $2}' "$WORK/standin.out")
[ -n "$PORT" ] || fail "the stand-in did not start: $(cat "$WORK/standin.out")"
URL="http://127.0.0.1:$PORT"

# The stand-in refuses what IMDSv2 refuses.
ip netns exec "$NS" "$PY" - "$URL" <<'PY' || fail "the stand-in does not refuse missing/wrong tokens"
import sys, urllib.request, urllib.error
url = sys.argv[1] + "/latest/meta-data/instance-id"
for headers in ({}, {"X-aws-ec2-metadata-token": "not-a-token"}):
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=3)
        sys.exit("answered without a valid token")
    except urllib.error.HTTPError as e:
        if e.code != 401:
            sys.exit("HTTP %d instead of 401" % e.code)
PY
grep -q ' 401 no token' "$WORK/imds.log" && grep -q ' 401 wrong token' "$WORK/imds.log" ||
    fail "refusals not logged: $(cat "$WORK/imds.log")"

CPORT=47391
ip netns exec "$NS" "$FLOWKIT_BUILD_DIR/cli/flowkit-collect/flowkit-collect" \
    -l "udp://127.0.0.1:$CPORT" -o "jsonl:$WORK/collect.jsonl" 2>"$WORK/collect.err" &
XC=$!
fk_netns_on_exit "kill -9 $XC"
for _ in $(seq 100); do grep -q 'listening on' "$WORK/collect.err" && break; sleep 0.05; done
grep -q 'listening on' "$WORK/collect.err" || fail "collector: $(cat "$WORK/collect.err")"

COMMON=(-i lo -f "udp port 9999" --attribution off --flows --stdout --set capture.idle_timeout=1
        --imds-url "$URL" --imds-refresh 1 --imds-timeout 0.5 --stats --tag env=test)
ip netns exec "$NS" "$EXP" "${COMMON[@]}" --format vpcflow >"$WORK/vpc.out" 2>"$WORK/vpc.err" &
XV=$!
fk_netns_on_exit "kill -9 $XV"
ip netns exec "$NS" "$EXP" "${COMMON[@]}" --tag region=static-region \
    -c "udp://127.0.0.1:$CPORT" >"$WORK/json.out" 2>"$WORK/json.err" &
XJ=$!
fk_netns_on_exit "kill -9 $XJ"

# stats_at LEAST FIELD: wait until both exporters' --stats (SIGUSR1) say
# imds FIELD >= LEAST.
stats_at() {
    local least=$1 field=$2 ok
    for _ in $(seq 60); do
        ok=0
        for x in vpc json; do
            pid=$XV
            [ $x = json ] && pid=$XJ
            kill -USR1 "$pid" 2>/dev/null || fail "exporter $x is gone: $(cat "$WORK/$x.err")"
        done
        sleep 0.25
        for x in vpc json; do
            v=$(grep -o "imds .*" "$WORK/$x.err" | tail -1 | grep -o " $field=[0-9]*" | cut -d= -f2)
            [ -n "$v" ] && [ "$v" -ge "$least" ] && ok=$((ok + 1))
        done
        [ $ok -eq 2 ] && return 0
    done
    fail "imds $field never reached $least: $(grep imds "$WORK/vpc.err" | tail -1) / $(grep imds "$WORK/json.err" | tail -1)"
}

# send SRCPORT: one datagram of 10 bytes to 9999, and wait for its lines.
send() {
    ip netns exec "$NS" "$PY" -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $1)); s.sendto(b'x' * 10, ('127.0.0.1', 9999))" || fail "send from $1"
    for _ in $(seq 100); do
        grep -q " $1 9999 " "$WORK/vpc.out" && grep -q "\"src_port\":$1," "$WORK/json.out" && return 0
        sleep 0.1
    done
    fail "no lines for the datagram from port $1"
}

for x in vpc json; do
    for _ in $(seq 100); do grep -q attribution "$WORK/$x.err" && break; sleep 0.05; done
done
stats_at 1 refreshes
send 40001

# Phase 2: tokens revoked, new values.
kill -USR2 "$SRV" && kill -USR1 "$SRV" || fail "signal the stand-in"
stats_at 1 token_refused
stats_at 2 tokens
# The refresh that was refused read the new values: wait for the next one.
R=0
for x in vpc json; do
    r=$(grep -o "imds refreshes=[0-9]*" "$WORK/$x.err" | tail -1 | cut -d= -f2)
    [ "$r" -gt "$R" ] && R=$r
done
stats_at $((R + 1)) refreshes
send 40002

# Phase 3: the service goes away.
kill -TERM "$SRV"
wait "$SRV" 2>/dev/null
stats_at 1 failures
send 40003
for p in $XV $XJ; do kill -TERM "$p"; done
wait $XV || fail "flowkit-export (vpcflow) exit $?"
wait $XJ || fail "flowkit-export (json) exit $?"
for _ in $(seq 50); do # the last flows' records
    [ "$(grep -c '"src_port":4000[123],' "$WORK/collect.jsonl" 2>/dev/null)" -ge 3 ] && break
    sleep 0.1
done
kill -TERM $XC
wait $XC || fail "flowkit-collect exit $?"

# The stand-in saw each refusal answered by a new token.
"$PY" - "$WORK/imds.log" <<'PY' || fail "the stand-in's log"
import sys
lines = open(sys.argv[1]).read().splitlines()
r = lines.index("REVOKED")
after = lines[r + 1:]
# Each exporter: one request refused, one new token, then no refusal.
refused = [l for l in after if " 401 " in l]
puts = [l for l in after if l == "PUT /latest/api/token 200"]
if len(refused) != 2 or any(not l.endswith(" 401 wrong token") for l in refused):
    sys.exit("expected 2 refusals (a revoked token, one per exporter): %s" % refused)
if len(puts) != 2:
    sys.exit("expected 2 new tokens after the revocation, got %d" % len(puts))
if lines[:r].count("PUT /latest/api/token 200") != 2:
    sys.exit("expected one token per exporter before the revocation")
print("stand-in: the 2 refused requests after the revocation got 2 new tokens")
PY

"$PY" - "$WORK" <<'PY' || fail "lines differ from the stand-in's values"
import json, re, sys
work = sys.argv[1]
FIRST = {"account-id": "123456789012", "instance-id": "i-0abc1234def567890",
         "availability-zone": "eu-west-1b", "az-id": "euw1-az2", "region": "eu-west-1",
         "vpc-id": "vpc-0a1b2c3d", "subnet-id": "subnet-0f1e2d3c",
         "interface-id": "eni-0123456789abcdef0"}
SECOND = dict(FIRST, **{"instance-id": "i-0fff000000000002", "subnet-id": "subnet-0second"})
want = {40001: FIRST, 40002: SECOND, 40003: SECOND}
ok = True
def bad(m):
    global ok
    ok = False
    print("FAIL:", m)

lines = open(work + "/vpc.out").read().splitlines()
head = lines[0].split(" ")
rows = [dict(zip(head, l.split(" "))) for l in lines[1:]]
for port, v in want.items():
    hit = [r for r in rows if r["srcport"] == str(port) and r["dstport"] == "9999"]
    if len(hit) != 1:
        bad("vpcflow: %d lines from port %d" % (len(hit), port))
        continue
    r = hit[0]
    for k in ("account-id", "instance-id", "az-id", "region", "vpc-id", "subnet-id", "interface-id"):
        if r[k] != v[k]:
            bad("vpcflow port %d: %s=%s, expected %s" % (port, k, r[k], v[k]))
    if r["packets"] != "1" or r["bytes"] != "38" or r["srcaddr"] != "127.0.0.1":
        bad("vpcflow port %d: counters/addresses %s" % (port, r))
    print("vpcflow %d ok: %s" % (port, " ".join(r[k] for k in ("srcport", "account-id", "instance-id", "region", "vpc-id", "subnet-id", "az-id"))))

recs = [json.loads(l) for l in open(work + "/json.out")]
for port, v in want.items():
    hit = [r for r in recs if r.get("type") == "flow" and r.get("src_port") == port]
    if len(hit) != 1:
        bad("json: %d flows from port %d" % (len(hit), port))
        continue
    tags = hit[0].get("tags", {})
    expect = dict(v, region="static-region", env="test")  # --tag wins
    if tags != expect:
        bad("json port %d: tags %s, expected %s" % (port, tags, expect))
    else:
        print("json %d ok: %s" % (port, json.dumps(tags, sort_keys=True)))

# The same tags over IPFIX, as the collector wrote them.
col = [json.loads(l) for l in open(work + "/collect.jsonl")]
for port, v in want.items():
    hit = [r for r in col if r.get("type") == "flow" and r.get("src_port") == port]
    expect = dict(v, region="static-region", env="test")
    if len(hit) != 1 or hit[0].get("tags") != expect:
        bad("IPFIX -> collect port %d: %s, expected tags %s" % (port, [h.get("tags") for h in hit], expect))
    else:
        print("IPFIX -> collect %d ok: instance-id %s subnet-id %s" % (port, expect["instance-id"], expect["subnet-id"]))

for x in ("vpc", "json"):
    err = open(work + "/" + x + ".err").read()
    last = [l for l in err.splitlines() if " imds " in l][-1]
    f = dict(re.findall(r"(\w+)=(\d+)", last))
    if not (int(f["refreshes"]) >= 2 and int(f["failures"]) >= 1 and int(f["tokens"]) >= 2
            and int(f["token_refused"]) >= 1) or "last_error=" not in last:
        bad("%s: exit stats %s" % (x, last))
    else:
        print("%s exit stats: %s" % (x, last))
sys.exit(0 if ok else 1)
PY
echo PASS
