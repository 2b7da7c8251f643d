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


def test_attribution_modes(pcap):
    need(*CAP, "fk_capture_get_attribution_source")
    names = {p.name: p for p in flowkit.Capture.params()}
    assert names["attribution"].type == "string"
    with flowkit.Capture(attribution="bpf") as cap:
        assert cap.get("attribution") == "bpf"
        cap.set("attribution", 1)  # the parameter was a bool: 1 is auto
        assert cap.get("attribution") == "auto"
        cap.set("attribution", "SockDiag")
        assert cap.get("attribution") == "sockdiag"
        with pytest.raises(flowkit.FlowkitError) as ei:
            cap.set("attribution", "kernel")
        assert ei.value.code == flowkit.status.ERANGE
        assert "off, auto, bpf, sockdiag" in ei.value.message
        with pytest.raises(flowkit.FlowkitError) as ei:
            cap.attribution_source
        assert ei.value.code == flowkit.status.ENOTACTIVATED
    with flowkit.Capture(files=[pcap]) as cap:
        cap.activate()
        assert cap.attribution_source == "off"
        assert cap.stats()["attrib_events_lost"] == 0


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

    need(*CAP, "fk_capture_rank", "fk_rank_snapshot_destroy")
    if os.geteuid() != 0:
        pytest.skip("capturing on lo needs root")
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.connect(rx.getsockname())
    port = rx.getsockname()[1]
    tx_port = tx.getsockname()[1]
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
                snap = cap.rank(limit=0, recent_sec=5, sort="sent_bytes", connections=True)
                mine = next((r for r in snap.rows if r.pid == os.getpid()), None)
                if mine and mine.sent_bytes >= n * (28 + len(payload)):
                    break
                time.sleep(0.1)
            if flowkit.available("fk_rank_tcp_state_name"):
                # Once the seconds of the traffic are complete, the per-second
                # history adds up to the totals.
                time.sleep(1.1)
                cap.dispatch()
                hsnap = cap.rank(recent_sec=5, connections=True, history=10)
                hrow = next(r for r in hsnap.rows if r.pid == os.getpid())
                assert len(hrow.history) == 10
                assert [s for s, _, _ in hrow.history] == list(
                    range(hrow.history[0][0], hrow.history[0][0] + 10))
                assert sum(s for _, s, _ in hrow.history) == hrow.sent_bytes
                assert sum(r for _, _, r in hrow.history) == hrow.recv_bytes
                jrow = next(p for p in hsnap.json["processes"] if p["pid"] == os.getpid())
                assert sum(jrow["history"]["sent"]) == hrow.sent_bytes
                assert jrow["history"]["start"] == hrow.history[0][0]
                assert all(c.tcp_state == "" for c in hrow.connections)  # UDP
                assert all(c["state"] is None for c in jrow["conns"])
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
    if flowkit.available("fk_rank_snapshot_to_json_ex"):
        row = next(p for p in snap.json["processes"] if p["pid"] == os.getpid())
        assert row["uid"] == os.getuid() and row["cmdline"] == mine.cmdline
        assert abs(row["sent_ewma"] - mine.sent_ewma) <= 0.05 + 1e-9
        tuples = {(c["proto"], c["local"], c["local_port"], c["remote"], c["remote_port"])
                  for c in row["conns"]}
        assert ("udp", "127.0.0.1", tx_port, "127.0.0.1", port) in tuples
        assert row["connections"] == len(mine.connections)


def _hand_snapshot(n_conns):
    """An fk_rank_snapshot built in Python: one row, n_conns TCP connections
    with 1000 * k sent bytes, an unknown uid and a cmdline to escape."""
    import ctypes

    from flowkit import _native as N
    from flowkit._core import addr_to_c

    conns = (N.fk_rank_conn * n_conns)()
    for k in range(n_conns):
        c = conns[k]
        c.local, c.remote = addr_to_c("10.213.0.1"), addr_to_c("fd00:213::2")
        c.local_port, c.remote_port, c.proto = 40000 + k, 443, 6
        c.sent_bytes, c.recv_bytes = 1000 * k, 7
        c.sent_packets, c.recv_packets = k, 1
        c.first_ns, c.last_ns = T0, T0 + 1_500_000_000
        c.dev = b"veth9"
    row = N.fk_rank_row()
    row.pid, row.uid = 77, 0xFFFFFFFF
    row.name, row.user, row.exe = b"sh", b"", b"/bin/sh"
    row.cmdline, row.cgroup = b'sh -c "echo\thi"', b""
    row.sent_bytes, row.recv_bytes = 99, 98
    row.sent_rate, row.recv_rate, row.sent_ewma, row.recv_ewma = 1.0, 2.0, 3.25, 4.75
    row.conn_count, row.conns = n_conns, conns
    row.dev = b""
    rows = (N.fk_rank_row * 1)(row)
    snap = N.fk_rank_snapshot(time_ns=T0, window_sec=1, count=1, rows=rows)
    snap._keep = (conns, rows)
    return snap


def test_rank_json_new_keys_and_conns():
    """The snapshot JSON carries uid (null when unknown), cmdline, the EWMAs
    and, on request, the connections: most bytes first, cut at
    FK_RANK_JSON_CONNS_MAX with the full count kept."""
    need("fk_rank_snapshot_to_json_ex", "fk_rank_snapshot_json_size")
    from flowkit import _native as N
    from flowkit.capture import _snapshot_from_c

    n = N.FK_RANK_JSON_CONNS_MAX + 3
    snap = _hand_snapshot(n)
    s = _snapshot_from_c(snap, connections=True)
    r = s.rows[0]
    assert (r.uid, r.cmdline, r.sent_ewma, r.recv_ewma) == (0xFFFFFFFF, 'sh -c "echo\thi"', 3.25, 4.75)
    assert len(r.connections) == n
    j = s.json["processes"][0]
    assert j["uid"] is None and j["cmdline"] == 'sh -c "echo\thi"'
    assert (j["sent_ewma"], j["recv_ewma"]) == (3.2, 4.8)  # one decimal, %.1f
    assert j["connections"] == n and len(j["conns"]) == N.FK_RANK_JSON_CONNS_MAX
    assert [c["local_port"] for c in j["conns"]] == [40000 + k for k in range(n - 1, 2, -1)]
    c = j["conns"][0]
    assert c == {
        "proto": "tcp", "local": "10.213.0.1", "local_port": 40000 + n - 1,
        "remote": "fd00:213::2", "remote_port": 443, "sent_bytes": 1000 * (n - 1),
        "recv_bytes": 7, "sent_packets": n - 1, "recv_packets": 1,
        "first": "2023-11-14T22:13:20.000Z", "last": "2023-11-14T22:13:21.500Z", "dev": "veth9",
        "state": None,
    }
    # Without the flag: the same rows, no "conns".
    assert "conns" not in _snapshot_from_c(snap).json["processes"][0]
