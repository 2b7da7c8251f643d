#!/usr/bin/env python3
"""Known peer processes for the proc integration tests.

  server tcp|udp ADDR PORT   accept/receive forever; TCP: read each connection
                             to EOF, then send back the 8-byte big-endian count
                             of bytes that the client asked for in its first
                             8 bytes; UDP: answer each datagram with a datagram
                             of the size written in its first 4 bytes.
  hold tcp|udp SRC DST PORT  connect from SRC, print "PID LPORT", wait for
                             stdin to close.
  move tcp|udp SRC DST PORT UP DOWN COUNT [HOLD_MS [THREADS [SHARED]]]
                             COUNT times: connect from SRC, wait HOLD_MS (UDP:
                             after its first datagram), send
                             UP bytes (TCP: first 8 bytes ask for DOWN bytes
                             back; UDP: one datagram of UP bytes asking for
                             DOWN), receive DOWN bytes, close; print "PID
                             LPORT" per connection. THREADS connections run
                             at once. UDP with SHARED=1: one unconnected
                             socket sends every datagram (sendto).
All sizes are payload bytes; the test converts them to IP-layer bytes."""
import os, socket, struct, sys, threading


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve_tcp(conn):
    with conn:
        want = None
        buf = b""
        while True:
            d = conn.recv(65536)
            if not d:
                break
            if want is None:
                buf += d
                if len(buf) >= 8:
                    want = struct.unpack("!Q", buf[:8])[0]
        if want:
            conn.sendall(b"x" * want)


def server(proto, addr, port):
    if proto == "tcp":
        s = socket.socket(fam(addr), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(512)
        print("ready", flush=True)
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve_tcp, args=(c,), daemon=True).start()
    s = socket.socket(fam(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        d, peer = s.recvfrom(65536)
        if len(d) >= 4:
            n = struct.unpack("!I", d[:4])[0]
            if n:
                s.sendto(b"y" * n, peer)


def connect(proto, src, dst, port):
    s = socket.socket(fam(dst), socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.connect((dst, port))
    return s


def tcp_exchange(s, up, down):
    """Send UP bytes asking for DOWN back (first 8 bytes), half-close, read
    to EOF; returns the bytes received."""
    s.sendall(struct.pack("!Q", down) + b"u" * (up - 8))
    s.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        d = s.recv(65536)
        if not d:
            return got
        got += len(d)


def hold(proto, src, dst, port):
    s = connect(proto, src, dst, port)
    print(os.getpid(), s.getsockname()[1], flush=True)
    sys.stdin.read()


def move_one(proto, src, dst, port, up, down, hold_ms, lock):
    import time
    s = connect(proto, src, dst, port)
    if hold_ms and proto == "tcp":  # the SYN went out: the connection lives
        time.sleep(hold_ms / 1000.0)
    lport = s.getsockname()[1]
    if proto == "tcp":
        got = tcp_exchange(s, up, down)
    else:
        s.settimeout(2.0)
        s.send(struct.pack("!I", down) + b"u" * (up - 4))
        if hold_ms:  # UDP lives from its first datagram
            time.sleep(hold_ms / 1000.0)
        got = len(s.recv(65536)) if down else 0
    s.close()
    assert got == down, (got, down)
    with lock:
        print(os.getpid(), lport, flush=True)


def move_shared_udp(src, dst, port, up, down, count):
    s = socket.socket(fam(dst), socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(2.0)
    for _ in range(count):
        s.sendto(struct.pack("!I", down) + b"u" * (up - 4), (dst, port))
        got = len(s.recv(65536)) if down else 0
        assert got == down, (got, down)
    print(os.getpid(), s.getsockname()[1], flush=True)


def move(proto, src, dst, port, up, down, count, hold_ms=0, threads=1, shared=0):
    if proto == "udp" and shared:
        return move_shared_udp(src, dst, port, up, down, count)
    lock = threading.Lock()
    todo = list(range(count))
    errors = []

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            try:
                move_one(proto, src, dst, port, up, down, hold_ms, lock)
            except Exception as e:  # reported below, fails the run
                errors.append(e)
                return

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "server":
        server(a[1], a[2], int(a[3]))
    elif a[0] == "hold":
        hold(a[1], a[2], a[3], int(a[4]))
    elif a[0] == "move":
        move(a[1], a[2], a[3], int(a[4]), int(a[5]), int(a[6]), int(a[7]), *map(int, a[8:]))
