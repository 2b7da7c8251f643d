"""The exporter sends IPFIX to a UDP socket on 127.0.0.1 owned by the test."""

import socket
import struct

import pytest

import flowkit
from conftest import need


def _flows(n):
    return [
        flowkit.Flow(
            src="10.0.0.1",
            dst="10.0.0.2",
            src_port=40000 + i,
            dst_port=443,
            proto=6,
            bytes=1000 + i,
            packets=2 + i,
            start_ns=1_700_000_000_000_000_000 + i * 1_000_000,
            end_ns=1_700_000_001_000_000_000 + i * 1_000_000,
        )
        for i in range(n)
    ]


def _receive_all(sock):
    out = []
    sock.settimeout(0.5)
    while True:
        try:
            out.append(sock.recv(65535))
        except socket.timeout:
            return out


@pytest.fixture
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    yield s
    s.close()


def test_export_flows_over_udp(udp):
    need("fk_exporter_create")
    port = udp.getsockname()[1]
    flows = _flows(3)
    with flowkit.Exporter([f"udp://127.0.0.1:{port}"], odid=7, biflow=0) as ex:
        assert ex.get("odid") == 7
        ex.activate()
        assert ex.fileno() >= 0
        for f in flows:
            ex.add_flow(f, process={"pid": 4242, "name": "curl", "user": "root", "exe": "/usr/bin/curl"})
        assert ex.drain(2000) is True
        stats = ex.stats()
    msgs = _receive_all(udp)
    assert msgs, "no IPFIX message arrived"
    assert stats["records_in"] == 3 and stats["records_sent"] == 3
    assert stats["messages_sent"] == len(msgs)
    for m in msgs:
        version, length, _t, _seq, domain = struct.unpack("!HHIII", m[:16])
        assert (version, length, domain) == (10, len(m), 7)
    assert b"curl" in b"".join(msgs)
    if flowkit.available("fk_ipfix_decoder_create"):
        # Round trip through our own decoder: the same flows come back.
        got = []
        with flowkit.ipfix.Decoder() as d:
            for m in msgs:
                got += d.records(m)
        assert sorted(r.flow.src_port for r in got) == [40000, 40001, 40002]
        by_port = {r.flow.src_port: r.flow for r in got}
        for f in flows:
            g = by_port[f.src_port]
            assert (g.bytes, g.packets, g.start_ns, g.end_ns) == (
                f.bytes,
                f.packets,
                f.start_ns,
                f.end_ns,
            )


def test_export_session_event(udp):
    need("fk_exporter_create")
    port = udp.getsockname()[1]
    ev = flowkit.SessionEvent(
        kind=flowkit.SESSION_SYN,
        time_ns=1_700_000_000_000_000_000,
        src="10.0.0.1",
        dst="10.0.0.2",
        src_port=1234,
        dst_port=22,
    )
    with flowkit.Exporter([f"udp://127.0.0.1:{port}"]) as ex:
        ex.activate().add_event(ev).flush()
        assert ex.drain(2000)
    msgs = _receive_all(udp)
    assert msgs and all(struct.unpack("!H", m[:2])[0] == 10 for m in msgs)


def test_bad_destination_and_bounds():
    need("fk_exporter_create")
    with flowkit.Exporter() as ex:
        with pytest.raises(flowkit.FlowkitError) as ei:
            ex.add_destination("http://example")
        assert ei.value.code == flowkit.status.EINVAL
        with pytest.raises(flowkit.FlowkitError) as ei:
            ex.set("mtu", 100)
        assert ei.value.code == flowkit.status.ERANGE
        assert "1024" in ei.value.message and "65535" in ei.value.message
        with pytest.raises(flowkit.FlowkitError) as ei:
            ex.add_flow(_flows(1)[0])
        assert ei.value.code == flowkit.status.ENOTACTIVATED
