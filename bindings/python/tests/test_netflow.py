"""NetFlow decoding of hand-built v5 and v9 datagrams."""

import struct

import pytest

import flowkit
from flowkit import netflow
from conftest import netflow_v5, need

REC = dict(
    src="192.0.2.10",
    dst="198.51.100.20",
    sport=51000,
    dport=53,
    proto=17,
    packets=4,
    octets=312,
    first_ms=90000,
    last_ms=95000,
    in_if=3,
    out_if=7,
)


def test_v5_fixed_decode_times_and_counters():
    need("fk_netflow_decode_fixed")
    dgram = netflow_v5([REC, dict(REC, sport=51001, octets=100, packets=1)], seq=77)
    hdr, flows = netflow.decode_fixed(dgram, exporter="127.0.0.1")
    assert (hdr.version, hdr.count, hdr.sequence) == (5, 2, 77)
    f = flows[0]
    assert (f.src, f.dst, f.src_port, f.dst_port, f.proto) == (
        "192.0.2.10",
        "198.51.100.20",
        51000,
        53,
        17,
    )
    assert (f.bytes, f.packets, f.version) == (312, 4, 5)
    assert (f.in_if, f.out_if) == (3, 7)
    # sysUptime 100 s at unix 1700000000: first at uptime 90 s = 10 s earlier.
    assert f.start_ns == (1_700_000_000 - 10) * 10**9
    assert f.end_ns == (1_700_000_000 - 5) * 10**9
    assert f.exporter == "127.0.0.1"
    assert flows[1].src_port == 51001 and flows[1].bytes == 100


def test_v5_truncated_raises_with_library_message():
    need("fk_netflow_decode_fixed")
    dgram = netflow_v5([REC, REC])
    with pytest.raises(flowkit.FlowkitError) as ei:
        netflow.decode_fixed(dgram[:-10])
    assert ei.value.code == flowkit.status.ETRUNCATED
    assert ei.value.name == "FK_ETRUNCATED"
    assert ei.value.message  # the library says what was short


def test_v9_template_then_data():
    need("fk_netflow_create", "fk_netflow_decode")
    # Template 260: IPV4_SRC_ADDR(8)/4, IPV4_DST_ADDR(12)/4, L4_SRC_PORT(7)/2,
    # L4_DST_PORT(11)/2, PROTOCOL(4)/1, IN_BYTES(1)/4, IN_PKTS(2)/4.
    fields = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4)]
    tmpl = struct.pack("!HH", 260, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields)
    tset = struct.pack("!HH", 0, 4 + len(tmpl)) + tmpl
    rec = bytes([10, 1, 2, 3, 10, 4, 5, 6]) + struct.pack("!HHBII", 1111, 80, 6, 4000, 5)
    pad = b"\0" * ((4 - (4 + len(rec)) % 4) % 4)
    dset = struct.pack("!HH", 260, 4 + len(rec) + len(pad)) + rec + pad
    hdr = struct.pack("!HHIIII", 9, 2, 50000, 1_700_000_000, 1, 42)
    with netflow.Decoder(max_templates=16) as d:
        assert d.get("max_templates") == 16
        recs = d.decode(hdr + tset + dset, exporter="127.0.0.2", port=9995)
        assert len(recs) == 1
        r = recs[0]
        assert (r.kind, r.version, r.template_id) == (netflow.RECORD_FLOW, 9, 260)
        assert (r.exporter, r.exporter_port) == ("127.0.0.2", 9995)
        f = r.flow
        assert (f.src, f.dst, f.src_port, f.dst_port, f.proto) == (
            "10.1.2.3",
            "10.4.5.6",
            1111,
            80,
            6,
        )
        assert (f.bytes, f.packets, f.odid) == (4000, 5, 42)
        # The template is remembered: a later packet with data only decodes.
        hdr2 = struct.pack("!HHIIII", 9, 1, 51000, 1_700_000_001, 2, 42)
        again = d.decode(hdr2 + dset, exporter="127.0.0.2", port=9995)
        assert [x.flow.bytes for x in again] == [4000]
        # From another exporter the template is unknown: dropped and counted.
        assert d.decode(hdr2 + dset, exporter="127.0.0.3", port=9995) == []
        s = d.stats()
        assert s["packets"] == 3 and s["flows"] == 2 and s["no_template"] == 1


def test_v9_rejects_ipfix_version():
    need("fk_netflow_create", "fk_netflow_decode")
    with netflow.Decoder() as d:
        with pytest.raises(flowkit.FlowkitError) as ei:
            d.decode(struct.pack("!HHIII", 10, 16, 0, 0, 0))
        assert ei.value.code == flowkit.status.EUNSUPPORTED


def test_param_bounds_error_names_the_bounds():
    need("fk_netflow_create")
    info = netflow.Decoder.param("max-templates")  # '-' matches '_'
    assert info.type == "int" and info.min >= 1
    with netflow.Decoder() as d:
        with pytest.raises(flowkit.FlowkitError) as ei:
            d.set("max_templates", info.max + 1)
        e = ei.value
        assert e.code == flowkit.status.ERANGE
        assert str(info.max) in e.message and str(info.min) in e.message
        # Refused, not clamped: the old value stays.
        assert d.get("max_templates") == info.default


def test_set_after_activate_is_refused():
    need("fk_netflow_create")
    with netflow.Decoder() as d:
        d.activate()
        with pytest.raises(flowkit.FlowkitError) as ei:
            d.set("max_scopes", 10)
        assert ei.value.code == flowkit.status.EACTIVATED


def test_unknown_parameter_name():
    with pytest.raises(KeyError):
        netflow.Decoder.param("no_such_param")


def test_closed_handle_is_refused():
    need("fk_netflow_create")
    d = netflow.Decoder()
    d.close()
    d.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        d.get("max_templates")
