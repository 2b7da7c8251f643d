#!/bin/bash
# IPFIX codec: decode to a normalized flow and encode, records/s on one core,
# flowkit against libfixbuf on the same messages in the same run (fixed
# 12-element template, 54-octet records, MTU 1400; best of 5 alternating runs).
# Prints ipfix-decode and ipfix-encode lines.
set -euo pipefail
bin="$BUILD_DIR/bench/ipfix/bench_ipfix"
[ -x "$bin" ] || { echo "ipfix  SKIPPED (bench_ipfix not built)"; exit 0; }
RECORDS=${IPFIX_BENCH_RECORDS:-100000}
SECONDS_PER_RUN=${IPFIX_BENCH_SECONDS:-0.6}
taskset -c 0 "$bin" "$RECORDS" "$SECONDS_PER_RUN" 2>/dev/null ||
    "$bin" "$RECORDS" "$SECONDS_PER_RUN"
