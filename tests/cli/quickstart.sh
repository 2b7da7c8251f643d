#!/bin/bash
# scripts/quickstart's pipeline, as the README's first command runs it but
# without setup/build/install: flowkit-export on loopback (only the
# quickstart's own traffic) -> flowkit-collect --http, for 15 s; the
# quickstart's --check then reads the console's API and fails unless the
# HTTP requests and UDP datagrams it sent itself are there as flows. Also:
# bad options are refused with exit 2, and the quickstart leaves no process
# of its own behind.
set -u
S="$FLOWKIT_SOURCE_DIR"
Q="$S/scripts/quickstart"
fail() { echo "FAIL: $*"; exit 1; }

"$Q" --seconds x >/dev/null 2>&1
[ $? -eq 2 ] || fail "--seconds x is not a usage error"
"$Q" --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown option is not a usage error"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: capturing on lo needs root"
    exit 77
fi
command -v curl >/dev/null || { echo "SKIP: curl is not installed (scripts/setup installs it)"; exit 77; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$Q" --build-dir "$FLOWKIT_BUILD_DIR" --seconds 15 --interface lo --own-only --check \
    >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ $rc -eq 0 ] || fail "quickstart exited $rc"
grep -q 'open  http://127.0.0.1:' "$T/out" || fail "no console URL printed"
grep -q 'check passed' "$T/out" || fail "no check line"
# Nothing it started is left: the console is gone, and no process still
# names its collector's port.
url=$(grep -o 'open  http://[^ ]*' "$T/out" | sed 's/open  //')
uport=$(grep -o 'flowkit-collect on udp://127.0.0.1:[0-9]*' "$T/out" | sed 's/.*://')
[ -n "$uport" ] || fail "no collector port printed"
sleep 0.5
curl -s --max-time 2 "$url/healthz" >/dev/null && fail "the console still answers after the end"
left=$(ps -eo args= | grep -c "[1]27.0.0.1:$uport\b" || true)
[ "$left" -eq 0 ] || fail "$left processes of the quickstart are still running"
echo ok
