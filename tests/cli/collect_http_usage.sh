#!/bin/bash
# flowkit-collect's console options: --help and the man page list each of
# them; bad values are refused with exit 2 (usage) or 1 (server cannot
# start) and a clear message.
set -u
B="$FLOWKIT_BUILD_DIR/cli/flowkit-collect/flowkit-collect"
MAN="$FLOWKIT_SOURCE_DIR/docs/man/flowkit-collect.1"
[ -x "$B" ] || { echo "flowkit-collect not built"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

"$B" --help >"$T/help" || fail "--help exit $?"
for flag in --http --http-token-file --http-root --http-max-body --http-max-clients \
            --http-max-feeds --store --store-cidr; do
    grep -q -- "$flag " "$T/help" || fail "--help does not mention $flag"
    grep -q -- "$(echo "$flag" | sed 's/-/\\\\-/g')" "$MAN" || fail "the man page does not mention $flag"
done
# every store parameter named in the man page exists
for p in retention max_flows series_step topk_capacity max_ips bad_threshold dedup_ttl; do
    grep -q "$p" "$MAN" || fail "man page lacks store parameter $p"
done

expect() {
    local code=$1 want=$2; shift 2
    "$B" -l udp://127.0.0.1:0 "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc -eq "$code" ] || fail "$* exited $rc, want $code ($(cat "$T/err"))"
    grep -qF -- "$want" "$T/err" || fail "$*: stderr lacks '$want': $(cat "$T/err")"
}
expect 2 'unknown parameter "nope"' --http 0 --store nope=1
expect 2 '--store takes NAME=VALUE' --http 0 --store max_ips
expect 2 'max_ips = 0 is out of range' --http 0 --store max_ips=0
expect 2 'CIDR "10.0.0.0/99"' --http 0 --store-cidr 10.0.0.0/99
expect 2 '--http-max-body' --http 0 --http-max-body 5
expect 1 'expected PORT, ADDR:PORT or [ADDR6]:PORT' --http 'x:y:z'
expect 1 '--http-token-file is required' --http 0.0.0.0:0
expect 1 'no-such-file' --http 0 --http-token-file "$T/no-such-file"
echo ok
