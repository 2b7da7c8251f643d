#!/bin/bash
# Interop: an IPFIX stream written by flowkit's encoder (examples/ipfix_gen:
# IPv4/IPv6 templates, reduced-size counters, RFC 5103 reverse counters, an
# enterprise varlen string, an options template) is read by a small
# libfixbuf 2.4 reader; every field of every data record must equal the
# generator's ground truth.
set -euo pipefail
pkg-config --exists libfixbuf || { echo "SKIP: libfixbuf-dev not installed"; exit 77; }
WORK=$(mktemp -d /tmp/flowkit-ipfix-fixbuf.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
. "$(dirname "$0")/ipfix_interop_lib.bash"
ipfix_build_tools
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -o "$WORK/reader" "$(dirname "$0")/ipfix_fixbuf_reader.c" \
    $(pkg-config --cflags --libs libfixbuf)
N=2000
"$WORK/ipfix_gen" raw "$WORK/x.ipfix" $N >"$WORK/truth.jsonl"
"$WORK/reader" "$WORK/x.ipfix" >"$WORK/fixbuf.jsonl"
/usr/bin/python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
truth = [json.loads(l) for l in open(work + "/truth.jsonl")]
got = [json.loads(l) for l in open(work + "/fixbuf.jsonl")]
assert len(truth) == 2000, len(truth)
assert len(got) == len(truth), ("libfixbuf records", len(got), "truth", len(truth))
for i, (g, t) in enumerate(zip(got, truth)):
    if g != t:
        sys.exit("record %d differs:\n libfixbuf %s\n truth     %s" % (i, g, t))
print("libfixbuf: %d records, every field equal" % len(got))
PY
