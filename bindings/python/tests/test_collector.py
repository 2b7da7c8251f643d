"""The collector: sans-I/O feed, a loopback UDP listener fed by the
exporter, outputs, allowlist, parameters."""

import json

import pytest

import flowkit
from conftest import netflow_v5, need

COL = ("fk_collector_create", "fk_collector_feed", "fk_collector_dispatch")
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
)


def test_feed_netflow_v5():
    need(*COL)
    with flowkit.Collector() as col:
        col.activate()
        flows = col.feed(netflow_v5([REC, dict(REC, octets=99)]), exporter="127.0.0.9", port=5555)
        stats = col.stats()
    assert [f.bytes for f in flows] == [312, 99]
    f = flows[0]
    assert (f.src, f.dst, f.src_port, f.dst_port, f.proto, f.version) == (
        "192.0.2.10",
        "198.51.100.20",
        51000,
        53,
        17,
        5,
    )
    assert f.exporter == "127.0.0.9"
    assert stats["records"] == 2 and stats["datagrams"] + stats["messages"] >= 1


def test_malformed_is_counted_not_raised():
    need(*COL)
    with flowkit.Collector() as col:
        col.activate()
        assert col.feed(netflow_v5([REC])[:30]) == []
        assert col.stats()["malformed"] >= 1


def test_allowlist():
    need(*COL)
    with flowkit.Collector(allow=["10.0.0.0/8"]) as col:
        with pytest.raises(flowkit.FlowkitError) as ei:
            col.add_allow("10.0.0.0/99")
        assert ei.value.code == flowkit.status.EINVAL
        col.activate()
        assert col.feed(netflow_v5([REC]), exporter="127.0.0.1") == []
        assert len(col.feed(netflow_v5([REC]), exporter="10.1.2.3")) == 1
        assert col.stats()["allowlist_rejected"] == 1


def test_udp_listener_receives_from_exporter(tmp_path):
    need(*COL, "fk_collector_get_listener_uri", "fk_exporter_create")
    out = tmp_path / "flows.jsonl"
    sent = [
        flowkit.Flow(
            src="10.9.0.1",
            dst="10.9.0.2",
            src_port=1000 + i,
            dst_port=80,
            proto=6,
            bytes=500 + i,
            packets=1 + i,
            start_ns=1_700_000_000_000_000_000,
            end_ns=1_700_000_000_100_000_000,
        )
        for i in range(3)
    ]
    with flowkit.Collector(listeners=["udp://127.0.0.1:0"], outputs=[f"jsonl:{out}"], count=3) as col:
        col.activate()
        uri = col.listener_uri(0)
        assert uri.startswith("udp://127.0.0.1:") and not uri.endswith(":0")
        with flowkit.Exporter([uri.replace("udp://", "udp://", 1)], biflow=0) as ex:
            ex.activate()
            for f in sent:
                ex.add_flow(f)
            assert ex.drain(2000)
        got = list(col.flows(timeout_s=10))
    assert sorted((f.src_port, f.bytes, f.packets) for f in got) == [
        (1000, 500, 1),
        (1001, 501, 2),
        (1002, 502, 3),
    ]
    assert all(f.version == 10 and f.exporter == "127.0.0.1" for f in got)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(x["src_port"] for x in lines) == [1000, 1001, 1002]


def test_callback_and_exception():
    need(*COL)
    seen = []
    with flowkit.Collector(callback=seen.append) as col:
        col.activate()
        assert col.feed(netflow_v5([REC])) == []
    assert [f.bytes for f in seen] == [312]

    def boom(flow):
        seen.append(flow)
        if flow.bytes == 99:
            raise RuntimeError("in callback")

    seen.clear()
    with flowkit.Collector(callback=boom) as col:
        col.activate()
        with pytest.raises(RuntimeError, match="in callback"):
            col.feed(netflow_v5([dict(REC, octets=99)]))
        # raised once; the next datagram's flows are delivered again
        assert col.feed(netflow_v5([REC])) == []
    assert [f.bytes for f in seen] == [99, 312]


def test_parameters_and_lifecycle_errors():
    need(*COL)
    params = {p.name: p for p in flowkit.Collector.params()}
    assert {"workers", "template_timeout", "count", "duration"} <= set(params)
    w = params["workers"]
    with flowkit.Collector() as col:
        with pytest.raises(flowkit.FlowkitError) as ei:
            col.set("workers", w.max + 1)
        assert ei.value.code == flowkit.status.ERANGE
        assert str(w.max) in ei.value.message
        with pytest.raises(flowkit.FlowkitError) as ei:
            col.feed(b"\0" * 24)
        assert ei.value.code == flowkit.status.ENOTACTIVATED
        with pytest.raises(flowkit.FlowkitError) as ei:
            col.add_listener("sctp://127.0.0.1:1")
        assert ei.value.code == flowkit.status.EINVAL


def _v9_with_interface_names():
    """A v9 datagram: options template 257 (scope interface; IF_NAME 82, IF_DESC
    83), names for ifindex 1 and 2, data template 260 and one record 1 -> 2."""
    import struct
    import time

    def flowset(fid, body):
        body += b"\0" * (-len(body) % 4)
        return struct.pack("!HH", fid, len(body) + 4) + body

    up = 3600000
    opt_t = flowset(1, struct.pack("!HHH", 257, 4, 8) + struct.pack("!HHHHHH", 2, 4, 82, 16, 83, 24))
    fields = [(8, 4), (12, 4), (4, 1), (1, 4), (2, 4), (10, 2), (14, 2), (22, 4), (21, 4)]
    tmpl = flowset(0, struct.pack("!HH", 260, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields))
    names = flowset(
        257,
        struct.pack("!I", 1) + b"eth0".ljust(16, b"\0") + b"".ljust(24, b"\0")
        + struct.pack("!I", 2) + b"".ljust(16, b"\0") + b"uplink".ljust(24, b"\0"),
    )
    rec = bytes([10, 0, 0, 1, 10, 0, 0, 2, 6]) + struct.pack("!IIHHII", 1500, 3, 1, 2, up - 5000, up - 1000)
    hdr = struct.pack("!HHIIII", 9, 4, up, int(time.time()), 1, 7)
    return hdr + opt_t + tmpl + names + flowset(260, rec)


def test_interface_names_from_options():
    need(*COL)
    with flowkit.Collector() as col:
        col.activate()
        flows = col.feed(_v9_with_interface_names(), exporter="127.0.0.9", port=2055)
        stats = col.stats()
    assert len(flows) == 1
    f = flows[0]
    assert (f.in_if, f.out_if, f.in_if_name, f.out_if_name) == (1, 2, "eth0", "uplink")
    assert f.user is None and f.exe is None and f.event == 0
    assert stats["interface_names"] == 2 and stats["options_records"] == 2
    j = f.to_dict()
    assert (j["in_if_name"], j["out_if_name"]) == ("eth0", "uplink")
    assert "user" not in j and "uid" not in j
    g = flowkit.Flow.from_c(flowkit.Flow(src="10.0.0.1", dst="10.0.0.2", user="alice", exe="/bin/x").to_c())
    assert (g.user, g.exe, g.in_if_name) == ("alice", "/bin/x", None)
