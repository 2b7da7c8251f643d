"""NetFlow v1/v5/v7 (stateless) and v9 (templates) decoding."""

import ctypes
import dataclasses
import json
from ctypes import byref, c_size_t

from . import _native as N
from ._core import Flow, Handle, addr_from_c, addr_to_c, call, raise_for
from ._native import lib

RECORD_FLOW = 1
RECORD_OPTIONS = 2


@dataclasses.dataclass
class Header:
    """A NetFlow packet header (``fk_netflow_header``)."""

    version: int
    count: int
    sys_uptime_ms: int
    unix_secs: int
    unix_nsecs: int
    sequence: int
    source_id: int
    engine_type: int
    engine_id: int
    sampling_interval: int
    sampling_mode: int
    export_ns: int

    @classmethod
    def from_c(cls, h):
        return cls(**{f.name: getattr(h, f.name) for f in dataclasses.fields(cls)})


def decode_fixed(data, exporter=None):
    """Decode one v1, v5 or v7 datagram: returns ``(Header, [Flow])``.
    ``exporter`` (address text) is copied into the flows with the odid."""
    data = bytes(data)
    hdr = N.fk_netflow_header()
    flows = (N.fk_flow * N.FK_NETFLOW_FIXED_MAX)()
    count = c_size_t()
    exp = byref(addr_to_c(exporter)) if exporter else None
    call("fk_netflow_decode_fixed", data, len(data), exp, byref(hdr), flows, len(flows), byref(count))
    return Header.from_c(hdr), [Flow.from_c(flows[i]) for i in range(count.value)]


@dataclasses.dataclass
class NetflowRecord:
    """A record from :meth:`Decoder.decode`: a flow or an options record."""

    kind: int  # RECORD_FLOW or RECORD_OPTIONS
    version: int
    template_id: int
    exporter: str
    exporter_port: int
    flow: Flow = None
    options: dict = None
    raw: bytes = b""


class Decoder(Handle):
    """A NetFlow decoder (``fk_netflow``): v1/v5/v7 and v9 with templates
    and options kept per scope (exporter address × port × source id).

    >>> with Decoder() as d:
    ...     for rec in d.decode(datagram, exporter="192.0.2.1", port=2055): ...
    """

    _prefix = "fk_netflow"

    def __init__(self, **params):
        super().__init__(self._create())
        self._apply(params)
        self._active = False

    def activate(self):
        """Fix the parameters (done by the first :meth:`decode` otherwise)."""
        call("fk_netflow_activate", self)
        self._active = True
        return self

    def decode(self, data, exporter="0.0.0.0", port=0):
        """Decode one datagram and return its records (list of
        :class:`NetflowRecord`). A malformed datagram raises FlowkitError;
        the records decoded before the fault are in its ``records`` attribute."""
        if not self._active:
            self.activate()
        data = bytes(data)
        out = []
        error = []

        def on_record(rec_p, _user):
            try:
                out.append(self._convert(rec_p.contents))
                return 0
            except BaseException as e:  # pragma: no cover - reported below
                error.append(e)
                return -1

        cb = N.NETFLOW_RECORD_CB(on_record)
        exp = addr_to_c(exporter)
        rc = lib().fk_netflow_decode(self, byref(exp), port, data, len(data), cb, None)
        if error:
            raise error[0]
        if rc < 0:
            try:
                raise_for(rc, "fk_netflow_decode")
            except Exception as e:
                e.records = out
                raise
        return out

    @staticmethod
    def _convert(rec):
        flow = Flow.from_c(rec.flow.contents) if rec.flow else None
        options = None
        if rec.options:
            buf = ctypes.create_string_buffer(1024)
            call("fk_netflow_options_to_json", byref(rec), buf, len(buf))
            options = json.loads(buf.value.decode())
        return NetflowRecord(
            kind=rec.kind,
            version=rec.header.contents.version,
            template_id=rec.template_id,
            exporter=addr_from_c(rec.exporter.contents) if rec.exporter else None,
            exporter_port=rec.exporter_port,
            flow=flow,
            options=options,
            raw=ctypes.string_at(rec.data, rec.length) if rec.length else b"",
        )

    def stats(self):
        """Counters (``fk_netflow_stats``) as a dict."""
        s = N.fk_netflow_stats()
        call("fk_netflow_get_stats", self, byref(s), ctypes.sizeof(s))
        return {name: getattr(s, name) for name, _ in s._fields_}


__all__ = ["Header", "decode_fixed", "NetflowRecord", "Decoder", "RECORD_FLOW", "RECORD_OPTIONS"]
