"""IPFIX: decode hand-built messages, encode → decode round trips, errors."""

import struct

import pytest

import flowkit
from flowkit import ipfix
from conftest import need

DEC = ("fk_ipfix_decoder_create", "fk_ipfix_decoder_next", "fk_ipfix_record_to_flow")
ENC = ("fk_ipfix_encoder_create", "fk_ipfix_encoder_finish")


def golden_message():
    """Template 256 (src, dst, octetDeltaCount, flowStartMilliseconds,
    applicationName varlen) and one data record, per RFC 7011 byte layout."""
    fields = [(8, 4), (12, 4), (1, 8), (152, 8), (96, 65535)]
    trec = struct.pack("!HH", 256, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields)
    tset = struct.pack("!HH", 2, 4 + len(trec)) + trec
    name = b"dns"
    rec = (
        bytes([192, 0, 2, 1, 192, 0, 2, 2])
        + struct.pack("!QQ", 123456, 1_700_000_000_250)
        + bytes([len(name)])
        + name
    )
    dset = struct.pack("!HH", 256, 4 + len(rec)) + rec
    body = tset + dset
    return struct.pack("!HHIII", 10, 16 + len(body), 1_700_000_100, 0, 99) + body


def test_element_lookup():
    need("fk_ie_lookup_name", "fk_ie_lookup")
    e = ipfix.element("octetDeltaCount")
    assert (e.id, e.pen, e.type, e.semantics, e.units) == (
        1,
        0,
        "unsigned64",
        "deltaCounter",
        "octets",
    )
    assert ipfix.element(8).name == "sourceIPv4Address"
    r = ipfix.element(1, pen=ipfix.PEN_REVERSE)
    assert r.name == "reverseOctetDeltaCount"
    with pytest.raises(flowkit.FlowkitError) as ei:
        ipfix.element("noSuchElement")
    assert ei.value.code == flowkit.status.ENOTFOUND
    names = {x.name for x in ipfix.elements()}
    assert {"sourceIPv6Address", "flowEndReason", "reversePacketDeltaCount"} <= names


def test_decode_golden_message():
    need(*DEC)
    header = []
    with ipfix.Decoder() as d:
        items = d.decode(golden_message(), header=header)
    assert header[0].domain == 99 and header[0].export_time == 1_700_000_100
    t, r = items
    assert isinstance(t, ipfix.Template) and t.template_id == 256
    assert [f.id for f in t.fields] == [8, 12, 1, 152, 96]
    assert t.fields[4].length == ipfix.VARLEN
    assert isinstance(r, ipfix.Record)
    assert r.values["sourceIPv4Address"] == "192.0.2.1"
    assert r.values["octetDeltaCount"] == 123456
    assert r.values["flowStartMilliseconds"] == 1_700_000_000_250 * 10**6
    assert r.values["applicationName"] == "dns"
    assert (r.flow.src, r.flow.dst, r.flow.bytes) == ("192.0.2.1", "192.0.2.2", 123456)
    assert r.flow.start_ns == 1_700_000_000_250 * 10**6
    assert (r.flow.version, r.flow.odid) == (10, 99)
    assert r.json["octetDeltaCount"] == 123456 and r.json["template_id"] == 256


def test_data_without_template_then_template_in_shared_cache():
    need(*DEC, "fk_template_cache_create")
    msg = golden_message()
    tlen = struct.unpack("!H", msg[18:20])[0]
    data_only = msg[:16] + msg[16 + tlen :]
    data_only = data_only[:2] + struct.pack("!H", len(data_only)) + data_only[4:]
    with ipfix.TemplateCache() as cache:
        with ipfix.Decoder(cache) as d:
            items = d.decode(data_only)
            assert [type(i) for i in items] == [ipfix.MissingTemplate]
            assert items[0].template_id == 256
            d.decode(msg)  # learns the template
            assert len(cache) == 1
            # Another session is another scope (RFC 7011 section 8).
            assert d.records(data_only, session=2) == []
            assert [r.flow.bytes for r in d.records(data_only)] == [123456]


def test_malformed_and_truncated():
    need(*DEC)
    msg = golden_message()
    with ipfix.Decoder() as d:
        with pytest.raises(flowkit.FlowkitError) as ei:
            d.decode(msg[:10])
        assert ei.value.code == flowkit.status.ETRUNCATED
        bad = struct.pack("!H", 9) + msg[2:]
        with pytest.raises(flowkit.FlowkitError) as ei:
            d.decode(bad)
        assert ei.value.code == flowkit.status.EMALFORMED
        # A set longer than the message: the walk stops with an error.
        broken = bytearray(msg)
        broken[18:20] = struct.pack("!H", 4000)
        with pytest.raises(flowkit.FlowkitError) as ei:
            d.decode(bytes(broken))
        assert ei.value.code in (flowkit.status.EMALFORMED, flowkit.status.ETRUNCATED)
        assert ei.value.message


def test_encode_decode_round_trip_flows_and_records():
    need(*DEC, *ENC)
    flows = [
        flowkit.Flow(
            src="2001:db8::1",
            dst="2001:db8::2",
            src_port=5000 + i,
            dst_port=53,
            proto=17,
            bytes=100 * (i + 1),
            packets=i + 1,
            start_ns=1_700_000_000_000_000_000,
            end_ns=1_700_000_000_500_000_000,
        )
        for i in range(5)
    ]
    with ipfix.Encoder(mtu=1400) as e:
        assert e.get("mtu") == 1400
        e.add_template(
            300,
            [
                ("sourceIPv6Address", 16),
                ("destinationIPv6Address", 16),
                ("sourceTransportPort", 2),
                ("destinationTransportPort", 2),
                ("protocolIdentifier", 1),
                ("octetDeltaCount", 8),
                ("packetDeltaCount", 4),  # reduced-size encoding
                ("flowStartMilliseconds", 8),
                ("flowEndMilliseconds", 8),
            ],
        )
        e.add_template(301, [("interfaceName", ipfix.VARLEN), ("ingressInterface", 4)])
        msg1 = e.encode(
            domain=5,
            export_time=1_700_000_001,
            templates=[300, 301],
            flows=[(300, f) for f in flows],
            records=[(301, {"interfaceName": "eth0", "ingressInterface": 2})],
        )
        assert e.sequence(5) == 6
        msg2 = e.encode(domain=5, export_time=1_700_000_002, flows=[(300, flows[0])])
    h = ipfix.parse_header(msg1)
    assert (h.version, h.length, h.domain, h.sequence) == (10, len(msg1), 5, 0)
    assert ipfix.parse_header(msg2).sequence == 6
    with ipfix.Decoder() as d:
        recs = d.records(msg1)
        again = d.records(msg2)
    got = [r.flow for r in recs if r.template_id == 300]
    for f, g in zip(flows, got):
        assert (g.src, g.dst, g.src_port, g.dst_port, g.proto) == (
            f.src,
            f.dst,
            f.src_port,
            f.dst_port,
            f.proto,
        )
        assert (g.bytes, g.packets, g.start_ns, g.end_ns) == (
            f.bytes,
            f.packets,
            f.start_ns,
            f.end_ns,
        )
    other = [r for r in recs if r.template_id == 301]
    assert other[0].values == {"interfaceName": "eth0", "ingressInterface": 2}
    assert again[0].flow.src_port == 5000


def test_encoder_errors():
    need(*ENC)
    with ipfix.Encoder() as e:
        info = e.param("mtu")
        with pytest.raises(flowkit.FlowkitError) as ei:
            e.set("mtu", info.min - 1)
        assert ei.value.code == flowkit.status.ERANGE
        assert str(info.min) in ei.value.message
        e.add_template(256, [("octetDeltaCount", 1)])
        e.begin(domain=1, export_time=0)
        with pytest.raises(flowkit.FlowkitError) as ei:
            e.add_record(256, {"octetDeltaCount": 300})  # does not fit 1 octet
        assert ei.value.code == flowkit.status.ERANGE
        with pytest.raises(flowkit.FlowkitError) as ei:
            e.write_template(999)
        assert ei.value.code == flowkit.status.ENOTEMPLATE
