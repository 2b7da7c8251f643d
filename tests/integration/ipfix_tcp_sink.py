#!/usr/bin/python3
"""A minimal IPFIX-over-TCP collector for the exporter tests (stdlib only).

  ipfix_tcp_sink.py HOST PORT OUT

Accepts connections one after another, decodes the IPFIX message stream of
each (templates with enterprise fields and variable-length fields, RFC 7011)
and appends one line per data record to OUT, flushed per message:
  <template id> <sequence number of the message> <sourceTransportPort>
Exits on SIGTERM; a new instance can bind the same port (SO_REUSEADDR).
"""
import signal
import socket
import struct
import sys


def main():
    host, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(4)
    with open(out, 'a') as f:
        while True:
            conn, _ = srv.accept()
            serve(conn, f)
            conn.close()


def read_exact(conn, n):
    b = b''
    while len(b) < n:
        chunk = conn.recv(n - len(b))
        if not chunk:
            return None
        b += chunk
    return b


def serve(conn, f):
    templates = {}
    while True:
        hdr = read_exact(conn, 16)
        if hdr is None:
            return
        version, length, _, seq, _ = struct.unpack('>HHIII', hdr)
        assert version == 10 and length >= 16, (version, length)
        body = read_exact(conn, length - 16)
        if body is None:
            return
        off = 0
        lines = []
        while off + 4 <= len(body):
            sid, slen = struct.unpack('>HH', body[off:off + 4])
            assert slen >= 4 and off + slen <= len(body), (sid, slen)
            p, end = off + 4, off + slen
            if sid == 2:
                while p + 4 <= end:
                    tid, n = struct.unpack('>HH', body[p:p + 4])
                    p += 4
                    fields = []
                    for _ in range(n):
                        ie, flen = struct.unpack('>HH', body[p:p + 4])
                        p += 4
                        pen = 0
                        if ie & 0x8000:
                            pen = struct.unpack('>I', body[p:p + 4])[0]
                            p += 4
                        fields.append((pen, ie & 0x7fff, flen))
                    templates[tid] = fields
            elif sid >= 256:
                fields = templates[sid]
                while p < end:
                    sport = None
                    for pen, ie, flen in fields:
                        if flen == 65535:
                            flen = body[p]
                            p += 1
                            if flen == 255:
                                flen = struct.unpack('>H', body[p:p + 2])[0]
                                p += 2
                        if pen == 0 and ie == 7:
                            sport = int.from_bytes(body[p:p + flen], 'big')
                        p += flen
                    assert p <= end
                    lines.append('%d %d %s\n' % (sid, seq, sport))
            off = end
        f.write(''.join(lines))
        f.flush()


if __name__ == '__main__':
    main()
