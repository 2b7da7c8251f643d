#!/usr/bin/python3
"""Rapid reconnects on one TCP 4-tuple (stdlib only), for
capture_port_reuse.sh.

  capture_reuse.py server V4 V6 PORT NCONN     host side
  capture_reuse.py client V4 V6 PORT CPORT NCONN   inside the netns

The client makes NCONN connections to V4:PORT, then NCONN to [V6]:PORT,
back to back, every one from the same port CPORT (SO_REUSEADDR), so all
of a family's connections share one 4-tuple. Each sends 100 bytes (the
first byte says how it ends) and reads the server's 200 bytes:
  even connections ("F"): the server closes first (FIN from each side; the
      server's socket waits in TIME_WAIT and takes the next SYN);
  odd connections ("R"): the client closes with SO_LINGER 0 (an RST).
Both sides move to the next CPU before each send and close, so every
connection is counted on every CPU. A connect that finds the previous socket of the tuple still closing
(EADDRNOTAVAIL) is retried, bounded. Every wait is bounded; the server
exits after 2 * NCONN connections (or 30 s).
"""
import errno
import os
import select
import socket
import struct
import sys
import time

CPUS = sorted(os.sched_getaffinity(0))
_turn = [0]


def hop():
    """To the next CPU: the kernel counts what this process sends (and, on
    veth, what it receives) on the CPU it runs on, so each connection is
    counted on every CPU (the eBPF backend's per-CPU flow cache)."""
    _turn[0] += 1
    os.sched_setaffinity(0, {CPUS[_turn[0] % len(CPUS)]})


def server(v4, v6, port, nconn):
    lis = []
    for fam, addr in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((addr, port))
        t.listen(64)
        lis.append(t)
    print("listening", flush=True)
    served = 0
    deadline = time.time() + 30
    while served < 2 * nconn and time.time() < deadline:
        r, _, _ = select.select(lis, [], [], 0.2)
        for t in r:
            c, _ = t.accept()
            c.settimeout(5)
            got = b""
            while len(got) < 100:
                data = c.recv(100 - len(got))
                if not data:
                    raise RuntimeError("short request")
                got += data
            hop()
            c.sendall(b"s" * 200)
            if got[:1] == b"R":
                # wait for the client's RST (or FIN), then go
                try:
                    c.recv(1)
                except ConnectionResetError:
                    pass
            hop()
            c.close()
            served += 1
    if served < 2 * nconn:
        print("server: timed out after %d connections" % served, file=sys.stderr)
        return 1
    return 0


def one(fam, addr, port, cport, mode):
    for _ in range(2000):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(5)
        s.bind(("0.0.0.0" if fam == socket.AF_INET else "::", cport))
        try:
            s.connect((addr, port))
            break
        except OSError as e:
            s.close()
            if e.errno != errno.EADDRNOTAVAIL:
                raise
            time.sleep(0.001)
    else:
        raise RuntimeError("the tuple stayed busy")
    hop()
    s.sendall(mode + b"c" * 99)
    got = 0
    while got < 200:
        data = s.recv(200 - got)
        if not data:
            raise RuntimeError("short reply")
        got += len(data)
    hop()
    if mode == b"F":
        if s.recv(1) != b"":  # the server's FIN
            raise RuntimeError("data after the reply")
    else:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    hop()
    s.close()


def client(v4, v6, port, cport, nconn):
    for fam, addr in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
        start = time.time()
        for i in range(nconn):
            one(fam, addr, port, cport, b"F" if i % 2 == 0 else b"R")
        print("%d connections in %.3f s" % (nconn, time.time() - start), flush=True)
    return 0


if __name__ == "__main__":
    mode, v4, v6, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if mode == "server":
        sys.exit(server(v4, v6, port, int(sys.argv[5])))
    sys.exit(client(v4, v6, port, int(sys.argv[5]), int(sys.argv[6])))
