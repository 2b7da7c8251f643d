#!/bin/bash
# flowkit-export: --help/--version, bad usage exits 2 with a message,
# config files (ssflow-style keys) and command-line precedence via --check.
set -u
BIN="$FLOWKIT_BUILD_DIR/cli/flowkit-export/flowkit-export"
if [ ! -x "$BIN" ]; then
    echo "skip: $BIN not built (it needs the capture handle, include/flowkit/capture.h)"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# expect CODE PATTERN -- ARGS...: exit code and a regex on stdout+stderr.
expect() {
    local code=$1 pat=$2
    shift 3
    "$BIN" "$@" >"$T/out" 2>&1
    local rc=$?
    [ "$rc" = "$code" ] || bad "flowkit-export $*: exit $rc, expected $code: $(head -3 "$T/out")"
    grep -Eq -- "$pat" "$T/out" || bad "flowkit-export $*: output lacks /$pat/: $(head -3 "$T/out")"
}

expect 0 'Usage: flowkit-export' -- --help
expect 0 '--chunk-size' -- -h
expect 0 '^flowkit-export \(flowkit\) [0-9]+\.[0-9]+\.[0-9]+$' -- --version
expect 0 'exporter\.pen.*32473' -- --list-params
expect 2 'unknown option --bogus' -- --bogus
expect 2 'expected udp://HOST:PORT' -- -c foo://127.0.0.1:1
expect 2 'port 70000 is out of range' -- -c udp://127.0.0.1:70000
expect 2 'no collector' -- -r "$T/none.pcap"
expect 2 'expects an integer' -- --stdout --chunk-size abc
expect 2 'chunk_size = 70000 is out of range \[0, 65535\]' -- --stdout --chunk-size 70000
expect 2 'odid = -1 is out of range' -- --stdout --odid -1
expect 2 'pen = 0 is out of range' -- --stdout --pen 0
expect 2 '--events' -- --stdout --events syn,bogus
expect 2 'interval' -- --stdout --interval x
expect 2 'unknown parameter "nope"' -- --stdout --set nope=1
expect 2 'NAME=VALUE' -- --stdout --set =1
expect 2 'unknown parameter "capture.mtu"' -- --stdout --set capture.mtu=1400
expect 2 'exporter: mtu expects an integer \(decimal, or hexadecimal after 0x\), got "big"' -- --stdout --set exporter.mtu=big

# --set takes exactly the names --list-params prints: every one, with its
# default, and with the prefix dropped (the exporter's name first).
"$BIN" --list-params >"$T/params" || bad "--list-params"
[ "$(wc -l <"$T/params")" -gt 20 ] || bad "--list-params lists $(wc -l <"$T/params") parameters"
while IFS=$'\t' read -r name type def _; do
    value=${def#default=}
    value=${value%% *}
    [ "$type" = string ] && [ -z "$value" ] && continue # no default to give back
    "$BIN" --stdout -r "$T/none.pcap" --set "$name=$value" --check >"$T/out" 2>&1 ||
        bad "--set $name=$value (from --list-params): $(head -2 "$T/out")"
done <"$T/params"
expect 0 '^mtu = 1200  #' -- --stdout --set exporter.mtu=1200 --check
expect 0 '^mtu = 1300  #' -- --stdout --set mtu=1300 --check
expect 0 '^duration = 2.5  #' -- --stdout --set capture.duration=2.5 --check
expect 2 'cannot be combined' -- --stdout -r "$T/x.pcap" -i lo
expect 2 'unexpected argument' -- --stdout extra
expect 2 'config.*No such file' -- --config "$T/missing.conf"
expect 2 'option -c needs a value' -- -c

# A missing pcap is a runtime failure (exit 1), not bad usage.
expect 1 '.' -- --stdout -r "$T/missing.pcap"

# ssflow-style config: interface, BPF source host, collector host/port,
# interval and chunk size.
cat >"$T/ssflow.conf" <<'CONF'
# flowkit-export settings, ssflow style
interface = eth7
source_host = 10.213.0.1
collector_host = 127.0.0.1
collector_port = 9995
interval = 5        # seconds
chunk_size = 10
events = syn,rst
odid = 42
template-refresh = 30
CONF
expect 0 '^collector = udp://127\.0\.0\.1:9995  #' -- --config "$T/ssflow.conf" --check
for want in '^interface = eth7  #' '^filter = host 10\.213\.0\.1  #' '^flush_interval = 5000  #' \
    '^chunk_size = 10  #' '^events = syn rst  #' '^flows = no  #' '^odid = 42  #' '^template_refresh = 30  #'; do
    grep -Eq "$want" "$T/out" || bad "config --check lacks /$want/: $(cat "$T/out")"
done
# The command line wins over the file; -c replaces the file's collectors.
expect 0 '^collector = tcp://\[::1\]:4739  #' -- --config "$T/ssflow.conf" -c 'tcp://[::1]:4739' \
    --chunk-size 3 -f 'tcp port 80' --flows --check
grep -q 'collector = udp' "$T/out" && bad "config collector kept despite -c"
grep -q '^chunk_size = 3  #' "$T/out" || bad "--chunk-size did not override the file"
grep -q '^filter = (tcp port 80) and host 10.213.0.1  #' "$T/out" || bad "filter and source_host"
grep -q '^flows = yes  #' "$T/out" || bad "--flows"
# Defaults: both events and flows; IPv6 collector host gets brackets.
printf 'collector_host = ::1\ncollector_port = 4739\ncollector_proto = tcp\n' >"$T/v6.conf"
expect 0 '^collector = tcp://\[::1\]:4739  #' -- --config "$T/v6.conf" --check
grep -q '^events = syn fin rst  #' "$T/out" || bad "default events"
grep -q '^flows = yes  #' "$T/out" || bad "default flows"
grep -q '^pen = 32473  #' "$T/out" || bad "default pen"
# A live capture runs at nice -10 with 1 ms kernel blocks unless told otherwise.
grep -q '^nice = -10  #' "$T/out" || bad "default nice: $(grep nice "$T/out")"
grep -q '^buffer_timeout = 1  #' "$T/out" || bad "default buffer_timeout: $(grep buffer "$T/out")"
printf 'collector = udp://127.0.0.1:1\nnice = 3\nbuffer_timeout = 10\n' >"$T/nice.conf"
expect 0 '^nice = 3  #' -- --config "$T/nice.conf" --check
grep -q '^buffer_timeout = 10  #' "$T/out" || bad "buffer_timeout from the file: $(grep buffer "$T/out")"
expect 0 '^nice = 0  #' -- --config "$T/nice.conf" --nice 0 --check
expect 2 'nice: "50" is not an integer in \[-20, 19\]' -- --stdout --nice 50
expect 2 'nice: "x" is not' -- --stdout --nice x

printf 'collector_port = 4739\n' >"$T/half.conf"
expect 2 'go together' -- --config "$T/half.conf" --check
printf 'no equals sign here\n' >"$T/bad.conf"
expect 2 'bad.conf:1: expected "key = value"' -- --config "$T/bad.conf"
printf 'collector = udp://127.0.0.1:1\nwhatever = 1\n' >"$T/unk.conf"
expect 2 'unk.conf:2: unknown parameter "whatever"' -- --config "$T/unk.conf"
printf 'mtu = 100\n' >"$T/mtu.conf"
expect 2 'mtu = 100 is out of range \[1024, 65535\]' -- --stdout --config "$T/mtu.conf"

# ssflow's config.yaml as it ships: nested keys mean what they meant there
# (bpf.source_host is a host filter, exporter.interval_seconds the flush
# interval), and --check names each setting's line and column.
cat >"$T/config.yaml" <<'YAML'
# ssflow configuration
interface: eth0
bpf:
  source_host: 10.0.0.5
collector:
  host: 127.0.0.1
  port: 2055
exporter:
  interval_seconds: 10
  chunk_size: 50
YAML
expect 0 '^collector = udp://127\.0\.0\.1:2055  # from .*/config\.yaml:6:9$' -- --config "$T/config.yaml" --check
for want in '^interface = eth0  # from .*config\.yaml:2:12$' \
    '^filter = host 10\.0\.0\.5  # from .*config\.yaml:4:16$' \
    '^flush_interval = 10000  # from .*config\.yaml:9:21$' \
    '^chunk_size = 50  # from .*config\.yaml:10:15$' '^mtu = 1400  # default$'; do
    grep -Eq "$want" "$T/out" || bad "YAML --check lacks /$want/: $(cat "$T/out")"
done
# FLOWKIT_* variables over the file, the command line over both; another
# tool's variable is not a setting.
FLOWKIT_EXPORTER_CHUNK_SIZE=9 FLOWKIT_MTU=1200 FLOWKIT_COLLECTOR=tcp://127.0.0.1:4739 \
    FLOWKIT_SOURCE_DIR=/nowhere "$BIN" --config "$T/config.yaml" --check >"$T/out" 2>&1 ||
    bad "env over YAML: $(head -3 "$T/out")"
for want in '^chunk_size = 9  # from env FLOWKIT_EXPORTER_CHUNK_SIZE$' \
    '^mtu = 1200  # from env FLOWKIT_MTU$' '^collector = tcp://127\.0\.0\.1:4739  # from env FLOWKIT_COLLECTOR$'; do
    grep -Eq "$want" "$T/out" || bad "env --check lacks /$want/: $(cat "$T/out")"
done
grep -q 'collector = udp' "$T/out" && bad "FLOWKIT_COLLECTOR kept the file's collector"
grep -q '^# ignored: env FLOWKIT_SOURCE_DIR (not a setting of flowkit-export)$' "$T/out" ||
    bad "--check does not name the ignored FLOWKIT_SOURCE_DIR: $(cat "$T/out")"
grep -q 'ignored: env FLOWKIT_EXPORTER_CHUNK_SIZE' "$T/out" && bad "a setting listed as ignored"
FLOWKIT_EXPORTER_CHUNK_SIZE=9 "$BIN" --config "$T/config.yaml" --chunk-size 3 --check >"$T/out" 2>&1
grep -q '^chunk_size = 3  # command line --chunk-size$' "$T/out" || bad "command line over env: $(cat "$T/out")"
FLOWKIT_EXPORTER_MTU=big "$BIN" --config "$T/config.yaml" --check >"$T/out" 2>&1
[ $? = 2 ] && grep -q 'env FLOWKIT_EXPORTER_MTU' "$T/out" || bad "bad env value: $(cat "$T/out")"
# Bad YAML: file, line and column; exit 2.
printf 'collector:\n  host: 127.0.0.1\n  port: [1, 2\n' >"$T/bad.yaml"
expect 2 'bad\.yaml:[0-9]+:[0-9]+: ' -- --config "$T/bad.yaml"
printf 'interface: eth0\nbpf:\n  source_host: *x\n' >"$T/alias.yaml"
expect 2 'alias\.yaml:3:16: aliases' -- --config "$T/alias.yaml"
printf 'exporter:\n  mtu: 10\n' >"$T/range.yaml"
expect 2 'range\.yaml:2:8: .*out of range' -- --stdout --config "$T/range.yaml"

# The example configuration shipped in dist/ is valid.
expect 0 '^collector = udp://127\.0\.0\.1:4739  #' -- --config "$FLOWKIT_SOURCE_DIR/dist/flowkit-export.conf" --check

exit $fail
