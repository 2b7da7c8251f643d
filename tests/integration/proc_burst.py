#!/usr/bin/env python3
"""Bursts of very short connections from short-lived client processes, for
the attribution tests: every connection lives a millisecond or two and every
client process exits right after its last packet.

  burst KIND SRC DST PORT COUNT PROCS UP DOWN FIRST_PORT
      KIND tcp | udp (connected socket) | udpu (unconnected: sendto/recvfrom)
      PROCS client processes run one after the other (a few at a time), each
      making COUNT/PROCS exchanges, each on a new socket bound to SRC and a
      port of its own from FIRST_PORT up (so no two connections share a
      tuple): TCP connect, send UP bytes (the first 8 ask the server for
      DOWN back), half-close, read to EOF, close; UDP one datagram of UP
      bytes (the first 4 ask for DOWN) and its answer.
      Prints one line per exchange: "PID LOCAL_PORT LIFETIME_US".
The servers are proc_peers.py's. Sizes are payload bytes."""
import os, socket, struct, sys, time


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def bind_unique(s, src, port, last):
    """Bind to the first free port in [port, last); returns the next one."""
    while port < last:
        try:
            s.bind((src, port))
            return port + 1
        except OSError:
            port += 1
    raise RuntimeError("no free port left in the client's range")


def exchange(kind, src, dst, dport, up, down, port, last):
    t0 = time.monotonic_ns()
    if kind == "tcp":
        s = socket.socket(fam(dst), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        nxt = bind_unique(s, src, port, last)
        s.connect((dst, dport))
        s.sendall(struct.pack("!Q", down) + b"u" * (up - 8))
        s.shutdown(socket.SHUT_WR)
        got = 0
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
    else:
        s = socket.socket(fam(dst), socket.SOCK_DGRAM)
        nxt = bind_unique(s, src, port, last)
        s.settimeout(2.0)
        msg = struct.pack("!I", down) + b"u" * (up - 4)
        if kind == "udp":
            s.connect((dst, dport))
            s.send(msg)
            got = len(s.recv(65536))
        else:
            s.sendto(msg, (dst, dport))
            got = len(s.recvfrom(65536)[0])
    lport = s.getsockname()[1]
    s.close()
    life = (time.monotonic_ns() - t0) // 1000
    if got != down:
        raise RuntimeError("got %d bytes, expected %d" % (got, down))
    return nxt, "%d %d %d\n" % (os.getpid(), lport, life)


def client(kind, src, dst, dport, n, up, down, first, last, out_fd):
    lines = []
    port = first
    for _ in range(n):
        port, line = exchange(kind, src, dst, dport, up, down, port, last)
        lines.append(line)
    # Right after the last packet: report and leave, nothing else.
    os.write(out_fd, "".join(lines).encode())
    os._exit(0)


def burst(kind, src, dst, dport, count, procs, up, down, first_port):
    per = (count + procs - 1) // procs
    span = per * 3  # room to skip ports others hold
    r, w = os.pipe()
    running = []
    rc = 0
    out = []
    for k in range(procs):
        n = min(per, count - k * per)
        if n <= 0:
            break
        first = first_port + k * span
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                client(kind, src, dst, dport, n, up, down, first, first + span, w)
            except Exception as e:  # reported by the exit status
                sys.stderr.write("client %d: %s\n" % (os.getpid(), e))
                os._exit(1)
        running.append(pid)
        if len(running) >= 4:  # a few at a time
            rc |= wait_one(running)
    while running:
        rc |= wait_one(running)
    os.close(w)
    while True:
        d = os.read(r, 65536)
        if not d:
            break
        out.append(d)
    sys.stdout.write(b"".join(out).decode())
    sys.stdout.flush()
    return rc


def wait_one(running):
    pid, status = os.wait()
    running.remove(pid)
    return 0 if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 1


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) != 10 or a[0] != "burst" or a[1] not in ("tcp", "udp", "udpu"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(burst(a[1], a[2], a[3], int(a[4]), int(a[5]), int(a[6]), int(a[7]), int(a[8]),
                   int(a[9])))
