#!/bin/bash
# clickhouse: sustained rows/s from flowkit-collect into ClickHouse (RowBinary
# over HTTP through its queue and sender thread), beside a plain bulk insert
# of the same rows with curl (one POST of the same RowBinary body: the
# ceiling), on one private ClickHouse server (scripts/clickhouse) in the same run.
#   clickhouse-rows: rows/s, from the first datagram sent to the last row
#                    acknowledged (flowkit), and for the curl POST
# Input: bench_collect_send (RECORDS IPFIX records, 30 per message) over
# loopback UDP; the rows that arrived are exported back with
# `SELECT ... FORMAT RowBinary` and posted again by curl into a second table.
# Environment: ROOT, BUILD_DIR, BENCH_TMP; CLICKHOUSE_BENCH_RECORDS (default 1000000).
set -uo pipefail
: "${ROOT:?}" "${BUILD_DIR:?}" "${BENCH_TMP:?}"
RECORDS=${CLICKHOUSE_BENCH_RECORDS:-1000000}
send=$BUILD_DIR/bench/bench_collect_send
fk=$BUILD_DIR/cli/flowkit-collect/flowkit-collect
[ -x "$send" ] && [ -x "$fk" ] || { echo "clickhouse  SKIPPED (not built)"; exit 0; }
command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ] \
    || { echo "clickhouse  SKIPPED (clickhouse-server not installed)"; exit 0; }
CH=$(mktemp -d "$BENCH_TMP/ch.XXXXXX")
PORT=$((21000 + $$ % 1000 * 3))
"$ROOT/scripts/clickhouse" start "$CH" "$PORT" >/dev/null || { echo "clickhouse  FAILED (server)"; exit 1; }
trap '"$ROOT/scripts/clickhouse" stop "$CH"' EXIT
chq() { curl -sS "http://127.0.0.1:$PORT/" --data-binary "$1"; }
now() { date +%s.%N; }
chq 'DROP TABLE IF EXISTS bench.fk' >/dev/null
chq 'DROP TABLE IF EXISTS bench.ceiling' >/dev/null

"$fk" -l udp://127.0.0.1:0 --duration 300 \
    -o "clickhouse://127.0.0.1:$PORT/bench.fk?flush_ms=200&batch_rows=100000" \
    >/dev/null 2>"$BENCH_TMP/ch.err" &
FK=$!
for _ in $(seq 100); do
    UP=$(grep -o 'listening on udp://127.0.0.1:[0-9]*' "$BENCH_TMP/ch.err" | sed 's/.*://')
    [ -n "$UP" ] && break
    sleep 0.05
done
# Warm-up: the table is created by the first insert.
warm=$("$send" "$UP" 30 | sed -n 's/.*sent_records=\([0-9]*\).*/\1/p')
for _ in $(seq 100); do [ "$(chq 'SELECT count() FROM bench.fk' 2>/dev/null)" = "$warm" ] && break; sleep 0.1; done
t0=$(now)
sent=$("$send" "$UP" "$RECORDS" | sed -n 's/.*sent_records=\([0-9]*\).*/\1/p')
want=$((sent + warm))
n=0
for _ in $(seq 600); do
    n=$(chq 'SELECT count() FROM bench.fk')
    [ "$n" -ge "$want" ] && break
    sleep 0.1
done
t1=$(now)
kill -TERM "$FK"
wait "$FK"
rows=$((n - warm))
# Ceiling: the same rows as one RowBinary POST with curl.
chq 'CREATE TABLE bench.ceiling AS bench.fk' >/dev/null
chq "SELECT * FROM bench.fk FORMAT RowBinary" >"$BENCH_TMP/rows.bin"
c0=$(now)
curl -sS "http://127.0.0.1:$PORT/?query=INSERT%20INTO%20bench.ceiling%20FORMAT%20RowBinary" \
    --data-binary "@$BENCH_TMP/rows.bin" >/dev/null
c1=$(now)
crows=$(chq 'SELECT count() FROM bench.ceiling')
awk -v r="$rows" -v a="$t0" -v b="$t1" -v cr="$crows" -v c="$c0" -v d="$c1" -v sent="$sent" 'BEGIN {
    f = r / (b - a); p = cr / (d - c)
    printf "clickhouse-rows  flowkit=%.0f rows/s  peer=%.0f rows/s  ratio=%.2f  (curl bulk insert; %d of %d rows stored)\n", f, p, f / p, r, sent
}'
