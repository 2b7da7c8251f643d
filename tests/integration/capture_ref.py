#!/usr/bin/python3
"""Reference flows and TCP session events from a pcap, computed
independently of flowkit (stdlib only), and a comparison with the JSON lines
printed by examples/capture_flows.

  capture_ref.py compare REF.pcap OUT.jsonl PREFIX...
      Flows and events whose addresses both start with one of PREFIX
      (e.g. 10.213.7. fd00:213:7:) and whose protocol is TCP, UDP or ICMP
      must be equal in both: per flow the 5-tuple in first-packet
      direction, packets and IP-layer bytes each way, start and end; per
      event kind, 5-tuple and time. Times (RFC 3339, ms) may differ by
      TOLERANCE_MS, a flow's end FK_END_EARLY_MS more (environment, default 0)
      when flowkit's may be early: the eBPF backend's ebpf_clock = coarse
      times a flow's later packets by the kernel's tick clock, up to one
      tick before the packet (cap_start in capture_common.bash sets it).
      Exit 0 when equal. A SYN without ACK on a TCP flow
      that has ended (an RST, or a FIN from each side) starts a new flow
      (a reused port), as flowkit's flow table does.
  capture_ref.py count FILE.pcap
      Print the number of packets in the file.
"""
import calendar
import json
import os
import socket
import struct
import sys
import time

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
ECHO_FOLD = {0: 8, 14: 13, 16: 15, 18: 17}  # reply -> request (ICMPv4)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    else:
        end = ">"
        magic = struct.unpack(">I", data[:4])[0]
    nano = magic == 0xA1B23C4D
    link = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        ts_ns = sec * 10**9 + (frac if nano else frac * 1000)
        yield link, ts_ns, data[off:off + caplen]
        off += caplen


def rfc3339(ns):
    t = time.gmtime(ns // 10**9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % ((ns % 10**9) // 10**6)


def decode(link, frame):
    """-> (src, dst, proto, sport, dport, ip_len, tcp_flags, frag, frag_id) or
    None; frag is "first" (more fragments follow, the ports are here),
    "later" (no ports: sport and dport are 0) or None."""
    if link == 1:
        etype = struct.unpack("!H", frame[12:14])[0]
        off = 14
        while etype in (0x8100, 0x88A8):
            etype = struct.unpack("!H", frame[off + 2:off + 4])[0]
            off += 4
    elif link == 113:
        etype = struct.unpack("!H", frame[14:16])[0]
        off = 16
    elif link == 276:
        etype = struct.unpack("!H", frame[0:2])[0]
        off = 20
    else:
        return None
    if etype == 0x0800:
        ihl = (frame[off] & 15) * 4
        ip_len = struct.unpack("!H", frame[off + 2:off + 4])[0]
        proto = frame[off + 9]
        src = socket.inet_ntop(socket.AF_INET, frame[off + 12:off + 16])
        dst = socket.inet_ntop(socket.AF_INET, frame[off + 16:off + 20])
        l4 = off + ihl
        fword = struct.unpack("!H", frame[off + 6:off + 8])[0]
        frag_id = struct.unpack("!H", frame[off + 4:off + 6])[0]
        frag = "later" if fword & 0x1FFF else "first" if fword & 0x2000 else None
    elif etype == 0x86DD:
        ip_len = 40 + struct.unpack("!H", frame[off + 4:off + 6])[0]
        proto = frame[off + 6]
        src = socket.inet_ntop(socket.AF_INET6, frame[off + 8:off + 24])
        dst = socket.inet_ntop(socket.AF_INET6, frame[off + 24:off + 40])
        l4 = off + 40
        frag = frag_id = None
        if proto == 44:
            proto = frame[l4]
            fword = struct.unpack("!H", frame[l4 + 2:l4 + 4])[0]
            frag_id = struct.unpack("!I", frame[l4 + 4:l4 + 8])[0]
            frag = "later" if fword & 0xFFF8 else "first" if fword & 1 else None
            l4 += 8
    else:
        return None
    sport = dport = flags = 0
    if frag == "later":
        if proto not in (1, 6, 17):
            return None
    elif proto in (6, 17):
        sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
        if proto == 6:
            flags = frame[l4 + 13]
    elif proto == 1:
        typ, code = frame[l4], frame[l4 + 1]
        dport = ECHO_FOLD.get(typ, typ) * 256 + code
    else:
        return None
    return src, dst, proto, sport, dport, ip_len, flags, frag, frag_id


def in_scope(addr, prefixes):
    return any(addr.startswith(p) for p in prefixes)


def closed(f):
    """A TCP session that has ended: an RST, or a FIN from each side."""
    return f["rst"] or len(f["fin"]) == 2


def reference(path, prefixes):
    flows, events, done = {}, [], []
    first_frags = {}  # (src, dst, proto, id) -> the first fragment's ports
    for link, ts, frame in read_pcap(path):
        d = decode(link, frame)
        if not d:
            continue
        src, dst, proto, sport, dport, ip_len, flags, frag, frag_id = d
        # A later fragment belongs to its first fragment's flow (when that
        # came first), as flowkit counts it.
        if frag == "first":
            first_frags[(src, dst, proto, frag_id)] = (sport, dport)
        elif frag == "later":
            sport, dport = first_frags.get((src, dst, proto, frag_id), (0, 0))
        if not (in_scope(src, prefixes) and in_scope(dst, prefixes)):
            continue
        if proto == 1:
            key = (proto, min(src, dst), max(src, dst), 0, dport)
        else:
            a, b = sorted([(src, sport), (dst, dport)])
            key = (proto, a[0], b[0], a[1], b[1])
        f = flows.get(key)
        if f is not None and proto == 6 and closed(f) and (flags & (SYN | ACK)) == SYN:
            # a new connection on the tuple of one that has ended (port
            # reuse): the old flow ends, as flowkit ends it
            done.append(f)
            f = None
        if f is None:
            f = flows[key] = {"src_addr": src, "dst_addr": dst, "src_port": sport,
                              "dst_port": dport, "proto": proto, "bytes": 0, "packets": 0,
                              "rev_bytes": 0, "rev_packets": 0, "start": ts, "end": ts,
                              "syn": False, "fin": set(), "rst": False}
        fwd = src == f["src_addr"] and sport == f["src_port"]
        if proto == 1:
            fwd = src == f["src_addr"]
        f["bytes" if fwd else "rev_bytes"] += ip_len
        f["packets" if fwd else "rev_packets"] += 1
        f["end"] = ts
        if proto == 6:
            ev = {"src_addr": src, "dst_addr": dst, "src_port": sport, "dst_port": dport,
                  "proto": 6, "time": rfc3339(ts)}
            if flags & SYN and not f["syn"]:
                f["syn"] = True
                events.append(dict(ev, event="syn"))
            if flags & FIN and fwd not in f["fin"]:
                f["fin"].add(fwd)
                events.append(dict(ev, event="fin"))
            if flags & RST and not f["rst"]:
                f["rst"] = True
                events.append(dict(ev, event="rst"))
    out = []
    for f in done + list(flows.values()):
        out.append({k: f[k] for k in ("src_addr", "dst_addr", "src_port", "dst_port", "proto",
                                      "bytes", "packets", "rev_bytes", "rev_packets")})
        out[-1]["start"] = rfc3339(f["start"])
        out[-1]["end"] = rfc3339(f["end"])
    return out, events


FLOW_KEYS = ("src_addr", "dst_addr", "src_port", "dst_port", "proto", "bytes", "packets",
             "rev_bytes", "rev_packets")
FLOW_TIMES = ("start", "end")
EVENT_KEYS = ("event", "src_addr", "dst_addr", "src_port", "dst_port", "proto")
EVENT_TIMES = ("time",)
# Each packet socket stamps packets itself when the kernel has no receive
# timestamp, so tcpdump's and flowkit's times of one packet may differ by a
# little; times must agree within this.
TOLERANCE_MS = 5


def ms(text):
    t = time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
    return int(calendar.timegm(t)) * 1000 + int(text[20:23])


def canon(items, keys, times):
    return sorted((tuple(str(it.get(k, 0)) for k in keys), tuple(ms(it[t]) for t in times))
                  for it in items)


def compare(ref_pcap, out_jsonl, prefixes):
    ref_flows, ref_events = reference(ref_pcap, prefixes)
    flows, events = [], []
    with open(out_jsonl) as f:
        for line in f:
            o = json.loads(line)
            if o.get("type") == "flow" and o["proto"] in (1, 6, 17) and \
                    in_scope(o["src_addr"], prefixes) and in_scope(o["dst_addr"], prefixes):
                flows.append(o)
            elif o.get("type") == "event" and \
                    in_scope(o["src_addr"], prefixes) and in_scope(o["dst_addr"], prefixes):
                events.append(o)
    ok = True
    for name, ref, got, keys, times in (("flows", ref_flows, flows, FLOW_KEYS, FLOW_TIMES),
                                        ("events", ref_events, events, EVENT_KEYS, EVENT_TIMES)):
        a, b = canon(ref, keys, times), canon(got, keys, times)
        print("%s: reference %d, flowkit %d" % (name, len(a), len(b)))
        # the slack of each time: end (flows) may be early by one more tick
        early = [0] * len(times)
        if name == "flows":
            early[times.index("end")] = int(os.environ.get("FK_END_EARLY_MS", "0"))
        same = len(a) == len(b) and all(
            x[0] == y[0] and all(-TOLERANCE_MS - e <= q - p <= TOLERANCE_MS
                                 for p, q, e in zip(x[1], y[1], early))
            for x, y in zip(a, b))
        if not same:
            ok = False
            for x in a:
                print("  reference:", x)
            for x in b:
                print("  flowkit:  ", x)
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1] == "count":
        print(sum(1 for _ in read_pcap(sys.argv[2])))
        sys.exit(0)
    sys.exit(compare(sys.argv[2], sys.argv[3], sys.argv[4:]))
