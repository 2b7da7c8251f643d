#!/bin/bash
# flowkit-collect receives on 127.0.0.1: a NetFlow v5 datagram becomes JSON
# lines; --count and --duration end the program by themselves; csv output has
# its header; SIGHUP reopens files; SIGTERM flushes and exits 0; --stats;
# --rotate-bytes moves a full file aside.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_COLLECT"
need_py

# One exporter = one source port for the whole test (sessions are per port).
SPORT=$("$PY" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# send_v5 PORT N_RECORDS SEQ: one NetFlow v5 datagram to 127.0.0.1:PORT.
send_v5() {
    "$PY" - "$1" "$2" "$3" "$SPORT" <<'PYEOF'
import socket, struct, sys
port, n, seq, sport = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
hdr = struct.pack("!HHIIIIBBH", 5, n, 100000, 1795435200, 0, seq, 0, 1, 0)
recs = b""
for i in range(n):
    recs += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH",
        bytes([10, 0, 0, 1 + i]), bytes([10, 9, 9, 9]), bytes(4), 1, 2,
        3 + i, 1500 * (i + 1), 95000, 99000, 40000 + i, 443, 0, 0x1b, 6, 0, 0, 0, 24, 24, 0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", sport))
s.sendto(hdr + recs, ("127.0.0.1", port))
PYEOF
}

# No timing thresholds: every wait is on a condition, bounded generously
# (sanitizer builds on a loaded machine are slow).
lines_are() { [ -f "$1" ] && [ "$(wc -l <"$1")" -eq "$2" ]; }


# 1. --count: two records, then exit 0 by itself.
rm -f "$T/err" # listen_port must not read an earlier run's line
timeout 60 "$B" -l udp://127.0.0.1:0 --count 2 >"$T/out" 2>"$T/err" &
PID=$!
PORT=$(listen_port "$T/err" udp) || fail "no listening line"
send_v5 "$PORT" 3 0
wait $PID; rc=$?; PID=
[ $rc -eq 0 ] || fail "--count run exited $rc"
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "--count 2 wrote $(wc -l <"$T/out") lines"
grep -q '^{"type":"flow","src_addr":"10.0.0.1","dst_addr":"10.9.9.9","src_port":40000,"dst_port":443,"proto":6,"bytes":1500,"packets":3,"start":"2026-11-23T11:59:55.000Z","end":"2026-11-23T11:59:59.000Z","tcp_flags":27,"exporter":"127.0.0.1","odid":1,"version":5' "$T/out" \
    || fail "unexpected JSON: $(head -1 "$T/out")"

# 2. --duration ends the program by itself (no traffic).
start=$(date +%s.%N)
timeout 60 "$B" -l udp://127.0.0.1:0 --duration 1 >"$T/out" 2>"$T/err"
rc=$?
el=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
[ $rc -eq 0 ] || fail "--duration exited $rc"
# Not before the duration (how late depends on the machine's load).
awk -v e="$el" 'BEGIN { exit !(e >= 0.9) }' || fail "--duration 1 ended after ${el}s"

# 3. csv + jsonl files, SIGHUP reopen, sequence gap in --stats, SIGTERM flush.
rm -f "$T/err"
timeout 120 "$B" -l udp://127.0.0.1:0 -o "csv:$T/f.csv" -o "jsonl:$T/f.jsonl" --stats 1 \
    >"$T/out" 2>"$T/err" &
PID=$!
PORT=$(listen_port "$T/err" udp) || fail "no listening line"
send_v5 "$PORT" 2 100
wait_for 30 lines_are "$T/f.csv" 3 || fail "first 2 records not written"
mv "$T/f.csv" "$T/f.csv.1"
kill -HUP $PID
wait_for 30 lines_are "$T/f.csv" 1 || fail "SIGHUP did not reopen f.csv"
send_v5 "$PORT" 1 110
wait_for 30 lines_are "$T/f.csv" 2 || fail "third record not written"
wait_for 30 grep -q 'stats .* records=3 ' "$T/err" || fail "no stats line with records=3"
kill -TERM $PID
wait $PID; rc=$?; PID=
[ $rc -eq 0 ] || fail "SIGTERM exit $rc"
[ "$(wc -l <"$T/f.jsonl")" -eq 3 ] || fail "jsonl has $(wc -l <"$T/f.jsonl") lines"
head -1 "$T/f.csv.1" | grep -q '^start,end,src_addr,dst_addr,src_port,dst_port,proto,bytes,packets' \
    || fail "csv header missing"
[ "$(wc -l <"$T/f.csv.1")" -eq 3 ] || fail "rotated csv should hold header + 2 rows"
[ "$(wc -l <"$T/f.csv")" -eq 2 ] || fail "reopened csv should hold header + 1 row"
grep -q ',10.0.0.1,10.9.9.9,40000,443,6,1500,3,27,127.0.0.1,1,5,1,2,,' "$T/f.csv.1" || fail "csv row: $(sed -n 2p "$T/f.csv.1")"
grep -q 'stats datagrams=2 .* records=3 .*sequence_gaps=1 sequence_lost=8' "$T/err" || fail "stats line: $(grep stats "$T/err" | tail -1)"
[ -s "$T/out" ] && fail "stdout should be empty with file outputs"

# 4. --rotate-bytes: a file that reached the size after a record is moved
# aside as PATH.YYYYMMDDTHHMMSSZ (.N added when the name is taken) and a new
# PATH started; with 1 byte, each record ends up in a file of its own.
rm -f "$T/err"
timeout 60 "$B" -l udp://127.0.0.1:0 -o "jsonl:$T/r.jsonl" --rotate-bytes 1 --count 2 \
    >"$T/out" 2>"$T/err" &
PID=$!
PORT=$(listen_port "$T/err" udp) || fail "no listening line"
send_v5 "$PORT" 2 200
wait $PID; rc=$?; PID=
[ $rc -eq 0 ] || fail "--rotate-bytes run exited $rc"
rotated=("$T"/r.jsonl.[0-9]*T[0-9]*Z*)
[ ${#rotated[@]} -eq 2 ] && [ -f "${rotated[1]}" ] || fail "want 2 rotated files: $(ls "$T")"
for f in "${rotated[@]}"; do
    [ "$(wc -l <"$f")" -eq 1 ] || fail "$f holds $(wc -l <"$f") lines"
done
[ -f "$T/r.jsonl" ] && [ ! -s "$T/r.jsonl" ] || fail "no fresh empty r.jsonl after rotation"
echo ok
