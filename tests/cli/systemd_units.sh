#!/bin/bash
# The systemd units in dist/systemd: `systemd-analyze security` (offline, on
# the unit files themselves) rates each at most 3.0 (issue #15), and the
# export unit never runs as root.
set -u
if ! command -v systemd-analyze >/dev/null; then
    echo "skip: systemd-analyze not installed"
    exit 77
fi
DIR="$FLOWKIT_SOURCE_DIR/dist/systemd"
fail=0
for unit in "$DIR"/flowkit-collect.service "$DIR"/flowkit-export.service; do
    name=$(basename "$unit")
    out=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1)
    score=$(printf '%s\n' "$out" | sed -n "s/.*Overall exposure level for $name: \([0-9.]*\).*/\1/p")
    if [ -z "$score" ]; then
        echo "FAIL: no exposure level for $name:"
        printf '%s\n' "$out" | tail -5
        fail=1
        continue
    fi
    echo "$name: exposure $score"
    if ! awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
        echo "FAIL: $name rates $score, above 3.0:"
        printf '%s\n' "$out" | grep '✗'
        fail=1
    fi
    grep -Eq '^(DynamicUser=yes|User=[a-z])' "$unit" || {
        echo "FAIL: $name runs as root (no DynamicUser= or User=)"
        fail=1
    }
done
exit $fail
