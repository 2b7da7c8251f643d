#!/bin/bash
# One decoder path: flowkit-ipfix reading every vendor capture in
# $FLOWKIT_SHARED_DIR/data/vendor-captures/ must print the same flow records
# as flowkit-collect receiving the same datagrams over UDP on 127.0.0.1
# (every key of every record; only "exporter" differs: the capture's address
# there, 127.0.0.1 here). Sessions group files as interop_vendor_captures.sh
# does (templates first). Each (address, port) exporter of a capture sends
# from its own local port so the collector sees the same sessions.
# Skips (77) when the captures, tshark or mergecap are absent.
set -uo pipefail

DIR="${FLOWKIT_SHARED_DIR:-}/data/vendor-captures"
IPFIX="${FLOWKIT_BUILD_DIR:-}/cli/flowkit-ipfix/flowkit-ipfix"
COLLECT="${FLOWKIT_BUILD_DIR:-}/cli/flowkit-collect/flowkit-collect"
PY=/usr/bin/python3

if [ -z "${FLOWKIT_SHARED_DIR:-}" ] || [ ! -d "$DIR" ]; then
    echo "SKIP: no vendor captures at $DIR"
    exit 77
fi
for t in tshark mergecap; do
    if ! command -v "$t" >/dev/null; then
        echo "SKIP: $t is not installed"
        exit 77
    fi
done
for b in "$IPFIX" "$COLLECT"; do
    [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fk-vendor-col.$$.XXXXXX")
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

rank() {
    case "$1" in
    *options-template*.pcap) echo 0 ;;
    *template*.pcap) echo 1 ;;
    *options-data.pcap) echo 2 ;;
    *) echo 3 ;;
    esac
}
declare -A groups=()
while IFS= read -r f; do
    base=$(basename "$f")
    key="$(dirname "$f")/$(echo "$base" | sed -E 's/-?(options-)?(templates?|data)\.pcap$//')"
    groups[$key]+="$(rank "$base") $f"$'\n'
done < <(find "$DIR" -name '*.pcap' | sort)
[ ${#groups[@]} -gt 0 ] || { echo "SKIP: no pcap files in $DIR"; exit 77; }

# send.py DATAGRAMS PORT: send every datagram (lines "src sport hexpayload"
# from tshark) to 127.0.0.1:PORT, one local socket per exporter.
cat >"$WORK/send.py" <<'EOF'
import socket, sys
socks = {}
with open(sys.argv[1]) as f:
    for line in f:
        parts = line.split()
        if len(parts) != 3:
            continue
        key = (parts[0], parts[1])
        if key not in socks:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            socks[key] = s
        socks[key].sendto(bytes.fromhex(parts[2]), ("127.0.0.1", int(sys.argv[2])))
EOF
# same.py A B: the same records, whatever the order, without "exporter".
cat >"$WORK/same.py" <<'EOF'
import json, sys
def load(p):
    rows = []
    for line in open(p):
        r = json.loads(line)
        r.pop("exporter", None)
        rows.append(json.dumps(r, sort_keys=True))
    return sorted(rows)
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    for r in sorted(set(a) - set(b))[:5]:
        print("only flowkit-ipfix:", r)
    for r in sorted(set(b) - set(a))[:5]:
        print("only flowkit-collect:", r)
    sys.exit(1)
EOF

port_of() {
    sed -n 's/.*listening on udp:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -1
}

equal=0 failed=0 records=0 n=0
for key in $(printf '%s\n' "${!groups[@]}" | sort); do
    n=$((n + 1))
    mapfile -t files < <(printf '%s' "${groups[$key]}" | sort -k1,1n -k2 | cut -d' ' -f2-)
    label="${key#"$DIR"/}"
    mergecap -a -w "$WORK/$n.pcap" "${files[@]}"
    "$IPFIX" --flows-only "$WORK/$n.pcap" >"$WORK/$n.ipfix" 2>"$WORK/$n.ipfix.err" ||
        { echo "FAIL $label: flowkit-ipfix exited $?"; failed=$((failed + 1)); continue; }
    want=$(grep -c . "$WORK/$n.ipfix")
    tshark -r "$WORK/$n.pcap" -T fields -E occurrence=f -e ip.src -e udp.srcport -e udp.payload 'udp' \
        >"$WORK/$n.dgrams" 2>/dev/null
    # --count ends the collector at the records flowkit-ipfix printed; with
    # none, --duration gives any stray record time to show.
    if [ "$want" -gt 0 ]; then limit=(--count "$want"); else limit=(--duration 2); fi
    : >"$WORK/$n.col.err"
    timeout 60 "$COLLECT" -l udp://127.0.0.1:0 "${limit[@]}" --template-timeout 0 \
        --export-time-tolerance 0 >"$WORK/$n.col" 2>"$WORK/$n.col.err" &
    PID=$!
    for _ in $(seq 600); do
        [ -n "$(port_of "$WORK/$n.col.err")" ] && break
        sleep 0.05
    done
    port=$(port_of "$WORK/$n.col.err")
    if [ -z "$port" ]; then
        echo "FAIL $label: flowkit-collect printed no port: $(cat "$WORK/$n.col.err")"
        failed=$((failed + 1))
        continue
    fi
    "$PY" "$WORK/send.py" "$WORK/$n.dgrams" "$port"
    wait "$PID"
    rc=$?
    PID=
    if [ "$rc" -ne 0 ]; then
        echo "FAIL $label: flowkit-collect exited $rc (want $want records, got $(grep -c . "$WORK/$n.col"))"
        failed=$((failed + 1))
        continue
    fi
    if out=$("$PY" "$WORK/same.py" "$WORK/$n.ipfix" "$WORK/$n.col"); then
        echo "ok   $label (${#files[@]} files): $want records equal"
        equal=$((equal + 1))
        records=$((records + want))
    else
        echo "FAIL $label:"
        echo "$out" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
done
echo "sessions: $equal equal, $failed different; $records flow records compared"
[ $failed -eq 0 ] || exit 1
[ $records -gt 0 ] || { echo "FAIL: no record compared"; exit 1; }
exit 0
