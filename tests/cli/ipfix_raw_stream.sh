#!/bin/bash
# flowkit-ipfix streams a raw IPFIX file (issue 15, item 11): a 64 MiB file
# of 16,384 messages is decoded completely (a filter keeps one record of each
# message, and every one of them is printed) while the
# process's peak memory stays far below the file size; a raw file that is
# not IPFIX and longer than one datagram is refused (exit 1) instead of
# being read whole.
set -u
. "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
B="$FK_IPFIX"
need_exec "$B"

# One template message, then 16,384 data messages of 250 records (4 KiB),
# record k to 10.0.1.k.
"$PY" - "$T/big.ipfix" <<'PYEOF'
import struct, sys
def msg(seq, sets):
    return struct.pack("!HHIII", 10, 16 + len(sets), 1795435200, seq, 1) + sets
t = struct.pack("!HH", 256, 3) + struct.pack("!HHHHHH", 8, 4, 12, 4, 1, 8)
out = open(sys.argv[1], "wb")
out.write(msg(0, struct.pack("!HH", 2, 4 + len(t)) + t))
recs = b"".join(struct.pack("!4s4sQ", bytes([10, 0, 0, 1]), bytes([10, 0, 1, k]), k)
                for k in range(250))
d = msg(0, struct.pack("!HH", 256, 4 + len(recs)) + recs)
for i in range(16384):
    out.write(d)
PYEOF
size=$(stat -c %s "$T/big.ipfix")
[ "$size" -gt $((60 << 20)) ] || fail "test file only $size bytes"

"$PY" - "$B" "$T/big.ipfix" "$size" <<'PYEOF' || fail "streaming"
import resource, subprocess, sys
b, path, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = 0
p = subprocess.Popen([b, "--flows-only", "-f", "dst ip 10.0.1.7", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
for _ in p.stdout:
    lines += 1
err = p.stderr.read().decode()
rc = p.wait()
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("raw file %d MiB: %d records, exit %d, peak RSS %d KiB" % (size >> 20, lines, rc, peak_kb))
# Half the file: reading it whole would take more (also under ASan, whose
# shadow memory adds a few MiB to a streaming reader).
ok = rc == 0 and lines == 16384 and peak_kb * 1024 < size // 2
if not ok:
    print(err[-500:])
sys.exit(0 if ok else 1)
PYEOF

# Not IPFIX (a NetFlow v5 version number) and 100 KiB long: refused.
"$PY" -c "import sys, struct; open(sys.argv[1], 'wb').write(struct.pack('!H', 5) + bytes(100 * 1024))" \
    "$T/big.raw"
"$B" "$T/big.raw" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || fail "a 100 KiB non-IPFIX raw file: exit $rc, want 1"
grep -q "longer than one datagram" "$T/err" || fail "no message: $(cat "$T/err")"
echo ok
