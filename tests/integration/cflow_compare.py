#!/usr/bin/python3
"""Compare flowkit-ipfix JSON lines with tshark's cflow dissection.

Usage: cflow_compare.py FLOWKIT.jsonl TSHARK.json

TSHARK.json is `tshark -r FILE -d udp.port==PORT,cflow -T json
--no-duplicate-keys`. Every tshark flow record that has a source and a
destination address ("Flow N" in v9/IPFIX data sets, "pdu N/M" in v5) is
turned into (src, dst, sport, dport, proto, bytes, packets, start ms, end ms)
with start/end made absolute from the packet header exactly as the NetFlow
formats define it (export time - (sysUptime - First), modulo 2^32 ms); the
flowkit lines of type "flow" give the same tuple. The two multisets must be
equal. Exit 0 when they are, 1 with the differences, 2 on bad input.
"""
import ipaddress
import json
import sys
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal


def addr(text):
    return str(ipaddress.ip_address(text))


def abs_ms(text):
    # "Jun  4, 2023 08:39:55.034000000 UTC"
    text = " ".join(text.replace(" UTC", "").split())
    date, frac = text.rsplit(".", 1)
    dt = datetime.strptime(date, "%b %d, %Y %H:%M:%S").replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1000 + int(frac[:3].ljust(3, "0"))


def rfc3339_ms(text):
    date, frac = text.rstrip("Z").split(".")
    dt = datetime.strptime(date, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1000 + int(frac)


def first(rec, *names):
    for n in names:
        if n in rec:
            v = rec[n]
            return v[0] if isinstance(v, list) else v
    return None


def find(d, name):
    """First value of a key anywhere below d (tshark nests *_tree dicts)."""
    if isinstance(d, dict):
        if name in d:
            v = d[name]
            return v[0] if isinstance(v, list) else v
        for v in d.values():
            r = find(v, name)
            if r is not None:
                return r
    elif isinstance(d, list):
        for v in d:
            r = find(v, name)
            if r is not None:
                return r
    return None


def uptime_abs_ms(export_ns, uptime_ms, stamp_s):
    stamp_ms = int((Decimal(stamp_s) * 1000).to_integral_value())
    diff = (uptime_ms - stamp_ms) % (1 << 32)
    if diff >= 1 << 31:
        diff -= 1 << 32
    return (export_ns - diff * 1000000) // 1000000


def tshark_records(path):
    with open(path) as f:
        packets = json.load(f)
    out = []
    for p in packets:
        layers = p["_source"]["layers"]
        cfs = layers.get("cflow")
        if cfs is None:
            continue
        for cf in cfs if isinstance(cfs, list) else [cfs]:
            secs = int(find(cf, "cflow.unix_secs") or 0)
            nsecs = int(find(cf, "cflow.unix_nsecs") or 0)
            export_ns = secs * 1000000000 + nsecs
            up = find(cf, "cflow.sysuptime")
            uptime_ms = int((Decimal(up) * 1000).to_integral_value()) if up else None
            for rec in walk_records(cf):
                src = first(rec, "cflow.srcaddr", "cflow.srcaddrv6")
                dst = first(rec, "cflow.dstaddr", "cflow.dstaddrv6")
                if src is None or dst is None:
                    continue  # options record
                t = rec.get("cflow.timedelta_tree", {})
                times = []
                for rel, absn in (("cflow.timestart", "cflow.abstimestart"),
                                  ("cflow.timeend", "cflow.abstimeend")):
                    if first(t, absn) is not None:
                        times.append(abs_ms(first(t, absn)))
                    elif first(t, rel) is not None and uptime_ms is not None:
                        times.append(uptime_abs_ms(export_ns, uptime_ms, first(t, rel)))
                    else:
                        times.append(None)
                obs = first(rec, "cflow.observation_time_milliseconds")
                if times[0] is None and times[1] is None and obs is not None:
                    times = [abs_ms(obs), abs_ms(obs)]  # an event: start = end
                if times[0] is None:
                    times[0] = times[1]
                if times[1] is None:
                    times[1] = times[0]
                sport = int(first(rec, "cflow.srcport") or 0)
                dport = int(first(rec, "cflow.dstport") or 0)
                proto = int(first(rec, "cflow.protocol") or 0)
                tc = first(rec, "cflow.icmp_type_code_ipv4", "cflow.icmp_type_code_ipv6")
                if proto in (1, 58) and tc is not None and (int(tc, 0) or not dport):
                    # ICMP type/code element: flowkit puts type*256+code in dst_port
                    sport, dport = 0, int(tc, 0)
                out.append((addr(src), addr(dst), sport, dport,
                            proto,
                            int(first(rec, "cflow.octets", "cflow.octets64") or 0),
                            int(first(rec, "cflow.packets", "cflow.packets64") or 0),
                            times[0], times[1]))
    return out


def walk_records(d):
    for k, v in d.items():
        if not isinstance(v, dict):
            continue
        if k.startswith("Flow ") or k.startswith("pdu "):
            yield v
        elif k.startswith("FlowSet") or k.startswith("Set "):
            yield from walk_records(v)


def flowkit_records(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            o = json.loads(line)
            if o.get("type") != "flow":
                continue
            if not o["src_addr"] or not o["dst_addr"]:
                continue  # no IP addresses (e.g. a data-link section): not compared, as tshark's
            start = rfc3339_ms(o["start"]) if o["start"] else None
            end = rfc3339_ms(o["end"]) if o["end"] else None
            if start == 0 and end == 0:
                start = end = None
            out.append((addr(o["src_addr"]), addr(o["dst_addr"]), o["src_port"], o["dst_port"],
                        o["proto"], o["bytes"], o["packets"], start, end))
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ours = flowkit_records(sys.argv[1])
    theirs = tshark_records(sys.argv[2])
    a, b = Counter(ours), Counter(theirs)
    if a == b:
        print(f"equal: {len(ours)} records")
        return 0
    for r in sorted((a - b).elements(), key=str)[:10]:
        print("only flowkit:", r)
    for r in sorted((b - a).elements(), key=str)[:10]:
        print("only tshark: ", r)
    print(f"DIFFERENT: flowkit {len(ours)} records, tshark {len(theirs)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
