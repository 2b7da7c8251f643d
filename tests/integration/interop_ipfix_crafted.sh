#!/bin/bash
# IPFIX exports made by the test (ipfix_crafted.py: templates with both
# address families and one pair unused, with and without ipVersion; repeated
# flow keys, an outer header then the inner flow, SRv6 and GRE; a data set
# before its template in the file), decoded by flowkit-ipfix and by
# flowkit-collect fed the same datagrams, and compared record by record and
# field by field with tshark's reading of the same bytes (every occurrence
# of a repeated element): each record must come out as the one right flow
# (docs/ipfix-decoding.md), with no outer header or next hop that is not
# there. Issue #22.
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
IPFIX="$BUILD/cli/flowkit-ipfix/flowkit-ipfix"
COLLECT="$BUILD/cli/flowkit-collect/flowkit-collect"
PY=/usr/bin/python3
CRAFT="$SRC/tests/integration/ipfix_crafted.py"
[ -x "$IPFIX" ] || { echo "SKIP: $IPFIX not built"; exit 77; }
[ -x "$COLLECT" ] || { echo "SKIP: $COLLECT not built"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }

W=$(mktemp -d /tmp/flowkit-crafted.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

$PY "$CRAFT" gen "$W" || exit 1
port_of() {
    sed -n 's/.*listening on udp:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -1
}
: >"$W/ipfix.jsonl"
for name in families repeated order; do
    "$IPFIX" "$W/$name.pcap" >"$W/$name.ipfix" 2>"$W/$name.err" || bad "flowkit-ipfix $name: $(cat "$W/$name.err")"
    cat "$W/$name.ipfix" >>"$W/ipfix.jsonl"
    grep -q ' malformed=0 ' "$W/$name.err" || bad "$name: $(cat "$W/$name.err")"
    grep -q ' no_template=0 ' "$W/$name.err" || bad "$name: data left without template: $(cat "$W/$name.err")"
    # tshark's two passes: templates learnt in the first decode the data
    # sets met before them.
    tshark -2 -r "$W/$name.pcap" -d udp.port==4739,cflow -T json --no-duplicate-keys \
        >"$W/$name.json" 2>/dev/null || bad "tshark could not read $name.pcap"
    # The same datagrams, in order, to flowkit-collect: the same records.
    want=$(grep -c . "$W/$name.ipfix")
    timeout 60 "$COLLECT" -l udp://127.0.0.1:0 --count "$want" --template-timeout 0 \
        --export-time-tolerance 0 >"$W/$name.col" 2>"$W/$name.col.err" &
    pid=$!
    for _ in $(seq 600); do
        [ -n "$(port_of "$W/$name.col.err")" ] && break
        sleep 0.05
    done
    port=$(port_of "$W/$name.col.err")
    [ -n "$port" ] || { bad "flowkit-collect printed no port: $(cat "$W/$name.col.err")"; kill "$pid"; continue; }
    tshark -r "$W/$name.pcap" -T fields -e udp.payload udp 2>/dev/null | $PY -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for line in sys.stdin:
    if line.strip():
        s.sendto(bytes.fromhex(line.strip()), ("127.0.0.1", int(sys.argv[1])))' "$port"
    wait "$pid" || bad "$name: flowkit-collect exited $? ($(grep -c . "$W/$name.col") of $want records)"
    $PY - "$W/$name.ipfix" "$W/$name.col" <<'PY' || bad "$name: flowkit-ipfix and flowkit-collect differ"
import json, sys
def load(p):
    out = []
    for line in open(p):
        r = json.loads(line)
        r.pop("exporter", None)  # the file's sender, the socket's 127.0.0.1
        out.append(json.dumps(r, sort_keys=True))
    return sorted(out)
a, b = load(sys.argv[1]), load(sys.argv[2])
for r in sorted(set(a) - set(b))[:5]:
    print("only flowkit-ipfix:  ", r)
for r in sorted(set(b) - set(a))[:5]:
    print("only flowkit-collect:", r)
print(f"{len(a)} records from flowkit-ipfix, {len(b)} from flowkit-collect")
sys.exit(0 if a == b else 1)
PY
done
# One tshark array of every case.
$PY - "$W" >"$W/tshark.json" <<'PY'
import json, sys
out = []
for name in ("families", "repeated", "order"):
    out += json.load(open(f"{sys.argv[1]}/{name}.json"))
json.dump(out, sys.stdout)
PY
echo "--- flowkit-ipfix against tshark, field by field"
$PY "$CRAFT" check "$W/expect.json" "$W/tshark.json" "$W/ipfix.jsonl" || bad "flowkit-ipfix differs from tshark"
exit $fail
