#!/bin/bash
# cgroup limits: while capturing, the process sits in a flowkit-<pid> group
# whose files show the CPU quota (0.5 core) and the memory limit (256 MiB);
# afterwards the groups are gone and (checked in-process by a small program)
# the process is back in its original groups. Not permitted (as nobody):
# FK_EPERM. cgroup v2 forced where the unified hierarchy lacks the
# controllers: FK_EUNSUPPORTED.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS=fkcg$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h
MEM=$((256 * 1024 * 1024))

# cg_dir PID CONTROLLER: directory of the process's group for a controller.
cg_dir() {
    local line path mnt
    line=$(grep -E "^[0-9]+:([^:]*,)?$2(,[^:]*)?:" "/proc/$1/cgroup")
    if [ -n "$line" ]; then
        path=${line#*:*:}
        mnt=$(findmnt -n -t cgroup -o TARGET,OPTIONS | awk -v c="$2" '{n=split($2,o,","); for(i=1;i<=n;i++) if(o[i]==c) print $1}' | head -1)
    else
        path=$(grep '^0::' "/proc/$1/cgroup" | cut -d: -f3)
        mnt=$(findmnt -n -t cgroup2 -o TARGET | head -1)
    fi
    echo "$mnt$path"
}

cap_start cg -i "$IF" -o cpu_limit=0.5 -o memory_limit=$MEM
PID=$CAP_PID
cpu=$(cg_dir "$PID" cpu)
mem=$(cg_dir "$PID" memory)
echo "cpu group: $cpu"
echo "memory group: $mem"
case "$cpu" in */flowkit-$PID) ;; *) fail "not in a flowkit-$PID cpu group: $cpu" ;; esac
case "$mem" in */flowkit-$PID) ;; *) fail "not in a flowkit-$PID memory group: $mem" ;; esac
grep -qx "$PID" "$cpu/cgroup.procs" || fail "pid not in $cpu/cgroup.procs"
if [ -f "$cpu/cpu.cfs_quota_us" ]; then
    [ "$(cat "$cpu/cpu.cfs_quota_us")" = 50000 ] || fail "cfs_quota_us = $(cat "$cpu/cpu.cfs_quota_us")"
    [ "$(cat "$cpu/cpu.cfs_period_us")" = 100000 ] || fail "cfs_period_us"
    [ "$(cat "$mem/memory.limit_in_bytes")" = $MEM ] || fail "memory.limit_in_bytes = $(cat "$mem/memory.limit_in_bytes")"
else
    [ "$(cat "$cpu/cpu.max")" = "50000 100000" ] || fail "cpu.max = $(cat "$cpu/cpu.max")"
    [ "$(cat "$mem/memory.max")" = $MEM ] || fail "memory.max = $(cat "$mem/memory.max")"
fi
traffic "$NS" "$N" # the capture still works inside its limits
cap_stop
[ ! -d "$cpu" ] || fail "$cpu still exists"
[ ! -d "$mem" ] || fail "$mem still exists"
c=$(count_json "$WORK/cg.jsonl" '.type=="event" and .event=="syn"')
[ "$c" -ge 4 ] || fail "capture under limits saw $c SYN events"

# In-process: membership restored at destroy, and a failed activate (bad
# filter after the limits were applied) leaves nothing behind.
$PY - "$WORK/one.pcap" <<'PYEOF'
import struct, sys
frame = bytes(12) + b"\x08\x00" + bytes([0x45, 0, 0, 20]) + bytes(16)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack("<IIII", 1700000000, 0, len(frame), len(frame)) + frame)
PYEOF
chmod 644 "$WORK/one.pcap"
cat >"$WORK/restore.c" <<'CEOF'
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void read_cgroup(char *buf, size_t size)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

int main(int argc, char **argv)
{
    char before[4096], during[4096], after[4096], tag[64];
    snprintf(tag, sizeof tag, "/flowkit-%ld\n", (long)getpid());
    read_cgroup(before, sizeof before);
    fk_capture *h;
    fk_capture_create(&h);
    fk_capture_add_file(h, argv[1]);
    fk_capture_set_double(h, FK_CAP_CPU_LIMIT, 0.25);
    fk_capture_set_int(h, FK_CAP_MEMORY_LIMIT, 128 << 20);
    fk_capture_set_str(h, FK_CAP_FILTER, "((");
    int rc = fk_capture_activate(h);
    read_cgroup(after, sizeof after);
    if (rc != FK_EFILTER || strcmp(before, after) != 0) {
        fprintf(stderr, "failed activate: rc %d, cgroups %s\n", rc, after);
        return 1;
    }
    fk_capture_set_str(h, FK_CAP_FILTER, NULL);
    if (fk_capture_activate(h) != 0) {
        fprintf(stderr, "activate: %s\n", fk_error_last()->message);
        return 1;
    }
    read_cgroup(during, sizeof during);
    if (!strstr(during, tag)) {
        fprintf(stderr, "not moved: %s\n", during);
        return 1;
    }
    fk_capture_run(h);
    fk_capture_destroy(h);
    read_cgroup(after, sizeof after);
    if (strcmp(before, after) != 0) {
        fprintf(stderr, "not restored:\n%s---\n%s", before, after);
        return 1;
    }
    printf("restored\n");
    return 0;
}
CEOF
$CC $SANFLAGS -std=c11 -Wall -Werror -I"$SRC/include" -I"$BUILD/include" "$WORK/restore.c" -L"$LIBDIR" \
    -lflowkit -Wl,-rpath,"$LIBDIR" -o "$WORK/restore" || fail "cannot build restore.c"
"$WORK/restore" "$WORK/one.pcap" || fail "cgroup membership not restored"

# Not permitted: an unprivileged user cannot create groups.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    rc=0
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$CAPF" -r "$WORK/one.pcap" \
        -o cpu_limit=0.5 >/dev/null 2>"$WORK/perm.err" || rc=$?
    [ $rc = 1 ] || fail "as nobody: exit $rc: $(cat "$WORK/perm.err")"
    grep -q 'FK_EPERM' "$WORK/perm.err" || fail "as nobody: $(cat "$WORK/perm.err")"
    echo "as nobody: $(cat "$WORK/perm.err")"
fi

# cgroup v2 forced while the unified hierarchy lacks the cpu controller.
v2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
if [ -n "$v2" ] && ! grep -qw cpu "$v2$(grep '^0::' /proc/self/cgroup | cut -d: -f3)/cgroup.controllers" 2>/dev/null; then
    rc=0
    "$CAPF" -r "$WORK/one.pcap" -o cpu_limit=0.5 -o cgroup_version=2 >/dev/null 2>"$WORK/v2.err" || rc=$?
    [ $rc = 1 ] && grep -q FK_EUNSUPPORTED "$WORK/v2.err" || fail "v2 forced: $(cat "$WORK/v2.err")"
fi
echo PASS
