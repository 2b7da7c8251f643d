#!/bin/bash
# Every collector counts every byte of flowkit-export's default export
# (uniflow: one record per direction, no RFC 5103 reverse elements), issue
# #22. fk_pcapgen writes a capture with known totals (IP packets and
# IP-layer bytes); flowkit-export -r exports its flows with no mode option,
# and
#   nfacctd (pmacct, print plugin, csv), nfcapd + nfdump, tshark (cflow)
#   and libfixbuf (over TCP)
# must each count exactly the capture's packets and bytes. --uniflow gives
# the same. With --biflow, nfdump, tshark and libfixbuf (they read the
# reverse elements) must still count them all, and nfacctd exactly the
# forward directions (it ignores reverse elements: that is why uniflow is
# the default; docs/exporter-elements.md lists the peers tested each way).
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
BIN="$BUILD/cli/flowkit-export/flowkit-export"
GEN="$BUILD/tests/tools/fk_pcapgen"
PY=/usr/bin/python3
TOOLS="$SRC/tests/integration/nf_pcap_tools.py"
[ -x "$BIN" ] || { echo "SKIP: $BIN not built"; exit 77; }
[ -x "$GEN" ] || { echo "SKIP: $GEN not built"; exit 77; }
for t in nfacctd nfcapd nfdump tshark cc pkg-config ss; do
    command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
pkg-config --exists libfixbuf || { echo "SKIP: libfixbuf-dev not installed"; exit 77; }

W=$(mktemp -d /tmp/flowkit-export-uniflow.XXXXXX)
PIDS=()
# stop PID: the process and its children (nfacctd forks its plugins).
stop() {
    local c
    for c in $(pgrep -P "$1" 2>/dev/null); do kill -KILL "$c" 2>/dev/null; done
    kill -KILL "$1" 2>/dev/null
}
cleanup() {
    local p
    for p in "${PIDS[@]}"; do stop "$p"; done
    wait 2>/dev/null
    rm -rf "$W"
}
[ -n "${KEEP_WORK:-}" ] || trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
free_port() {
    $PY -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_bound() { for _ in $(seq 200); do ss -Hlun "sport = :$1" | grep -q . && return 0; sleep 0.05; done; return 1; }

"$GEN" --seed 22 --flows 150 --packets 2000 "$W/in.pcap" "$W/truth.jsonl" >/dev/null || exit 1
read -r WANT_P WANT_B < <($PY -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if "\"summary\"" in l][-1]
print(s["ip_packets"], s["bytes"])' "$W/truth.jsonl")
echo "capture: $WANT_P IP packets, $WANT_B IP-layer bytes"
# The forward directions alone, from the flows flowkit-export prints.
"$BIN" -r "$W/in.pcap" --flows --biflow --stdout >"$W/flows.jsonl" 2>>"$W/export.log" ||
    bad "flowkit-export --stdout failed"
read -r FWD_P FWD_B REV_P < <($PY -c '
import json, sys
fl = [json.loads(l) for l in open(sys.argv[1])]
fl = [f for f in fl if f["type"] == "flow"]
print(sum(f["packets"] for f in fl), sum(f["bytes"] for f in fl), sum(f.get("rev_packets", 0) for f in fl))' "$W/flows.jsonl")
echo "flows: forward directions $FWD_P packets, $FWD_B bytes; reverse $REV_P packets"
[ "${REV_P:-0}" -gt 0 ] || bad "the capture has no reverse traffic: the test would prove nothing"

# check NAME PACKETS BYTES [WANT_P WANT_B]: a peer's count against the capture's.
check() {
    local wp=${4:-$WANT_P} wb=${5:-$WANT_B}
    if [ "$2" = "$wp" ] && [ "$3" = "$wb" ]; then
        echo "ok   $1: $2 packets, $3 bytes"
    else
        bad "$1 counted ${2:-?} packets, ${3:-?} bytes (want $wp, $wb)"
    fi
}

# One IPFIX message with one record 192.0.2.254:9 -> 192.0.2.253:9 (its own
# template and observation domain): nfacctd's readiness probe, left out of
# the sums.
probe() {
    $PY - "$1" <<'PY'
import socket, struct, sys, time
fields = ((8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 8), (1, 8))
tmpl = struct.pack('>HH', 400, len(fields)) + b''.join(struct.pack('>HH', i, n) for i, n in fields)
rec = (socket.inet_aton('192.0.2.254') + socket.inet_aton('192.0.2.253') +
       struct.pack('>HHBQQ', 9, 9, 17, 1, 100))
body = struct.pack('>HH', 2, 4 + len(tmpl)) + tmpl + struct.pack('>HH', 400, 4 + len(rec)) + rec
msg = struct.pack('>HHIII', 10, 16 + len(body), int(time.time()), 0, 4242) + body
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(msg, ('127.0.0.1', int(sys.argv[1])))
PY
}

# nfacctd MODE...: export to nfacctd, print "packets bytes" from its csv.
# Its print plugin starts after the core listens and drops what comes
# before (a template lost so); probes until one shows in the csv tell when
# it counts. The csv is appended at every refresh (print_output_file_append).
nfacctd_count() {
    local port tag=nfacctd.$BASHPID sum
    port=$(free_port)
    cat >"$W/$tag.conf" <<CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $port
plugins: print
print_output: csv
print_output_file: $W/$tag.csv
print_output_file_append: true
print_refresh_time: 1
aggregate: src_host, dst_host, src_port, dst_port, proto
CONF
    nfacctd -f "$W/$tag.conf" >"$W/$tag.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_bound "$port" || { echo "0 0"; return; }
    local ready=0
    for _ in $(seq 100); do
        probe "$port"
        sleep 0.3
        grep -q '^192\.0\.2\.254,' "$W/$tag.csv" 2>/dev/null && { ready=1; break; }
    done
    [ $ready = 1 ] || { echo "nfacctd never counted its probe" >&2; echo "0 0"; stop "$pid"; return; }
    "$BIN" -r "$W/in.pcap" --flows "$@" -c "udp://127.0.0.1:$port" 2>>"$W/export.log"
    # Sum the csv until it holds what was sent, or stops changing for 3 s.
    sum() {
        awk -F, '$6 ~ /^[0-9]+$/ && $1 != "192.0.2.254" { p += $6; b += $7 }
                 END { printf "%d %d", p, b }' "$W/$tag.csv" 2>/dev/null
    }
    local last="" cur same=0
    for _ in $(seq 120); do
        sleep 0.5
        cur=$(sum)
        [ "$cur" = "$WANT_P $WANT_B" ] && break
        if [ "$cur" = "$last" ] && [ "$cur" != "0 0" ]; then
            same=$((same + 1))
            [ $same -ge 6 ] && break
        else
            same=0
        fi
        last=$cur
    done
    stop "$pid"
    wait "$pid" 2>/dev/null
    echo "${cur:-0 0}"
}

# nfdump_count MODE...: export to nfcapd, "packets bytes" from nfdump -o csv
# (in and out counters: nfdump splits nothing, it adds reverse counters as out).
nfdump_count() {
    local port dir=$W/nf.$BASHPID
    port=$(free_port)
    mkdir -p "$dir"
    nfcapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 >"$dir.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_bound "$port" || { echo "0 0"; return; }
    "$BIN" -r "$W/in.pcap" --flows "$@" -c "udp://127.0.0.1:$port" 2>>"$W/export.log"
    sleep 0.5
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
    nfdump -R "$dir" -o csv 2>/dev/null | awk -F, '$12 ~ /^[0-9]+$/ { p += $12 + $14; b += $13 + $15 }
        END { printf "%d %d", p, b }'
}

# tshark_count MODE...: the export's datagrams, "packets bytes" from cflow
# (tshark shows reverse elements as octets/packets too).
tshark_count() {
    local tag=ts.$BASHPID
    $PY "$TOOLS" recv "$W/$tag.pcap" "$W/$tag.port" "$W/$tag.stop" &
    local pid=$!
    PIDS+=("$pid")
    wait_file "$W/$tag.port" || { echo "0 0"; return; }
    local port
    port=$(cat "$W/$tag.port")
    "$BIN" -r "$W/in.pcap" --flows "$@" -c "udp://127.0.0.1:$port" 2>>"$W/export.log"
    touch "$W/$tag.stop"
    wait "$pid"
    tshark -r "$W/$tag.pcap" -d "udp.port==$port,cflow" -T fields -e cflow.octets -e cflow.packets \
        2>/dev/null | $PY -c '
import sys
p = b = 0
for line in sys.stdin:
    cols = (line.rstrip("\n").split("\t") + ["", ""])[:2]
    b += sum(int(x) for x in cols[0].split(",") if x)
    p += sum(int(x) for x in cols[1].split(",") if x)
print(p, b)'
}

# fixbuf_count MODE...: export over TCP, libfixbuf reads the stream.
fixbuf_count() {
    local tag=fb.$BASHPID
    $PY "$TOOLS" tcprecv "$W/$tag.ipfix" "$W/$tag.port" &
    local pid=$!
    PIDS+=("$pid")
    wait_file "$W/$tag.port" || { echo "0 0"; return; }
    "$BIN" -r "$W/in.pcap" --flows "$@" -c "tcp://127.0.0.1:$(cat "$W/$tag.port")" 2>>"$W/export.log"
    wait "$pid"
    "$W/fbreader" "$W/$tag.ipfix" 32473 2>>"$W/export.log" | $PY -c '
import json, sys
p = b = 0
for line in sys.stdin:
    r = json.loads(line)
    if r.get("kind", 0) == 0:
        p += r["packets"] + r.get("rev_packets", 0); b += r["bytes"] + r.get("rev_bytes", 0)
print(p, b)'
}

# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -o "$W/fbreader" "$SRC/tests/integration/export_fixbuf_reader.c" \
    $(pkg-config --cflags --libs libfixbuf) || exit 1

echo "--- default export (uniflow)"
# shellcheck disable=SC2046
check nfacctd $(nfacctd_count)
# shellcheck disable=SC2046
check "nfcapd/nfdump" $(nfdump_count)
# shellcheck disable=SC2046
check tshark $(tshark_count)
# shellcheck disable=SC2046
check libfixbuf $(fixbuf_count)
echo "--- --uniflow"
# shellcheck disable=SC2046
check nfacctd $(nfacctd_count --uniflow)
echo "--- --biflow (RFC 5103 reverse elements)"
# shellcheck disable=SC2046
check "nfcapd/nfdump" $(nfdump_count --biflow)
# shellcheck disable=SC2046
check tshark $(tshark_count --biflow)
# shellcheck disable=SC2046
check libfixbuf $(fixbuf_count --biflow)
# shellcheck disable=SC2046
check "nfacctd (reverse elements ignored: forward directions only)" $(nfacctd_count --biflow) \
    "$FWD_P" "$FWD_B"
[ $fail = 0 ] || { echo "flowkit-export said:"; sed 's/^/    /' "$W/export.log"; }
exit $fail
