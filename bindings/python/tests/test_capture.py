"""The capture handle replaying a small pcap written by the test."""

import selectors

import pytest

import flowkit
from conftest import need, tcp_conversation, write_pcap

CAP = ("fk_capture_create", "fk_capture_dispatch", "fk_capture_set_callback")
T0 = 1_700_000_000_000_000_000


@pytest.fixture
def pcap(tmp_path):
    path = tmp_path / "conv.pcap"
    write_pcap(path, tcp_conversation(T0, b"hello"))
    return path


def _check(events):
    sessions = [e for e in events if isinstance(e, flowkit.SessionEvent)]
    flows = [e for e in events if isinstance(e, flowkit.Flow)]
    assert [s.kind_name for s in sessions] == ["syn", "fin", "fin"]
    syn = sessions[0]
    assert (syn.src, syn.dst, syn.src_port, syn.dst_port) == ("10.0.0.1", "10.0.0.2", 40000, 80)
    assert syn.time_ns == T0
    assert len(flows) == 1
    f = flows[0]
    # Biflow keyed by the initiator; IP-layer bytes: 40 per bare segment + payload.
    a_to_b = 5 * 40 + len(b"hello")
    b_to_a = 3 * 40
    got = {(f.src, f.src_port): (f.bytes, f.packets), (f.dst, f.dst_port): (f.rev_bytes, f.rev_packets)}
    assert got[("10.0.0.1", 40000)] == (a_to_b, 5)
    assert got[("10.0.0.2", 80)] == (b_to_a, 3)
    assert f.proto == 6
    assert f.start_ns == T0 and f.end_ns == T0 + 7_000_000
    assert f.present & flowkit.FLOW_HAS_END_REASON
    return sessions, flows


def test_replay_pcap_events(pcap):
    need(*CAP)
    with flowkit.Capture(files=[pcap], workers=0) as cap:
        cap.activate()
        events = list(cap.events())
        stats = cap.stats()
    _check(events)
    assert stats["packets"] == 8 and stats["flows_emitted"] == 1 and stats["session_events"] == 3


def test_callback_and_epoll_style_loop(pcap):
    need(*CAP)
    seen = []
    with flowkit.Capture(files=[pcap], callback=seen.append) as cap:
        cap.activate()
        fd = cap.fileno()
        assert fd >= 0
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            for _ in range(1000):  # bounded
                try:
                    assert cap.dispatch(2) == []  # events went to the callback
                except EOFError:
                    break
                sel.select(cap.next_timeout_ms() / 1000.0)
            else:
                pytest.fail("capture did not end")
    _check(seen)


def test_callback_exception_propagates(pcap):
    need(*CAP)

    def boom(ev):
        raise RuntimeError("from callback")

    with flowkit.Capture(files=[pcap], callback=boom) as cap:
        cap.activate()
        with pytest.raises(RuntimeError, match="from callback"):
            for _ in range(100):
                cap.dispatch()


def test_parameters_from_table_and_errors(tmp_path):
    need(*CAP)
    names = {p.name: p for p in flowkit.Capture.params()}
    assert {"queue_size", "workers", "filter", "snaplen"} <= set(names)
    q = names["queue_size"]
    with flowkit.Capture(queue_size=q.min) as cap:
        assert cap.get("queue_size") == q.min
        with pytest.raises(flowkit.FlowkitError) as ei:
            cap.set("queue_size", q.min - 1)
        assert ei.value.code == flowkit.status.ERANGE
        assert str(q.min) in ei.value.message
        cap.set("filter", "tcp port 80")
        assert cap.get("filter") == "tcp port 80"
        cap.add_file(tmp_path / "missing.pcap")
        with pytest.raises(flowkit.FlowkitError) as ei:
            cap.activate()
        assert ei.value.code in (flowkit.status.ENOTFOUND, flowkit.status.EPCAP, flowkit.status.EIO)
        assert "missing.pcap" in ei.value.message


def test_bad_filter_is_efilter(pcap):
    need(*CAP)
    with flowkit.Capture(files=[pcap], filter="tcp and and") as cap:
        with pytest.raises(flowkit.FlowkitError) as ei:
            cap.activate()
        assert ei.value.code == flowkit.status.EFILTER


def test_filter_drops_everything(pcap):
    need(*CAP)
    with flowkit.Capture(files=[pcap], filter="udp") as cap:
        cap.activate()
        assert list(cap.events()) == []


def test_rank_needs_attribution(pcap):
    need(*CAP, "fk_capture_rank")
    with flowkit.Capture(files=[pcap]) as cap:
        cap.activate()
        with pytest.raises(flowkit.FlowkitError) as ei:
            cap.rank()
        assert ei.value.code == flowkit.status.ESTATE
        assert ei.value.function == "fk_capture_rank"


def test_rank_attributes_loopback_traffic_to_this_process():
    """Live capture on lo with attribution: UDP sent by this process shows up
    in the rank under our own pid (root needed to capture)."""
    import os
    import socket
    import time

    need(*CAP, "fk_capture_rank", "fk_rank_snapshot_free")
    if os.geteuid() != 0:
        pytest.skip("capturing on lo needs root")
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.connect(rx.getsockname())
    port = rx.getsockname()[1]
    payload = b"x" * 1000
    n = 50
    try:
        with flowkit.Capture(
            devices=["lo"], attribution=1, filter=f"udp port {port}", sync_interval=100
        ) as cap:
            cap.activate()
            deadline = time.monotonic() + 10
            for _ in range(n):
                tx.send(payload)
                rx.recv(2048)
                cap.dispatch()
            mine = None
            while time.monotonic() < deadline:
                cap.dispatch()
                snap = cap.rank(limit=0, recent_sec=5, sort="sent_bytes")
                mine = next((r for r in snap.rows if r.pid == os.getpid()), None)
                if mine and mine.sent_bytes >= n * (28 + len(payload)):
                    break
                time.sleep(0.1)
    finally:
        tx.close()
        rx.close()
    assert mine is not None, snap.rows
    ip_bytes = n * (20 + 8 + len(payload))
    assert mine.sent_bytes == ip_bytes
    # Both ends are ours: each datagram is also received by this pid.
    assert mine.recv_bytes == ip_bytes and mine.recv_packets == n
    assert mine.sent_packets == n
    # The device of the traffic: lo (ifindex 1), for the row and its connections.
    assert mine.dev == "lo" and [(d.name, d.ifindex) for d in mine.devices] == [("lo", 1)]
    assert mine.connections and all(c.dev == "lo" for c in mine.connections)
    assert snap.json["type"] == "rank"
    assert any(p["pid"] == os.getpid() for p in snap.json["processes"])
