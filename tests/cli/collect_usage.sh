#!/bin/bash
# flowkit-collect: --help/--version, and bad usage exits 2 with a clear message.
set -u
B="$FLOWKIT_BUILD_DIR/cli/flowkit-collect/flowkit-collect"
[ -x "$B" ] || { echo "flowkit-collect not built"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

"$B" --help >"$T/help" || fail "--help exit $?"
for flag in -l -o --workers --allow --stats --duration --count --template-timeout \
            --scale-sampling --help --version udp://0.0.0.0:2055 udp://0.0.0.0:4739 \
            tcp://0.0.0.0:4739 jsonl:- csv:PATH ipfix:PATH; do
    grep -q -- "$flag" "$T/help" || fail "--help does not mention $flag"
done
"$B" --version | grep -Eq '^flowkit-collect \(flowkit\) [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"

# expect_usage "text in message" args...: exit 2 and the message on stderr.
expect_usage() {
    local want=$1; shift
    "$B" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc -eq 2 ] || fail "$* exited $rc, want 2 ($(cat "$T/err"))"
    grep -qF -- "$want" "$T/err" || fail "$*: stderr lacks '$want': $(cat "$T/err")"
    [ -s "$T/out" ] && fail "$*: wrote to stdout"
    return 0
}
expect_usage "unknown option --bogus" --bogus
expect_usage "unknown option -x" -x
expect_usage "unexpected argument" extra
expect_usage "option -l needs a value" -l
expect_usage 'listener "udp//1.2.3.4:5": expected udp://ADDR:PORT or tcp://ADDR:PORT' -l udp//1.2.3.4:5
expect_usage 'listener "udp://localhost:2055"' -l udp://localhost:2055
expect_usage '[ADDR]:PORT' -l udp://::1:2055
expect_usage 'port 70000 is out of range [0, 65535]' -l tcp://127.0.0.1:70000
expect_usage 'output "json:-": expected jsonl:-' -o json:-
expect_usage 'allow "10.0.0.0/40": prefix length must be in [0, 32]' --allow 10.0.0.0/40
expect_usage "workers = 65 is out of range [0, 64]" --workers 65
expect_usage '--workers: collector: workers expects an integer (decimal, or hexadecimal after 0x), got "two"' --workers two
expect_usage 'unknown parameter "capture.workers"' --set capture.workers=2
expect_usage "--set: collector: workers = 99 is out of range" --set collector.workers=99

# --set takes exactly the names --list-params prints.
"$B" --list-params >"$T/params" || fail "--list-params"
grep -q '^collector\.workers	int	default=0 \[0, 64\]' "$T/params" || fail "--list-params: $(head -3 "$T/params")"
grep -q '^store\.max_ips	int	' "$T/params" || fail "--list-params lacks the store's parameters"
expect_usage "--set: store: max_ips = 0 is out of range" --set store.max_ips=0
expect_usage "--store: store: max_ips = 0 is out of range" --store max_ips=0
sets=()
while IFS=$'\t' read -r name type def _; do
    value=${def#default=}
    value=${value%% *}
    sets+=(--set "$name=$value")
done <"$T/params"
[ ${#sets[@]} -gt 40 ] || fail "--list-params printed too few parameters"
# One run with every name (each set to its default), ended by its own limits.
"$B" -l udp://127.0.0.1:0 "${sets[@]}" --count 1 --duration 1 >/dev/null 2>"$T/err" ||
    fail "--set of every --list-params name: $(cat "$T/err")"
expect_usage "template_timeout = -1 is out of range" --template-timeout -1
expect_usage '--stats: "0" is not an integer in [1, 86400]' --stats 0
expect_usage "count = -5 is out of range" --count -5

# SIGUSR1 prints the counters and the collector carries on (its handlers are
# in place once "listening on" is printed); SIGTERM then ends it with 0.
"$B" -l udp://127.0.0.1:0 --duration 60 -o jsonl:/dev/null 2>"$T/usr1" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$T/usr1" && break; sleep 0.1; done
grep -q "listening on" "$T/usr1" || { kill "$pid"; fail "collector did not start: $(cat "$T/usr1")"; }
kill -USR1 "$pid"
for _ in $(seq 100); do grep -q "stats datagrams=" "$T/usr1" && break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null || fail "SIGUSR1 ended the collector: $(cat "$T/usr1")"
kill -TERM "$pid"
wait "$pid"
rc=$?
[ $rc -eq 0 ] || fail "SIGTERM after SIGUSR1: exit $rc"
grep -q "stats datagrams=0" "$T/usr1" || fail "SIGUSR1 printed no counters: $(cat "$T/usr1")"

# A port that cannot be bound is a runtime failure (exit 1), not usage.
"$B" -l udp://192.0.2.77:0 --duration 1 >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || fail "unbindable listener exited $rc, want 1"
grep -q "udp://192.0.2.77:0" "$T/err" || fail "bind error does not name the listener"
echo "ok"
