"""IPFIX exporting process: flows and session events to UDP/TCP collectors."""

from ctypes import byref, sizeof

from . import _native as N
from ._core import Handle, call, raise_for, status
from ._native import lib


def _process(proc):
    if proc is None:
        return None
    p = N.fk_exporter_process()
    p.pid = int(proc.get("pid", 0))
    p.uid = int(proc.get("uid", 0))
    keep = []
    for k in ("name", "user", "exe"):
        v = proc.get(k)
        if v is not None:
            b = str(v).encode()
            keep.append(b)
            setattr(p, k, b)
    return p, keep


class Exporter(Handle):
    """An ``fk_exporter``: create, set parameters (``odid``, ``mtu``,
    ``chunk_size``...; see :meth:`params`), add destinations, :meth:`activate`,
    then add flows / session events; :meth:`drain` before closing.

    >>> with Exporter(odid=7) as ex:
    ...     ex.add_destination("udp://127.0.0.1:4739")
    ...     ex.activate()
    ...     ex.add_flow(flowkit.Flow(src="10.0.0.1", dst="10.0.0.2", proto=6))
    ...     ex.drain(1000)
    """

    _prefix = "fk_exporter"

    def __init__(self, destinations=(), **params):
        super().__init__(self._create())
        self._apply(params)
        for d in destinations:
            self.add_destination(d)

    def add_destination(self, uri):
        """Add a collector, ``udp://HOST:PORT`` or ``tcp://HOST:PORT``."""
        call("fk_exporter_add_destination", self, uri.encode())
        return self

    def activate(self):
        """Resolve destinations and open sockets; parameters are fixed after."""
        call("fk_exporter_activate", self)
        return self

    def add_flow(self, flow, process=None):
        """Queue a :class:`flowkit.Flow`; ``process`` is an optional dict with
        pid, uid, name, user, exe (exported as enterprise elements)."""
        p = _process(process)
        if p is None:
            call("fk_exporter_add_flow", self, byref(flow.to_c()))
        else:
            call("fk_exporter_add_flow_process", self, byref(flow.to_c()), byref(p[0]))
        return self

    def add_event(self, event, process=None):
        """Queue a :class:`flowkit.SessionEvent` (optionally with a process dict)."""
        p = _process(process)
        if p is None:
            call("fk_exporter_add_event", self, byref(event.to_c()))
        else:
            call("fk_exporter_add_event_process", self, byref(event.to_c()), byref(p[0]))
        return self

    def flush(self):
        """Send the message being built now."""
        call("fk_exporter_flush", self)
        return self

    def fileno(self):
        """A pollable fd for event loops (``selectors``/``asyncio``)."""
        return call("fk_exporter_get_fd", self)

    def next_timeout_ms(self):
        """Longest time before :meth:`dispatch` must be called (-1 = none due)."""
        return lib().fk_exporter_next_timeout_ms(self)

    def dispatch(self):
        """Do what is due: timed flushes, template refresh, TCP I/O."""
        return call("fk_exporter_dispatch", self)

    def drain(self, timeout_ms=1000):
        """Flush and wait until everything is sent; returns False if data was
        still buffered at the deadline (``FK_EAGAIN``)."""
        rc = lib().fk_exporter_drain(self, int(timeout_ms))
        if rc == status.EAGAIN:
            return False
        if rc < 0:
            raise_for(rc, "fk_exporter_drain")
        return True

    def stats(self):
        """Counters (``fk_exporter_stats``) as a dict."""
        s = N.fk_exporter_stats()
        call("fk_exporter_get_stats", self, byref(s), sizeof(s))
        return {name: getattr(s, name) for name, _ in s._fields_}


__all__ = ["Exporter"]
