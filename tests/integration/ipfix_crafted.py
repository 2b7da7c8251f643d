#!/usr/bin/python3
"""IPFIX exports made by the test, for the records routers really send
(issue #22), and a field-by-field comparison with tshark.

  ipfix_crafted.py gen DIR
      write DIR/NAME.pcap for each case below (one exporter session each,
      UDP to port 4739) and DIR/expect.json: for every data record, keyed
      by its octetDeltaCount (unique per record), the one right flow record
      as flowkit must print it, each key naming the tshark field and the
      occurrence of it that holds the value (tshark shows every occurrence
      of a repeated element, in template order).
  ipfix_crafted.py check EXPECT.json TSHARK.json FLOWKIT.jsonl
      every tshark data record must be in EXPECT (and the reverse), tshark's
      occurrence must hold the intended value, and flowkit's record with
      those octets must carry exactly that value in every expected key, and
      no tunnel/outer/next-hop key that is not expected. Exit 0 when all
      agree, 1 with the differences.

Cases:
  families   templates carrying both address families, one pair unused:
             with ipVersion (6 and 4) and without (the non-zero pair),
             next hops of both families, one zero.
  repeated   repeated flow keys (RFC 7011 section 8, outer header first):
             SRv6 (outer IPv6, protocol 4, ports 0, then the inner IPv4
             flow; both directions of the inner flow) and GRE (outer IPv4
             with protocol 47 and no ports, then an inner TCP flow).
  order      a data set before its template in the file (the template
             comes in the second datagram): the collector's session layer
             keeps the data and decodes it when the template arrives.
"""
import ipaddress
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nf_pcap_tools import PCAP_HDR, frame, ip4, record, udp  # noqa: E402

EXPORT_TIME = 1763900000
T0_MS = EXPORT_TIME * 1000 - 60000
LENGTHS = {8: 4, 12: 4, 27: 16, 28: 16, 15: 4, 62: 16, 7: 2, 11: 2, 4: 1, 60: 1, 1: 8, 2: 8,
           152: 8, 153: 8}
TSHARK = {8: 'cflow.srcaddr', 12: 'cflow.dstaddr', 27: 'cflow.srcaddrv6',
          28: 'cflow.dstaddrv6', 15: 'cflow.nexthop', 62: 'cflow.nexthopv6',
          7: 'cflow.srcport', 11: 'cflow.dstport', 4: 'cflow.protocol', 1: 'cflow.octets',
          2: 'cflow.packets', 60: 'cflow.ip_version'}


def enc(ie, v):
    n = LENGTHS[ie]
    if ie in (8, 12, 27, 28, 15, 62):
        return ipaddress.ip_address(v).packed
    return v.to_bytes(n, 'big')


def template_set(tid, ies):
    body = struct.pack('>HH', tid, len(ies)) + b''.join(
        struct.pack('>HH', ie, LENGTHS[ie]) for ie in ies)
    return struct.pack('>HH', 2, 4 + len(body)) + body


def data_set(tid, ies, rows):
    body = b''.join(b''.join(enc(ie, v) for ie, v in zip(ies, row)) for row in rows)
    return struct.pack('>HH', tid, 4 + len(body)) + body


def message(seq, sets, domain=1):
    body = b''.join(sets)
    return struct.pack('>HHIII', 10, 16 + len(body), EXPORT_TIME, seq, domain) + body


def write_pcap(path, datagrams):
    with open(path, 'wb') as f:
        f.write(PCAP_HDR)
        for i, d in enumerate(datagrams):
            fr = frame(ip4([192, 0, 2, 200], [192, 0, 2, 201], 17, udp(50000, 4739, d)))
            record(f, 1763900000.0 + i * 0.001, fr)


class Case:
    """Records of one session and what each must become."""

    def __init__(self):
        self.expect = {}
        self.octets = 1000

    def row(self, ies, values, want):
        """values: IE -> value, or a list of values for repeated IEs (in
        template order); want: flowkit JSON key -> (IE, occurrence). Returns
        the row in template order; records the expectation."""
        self.octets += 1
        it = {ie: iter(v if isinstance(v, list) else [v]) for ie, v in values.items()}
        row = []
        for ie in ies:
            if ie == 1:
                row.append(self.octets)
            elif ie == 2:
                row.append(self.octets % 97 + 1)
            elif ie == 152:
                row.append(T0_MS + self.octets)
            elif ie == 153:
                row.append(T0_MS + self.octets + 500)
            else:
                row.append(next(it[ie]))
        want = dict(want)
        want.setdefault('bytes', (1, 0))
        want.setdefault('packets', (2, 0))
        exp = {}
        for key, (ie, occ) in want.items():
            vals = [v for i, v in zip(ies, row) if i == ie]
            v = vals[occ]
            if ie in (8, 12, 27, 28, 15, 62):
                v = str(ipaddress.ip_address(v))
            exp[key] = {'field': TSHARK[ie], 'occurrence': occ, 'value': v}
        exp['start_ms'] = T0_MS + self.octets
        exp['end_ms'] = T0_MS + self.octets + 500
        self.expect[str(self.octets)] = exp
        return row


def key(src, dst, sp, dp, proto, occ=0):
    """The five-tuple keys from the occurrence occ of each element."""
    return {'src_addr': (src, occ), 'dst_addr': (dst, occ), 'src_port': (7, occ),
            'dst_port': (11, occ), 'proto': (4, occ)}


def families(c):
    t1 = [8, 12, 27, 28, 7, 11, 4, 60, 15, 62, 1, 2, 152, 153]
    t2 = [8, 12, 27, 28, 7, 11, 4, 1, 2, 152, 153]
    r = [
        # ipVersion 6: the IPv6 pair although the IPv4 one is there (zero)
        c.row(t1, {8: '0.0.0.0', 12: '0.0.0.0', 27: '2001:db8::1', 28: '2001:db8::2', 7: 443,
                   11: 50000, 4: 6, 60: 6, 15: '0.0.0.0', 62: 'fe80::1'},
              dict(key(27, 28, 7, 11, 4), next_hop=(62, 0))),
        # ipVersion 6 names the family even when the IPv4 pair is set
        c.row(t1, {8: '192.0.2.7', 12: '192.0.2.8', 27: '2001:db8::7', 28: '2001:db8::8',
                   7: 53, 11: 5353, 4: 17, 60: 6, 15: '192.0.2.254', 62: '::'},
              dict(key(27, 28, 7, 11, 4), next_hop=(15, 0))),
        # ipVersion 4 with both pairs set: the IPv4 pair, no outer header
        c.row(t1, {8: '192.0.2.9', 12: '192.0.2.10', 27: '2001:db8::9', 28: '2001:db8::10',
                   7: 8080, 11: 40000, 4: 6, 60: 4, 15: '0.0.0.0', 62: '::'},
              key(8, 12, 7, 11, 4)),
        # ipVersion 4, IPv6 pair zero; next hop IPv4
        c.row(t1, {8: '192.0.2.1', 12: '198.51.100.2', 27: '::', 28: '::', 7: 1234, 11: 80,
                   4: 6, 60: 4, 15: '192.0.2.254', 62: '::'},
              dict(key(8, 12, 7, 11, 4), next_hop=(15, 0))),
    ]
    r2 = [
        # no ipVersion: the non-zero pair (IPv6), never one field of each
        c.row(t2, {8: '0.0.0.0', 12: '0.0.0.0', 27: '2001:db8:1::10', 28: '2001:db8:2::20',
                   7: 22, 11: 60000, 4: 6}, key(27, 28, 7, 11, 4)),
        # no ipVersion: the non-zero pair (IPv4)
        c.row(t2, {8: '203.0.113.5', 12: '203.0.113.6', 27: '::', 28: '::', 7: 5060, 11: 5061,
                   4: 17}, key(8, 12, 7, 11, 4)),
    ]
    return [message(0, [template_set(256, t1), template_set(257, t2)]),
            message(0, [data_set(256, t1, r)]), message(3, [data_set(257, t2, r2)])]


def repeated(c):
    srv6 = [27, 28, 7, 11, 4, 8, 12, 7, 11, 4, 1, 2, 152, 153]
    outer = {27: 'fc00:0:1::1', 28: 'fc00:0:2::'}
    want = dict(key(8, 12, 7, 11, 4, 0), outer_src_addr=(27, 0), outer_dst_addr=(28, 0),
                tunnel=(4, 0))
    want.update(src_port=(7, 1), dst_port=(11, 1), proto=(4, 1))
    r = [
        c.row(srv6, {**outer, 7: [0, 2222], 11: [0, 1111], 4: [4, 17], 8: '192.0.2.110',
                     12: '192.0.2.14'}, want),
        # the other direction of the inner flow: its own key
        c.row(srv6, {**outer, 7: [0, 1111], 11: [0, 2222], 4: [4, 17], 8: '192.0.2.14',
                     12: '192.0.2.110'}, want),
    ]
    gre = [8, 12, 4, 8, 12, 7, 11, 4, 1, 2, 152, 153]
    gwant = dict(key(8, 12, 7, 11, 4, 1), outer_src_addr=(8, 0), outer_dst_addr=(12, 0),
                 tunnel=(4, 0))
    gwant.update(src_port=(7, 0), dst_port=(11, 0))
    g = [c.row(gre, {8: ['198.51.100.1', '10.1.1.1'], 12: ['198.51.100.2', '10.2.2.2'],
                     4: [47, 6], 7: 33000, 11: 443}, gwant)]
    return [message(0, [template_set(258, srv6), template_set(259, gre),
                        data_set(258, srv6, r), data_set(259, gre, g)])]


def order(c):
    t = [8, 12, 7, 11, 4, 1, 2, 152, 153]
    a = [c.row(t, {8: '192.0.2.31', 12: '192.0.2.32', 7: 4000, 11: 4001, 4: 17},
               key(8, 12, 7, 11, 4))]
    b = [c.row(t, {8: '192.0.2.33', 12: '192.0.2.34', 7: 4002, 11: 4003, 4: 6},
               key(8, 12, 7, 11, 4))]
    return [message(0, [data_set(260, t, a)]), message(1, [template_set(260, t)]),
            message(1, [data_set(260, t, b)])]


def gen(out):
    expect = {}
    for name, fn in (('families', families), ('repeated', repeated), ('order', order)):
        c = Case()
        c.octets = {'families': 1000, 'repeated': 2000, 'order': 3000}[name]
        write_pcap(os.path.join(out, name + '.pcap'), fn(c))
        expect.update(c.expect)
    with open(os.path.join(out, 'expect.json'), 'w') as f:
        json.dump(expect, f, indent=1, sort_keys=True)


# ---- check ---------------------------------------------------------------

def tshark_records(path):
    """Every data record tshark shows: field -> list of every occurrence."""
    out = []

    def walk(d):
        for k, v in d.items():
            if isinstance(v, dict):
                if k.startswith('Flow '):
                    yield v
                elif k.startswith('Set ') or k.startswith('FlowSet'):
                    yield from walk(v)

    def flat(d, acc):
        for k, v in d.items():
            if isinstance(v, dict):
                flat(v, acc)
            else:
                acc.setdefault(k, []).extend(v if isinstance(v, list) else [v])
        return acc

    for p in json.load(open(path)):
        cfs = p['_source']['layers'].get('cflow')
        if cfs is None:
            continue
        for cf in cfs if isinstance(cfs, list) else [cfs]:
            for rec in walk(cf):
                out.append(flat(rec, {}))
    return out


def norm(field, v):
    if field.endswith('addr') or field.endswith('addrv6') or field.startswith('cflow.nexthop'):
        return str(ipaddress.ip_address(v))
    return int(v, 0) if isinstance(v, str) else v


def rfc3339_ms(text):
    from datetime import datetime, timezone
    date, frac = text.rstrip('Z').split('.')
    dt = datetime.strptime(date, '%Y-%m-%dT%H:%M:%S').replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1000 + int(frac)


# The tunnel kind flowkit names after the outer header's protocol.
TUNNEL = {4: 'ipip', 41: 'ipip', 47: 'gre', 137: 'mpls'}
OPTIONAL = ('tunnel', 'outer_src_addr', 'outer_dst_addr', 'next_hop', 'bgp_next_hop')


def check(expect_path, tshark_path, flowkit_path):
    expect = json.load(open(expect_path))
    ours = {}
    for line in open(flowkit_path):
        o = json.loads(line)
        if o.get('type') == 'flow':
            ours.setdefault(str(o['bytes']), []).append(o)
    problems = []
    seen = set()
    fields = 0
    for t in tshark_records(tshark_path):
        octets = str(norm('cflow.octets', t['cflow.octets'][0]))
        exp = expect.get(octets)
        if exp is None:
            problems.append(f'tshark record with octets {octets} is not one the test wrote')
            continue
        seen.add(octets)
        got = ours.get(octets, [])
        if len(got) != 1:
            problems.append(f'record {octets}: flowkit printed {len(got)} records, want 1')
            continue
        o = got[0]
        for k, e in exp.items():
            if k in ('start_ms', 'end_ms'):
                mine = rfc3339_ms(o['start' if k == 'start_ms' else 'end'])
                if mine != e:
                    problems.append(f'record {octets}: {k} flowkit {mine}, want {e}')
                continue
            occ = t.get(e['field'], [])
            if len(occ) <= e['occurrence']:
                problems.append(f'record {octets}: tshark shows {len(occ)} of {e["field"]}')
                continue
            theirs = norm(e['field'], occ[e['occurrence']])
            if theirs != e['value']:
                problems.append(f'record {octets}: tshark reads {e["field"]}[{e["occurrence"]}]'
                                f' = {theirs}, the test wrote {e["value"]}')
            mine = o.get(k)
            if k == 'tunnel':
                theirs = TUNNEL.get(theirs, 'other')
            elif isinstance(theirs, str) and mine is not None:
                mine = str(ipaddress.ip_address(mine)) if mine else mine
            if mine != theirs:
                problems.append(f'record {octets}: {k} flowkit {mine!r}, tshark '
                                f'{e["field"]}[{e["occurrence"]}] {theirs!r}')
            fields += 1
        for k in OPTIONAL:
            if k in o and k not in exp:
                problems.append(f'record {octets}: unexpected {k} = {o[k]!r}')
    for octets in expect:
        if octets not in seen:
            problems.append(f'record {octets}: not in tshark\'s reading')
    for p in problems[:20]:
        print(p)
    print(f'{len(seen)} records, {fields} fields compared with tshark, {len(problems)} problems')
    return 1 if problems else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'gen':
        gen(sys.argv[2])
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == 'check':
        return check(sys.argv[2], sys.argv[3], sys.argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
