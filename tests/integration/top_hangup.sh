#!/bin/bash
# flowkit-top ends when its terminal goes away (issue #15 item 5): it used to
# catch and ignore SIGHUP and then spin at full CPU on a hung-up tty. Run it
# in a pty (python3's pty module) inside a fresh netns (its own quiet lo),
# close the pty's master side, and expect it to exit:
#  1. as the session leader with the pty as controlling terminal: the kernel
#     sends SIGHUP;
#  2. with the pty as stdin/stdout but not its controlling terminal (no
#     SIGHUP at all): poll reports the hang-up on stdin;
#  3. in JSON mode on a pty: writes fail with EIO.
# Each must end within 30 s (a liveness bound, not a speed figure); the CPU
# time it used after the hang-up is printed.
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
. "$SRC/scripts/netns.sh"
fk_netns_require_root
TOP=$BUILD/cli/flowkit-top/flowkit-top
[ -x "$TOP" ] || { echo "SKIP: $TOP not built" >&2; exit 77; }
NS=fkth$$
N=$(fk_netns_free_subnet) || { echo "FAIL: no free subnet"; exit 1; }
fk_netns_add "$NS" "$N" || { echo "FAIL: cannot create netns"; exit 1; }

/usr/bin/python3 - "$NS" "$TOP" <<'PY'
import os, pty, signal, subprocess, sys, time

ns, top = sys.argv[1], sys.argv[2]
cmd = ["ip", "netns", "exec", ns, top, "-d", "1", "lo"]
failed = False

def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def drain(fd, seconds):
    """Read what the program draws for a while (a full pty would block it)."""
    end = time.time() + seconds
    got = b""
    while time.time() < end:
        try:
            import select
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                got += os.read(fd, 65536)
        except OSError:
            break
    return got

def wait_gone(pid, what, popen=None):
    global failed
    start_cpu = cpu_seconds(pid)
    end = time.time() + 30
    while time.time() < end:
        if popen is not None:
            rc = popen.poll()
        else:
            done, status = os.waitpid(pid, os.WNOHANG)
            rc = None if done == 0 else os.waitstatus_to_exitcode(status)
        if rc is not None:
            print("ok   %s: exited (%s) after the hang-up" % (what, rc))
            return
        try:
            used = cpu_seconds(pid) - start_cpu
        except OSError:
            used = float("nan")
        time.sleep(0.2)
    print("FAIL %s: still running 30 s after the hang-up, %.1f CPU s used since" % (what, used))
    failed = True
    os.kill(pid, signal.SIGKILL)
    if popen is not None:
        popen.wait()
    else:
        os.waitpid(pid, 0)

# 1. controlling terminal: SIGHUP
pid, master = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm"
    os.execvp(cmd[0], cmd)
screen = drain(master, 3)
if not screen:
    print("FAIL controlling tty: flowkit-top drew nothing"); failed = True
os.close(master)
wait_gone(pid, "controlling tty (SIGHUP)")

# 2 and 3. the pty is stdin/stdout but not the controlling terminal
for what, extra in (("curses, no SIGHUP (hang-up on stdin)", []),
                    ("--json, no SIGHUP (EIO on stdout)", ["--json"])):
    master, slave = os.openpty()
    env = dict(os.environ, TERM="xterm")
    p = subprocess.Popen(cmd[:-1] + extra + ["lo"], stdin=slave, stdout=slave,
                         stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    os.close(slave)
    drain(master, 3)
    os.close(master)
    wait_gone(p.pid, what, p)

sys.exit(1 if failed else 0)
PY
