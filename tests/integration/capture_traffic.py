#!/usr/bin/python3
"""Known traffic for the capture integration tests (stdlib only).

  capture_traffic.py server V4 V6 PORT NCONN   host side: TCP + UDP echo
  capture_traffic.py client V4 V6 PORT [frag]  inside the netns

Client, in order: 3 TCP connections to V4:PORT and 1 to [V6]:PORT (each
sends 1000 bytes, half-closes, reads the server's 2000 bytes, closes: SYN,
FIN from both sides), 1 TCP connection to V4:PORT+1 where nothing listens
(SYN answered by RST); with "frag", one UDP datagram of 3000 bytes to
V4:PORT+2 and one to [V6]:PORT+2, each echoed (three IP fragments each way
on a 1500-byte MTU); 5 UDP datagrams of 100 bytes to V4:PORT and 2 to
[V6]:PORT (each echoed), 3 ICMP echo requests with 56 bytes to V4 (the
kernel answers them); then it waits SETTLE seconds (see there).
The server exits once it has served NCONN connections and echoed the
UDP_ECHOES datagrams to PORT, the last it answers (the fragmented ones come
before them), and not on a timer: a client held up on a loaded machine
still finds it. Every wait is bounded: the server gives up after 30 s.
"""
import os
import select
import socket
import struct
import sys
import time

# The datagrams of 100 bytes the client sends to PORT: (family, count).
UDP_PLAIN = ((socket.AF_INET, 5), (socket.AF_INET6, 2))
UDP_ECHOES = sum(count for _, count in UDP_PLAIN)
# Seconds the client waits after its last packet. The tests' reference,
# tcpdump without --immediate-mode (capture_common.bash's ref_start), gets
# packets in blocks the kernel hands over once a second (tcpdump's default
# timeout); stopped sooner after the last packet, it misses the last ones
# and reports no drop.
SETTLE = 1.1


def server(v4, v6, port, nconn):
    tcp = []
    udp = []
    for fam, addr in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((addr, port))
        t.listen(16)
        tcp.append(t)
        for p in (port, port + 2):
            u = socket.socket(fam, socket.SOCK_DGRAM)
            u.bind((addr, p))
            udp.append(u)
    print("listening", flush=True)
    served = 0
    echoed = 0  # datagrams echoed on PORT
    deadline = time.time() + 30
    conns = {}
    while time.time() < deadline:
        r, _, _ = select.select(tcp + udp + list(conns), [], [], 0.2)
        for s in r:
            if s in tcp:
                c, _ = s.accept()
                conns[c] = 0
            elif s in udp:
                data, peer = s.recvfrom(65536)
                s.sendto(data, peer)
                echoed += s.getsockname()[1] == port
            else:
                data = s.recv(65536)
                if data:
                    conns[s] += len(data)
                    continue
                s.sendall(b"s" * 2000)
                s.close()
                del conns[s]
                served += 1
        if served >= nconn and not conns and echoed >= UDP_ECHOES:
            return 0
    print("server: timed out (%d connections served, %d datagrams echoed)" % (served, echoed),
          file=sys.stderr)
    return 1


def tcp_session(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((addr, port))
    s.sendall(b"c" * 1000)
    s.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        data = s.recv(65536)
        if not data:
            break
        got += len(data)
    s.close()
    if got != 2000:
        raise RuntimeError("got %d bytes, not 2000" % got)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def udp_echo(fam, addr, port, payloads):
    """Each payload to addr:port from one socket, each echo awaited (3 s);
    a failure says which datagram of which flow was not echoed."""
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.settimeout(3)
    u.connect((addr, port))
    for i, data in enumerate(payloads):
        u.send(data)
        try:
            got = len(u.recv(65536))
        except (TimeoutError, ConnectionRefusedError) as e:
            raise RuntimeError("UDP datagram %d of %d bytes to [%s]:%d: no echo (%s)" %
                               (i + 1, len(data), addr, port, e)) from None
        if got != len(data):
            raise RuntimeError("UDP echo of %d bytes, not %d" % (got, len(data)))
    u.close()


def client(v4, v6, port, frag):
    for _ in range(3):
        tcp_session(socket.AF_INET, v4, port)
        time.sleep(0.05)
    tcp_session(socket.AF_INET6, v6, port)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((v4, port + 1))
        raise RuntimeError("connected to a closed port")
    except ConnectionRefusedError:
        pass
    s.close()
    if frag:  # before the datagrams to PORT: the server goes after those
        for fam, addr in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
            udp_echo(fam, addr, port + 2, [b"F" * 3000])
    for fam, count in UDP_PLAIN:
        udp_echo(fam, v4 if fam == socket.AF_INET else v6, port,
                 [bytes([65 + i]) * 100 for i in range(count)])
    icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    icmp.settimeout(3)
    ident = os.getpid() & 0xFFFF
    for seq in range(1, 4):
        payload = bytes(range(56))
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, seq) + payload
        icmp.sendto(pkt, (v4, 0))
        while True:
            data, _ = icmp.recvfrom(2048)
            ihl = (data[0] & 15) * 4
            if data[ihl] == 0 and struct.unpack("!H", data[ihl + 6:ihl + 8])[0] == seq:
                break
        time.sleep(0.1)
    time.sleep(SETTLE)
    print("client done", flush=True)
    return 0


if __name__ == "__main__":
    mode, v4, v6, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if mode == "server":
        sys.exit(server(v4, v6, port, int(sys.argv[5])))
    sys.exit(client(v4, v6, port, sys.argv[5:6] == ["frag"]))
