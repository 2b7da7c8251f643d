"""The collector: NetFlow v1/v5/v7/v9 and IPFIX over UDP/TCP → flows."""

import ctypes
from ctypes import byref, c_uint8

from . import _native as N
from ._core import Flow, Handle, Inbox, addr_to_c, call, raise_for, status
from ._native import lib


class Collector(Handle):
    """An ``fk_collector``. Parameters from the library's table
    (:meth:`params`); listeners ``udp://ADDR:PORT`` / ``tcp://ADDR:PORT``
    (port 0 picks a free one: see :meth:`listener_uri`); outputs such as
    ``jsonl:PATH``. Records reach ``callback(flow)`` or, without one, are
    returned by :meth:`dispatch` / :meth:`feed`.

    >>> with Collector(listeners=["udp://127.0.0.1:0"]) as col:
    ...     col.activate()
    ...     print(col.listener_uri(0))
    ...     flows = col.dispatch()
    """

    _prefix = "fk_collector"

    def __init__(self, listeners=(), outputs=(), allow=(), callback=None, **params):
        super().__init__(self._create())
        self._inbox = Inbox(callback)
        self._cb = N.COLLECTOR_CB(self._on_flow)
        call("fk_collector_set_callback", self, self._cb, None)
        self._apply(params)
        for uri in listeners:
            self.add_listener(uri)
        for uri in outputs:
            self.add_output(uri)
        for cidr in allow:
            self.add_allow(cidr)

    def _on_flow(self, flow_p, _user):
        if not self._inbox.deliver(lambda: Flow.from_c(flow_p.contents)):
            lib().fk_collector_break(self._ptr)

    def add_listener(self, uri):
        """Listen on ``udp://[addr]:port`` or ``tcp://[addr]:port``."""
        call("fk_collector_add_listener", self, uri.encode())
        return self

    def add_output(self, uri):
        """Write records to ``jsonl:-``, ``jsonl:PATH``, ``csv:PATH`` or ``ipfix:PATH``."""
        call("fk_collector_add_output", self, uri.encode())
        return self

    def add_allow(self, cidr):
        """Accept exporters from this prefix only (repeatable)."""
        call("fk_collector_add_allow", self, cidr.encode())
        return self

    def activate(self):
        """Open listeners and outputs."""
        call("fk_collector_activate", self)
        return self

    def listener_uri(self, index=0):
        """The bound URI of a listener (with the actual port)."""
        buf = ctypes.create_string_buffer(256)
        call("fk_collector_get_listener_uri", self, index, buf, len(buf))
        return buf.value.decode()

    def fileno(self):
        """Pollable fd: readable when :meth:`dispatch` has work."""
        return call("fk_collector_get_fd", self)

    def next_timeout_ms(self):
        """Longest wait before :meth:`dispatch` must be called."""
        return lib().fk_collector_next_timeout_ms(self)

    def dispatch(self):
        """Receive and decode what is available; returns the flows (or [] with a callback)."""
        rc = lib().fk_collector_dispatch(self)
        flows = self._inbox.take()
        if rc == status.EEOF:
            if not flows:
                raise EOFError("collector reached its count or duration limit")
        elif rc < 0 and rc != status.EBREAK:
            raise_for(rc, "fk_collector_dispatch")
        return flows

    def flows(self, timeout_s=None):
        """Iterate over received flows, waiting on :meth:`fileno`, until the
        ``count``/``duration`` limit is reached or ``timeout_s`` passes."""
        import selectors
        import time

        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with selectors.DefaultSelector() as sel:
            sel.register(self.fileno(), selectors.EVENT_READ)
            while deadline is None or time.monotonic() < deadline:
                try:
                    yield from self.dispatch()
                except EOFError:
                    return
                wait = self.next_timeout_ms()
                wait = 1000 if wait < 0 else min(wait, 1000)
                if deadline is not None:
                    wait = min(wait, max(0.0, deadline - time.monotonic()) * 1000)
                sel.select(wait / 1000.0)

    def feed(self, data, exporter="127.0.0.1", port=0):
        """Decode one datagram as if received from ``exporter``:``port``
        (no socket involved); returns the flows it produced."""
        data = bytes(data)
        buf = (c_uint8 * max(len(data), 1)).from_buffer_copy(data or b"\0")
        exp = addr_to_c(exporter)
        rc = lib().fk_collector_feed(self, byref(exp), port, buf, len(data))
        flows = self._inbox.take()
        if rc < 0:
            try:
                raise_for(rc, "fk_collector_feed")
            except Exception as e:
                e.flows = flows
                raise
        return flows

    def break_(self):
        """Make a running dispatch return (safe from other threads)."""
        lib().fk_collector_break(self._ptr)

    def stats(self):
        """Counters (``fk_collector_stats``) as a dict."""
        s = N.fk_collector_stats()
        call("fk_collector_get_stats", self, byref(s), ctypes.sizeof(s))
        return {name: getattr(s, name) for name, _ in s._fields_}


__all__ = ["Collector"]
