#!/bin/bash
# flowkit-collect --config: a YAML file and a key = value file with the
# same settings mean the same; FLOWKIT_* variables override the file and
# the command line overrides both (--check names where each came from);
# --queue-size exists; bad files name FILE:LINE[:COLUMN] and exit 2. Then a
# real run from the YAML file alone: its filter and outputs get the 400
# IPFIX flows of tests/tools/filter_flows.py sent over 127.0.0.1.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_COLLECT"
S="$FLOWKIT_SOURCE_DIR"
has() { grep -Eq -- "$1" "$T/out" || fail "--check lacks /$1/: $(cat "$T/out")"; }

cat >"$T/c.yaml" <<YAML
# FlowAnalyzer-style settings
listen:
  - udp://127.0.0.1:0
filter: proto tcp and dst port in [80 443]
output:
  - jsonl:$T/web.jsonl
collector:
  queue-size: 8192
  duration: 120
store.retention: 600
stats: 30
YAML
"$B" --config "$T/c.yaml" --check >"$T/out" 2>&1 || fail "--check: $(cat "$T/out")"
has '^listen = udp://127\.0\.0\.1:0  # from .*/c\.yaml:3:5$'
has '^filter = proto tcp and dst port in \[80 443\]  # from .*/c\.yaml:4:9$'
has "^output = jsonl:$T/web\\.jsonl  # from .*/c\\.yaml:6:5\$"
has '^collector\.queue_size = 8192  # from .*/c\.yaml:8:15$'
has '^store\.retention = 600  # from .*/c\.yaml:10:18$'
has '^collector\.workers = 0  # default$'

# The same as key = value lines.
printf 'listen = udp://127.0.0.1:0\ncollector.queue_size = 8192\nstore.retention = 600\n' >"$T/c.conf"
"$B" --config "$T/c.conf" --check >"$T/out" 2>&1 || fail "--check: $(cat "$T/out")"
has '^collector\.queue_size = 8192  # from .*/c\.conf:2$'
has '^output = jsonl:-  # default$'

# Environment over the file, the command line over both.
FLOWKIT_COLLECTOR_QUEUE_SIZE=100 FLOWKIT_STORE_RETENTION=60 FLOWKIT_LISTEN=udp://127.0.0.1:9 \
    FLOWKIT_SOURCE_DIR=/nowhere "$B" --config "$T/c.yaml" --check >"$T/out" 2>&1 ||
    fail "env: $(cat "$T/out")"
has '^collector\.queue_size = 100  # from env FLOWKIT_COLLECTOR_QUEUE_SIZE$'
has '^store\.retention = 60  # from env FLOWKIT_STORE_RETENTION$'
has '^listen = udp://127\.0\.0\.1:9  # from env FLOWKIT_LISTEN$'
has '^# ignored: env FLOWKIT_SOURCE_DIR \(not a setting of flowkit-collect\)$'
grep -q 'ignored: env FLOWKIT_STORE_RETENTION' "$T/out" && fail "a setting listed as ignored"
grep -q ':0  # from' "$T/out" && fail "FLOWKIT_LISTEN kept the file's listener"
FLOWKIT_COLLECTOR_QUEUE_SIZE=100 "$B" --config "$T/c.yaml" --queue-size 50 -l udp://127.0.0.1:7 \
    --check >"$T/out" 2>&1 || fail "command line: $(cat "$T/out")"
has '^collector\.queue_size = 50  # command line --queue-size$'
has '^listen = udp://127\.0\.0\.1:7  # command line --listen$'
[ "$(grep -c '^listen' "$T/out")" = 1 ] || fail "-l did not replace the file's listeners"

# Bad files and values: where, and exit 2.
printf 'listen:\n  - udp://127.0.0.1:0\n  bad\n' >"$T/bad.yaml"
"$B" --config "$T/bad.yaml" --check >"$T/out" 2>&1
[ $? = 2 ] && has 'bad\.yaml:[0-9]+:[0-9]+: ' || fail "bad YAML: $(cat "$T/out")"
printf 'collector:\n  queue_size: 1\n' >"$T/range.yaml"
"$B" --config "$T/range.yaml" --check >"$T/out" 2>&1
[ $? = 2 ] && has 'range\.yaml:2:15: .*out of range' || fail "range: $(cat "$T/out")"
printf 'nonsense = 1\n' >"$T/unk.conf"
"$B" --config "$T/unk.conf" --check >"$T/out" 2>&1
[ $? = 2 ] && has 'unk\.conf:1: unknown parameter "nonsense"' || fail "unknown: $(cat "$T/out")"
printf 'filter: proto tcpp\noutput: jsonl:-\n' >"$T/filter.yaml"
"$B" --config "$T/filter.yaml" --check >"$T/out" 2>&1
[ $? = 2 ] && has 'filter\.yaml:1:9: ' || fail "bad filter: $(cat "$T/out")"
FLOWKIT_COLLECTOR_WORKERS=lots "$B" --check >"$T/out" 2>&1
[ $? = 2 ] && has 'env FLOWKIT_COLLECTOR_WORKERS' || fail "bad env: $(cat "$T/out")"

# A real run from the YAML file alone.
"$B" --config "$T/c.yaml" 2>"$T/err" &
PID=$!
P=$(listen_port "$T/err" udp) || fail "collector did not start: $(cat "$T/err")"
"$PY" "$S/tests/tools/filter_flows.py" "$T/flows.ipfix" --send "$P" >"$T/truth.jsonl" || fail "generator"
"$PY" - "$T" <<'PYEOF' >"$T/want" || fail "truth"
import json, sys
t = sys.argv[1]
n = sum(1 for l in open(t + "/truth.jsonl")
        if json.loads(l)["proto"] == 6 and int(json.loads(l)["dp"]) in (80, 443))
print(n)
PYEOF
want=$(cat "$T/want")
[ "$want" -gt 0 ] || fail "the generator sent no web flows"
for _ in $(seq 400); do
    [ -f "$T/web.jsonl" ] && [ "$(wc -l <"$T/web.jsonl")" -ge "$want" ] && break
    sleep 0.05
done
kill -TERM "$PID"
wait "$PID" || fail "collector exit $?"
PID=
got=$(wc -l <"$T/web.jsonl")
[ "$got" = "$want" ] || fail "web.jsonl has $got flows, the truth $want"
echo "ok: YAML/key=value/env/command line precedence; $got of 400 flows through the file's filter"
