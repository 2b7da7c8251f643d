#!/usr/bin/python3
"""Capture or replay UDP export datagrams as a file of 2-byte-length-prefixed
datagrams (the format of the collector fuzz corpus).
  udp_dgrams.py capture FILE PORTFILE [IDLE_SECS]   bind 127.0.0.1:0, write the
      port to PORTFILE, store datagrams until IDLE_SECS (default 2) of silence.
  udp_dgrams.py replay FILE PORT [--reorder]        send them to 127.0.0.1:PORT
      from one source port; --reorder sends every NetFlow v9 / IPFIX datagram
      as two: its data sets first, then its template sets (data before template)."""
import select
import socket
import struct
import sys


def read(path):
    b = open(path, "rb").read()
    i = 0
    while i + 2 <= len(b):
        n = struct.unpack("!H", b[i:i + 2])[0]
        yield b[i + 2:i + 2 + n]
        i += 2 + n


def reorder(d):
    ver = struct.unpack("!H", d[:2])[0]
    if ver not in (9, 10):
        return [d]
    hl = 16 if ver == 10 else 20
    tmpl, data = b"", b""
    j = hl
    while j + 4 <= len(d):
        sid, sl = struct.unpack("!HH", d[j:j + 4])
        if sl < 4:
            break
        if sid < 256:
            tmpl += d[j:j + sl]
        else:
            data += d[j:j + sl]
        j += sl
    out = []
    for body in (data, tmpl):
        if not body:
            continue
        h = bytearray(d[:hl])
        if ver == 10:
            h[2:4] = struct.pack("!H", hl + len(body))
        out.append(bytes(h) + body)
    return out


def main():
    if sys.argv[1] == "capture":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        with open(sys.argv[3], "w") as f:
            f.write(str(s.getsockname()[1]))
        idle = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
        out = b""
        while select.select([s], [], [], idle)[0]:
            d = s.recv(65535)
            out += struct.pack("!H", len(d)) + d
        open(sys.argv[2], "wb").write(out)
    else:
        port = int(sys.argv[3])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        n = 0
        for d in read(sys.argv[2]):
            for m in (reorder(d) if "--reorder" in sys.argv else [d]):
                s.sendto(m, ("127.0.0.1", port))
                n += 1
        print(n)


if __name__ == "__main__":
    main()
