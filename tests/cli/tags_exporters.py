#!/usr/bin/python3
"""Thousands of IPFIX exporters, each with its own metadataTags, for
collect_tags_exporters.sh.

send PORT N OUT: N exporters, each a UDP socket bound to its own address in
127.0.0.0/8, send two messages to 127.0.0.1:PORT. The first defines template
256 (metadataTags last) and carries 3 records; the second redefines
template 256 with metadataTags first and other tags, and carries 2 records,
so tags that stay with a template or a domain after a redefinition show.
Tag lengths run from 5 bytes to exactly 1024 (FK_EXPORTER_TAGS_MAX, as a
1-byte and a 3-byte varlen prefix); every 97th exporter's second message
carries 1025 bytes and every 89th 17 tags, which the collector must refuse and count
(tags_rejected) while keeping the record. OUT gets one JSON object:
exporter address -> list of [dst_port, tags or null] it sent.

Sends are paced (bursts of 100 datagrams, then 10 ms) so a loaded CI machine
does not overflow the collector's socket: the collector counts such drops,
and the test checks they are zero before it compares records.
"""
import json
import socket
import struct
import sys
import time

PEN = 32473
TAGS_MAX = 1024  # FK_EXPORTER_TAGS_MAX
TAG_COUNT_MAX = 16  # FK_TAG_MAX


def addr_of(i):
    # 127.1.0.1 upwards; never 127.0.0.1 (the collector's own address).
    j = i + 1
    return "127.%d.%d.%d" % (1 + j // 65025, (j // 255) % 255, 1 + j % 255)


def tags_for(i, phase):
    """Tags of exporter i in message phase (0, 1): distinct per exporter
    and phase, of lengths spread over [5, 1024], sometimes 1025."""
    base = "e=%d,p=%d" % (i, phase)
    if phase == 1 and i % 89 == 0:  # 17 tags: one more than FK_TAG_MAX
        return base + "".join(",t%d=%d" % (k, k) for k in range(15))
    if phase == 1 and i % 97 == 0:
        want = TAGS_MAX + 1
    elif i % 11 == 0:
        want = TAGS_MAX
    elif i % 7 == 0:
        want = 254 + (i % 3)  # around the 1-byte/3-byte varlen boundary
    else:
        want = len(base) + (i * 37 + phase * 13) % 300
    s = base
    k = 0
    while want - len(s) > 100:
        s += ",k%d=%s" % (k, "v" * 90)
        k += 1
    rest = want - len(s) - len(",z=")
    if rest >= 1:
        s += ",z=" + "w" * rest
    return s


def varlen(b):
    if len(b) < 255:
        return bytes([len(b)]) + b
    return b"\xff" + struct.pack("!H", len(b)) + b


FIXED = [(8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (1, 8), (2, 8), (152, 8), (153, 8)]


def template_set(tags_first):
    fields = b""
    tag_spec = struct.pack("!HHI", 0x8000 | 30, 65535, PEN)
    if tags_first:
        fields += tag_spec
    for eid, ln in FIXED:
        fields += struct.pack("!HH", eid, ln)
    if not tags_first:
        fields += tag_spec
    body = struct.pack("!HH", 256, len(FIXED) + 1) + fields
    return struct.pack("!HH", 2, 4 + len(body)) + body


def record(i, port, tags, tags_first, now_ms):
    fixed = struct.pack(
        "!4s4sBHHQQQQ",
        socket.inet_aton(addr_of(i)),
        socket.inet_aton("10.0.0.1"),
        17,
        40000 + i % 20000,
        port,
        1000 + i,
        1 + i % 5,
        now_ms - 2000,
        now_ms - 1000,
    )
    t = varlen(tags.encode())
    return t + fixed if tags_first else fixed + t


def message(i, seq, phase, now_s):
    tags_first = phase == 1
    tags = tags_for(i, phase)
    nrec = 3 if phase == 0 else 2
    ports = [1 + phase * 10 + r for r in range(nrec)]
    recs = b"".join(record(i, p, tags, tags_first, now_s * 1000) for p in ports)
    data = struct.pack("!HH", 256, 4 + len(recs)) + recs
    sets = template_set(tags_first) + data
    hdr = struct.pack("!HHIII", 10, 16 + len(sets), now_s, seq, 1)
    ok = len(tags) <= TAGS_MAX and tags.count(",") < TAG_COUNT_MAX
    sent = [[p, tags if ok else None] for p in ports]
    return hdr + sets, sent


def main():
    port, n, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    socks = []
    truth = {}
    burst = 0
    try:
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((addr_of(i), 0))
            socks.append(s)
        for phase in (0, 1):
            now_s = int(time.time())
            for i, s in enumerate(socks):
                msg, sent = message(i, phase * 3, phase, now_s)
                s.sendto(msg, ("127.0.0.1", port))
                truth.setdefault(addr_of(i), []).extend(sent)
                burst += 1
                if burst % 100 == 0:
                    time.sleep(0.01)
    finally:
        for s in socks:
            s.close()
    with open(out, "w") as f:
        json.dump(truth, f)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "send":
        sys.exit("usage: tags_exporters.py send PORT N OUT")
    main()
