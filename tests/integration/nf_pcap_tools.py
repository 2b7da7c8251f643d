#!/usr/bin/python3
"""Small pcap tools for the NetFlow interop tests (standard library only).

  nf_pcap_tools.py gen IN.pcap TRUTH.json
      write a pcap of known traffic (TCP with handshake, data and FIN; UDP
      request/response; ICMP echo; TCP SYN answered by RST) and the ground
      truth per direction: [src, dst, sport, dport, proto, packets, bytes,
      first, last] (bytes = IP total length; ICMP: dport = type*256+code).
  nf_pcap_tools.py recv OUT.pcap PORTFILE STOPFILE
      bind a UDP socket on 127.0.0.1 (port chosen by the kernel, written to
      PORTFILE), write every datagram received into OUT.pcap as
      Ethernet/IPv4/UDP frames; stop once STOPFILE exists and the socket has
      been idle for 0.2 s, or after 60 s.
  nf_pcap_tools.py tcprecv OUT PORTFILE
      listen on 127.0.0.1 (port chosen by the kernel, written to PORTFILE),
      accept one connection and write the byte stream it carries to OUT
      until the peer closes it; 30 s timeouts on accept and on each read.
  nf_pcap_tools.py check TRUTH.json FLOWKIT.jsonl [--durations-only]
      every ground-truth direction must appear exactly once in flowkit's
      flow records with equal packets and bytes, a start no later than the
      direction's first packet and no earlier than its conversation's first
      packet, and an end no earlier than its last packet and no later than
      its conversation's last one (exporters give both directions the
      conversation's times); 1 ms tolerance for rounding. --durations-only
      checks end - start against the same bounds instead, for exporters
      whose absolute times follow the wall clock rather than the pcap.
"""
import json
import os
import socket
import struct
import sys
import time

T0 = 1700000000.0
PCAP_HDR = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)


def ip4(src, dst, proto, l4):
    return struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0,
                       bytes(src), bytes(dst)) + l4


def tcp(sp, dp, flags, payload=b''):
    return struct.pack('>HHIIBBHHH', sp, dp, 1, 1, 0x50, flags, 65535, 0, 0) + payload


def udp(sp, dp, payload):
    return struct.pack('>HHHH', sp, dp, 8 + len(payload), 0) + payload


def icmp(t, c, payload):
    return struct.pack('>BBHHH', t, c, 0, 1, 1) + payload


def frame(ip):
    return bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]) + b'\x08\x00' + ip


def record(f, t, fr):
    usec = int(round((t - int(t)) * 1e6))
    f.write(struct.pack('<IIII', int(t), usec, len(fr), len(fr)) + fr)


def gen(path, truth_path):
    a, b = [10, 1, 0, 1], [10, 2, 0, 1]
    seq = [(0.000, a, b, 6, tcp(40001, 80, 0x02)), (0.010, b, a, 6, tcp(80, 40001, 0x12)),
           (0.020, a, b, 6, tcp(40001, 80, 0x10)), (0.030, a, b, 6, tcp(40001, 80, 0x18, b'x' * 500)),
           (0.120, b, a, 6, tcp(80, 40001, 0x18, b'y' * 1200)),
           (0.250, a, b, 6, tcp(40001, 80, 0x11)), (0.260, b, a, 6, tcp(80, 40001, 0x11)),
           (0.270, a, b, 6, tcp(40001, 80, 0x10))]
    c, d = [10, 1, 0, 2], [10, 2, 0, 2]
    for i in range(3):
        seq.append((1.0 + i * 0.5, c, d, 17, udp(5353, 53, b'q' * (30 + i))))
        seq.append((1.02 + i * 0.5, d, c, 17, udp(53, 5353, b'r' * (100 + i))))
    e, g = [10, 1, 0, 3], [10, 2, 0, 3]
    for i in range(2):
        seq.append((2.0 + i, e, g, 1, icmp(8, 0, b'p' * 56)))
        seq.append((2.001 + i, g, e, 1, icmp(0, 0, b'p' * 56)))
    h, k = [10, 1, 0, 4], [10, 2, 0, 4]
    seq += [(3.0, h, k, 6, tcp(40002, 443, 0x02)), (3.005, k, h, 6, tcp(443, 40002, 0x14))]
    seq.sort(key=lambda s: s[0])
    truth = {}
    with open(path, 'wb') as f:
        f.write(PCAP_HDR)
        for ts, s, dd, p, l4 in seq:
            ip = ip4(s, dd, p, l4)
            t = T0 + ts
            record(f, t, frame(ip))
            sp, dp = (0, l4[0] * 256 + l4[1]) if p == 1 else struct.unpack('>HH', l4[:4])
            key = ('.'.join(map(str, s)), '.'.join(map(str, dd)), sp, dp, p)
            ent = truth.setdefault(key, [0, 0, t, t])
            ent[0] += 1
            ent[1] += len(ip)
            ent[3] = t
    with open(truth_path, 'w') as f:
        json.dump([list(key) + v for key, v in truth.items()], f)


def recv(out, portfile, stopfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    s.settimeout(0.2)
    port = s.getsockname()[1]
    with open(portfile + '.tmp', 'w') as f:
        f.write(str(port))
    os.rename(portfile + '.tmp', portfile)
    deadline = time.time() + 60
    with open(out, 'wb') as f:
        f.write(PCAP_HDR)
        while time.time() < deadline:
            try:
                data, (addr, sport) = s.recvfrom(65535)
            except socket.timeout:
                if os.path.exists(stopfile):
                    break
                continue
            u = struct.pack('>HHHH', sport, port, 8 + len(data), 0) + data
            ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(u), 0, 0x4000, 64, 17, 0,
                             socket.inet_aton(addr), socket.inet_aton('127.0.0.1')) + u
            record(f, time.time(), b'\0' * 12 + b'\x08\x00' + ip)
            f.flush()


def tcprecv(out, portfile):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', 0))
    s.listen(1)
    with open(portfile + '.tmp', 'w') as f:
        f.write(str(s.getsockname()[1]))
    os.rename(portfile + '.tmp', portfile)
    s.settimeout(30)
    c, _ = s.accept()
    c.settimeout(30)
    with open(out, 'wb') as f:
        while True:
            b = c.recv(65536)
            if not b:
                break
            f.write(b)


def ms(text):
    from datetime import datetime, timezone
    date, frac = text.rstrip('Z').split('.')
    dt = datetime.strptime(date, '%Y-%m-%dT%H:%M:%S').replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1000 + int(frac)


def check(truth_path, jsonl, durations_only=False):
    with open(truth_path) as f:
        truth = json.load(f)
    flows = []
    with open(jsonl) as f:
        for line in f:
            o = json.loads(line)
            if o.get('type') == 'flow':
                flows.append(o)
    conv = {}
    for src, dst, sp, dp, p, n, by, t0, t1 in truth:
        key = (min((src, sp), (dst, dp)), max((src, sp), (dst, dp)), p)
        c = conv.setdefault(key, [t0, t1])
        c[0], c[1] = min(c[0], t0), max(c[1], t1)
    bad = 0
    for src, dst, sp, dp, p, n, by, t0, t1 in truth:
        match = [o for o in flows if (o['src_addr'], o['dst_addr'], o['src_port'], o['dst_port'],
                                      o['proto']) == (src, dst, sp, dp, p)]
        key = (min((src, sp), (dst, dp)), max((src, sp), (dst, dp)), p)
        c0, c1 = (round(x * 1000) for x in conv[key])
        f0, f1 = round(t0 * 1000), round(t1 * 1000)
        if len(match) != 1:
            print(f'{src}:{sp} > {dst}:{dp} proto {p}: {len(match)} records, want 1')
            bad += 1
            continue
        o = match[0]
        s, e = ms(o['start']), ms(o['end'])
        if (o['packets'], o['bytes']) != (n, by):
            print(f'{src}:{sp} > {dst}:{dp}: packets/bytes {o["packets"]}/{o["bytes"]}, want {n}/{by}')
            bad += 1
        if durations_only:
            if not (f1 - f0 - 1 <= e - s <= c1 - c0 + 1):
                print(f'{src}:{sp} > {dst}:{dp}: duration {e - s} ms outside '
                      f'[{f1 - f0}, {c1 - c0}]')
                bad += 1
        elif not (c0 - 1 <= s <= f0 + 1 and f1 - 1 <= e <= c1 + 1):
            print(f'{src}:{sp} > {dst}:{dp}: start/end {s}/{e} outside [{c0},{f0}]/[{f1},{c1}]')
            bad += 1
    if len(flows) != len(truth):
        print(f'{len(flows)} flow records, want {len(truth)}')
        bad += 1
    print(f'ground truth: {len(truth)} directions, {bad} problems')
    return 1 if bad else 0


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'gen' and len(sys.argv) == 4:
        gen(sys.argv[2], sys.argv[3])
        return 0
    if cmd == 'recv' and len(sys.argv) == 5:
        recv(*sys.argv[2:5])
        return 0
    if cmd == 'tcprecv' and len(sys.argv) == 4:
        tcprecv(*sys.argv[2:4])
        return 0
    if cmd == 'check' and len(sys.argv) in (4, 5):
        if len(sys.argv) == 5 and sys.argv[4] != '--durations-only':
            print(__doc__, file=sys.stderr)
            return 2
        return check(sys.argv[2], sys.argv[3], len(sys.argv) == 5)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
