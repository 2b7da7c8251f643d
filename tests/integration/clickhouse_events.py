#!/usr/bin/python3
"""Send one IPFIX message to 127.0.0.1:PORT over UDP shaped like
flowkit-export's output (docs/exporter-elements.md): a SYN session event
with its process, an RST event without one, a flow with a process and
interface indexes, and options data naming those interfaces.

usage: clickhouse_events.py PORT PEN
Prints the expected ClickHouse rows (see interop_clickhouse.sh) as TSV:
src_port event bytes start_ms pid process uid user exe in_if_name out_if_name
"""
import socket
import struct
import sys
import time

port, pen = int(sys.argv[1]), int(sys.argv[2])
now_ms = int(time.time()) * 1000 + 123


def field(ie, length, ent=0):
    if ent:
        return struct.pack("!HHI", ie | 0x8000, length, ent)
    return struct.pack("!HH", ie, length)


def varlen(s):
    b = s.encode()
    return struct.pack("!B", len(b)) + b


TUPLE = [field(8, 4), field(12, 4), field(7, 2), field(11, 2), field(4, 1)]
PROC = [field(1, 4, pen), field(5, 4, pen), field(2, 65535, pen), field(371, 65535),
        field(4, 65535, pen)]
EVENT = TUPLE + [field(6, 2), field(323, 8), field(10, 1, pen)]
FLOW = TUPLE + [field(1, 8), field(2, 8), field(152, 8), field(153, 8), field(10, 4),
                field(14, 4)]


def template(tid, fields):
    return struct.pack("!HH", tid, len(fields)) + b"".join(fields)


def tset(sid, body):
    return struct.pack("!HH", sid, 4 + len(body)) + body


templates = tset(2, template(300, EVENT + PROC) + template(301, EVENT) +
                 template(302, FLOW + PROC))
# Options template 303: scope ingressInterface, then interfaceName.
options_tmpl = tset(3, struct.pack("!HHH", 303, 2, 1) + field(10, 4) + field(82, 65535))
names = tset(303, struct.pack("!I", 3) + varlen("eth0") + struct.pack("!I", 4) + varlen("wan0"))

src, dst = socket.inet_aton("192.0.2.10"), socket.inet_aton("198.51.100.20")
proc = struct.pack("!II", 4242, 1000) + varlen("curl") + varlen("alice") + varlen("/usr/bin/curl")
syn = src + dst + struct.pack("!HHBHQB", 41001, 443, 6, 0x02, now_ms, 1) + proc
rst = src + dst + struct.pack("!HHBHQB", 41002, 443, 6, 0x04, now_ms + 1, 3)
flow = src + dst + struct.pack("!HHBQQQQII", 41003, 443, 6, 5000, 7, now_ms, now_ms + 2000, 3, 4)
flow += proc
data = tset(300, syn) + tset(301, rst) + tset(302, flow)

body = templates + options_tmpl + names + data
msg = struct.pack("!HHIII", 10, 16 + len(body), now_ms // 1000, 0, 5) + body
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(msg, ("127.0.0.1", port))

rows = [
    (41001, "syn", 0, now_ms, 4242, "curl", "1000", "alice", "/usr/bin/curl", "", ""),
    (41002, "rst", 0, now_ms + 1, 0, "", "\\N", "", "", "", ""),
    (41003, "flow", 5000, now_ms, 4242, "curl", "1000", "alice", "/usr/bin/curl", "eth0", "wan0"),
]
for r in rows:
    print("\t".join(str(x) for x in r))
