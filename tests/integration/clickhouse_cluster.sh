#!/bin/bash
# The cluster form of docs/clickhouse.md, read through the console: two
# private ClickHouse servers on 127.0.0.1 (scripts/clickhouse; own temp
# dirs, own ports, started and stopped by pid) are the two shards of a
# cluster with a Distributed table over their local tables. Two
# flowkit-collect processes, fed different known replays (softflowd IPFIX
# exports of clickhouse_pcap.py's two sites), each write their own shard;
# one of them serves the console with --http-history pointing at the
# Distributed table. Its API, asked about the replays' (old) window, answers
# from ClickHouse, and top-K per dimension, series and log searches equal
# the ground truth of both replays together, and so do the console's pages
# in headless Chromium (overview and log search of that window; screenshots
# in $FLOWKIT_BUILD_DIR/artifacts/). Then ClickHouse goes away:
# the API answers 502 with a counter while the collector keeps collecting.
set -u
S="$FLOWKIT_SOURCE_DIR"
B="$FLOWKIT_BUILD_DIR/cli/flowkit-collect/flowkit-collect"
PY=/usr/bin/python3
command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ] \
    || { echo "SKIP: clickhouse-server not installed (scripts/setup installs it)"; exit 77; }
command -v softflowd >/dev/null || { echo "SKIP: softflowd not installed"; exit 77; }
"$PY" -c 'import scapy' 2>/dev/null || { echo "SKIP: python3-scapy missing"; exit 77; }
[ -x "$B" ] || { echo "flowkit-collect not built"; exit 1; }
T=$(mktemp -d)
chmod 755 "$T" # the servers run as user clickhouse
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    "$S/scripts/clickhouse" stop "$T/ch1" 2>/dev/null
    "$S/scripts/clickhouse" stop "$T/ch2" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$T"/*.err; do [ -f "$f" ] && { echo "== $f"; tail -5 "$f"; }; done
    for d in ch1 ch2; do tail -5 "$T/$d/log/server.err.log" 2>/dev/null; done
    exit 1
}

# Two bases of three consecutive free TCP ports (HTTP, native, interserver).
read -r P1 P2 < <("$PY" - <<'PYEOF'
import os, socket
found, base = [], 20000 + (os.getpid() % 2000) * 10
while len(found) < 2 and base < 60000:
    try:
        ss = []
        for p in range(base, base + 3):
            s = socket.socket(); s.bind(("127.0.0.1", p)); ss.append(s)
        found.append(base)
    except OSError:
        pass
    base += 10
print(*found)
PYEOF
)
[ -n "${P2:-}" ] || fail "no free ports"
for n in 1 2; do
    mkdir -p "$T/ch$n/config.d"
    # The cluster: shard n is server n's native port (HTTP port + 1).
    cat >"$T/ch$n/config.d/cluster.xml" <<XML
<yandex><remote_servers><flows_cluster>
  <shard><replica><host>127.0.0.1</host><port>$((P1 + 1))</port></replica></shard>
  <shard><replica><host>127.0.0.1</host><port>$((P2 + 1))</port></replica></shard>
</flows_cluster></remote_servers></yandex>
XML
done
t0=$(date +%s.%N)
"$S/scripts/clickhouse" start "$T/ch1" "$P1" >/dev/null &
s1=$!
"$S/scripts/clickhouse" start "$T/ch2" "$P2" >/dev/null || fail "clickhouse 2 did not start"
wait "$s1" || fail "clickhouse 1 did not start"
echo "two clickhouse servers up in $(echo "$(date +%s.%N) - $t0" | bc) s"
for n in 1 2; do
    rpid=$(cat "$T/ch$n/runuser.pid")
    echo "server $n: $(ps -o rss= -p "$(pgrep -P "$rpid")" 2>/dev/null) KiB RSS"
done
DB="fk_cluster_$$"
chq() { curl -sS --max-time 20 "http://127.0.0.1:$1/" --data-binary "$2"; }

# start_collect NAME ARGS...: a collector on a free UDP port; sets CPID, CPORT, CERR.
start_collect() {
    local name=$1
    shift
    CERR="$T/$name.err"
    "$B" -l udp://127.0.0.1:0 --duration 120 --stats 1 -o jsonl:/dev/null "$@" 2>"$CERR" &
    CPID=$!
    PIDS+=("$CPID")
    CPORT=
    for _ in $(seq 100); do
        CPORT=$(grep -o 'listening on udp://127.0.0.1:[0-9]*' "$CERR" | sed 's/.*://')
        [ -n "$CPORT" ] && return 0
        sleep 0.05
    done
    fail "$name: collector did not start"
}
last_stat() { grep 'stats datagrams' "$1" | tail -1 | grep -o " $2=[0-9]*" | cut -d= -f2; }

for s in 1 2; do
    "$PY" "$S/tests/integration/clickhouse_pcap.py" "$T/site$s.pcap" $s >"$T/truth$s" 2>/dev/null \
        || fail "pcap generator"
done
# Collector 1 writes shard 1 and serves the console over the Distributed
# table; collector 2 writes shard 2 and serves nothing.
start_collect c1 -o "clickhouse://127.0.0.1:$P1/$DB.flows_local?flush_ms=200&drain_ms=500" --http 0 \
    --http-root "$S/console/www" \
    --http-history "clickhouse://127.0.0.1:$P1/$DB.flows?timeout_ms=5000"
C1=$CPID E1=$CERR U1=$CPORT
start_collect c2 -o "clickhouse://127.0.0.1:$P2/$DB.flows_local?flush_ms=200"
C2=$CPID E2=$CERR U2=$CPORT
HTTP=$(grep -o 'console at http://127.0.0.1:[0-9]*/' "$E1" | sed 's/console at //')
[ -n "$HTTP" ] || fail "no console URL"
timeout 60 softflowd -d -r "$T/site1.pcap" -n "127.0.0.1:$U1" -v 10 -A milli >/dev/null 2>&1 \
    || fail "softflowd site 1"
timeout 60 softflowd -d -r "$T/site2.pcap" -n "127.0.0.1:$U2" -v 10 -A milli >/dev/null 2>&1 \
    || fail "softflowd site 2"
n1=$(wc -l <"$T/truth1") n2=$(wc -l <"$T/truth2")
for _ in $(seq 100); do
    [ "$(chq "$P1" "SELECT count() FROM $DB.flows_local" 2>/dev/null)" = "$n1" ] \
        && [ "$(chq "$P2" "SELECT count() FROM $DB.flows_local" 2>/dev/null)" = "$n2" ] && break
    sleep 0.1
done
[ "$(chq "$P1" "SELECT count() FROM $DB.flows_local")" = "$n1" ] || fail "shard 1 rows"
[ "$(chq "$P2" "SELECT count() FROM $DB.flows_local")" = "$n2" ] || fail "shard 2 rows"
# The Distributed table over both shards (as docs/clickhouse.md, on both servers).
for p in "$P1" "$P2"; do
    chq "$p" "CREATE TABLE $DB.flows AS $DB.flows_local
        ENGINE = Distributed(flows_cluster, $DB, flows_local, cityHash64(exporter))" \
        || fail "Distributed table"
done
[ "$(chq "$P2" "SELECT count() FROM $DB.flows")" = "$((n1 + n2))" ] \
    || fail "the Distributed table does not see both shards"
echo "shards: $n1 + $n2 rows, Distributed: $((n1 + n2))"

"$PY" "$S/tests/integration/clickhouse_cluster_check.py" "$HTTP" "$FLOWKIT_BUILD_DIR/artifacts" \
    "$T/truth1" "$T/truth2" \
    || fail "the console's history differs from the ground truth of both replays (above)"
# The store never held that window: the same query with source=store is empty.
[ "$(curl -s "${HTTP}api/v1/top?window=8h&source=store" | "$PY" -c \
    'import json,sys; b=json.load(sys.stdin); print(b["source"], len(b["rows"]))')" = "store 0" ] \
    || fail "the live store answered the replays' old window"
curl -s "${HTTP}metrics" | grep -q '^flowkit_http_history_ok_total [1-9]' \
    || fail "history queries not counted"

# ClickHouse down: 502 with a counter; the collector goes on collecting.
"$S/scripts/clickhouse" stop "$T/ch1"
"$S/scripts/clickhouse" stop "$T/ch2"
code=$(curl -s -o "$T/down.json" -w '%{http_code}' \
    "${HTTP}api/v1/top?since=2026-11-23T11:00:00Z&until=2026-11-23T13:00:00Z")
[ "$code" = 502 ] || fail "ClickHouse down: HTTP $code ($(cat "$T/down.json"))"
grep -q unreachable "$T/down.json" || fail "no clear message: $(cat "$T/down.json")"
curl -s "${HTTP}metrics" | grep -q '^flowkit_http_history_unreachable_total 1$' \
    || fail "unreachable not counted"
before=$(last_stat "$E1" records)
timeout 60 softflowd -d -r "$T/site2.pcap" -n "127.0.0.1:$U1" -v 10 -A milli >/dev/null 2>&1 \
    || fail "softflowd while ClickHouse is down"
sleep 1.5
after=$(last_stat "$E1" records)
[ "$after" -eq "$((before + n2))" ] || fail "collecting while ClickHouse is down: $before -> $after"
curl -sf "${HTTP}healthz" >/dev/null || fail "console gone"
kill -TERM "$C1" "$C2"
wait "$C1" || fail "collector 1 exit status"
wait "$C2" || fail "collector 2 exit status"

# A ClickHouse that accepts and never answers: 504 after timeout_ms, counted.
"$PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$T/silent.port" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/silent.port" ] && break; sleep 0.05; done
start_collect c3 --http 0 --http-history "clickhouse://127.0.0.1:$(cat "$T/silent.port")/db.t?timeout_ms=500"
HTTP=$(grep -o 'console at http://127.0.0.1:[0-9]*/' "$CERR" | sed 's/console at //')
code=$(curl -s -o "$T/slow.json" -w '%{http_code}' "${HTTP}api/v1/series?source=clickhouse")
[ "$code" = 504 ] || fail "silent ClickHouse: HTTP $code ($(cat "$T/slow.json"))"
curl -s "${HTTP}metrics" | grep -q '^flowkit_http_history_timeouts_total 1$' \
    || fail "timeout not counted"
echo ok
