#!/usr/bin/env python3
"""Ground truth for the rank tests: IP-layer bytes per host-side process,
from an independent tcpdump capture on the host's veth end.

usage: proc_truth.py PCAP CONNS RANK_JSON HOST_ADDR...
  CONNS: lines "PID PROTO LOCAL_PORT LOCAL_ADDR" (the host-side socket of
         each connection, from the peers' output);
  RANK_JSON: flowkit-top --json output (its last line is the final rank).
Prints per pid: truth bytes, flowkit bytes, error; exits 1 when a process
is off by more than 1 %."""
import ipaddress, json, struct, sys
from collections import defaultdict


def packets(path):
    with open(path, "rb") as f:
        gh = f.read(24)
        magic = struct.unpack("<I", gh[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        link = struct.unpack(endian + "I", gh[20:24])[0]
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            _, _, incl, wire = struct.unpack(endian + "IIII", h)
            data = f.read(incl)
            off = 14 if link == 1 else 16 if link == 113 else 0
            if link == 1:
                etype = struct.unpack("!H", data[12:14])[0]
                while etype == 0x8100:
                    etype = struct.unpack("!H", data[off + 2:off + 4])[0]
                    off += 4
            ip = data[off:]
            if not ip:
                continue
            v = ip[0] >> 4
            if v == 4:
                ihl = (ip[0] & 15) * 4
                total = struct.unpack("!H", ip[2:4])[0]
                proto = ip[9]
                src, dst = ip[12:16], ip[16:20]
                l4 = ip[ihl:]
            elif v == 6:
                total = 40 + struct.unpack("!H", ip[4:6])[0]
                proto = ip[6]
                src, dst = ip[8:24], ip[24:40]
                l4 = ip[40:]
            else:
                continue
            if proto not in (6, 17) or len(l4) < 4:
                continue
            sport, dport = struct.unpack("!HH", l4[:4])
            yield proto, src, sport, dst, dport, total, wire


def bytes_by_owner(path, owner, hosts):
    """({pid: IP-layer bytes}, {pid: frame bytes}) of the capture at PATH,
    each packet counted for the owner of its local end: OWNER maps
    (packed host address, port) to a pid, HOSTS are the local addresses."""
    ip_bytes, l2_bytes = {}, {}
    for _proto, src, sport, dst, dport, total, wire in packets(path):
        local = (src, sport) if src in hosts else (dst, dport) if dst in hosts else None
        pid = owner.get(local)
        if pid:
            ip_bytes[pid] = ip_bytes.get(pid, 0) + total
            l2_bytes[pid] = l2_bytes.get(pid, 0) + wire
    return ip_bytes, l2_bytes


def trace_totals(path):
    """{pid: largest bytes sent + received of any refresh} of a `-t -v 2`
    trace (nethogs or flowkit-top): totals mode, and nethogs drops a
    process's row once it has exited, so the largest refresh counts.
    Indented lines (flowkit-top --connections) are not process rows."""
    blocks, cur = [], None
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("Refreshing:"):
            cur = {}
            blocks.append(cur)
        elif cur is not None and "\t" in line and not line.startswith(" "):
            name, sent, recv = line.split("\t")[:3]
            parts = name.split("/")
            pid = parts[-2] if len(parts) >= 3 else "0"
            try:
                cur[pid] = cur.get(pid, 0) + float(sent) + float(recv)
            except ValueError:
                pass
    best = {}
    for b in blocks:
        for pid, v in b.items():
            best[pid] = max(best.get(pid, 0), v)
    return best


def main():
    pcap, conns, rank = sys.argv[1:4]
    hosts = {ipaddress.ip_address(a).packed for a in sys.argv[4:]}
    owner = {}  # (proto, local address, local port) -> pid
    for line in open(conns):
        p = line.split()
        if len(p) == 4:
            owner[(6 if p[1] == "tcp" else 17, ipaddress.ip_address(p[3]).packed, int(p[2]))] = int(p[0])
    truth = defaultdict(int)
    for proto, src, sport, dst, dport, total, _ in packets(pcap):
        local = (src, sport) if src in hosts else (dst, dport) if dst in hosts else (None, None)
        pid = owner.get((proto,) + local)
        if pid:
            truth[pid] += total
    last = [l for l in open(rank) if l.startswith("{")][-1]
    rows = json.loads(last)["processes"]
    got = defaultdict(int)
    for r in rows:
        got[r["pid"]] += r["sent_bytes"] + r["recv_bytes"]
    bad = 0
    for pid in sorted(truth):
        t, g = truth[pid], got.get(pid, 0)
        err = abs(g - t) / t * 100 if t else 0
        ok = err <= 1.0
        bad += not ok
        print("%s pid %d truth %d flowkit %d error %.3f%%" % ("ok  " if ok else "FAIL", pid, t, g, err))
    for r in rows:
        if r["pid"] == 0 or bad:
            print("     pid %d %s (%s): %d bytes, %d connections" % (
                r["pid"], r["name"], r.get("exe", ""), r["sent_bytes"] + r["recv_bytes"],
                r.get("connections", 0)))
    sys.exit(1 if bad or not truth else 0)


if __name__ == "__main__":
    main()
