#!/usr/bin/python3
"""Random raw IPFIX files for comparing flowkit-ipfix's query fast path with
its general path (tests/cli/ipfix_query_fast.sh).

  ipfix_random.py OUT.ipfix --seed S [--hostile] [--messages N]

Every file has several observation domains, many data templates (IPv4 or
IPv6, elements in random order and reduced sizes, flowkit-export's process
and tag elements (variable length, enterprise), session event elements
(event kind, observationTimeMilliseconds), userName, reverse counters, counters as delta or
total, times in seconds / ms / us / ns, elements no flow member reads),
options templates and records, origin elements and origin options records
(as flowkit-collect's ipfix: files carry them), templates redefined and
withdrawn, zero padding and sequence gaps. With --hostile, some files also carry what the
fast path must refuse and leave to the general path: variable-length and
enterprise elements, both address families or a repeated element in one
template, sysUpTime times, boot time in options data, data before its
template, a withdrawal of every template, an
exporter restart, malformed sets and messages, a file cut short."""
import argparse
import random
import struct

V4 = [bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), bytes([10, 9, 8, 7]), bytes([172, 16, 0, 5]),
      bytes([192, 0, 2, 1]), bytes([198, 51, 100, 7])]
V6 = [bytes.fromhex("20010db8000000000000000000000001"),
      bytes.fromhex("20010db8000000000000000000000002"),
      bytes.fromhex("20010db8ffff00000000000000000009"),
      bytes.fromhex("fd000000000000000000000000000001")]
PORTS = [0, 22, 53, 80, 443, 1024, 8080, 40000, 65535]
PEN = 32473  # flowkit-export's elements (flowkit-ipfix --pen's default)


def data_template(rnd, hostile):
    """A list of (id, length[, pen]) for a data template."""
    v6 = rnd.random() < 0.4
    f = []
    if rnd.random() < 0.95:
        f.append((27, 16) if v6 else (8, 4))
    if rnd.random() < 0.95:
        f.append((28, 16) if v6 else (12, 4))
    for ie, lens, p in [(7, [2, 2, 1], 0.8), (11, [2, 2, 1], 0.8), (4, [1], 0.9),
                        (6, [1, 2], 0.6), (5, [1], 0.3), (58, [2, 1], 0.3),
                        (10, [4, 2, 1], 0.4), (14, [4, 2], 0.4), (136, [1], 0.3),
                        (61, [1], 0.2), (16, [4, 2], 0.2), (15, [4], 0.2), (210, [3], 0.2),
                        (500, [5], 0.2), (149, [4], 0.1), (130, [4], 0.1)]:
        if rnd.random() < p:
            f.append((ie, rnd.choice(lens)))
    if rnd.random() < 0.3:
        f.append((rnd.choice([32, 139]), rnd.choice([2, 1])))
    for delta, total in [(1, 85), (2, 86)]:
        r = rnd.random()
        if r < 0.6:
            f.append((delta, rnd.choice([8, 8, 4, 2, 1, 3])))
        elif r < 0.8:
            f.append((total, rnd.choice([8, 4])))
        elif r < 0.9:
            f.append((delta, 8))
            f.append((total, 8))
    for s_id, e_id, ln in rnd.sample([(150, 151, 4), (152, 153, 8), (154, 155, 8),
                                      (156, 157, 8)], rnd.choice([0, 1, 1, 1, 2])):
        f.append((s_id, ln))
        f.append((e_id, ln))
    if rnd.random() < 0.35:  # flowkit-export's process and tag elements, userName, biflows
        f += rnd.sample([(1, 4, PEN), (2, 65535, PEN), (4, 65535, PEN), (5, 4, PEN),
                         (30, 65535, PEN), (371, 65535), (82, 65535), (1, 8, 29305),
                         (2, 4, 29305), (6, 2, 29305), (99, 4, 12345), (10, 1, PEN),
                         (323, 8)], rnd.randint(1, 4))
    if hostile and rnd.random() < 0.3:
        f.append(rnd.choice([(20, 1, PEN), (25, 4, PEN), (82, 65535), (27 if not v6 else 8, 16 if not v6 else 4),
                             (7, 2), (22, 4), (1, 8, 29305), (60, 1), (8, 3),
                             (5, 2), (160, 8), (323, 8)]))
    rnd.shuffle(f)
    return f


def options_template(rnd, hostile):
    f = [(10, 4), (rnd.choice([34, 305]), 4), (210, 2)]
    if hostile and rnd.random() < 0.3:
        return rnd.choice([[(10, 4), (82, 65535)], [(10, 4), (160, 8)]])
    if rnd.random() < 0.2:  # the origin of the domain's records (flowkit-collect's files)
        return [(149, 4), (130, 4)]
    return f[:rnd.choice([1, 2, 3])]


def tmpl_record(tid, fields, scope=None):
    out = struct.pack("!HH", tid, len(fields))
    if scope is not None:
        out += struct.pack("!H", scope)
    for fd in fields:
        if len(fd) == 3:
            out += struct.pack("!HHI", fd[0] | 0x8000, fd[1], fd[2])
        else:
            out += struct.pack("!HH", fd[0], fd[1])
    return out


def value(rnd, ie, ln, now_ms):
    if ln == 65535:
        n = rnd.randrange(0, 300)
        body = bytes(rnd.randrange(256) for _ in range(n))
        return (bytes([n]) if n < 255 else b"\xff" + struct.pack("!H", n)) + body
    if ie == 149:
        return rnd.choice([1, 2, 7]).to_bytes(4, "big")
    if ie in (8, 12, 130) and ln == 4:
        return rnd.choice(V4)
    if ie in (27, 28) and ln == 16:
        return rnd.choice(V6)
    if ie in (8, 27) or ie in (12, 28):
        return bytes(rnd.randrange(256) for _ in range(ln))
    if ie in (7, 11):
        return rnd.choice(PORTS).to_bytes(2, "big")[-ln:] if ln <= 2 else bytes(ln)
    if ie == 4:
        return bytes([rnd.choice([6, 6, 17, 1, 58, 47])])
    if ie in (32, 139):
        return rnd.choice([0, 0x0800, 0x0301, 0x0b00]).to_bytes(2, "big")[-ln:]
    if ie in (150, 151):
        return (now_ms // 1000 + rnd.randrange(-100, 100)).to_bytes(4, "big")
    if ie == 323 and rnd.random() < 0.2:
        return rnd.choice([0, 1 << 63, (1 << 64) - 1]).to_bytes(8, "big")
    if ie in (152, 153, 323):
        return (now_ms + rnd.randrange(-100000, 100000)).to_bytes(8, "big")
    if ie in (154, 155, 156, 157):
        secs = now_ms // 1000 + 2208988800 + rnd.randrange(-100, 100)
        return struct.pack("!II", secs, rnd.randrange(1 << 32))
    if ie == 160:
        return (now_ms - rnd.randrange(10**6)).to_bytes(8, "big")
    if ie in (1, 2, 85, 86):
        top = min(ln * 8, 40)
        return rnd.randrange(1 << rnd.randrange(1, top + 1)).to_bytes(ln, "big")
    if ie == 6:
        return rnd.choice([0x02, 0x12, 0x18, 0x11, 0x04, 0x1b]).to_bytes(ln, "big")
    if ie in (10, 14):
        return rnd.randrange(1, 6).to_bytes(ln, "big")
    if ie == 58:
        return rnd.choice([0, 5, 100, 4095 + 4096]).to_bytes(2, "big")[-ln:]
    return bytes(rnd.randrange(256) for _ in range(ln))


def record(rnd, fields, now_ms):
    return b"".join(value(rnd, fd[0], fd[1], now_ms) for fd in fields)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hostile", action="store_true")
    ap.add_argument("--messages", type=int, default=60)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    # one kind of trouble per hostile file, so that each is met on the fast
    # path as well as before it (a bad template would end it first)
    kind = rnd.choice(["element", "message", "message", "cut", "flip"]) if a.hostile else ""
    hostile = kind == "element"
    odids = rnd.sample([0, 1, 7, 4000000000], rnd.choice([1, 2, 3]))
    state = {d: {"seq": rnd.randrange(1 << 32), "tmpl": {}, "time": 1795435200} for d in odids}
    out = bytearray()
    for _ in range(a.messages):
        d = rnd.choice(odids)
        st = state[d]
        st["time"] += rnd.choice([0, 1, 1, 5])
        now_ms = st["time"] * 1000
        sets = []
        nrec = 0
        # templates: new ids, redefinitions, refreshes, withdrawals
        if not st["tmpl"] or rnd.random() < 0.3:
            recs = b""
            for _ in range(rnd.choice([1, 2, 3])):
                tid = rnd.randrange(256, 256 + 12)
                if tid in st["tmpl"] and rnd.random() < 0.5:
                    fields, opt, scope = st["tmpl"][tid]
                    if opt:
                        continue
                else:
                    fields, opt, scope = data_template(rnd, hostile), False, None
                st["tmpl"][tid] = (fields, opt, scope)
                recs += tmpl_record(tid, fields)
            if recs:
                sets.append(struct.pack("!HH", 2, 4 + len(recs)) + recs)
        if rnd.random() < 0.15:
            tid = rnd.randrange(300, 304)
            fields = options_template(rnd, hostile)
            scope = 1
            st["tmpl"][tid] = (fields, True, scope)
            r = tmpl_record(tid, fields, scope)
            sets.append(struct.pack("!HH", 3, 4 + len(r)) + r)
        if st["tmpl"] and rnd.random() < 0.05:
            tid = rnd.choice(sorted(st["tmpl"]))
            opt = st["tmpl"][tid][1]
            del st["tmpl"][tid]
            sets.append(struct.pack("!HHHH", 3 if opt else 2, 8, tid, 0))
        for _ in range(rnd.choice([1, 2, 3])):
            if not st["tmpl"]:
                break
            tid = rnd.choice(sorted(st["tmpl"]))
            fields, opt, scope = st["tmpl"][tid]
            n = rnd.randrange(0, 12)
            body = b"".join(record(rnd, fields, now_ms) for _ in range(n))
            if rnd.random() < 0.2:
                body += bytes(rnd.choice([1, 2, 3]))  # padding
            nrec += n
            sets.append(struct.pack("!HH", tid, 4 + len(body)) + body)
        if kind == "message" and rnd.random() < 0.04:
            kind = rnd.randrange(6)
            if kind == 0:  # data before its template
                sets.append(struct.pack("!HH", 999, 8) + b"\x01\x02\x03\x04")
            elif kind == 1:  # a set longer than its message
                sets.append(struct.pack("!HH", 256, 200) + b"\x00" * 8)
            elif kind == 2:  # a set shorter than its header
                sets.append(struct.pack("!HH", 256, 2))
            elif kind == 3:  # withdraw every template
                sets.append(struct.pack("!HHHH", 2, 8, 2, 0))
                st["tmpl"] = {k: v for k, v in st["tmpl"].items() if v[1]}
            elif kind == 4:  # exporter restart: sequence back, later export time
                st["seq"] = rnd.randrange(0, 10)
                st["time"] += 100
            else:  # padding not zero
                sets.append(struct.pack("!HH", 2, 6) + b"\x01\x02")
        body = b"".join(sets)
        if rnd.random() < 0.05:
            st["seq"] = (st["seq"] + rnd.randrange(1, 50)) & 0xffffffff  # loss
        out += struct.pack("!HHIII", 10, 16 + len(body), st["time"], st["seq"], d) + body
        st["seq"] = (st["seq"] + nrec) & 0xffffffff
    if kind == "cut":
        out = out[:len(out) - rnd.randrange(1, 20)]  # cut short
    if kind == "flip":
        at = rnd.randrange(len(out))
        out[at] ^= 1 << rnd.randrange(8)
    open(a.out, "wb").write(bytes(out))


if __name__ == "__main__":
    main()
