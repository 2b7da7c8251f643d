#!/bin/bash
# Re-record tests/data/proc/ (root): a private netns holds only the sockets
# of proc_record.py; proc_record (built from proc_record.c) dumps them.
# Usage: tests/tools/proc_record.sh PROC_RECORD_BINARY OUTDIR
set -euo pipefail
bin=$1 out=$2 here=$(cd "$(dirname "$0")" && pwd)
ns=fkrec$$ work=$(mktemp -d)
cleanup() { exec 9>&- 2>/dev/null || true; [ -n "${py:-}" ] && kill "$py" 2>/dev/null; ip netns del "$ns" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
mkfifo "$work/in"
ip netns exec "$ns" /usr/bin/python3 "$here/proc_record.py" <"$work/in" >"$work/ports" &
py=$!
exec 9>"$work/in"
for _ in $(seq 50); do [ -s "$work/ports" ] && break; sleep 0.1; done
cat "$work/ports"
read -r a b c d _ <"$work/ports"
ip netns exec "$ns" "$bin" "$out" "$a" "$b" "$c" "$d"
