#!/bin/bash
# The attribution parameter in the CLIs: names are checked; with BPF refused
# (FLOWKIT_BPF_REFUSE, how a kernel or build without BPF is simulated) auto
# falls back to sockdiag and says why once, and attribution=bpf fails at
# start with a clear error; where BPF loads, auto and bpf run on it.
# Live captures on lo (nothing sent): needs root.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
EXPORT="$FK_EXPORT"
TOP="$FK_TOP"
need_exec "$EXPORT" "$TOP"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# expect CODE PATTERN -- COMMAND...: exit code and a regex on stdout+stderr.
expect() {
    local code=$1 pat=$2
    shift 3
    timeout 30 "$@" >"$T/out" 2>&1
    local rc=$?
    [ "$rc" = "$code" ] || bad "$*: exit $rc, expected $code: $(head -5 "$T/out")"
    grep -Eq -- "$pat" "$T/out" || bad "$*: output lacks /$pat/: $(head -5 "$T/out")"
}

# Names are checked before anything starts (no root needed).
expect 2 'attribution = "bogus" is not one of off, auto, bpf, sockdiag' -- \
    "$EXPORT" -i lo --stdout --attribution bogus
expect 0 'attribution MODE' -- "$EXPORT" --help
expect 0 'attribution.*auto' -- "$TOP" --help
expect 2 'attribution off leaves nothing to show' -- "$TOP" -t -c 1 --attribution off lo

if [ "$(id -u)" -ne 0 ]; then
    echo "!!! SKIP: the live part of attribution_source needs root (capture on lo)" >&2
    [ $fail -eq 0 ] && exit 77
    exit 1
fi

# BPF refused: auto says which source and why, once; bpf fails at start.
export FLOWKIT_BPF_REFUSE=1
expect 0 'flowkit-export: attribution: sockdiag' -- \
    "$EXPORT" -i lo --stdout --flows --duration 0.3
grep -q 'attribution: sockdiag (auto: the BPF source did not start: bpf: refused by the environment (FLOWKIT_BPF_REFUSE is set))' "$T/out" ||
    bad "auto's fallback does not say why: $(cat "$T/out")"
[ "$(grep -c 'did not start' "$T/out")" = 1 ] || bad "the fallback is said $(grep -c 'did not start' "$T/out") times"
expect 1 'attribution = bpf cannot start: bpf: refused by the environment' -- \
    "$EXPORT" -i lo --stdout --flows --duration 0.3 --attribution bpf
expect 1 'attribution = bpf cannot start' -- "$TOP" -t -c 1 -d 0.2 --attribution bpf lo
expect 0 'flowkit-top: attribution: sockdiag' -- "$TOP" -t -c 1 -d 0.2 lo
expect 0 'flowkit-export: attribution: sockdiag' -- \
    "$EXPORT" -i lo --stdout --flows --duration 0.3 --attribution sockdiag
unset FLOWKIT_BPF_REFUSE

# Without the refusal: BPF where this build and kernel have it.
if timeout 30 "$EXPORT" -i lo --stdout --flows --duration 0.3 --attribution bpf >"$T/bpf" 2>&1; then
    grep -q 'flowkit-export: attribution: bpf' "$T/bpf" || bad "bpf ran but says: $(cat "$T/bpf")"
    expect 0 'flowkit-export: attribution: bpf' -- "$EXPORT" -i lo --stdout --flows --duration 0.3
    expect 0 'flowkit-top: attribution: bpf' -- "$TOP" -t -c 1 -d 0.2 lo
else
    echo "note: BPF does not load here ($(tail -1 "$T/bpf")); the bpf runs are skipped" >&2
fi
exit $fail
