"""The capture handle: live devices or pcap files → flows, TCP session
events and per-process rank snapshots."""

import ctypes
import dataclasses
import json
from ctypes import POINTER, byref, c_char_p

from . import _native as N
from ._core import Flow, FlowkitError, Handle, Inbox, SessionEvent, addr_from_c, call, raise_for, status
from ._native import lib

EVENT_SESSION = 1
EVENT_FLOW = 2
EVENT_ERROR = 3

RANK_SORT = {
    "rate": 0,
    "sent_rate": 1,
    "recv_rate": 2,
    "bytes": 3,
    "sent_bytes": 4,
    "recv_bytes": 5,
}


@dataclasses.dataclass
class CaptureError:
    """A non-fatal error event (a device went away, a file failed...)."""

    code: int
    message: str
    device: str


@dataclasses.dataclass
class RankConnection:
    """One connection of a rank row (``fk_rank_conn``)."""

    local: str
    remote: str
    local_port: int
    remote_port: int
    proto: int
    sent_bytes: int
    recv_bytes: int
    sent_packets: int
    recv_packets: int
    first_ns: int
    last_ns: int
    ifindex: int = 0
    dev: str = ""
    #: TCP state as the capture saw it: "opening", "established", "closing",
    #: "closed"; "" for UDP (``fk_rank_tcp_state_name``).
    tcp_state: str = ""


@dataclasses.dataclass
class RankDevice:
    """Traffic of a rank row through one device (``fk_rank_dev``)."""

    name: str
    ifindex: int
    sent_bytes: int
    recv_bytes: int


@dataclasses.dataclass
class RankRow:
    """One process (or an "unknown TCP"/"unknown UDP" row with pid 0)."""

    pid: int
    uid: int
    proto: int
    name: str
    user: str
    exe: str
    cmdline: str
    cgroup: str
    sent_bytes: int
    recv_bytes: int
    sent_packets: int
    recv_packets: int
    sent_rate: float
    recv_rate: float
    sent_ewma: float
    recv_ewma: float
    connections: list
    dev: str = ""
    devices: list = dataclasses.field(default_factory=list)
    #: (second, sent_bytes, recv_bytes) of each of the last ``history``
    #: complete seconds asked of :meth:`Capture.rank`, oldest first.
    history: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class RankSnapshot:
    """A copy of an ``fk_rank_snapshot`` (rows in the requested order);
    ``json`` is the library's ``flowkit-top --json`` object (rows with
    "uid", "cmdline", "sent_ewma", "recv_ewma", and "conns" when asked)."""

    time_ns: int
    window_sec: int
    rows: list
    attributed: int
    unattributed: int
    json: dict


def _s(b):
    return (b or b"").decode(errors="replace")


def _rank_json_flags(connections, history):
    return (N.FK_RANK_JSON_CONNS if connections else 0) | (N.FK_RANK_JSON_HISTORY if history else 0)


def _rank_json_size(snap, connections, history=False):
    if lib().has("fk_rank_snapshot_json_size"):
        flags = _rank_json_flags(connections, history)
        return lib().fk_rank_snapshot_json_size(byref(snap), flags)
    return 1024 + 12288 * max(snap.count, 1)


def _snapshot_from_c(snap, connections=False, history=False):
    rows = []
    for i in range(snap.count):
        r = snap.rows[i]
        conns = []
        for j in range(r.conn_count):
            c = r.conns[j]
            conns.append(
                RankConnection(
                    addr_from_c(c.local),
                    addr_from_c(c.remote),
                    c.local_port,
                    c.remote_port,
                    c.proto,
                    c.sent_bytes,
                    c.recv_bytes,
                    c.sent_packets,
                    c.recv_packets,
                    c.first_ns,
                    c.last_ns,
                    c.ifindex,
                    _s(c.dev),
                    lib().fk_rank_tcp_state_name(c.tcp_state).decode(),
                )
            )
        rows.append(
            RankRow(
                r.pid,
                r.uid,
                r.proto,
                _s(r.name),
                _s(r.user),
                _s(r.exe),
                _s(r.cmdline),
                _s(r.cgroup),
                r.sent_bytes,
                r.recv_bytes,
                r.sent_packets,
                r.recv_packets,
                r.sent_rate,
                r.recv_rate,
                r.sent_ewma,
                r.recv_ewma,
                conns,
                _s(r.dev),
                [
                    RankDevice(_s(d.name), d.ifindex, d.sent_bytes, d.recv_bytes)
                    for d in (r.devs[k] for k in range(r.dev_count))
                ],
                [
                    (s.sec, s.sent_bytes, s.recv_bytes)
                    for s in (r.history[k] for k in range(r.history_count))
                ],
            )
        )
    buf = ctypes.create_string_buffer(_rank_json_size(snap, connections, history))
    if lib().has("fk_rank_snapshot_to_json_ex"):
        flags = _rank_json_flags(connections, history)
        call("fk_rank_snapshot_to_json_ex", byref(snap), flags, buf, len(buf))
    else:  # an older library: no uid/cmdline/EWMA/conns keys
        call("fk_rank_snapshot_to_json", byref(snap), buf, len(buf))
    return RankSnapshot(
        snap.time_ns,
        snap.window_sec,
        rows,
        snap.attributed,
        snap.unattributed,
        json.loads(buf.value.decode()),
    )


def _event_from_c(ev):
    """The Python object of one ``fk_capture_event``."""
    if ev.type == EVENT_FLOW:
        return Flow.from_c(ev.flow.contents)
    if ev.type == EVENT_SESSION:
        return SessionEvent.from_c(ev.session.contents)
    return CaptureError(ev.error, _s(ev.message), _s(ev.device) or None)


class Capture(Handle):
    """An ``fk_capture``. Parameters come from the library's table
    (:meth:`params`): ``Capture(queue_size=65536, filter="tcp")``.

    Events (:class:`flowkit.Flow`, :class:`flowkit.SessionEvent`,
    :class:`CaptureError`) are collected by :meth:`dispatch` / :meth:`run`
    and returned as a list, or passed to ``callback`` when one is given.

    >>> with Capture(files=["trace.pcap"]) as cap:
    ...     for ev in cap.events():
    ...         print(ev)
    """

    _prefix = "fk_capture"

    def __init__(self, devices=(), files=(), callback=None, **params):
        super().__init__(self._create())
        self._inbox = Inbox(callback)
        self._cb = N.CAPTURE_CB(self._on_event)  # kept alive with the handle
        call("fk_capture_set_callback", self, self._cb, None)
        self._apply(params)
        for d in devices:
            self.add_device(d)
        for f in files:
            self.add_file(f)
        self._ended = False

    def _on_event(self, ev_p, _user):
        if not self._inbox.deliver(lambda: _event_from_c(ev_p.contents)):
            lib().fk_capture_break(self._ptr)

    # --- configuration
    def add_device(self, name):
        """Capture on a device (``"any"`` for all)."""
        call("fk_capture_add_device", self, name.encode())
        return self

    def add_file(self, path):
        """Read a pcap/pcapng file instead of devices (repeatable)."""
        call("fk_capture_add_file", self, str(path).encode())
        return self

    def activate(self):
        """Open the sources; parameters not marked runtime are fixed after."""
        call("fk_capture_activate", self)
        return self

    # --- running
    def fileno(self):
        """Level-triggered fd, readable when :meth:`dispatch` has work."""
        return call("fk_capture_get_fd", self)

    def next_timeout_ms(self):
        """Longest wait before :meth:`dispatch` must be called again."""
        return call("fk_capture_next_timeout_ms", self)

    def dispatch(self, max_packets=0):
        """Process what is available; returns the events delivered (or [] when
        a callback is set). Raises EOFError once the capture has ended."""
        rc = lib().fk_capture_dispatch(self, int(max_packets))
        events = self._inbox.take()
        if rc == status.EEOF:
            self._ended = True
            if not events:
                raise EOFError("capture ended")
        elif rc < 0 and rc != status.EBREAK:
            raise_for(rc, "fk_capture_dispatch")
        return events

    def events(self, timeout_ms=None):
        """Iterate over events until the capture ends (files read, duration or
        packet count reached), waiting on :meth:`fileno` between dispatches."""
        import selectors

        with selectors.DefaultSelector() as sel:
            sel.register(self.fileno(), selectors.EVENT_READ)
            while True:
                try:
                    batch = self.dispatch()
                except EOFError:
                    return
                yield from batch
                if self._ended:
                    return
                if not batch:
                    wait = self.next_timeout_ms()
                    if timeout_ms is not None:
                        wait = min(wait, timeout_ms)
                    sel.select(wait / 1000.0)

    def break_(self):
        """Make the running dispatch return (safe from other threads)."""
        lib().fk_capture_break(self._ptr)

    def stop(self):
        """End the capture now: flush flows; returns the last events."""
        call("fk_capture_stop", self)
        self._ended = True
        return self._inbox.take()

    @property
    def attribution_source(self):
        """The attribution source an activated capture uses: "bpf",
        "sockdiag" or "off" (what ``attribution="auto"`` chose)."""
        v = c_char_p()
        call("fk_capture_get_attribution_source", self, byref(v))
        return v.value.decode()

    def stats(self):
        """Counters (``fk_capture_stats``) as a dict."""
        s = N.fk_capture_stats()
        call("fk_capture_get_stats", self, byref(s), ctypes.sizeof(s))
        return {name: getattr(s, name) for name, _ in s._fields_}

    def rank(self, limit=0, recent_sec=1, sort="rate", connections=False, history=None):
        """A :class:`RankSnapshot` of per-process traffic (attribution must be on).
        With ``connections``, its ``json`` rows carry "conns" (the
        ``flowkit-top --json --connections`` object); the rows'
        ``connections`` list always has every connection. With ``history``
        (seconds, at most the ``history_seconds`` parameter) each row's
        ``history`` lists its bytes per second, and its ``json`` row carries
        "history"; it sets the capture's ``rank_history`` parameter."""
        key = RANK_SORT[sort] if isinstance(sort, str) else int(sort)
        if history is not None:
            self.set("rank_history", int(history))
        snap = POINTER(N.fk_rank_snapshot)()
        call("fk_capture_rank", self, int(limit), int(recent_sec), key, byref(snap))
        try:
            return _snapshot_from_c(snap.contents, connections, bool(history))
        finally:
            lib().fk_rank_snapshot_destroy(snap)


def rank_sort_name(key):
    """Name of a rank sort key number."""
    return lib().fk_rank_sort_name(int(key)).decode()


__all__ = [
    "Capture",
    "CaptureError",
    "RankSnapshot",
    "RankRow",
    "RankConnection",
    "RANK_SORT",
    "rank_sort_name",
    "FlowkitError",
]
