#!/bin/bash
# flowkit-export against hostile input (issue #15 items 6, 7, 9): config
# files that are not regular text files or have lines too long to read whole
# are refused with FILE:LINE (exit 2) instead of spinning or applying text
# from past a cut; empty values are bad usage, never a silent default;
# numbers are decimal everywhere ("010" is ten); a damaged pcap exits 1.
# Every run is bounded by `timeout` (a hang fails as exit 124).
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
BIN="$FK_EXPORT"
need_exec "$BIN"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# expect CODE PATTERN -- ARGS...: exit code and a regex on stdout+stderr.
expect() {
    local code=$1 pat=$2
    shift 3
    timeout 20 "$BIN" "$@" >"$T/out" 2>&1
    local rc=$?
    [ "$rc" = "$code" ] || bad "flowkit-export $*: exit $rc, expected $code: $(head -c 300 "$T/out")"
    grep -Eq -- "$pat" "$T/out" || bad "flowkit-export $*: output lacks /$pat/: $(head -c 300 "$T/out")"
}

# --- config files (item 6)
expect 2 '/dev/zero: a character device, not a config file' -- --config /dev/zero --check
expect 2 ': a directory, not a config file' -- --config "$T" --check
mkfifo "$T/fifo"
expect 2 'fifo: a FIFO, not a config file' -- --config "$T/fifo" --check
# text past column 4,095 of a comment line was read as a setting
python3 -c "
import sys
open(sys.argv[1], 'w').write('#' + 'x' * 4094 + 'odid = 777\n')
" "$T/long.conf"
expect 2 'long.conf:1: line is longer than 4095 bytes' -- --config "$T/long.conf" --check --stdout
grep -q 'odid = 777' "$T/out" && bad "text past the cut was applied: $(grep odid "$T/out")"
# a line of exactly 4,095 bytes is read whole
python3 -c "
import sys
open(sys.argv[1], 'w').write('odid = 42  #' + 'x' * (4095 - 12) + '\n')
" "$T/edge.conf"
expect 0 'odid = 42' -- --config "$T/edge.conf" --check --stdout
# text after a NUL byte was silently dropped
printf 'odid = 5\0odid = 777\n' >"$T/nul.conf"
expect 2 'nul.conf:1: NUL byte at column 9: not a text file' -- --config "$T/nul.conf" --check --stdout
printf 'odid = 5\nfilter = tcp\001\n' >"$T/ctl.conf"
expect 2 'ctl.conf:2: control byte 0x01' -- --config "$T/ctl.conf" --check --stdout
# nothing of a refused file is applied (checked whole first)
printf 'odid = 9\nodid\n' >"$T/half.conf"
expect 2 'half.conf:2: expected "key = value"' -- --config "$T/half.conf" --check --stdout
# CR LF lines and ssflow keys still work
printf 'collector_host = 127.0.0.1\r\ncollector_port = 9995\r\nodid = 0x10\r\n' >"$T/crlf.conf"
expect 0 'collector = udp://127.0.0.1:9995' -- --config "$T/crlf.conf" --check
grep -q '^odid = 16  #' "$T/out" || bad "odid = 0x10 in a config file: $(grep odid "$T/out")"

# --- one number rule (item 9): decimal, 0x for hex, never octal
expect 0 '^pen = 10  #' -- --stdout --pen 010 --check
expect 0 '^odid = 8  #' -- --stdout --odid 08 --check
expect 2 'pen' -- --stdout --pen ' 10' --check
expect 2 'nice' -- --stdout --nice 0x --check
expect 0 '^nice = 10  #' -- --stdout --nice 010 --check

# --- empty values (item 7): refused, never a silent default
expect 2 'expected syn,fin,rst, all or none' -- --stdout --events '' --check
expect 2 'expected syn,fin,rst, all or none' -- --stdout --events , --check
expect 2 'empty device name' -- --stdout -i '' --check
expect 2 'empty device name' -- --stdout -i ',' --check

# --- damaged pcap files (item 7): exit 1, as flowkit-ipfix does
python3 - "$T" <<'PY'
import struct, sys
d = sys.argv[1]
def pcap(pkts, last_caplen=None):
    out = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for i, p in enumerate(pkts):
        cl = last_caplen if last_caplen is not None and i == len(pkts) - 1 else len(p)
        out += struct.pack('<IIII', 1700000000 + i, 0, cl, len(p)) + p
    return out
eth = b'\x00\x11\x22\x33\x44\x55' * 2 + b'\x08\x00'
ip = bytes.fromhex('450000280001000040060000c0a80001c0a80002')
tcp = struct.pack('!HHIIBBHHH', 1234, 80, 1, 0, 0x50, 0x02, 1000, 0, 0)
good = pcap([eth + ip + tcp] * 3)
open(d + '/good.pcap', 'wb').write(good)
open(d + '/trunc.pcap', 'wb').write(good[:-10])
open(d + '/huge.pcap', 'wb').write(pcap([eth + ip + tcp] * 3, last_caplen=0x7fffffff))
PY
expect 0 '"type":"event"' -- -r "$T/good.pcap" --stdout
expect 1 'truncated' -- -r "$T/trunc.pcap" --stdout
grep -q '"type":"event"' "$T/out" || bad "the packets before the damage were not exported"
expect 1 'capture length|caplen' -- -r "$T/huge.pcap" --stdout
exit $fail
