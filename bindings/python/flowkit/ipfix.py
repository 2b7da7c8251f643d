"""IPFIX (RFC 7011) codec: information elements, decoder and encoder.

The codec is sans-I/O: :class:`Decoder` reads messages from ``bytes`` and
:class:`Encoder` returns messages as ``bytes``; sockets are yours (or use
:class:`flowkit.Exporter` / :class:`flowkit.Collector`).
"""

import ctypes
import dataclasses
import datetime
import json
from ctypes import POINTER, byref, c_size_t, c_uint8

from . import _native as N
from ._core import Flow, Handle, addr_from_c, addr_to_c, call, raise_for
from ._native import lib

PEN_REVERSE = 29305
VARLEN = 65535

ITEM_RECORD = 1
ITEM_TEMPLATE = 2
ITEM_WITHDRAWAL = 3
ITEM_NO_TEMPLATE = 4

# fk_ie_type values (RFC 7012 / IANA data types) the binding converts.
_UNSIGNED = {1, 2, 3, 4}
_SIGNED = {5, 6, 7, 8}
_FLOAT = {9, 10}
_BOOLEAN = 11
_MAC = 12
_STRING = 13
_DATETIMES = {14, 15, 16, 17}
_ADDRS = {18, 19}


@dataclasses.dataclass(frozen=True)
class Element:
    """An information element from the registry (``fk_ie``)."""

    pen: int
    id: int
    name: str
    type: str
    semantics: str
    units: str
    type_code: int

    @classmethod
    def _from_c(cls, ie):
        return cls(
            pen=ie.pen,
            id=ie.id,
            name=ie.name.decode(),
            type=lib().fk_ie_type_name(ie.type).decode(),
            semantics=lib().fk_ie_semantics_name(ie.semantics).decode(),
            units=(ie.units or b"").decode(),
            type_code=ie.type,
        )


def element(name_or_id, pen=0):
    """Look an element up in the built-in registry by name
    (``"octetDeltaCount"``) or by ``(id, pen)``. Raises FlowkitError
    ``FK_ENOTFOUND`` for an unknown element."""
    out = POINTER(N.fk_ie)()
    if isinstance(name_or_id, str):
        call("fk_ie_lookup_name", None, name_or_id.encode(), byref(out))
    else:
        call("fk_ie_lookup", None, pen, int(name_or_id), byref(out))
    return Element._from_c(out.contents)


def elements():
    """Every built-in element (IANA and RFC 5103 reverse), in table order."""
    count = lib().fk_ie_get_builtin(ctypes.c_size_t(-1).value, None)
    out = []
    for i in range(count):
        p = POINTER(N.fk_ie)()
        call("fk_ie_get_builtin", i, byref(p))
        out.append(Element._from_c(p.contents))
    return out


@dataclasses.dataclass(frozen=True)
class Field:
    """A field specifier of a template: element, encoded length (``VARLEN``
    for variable length) and enterprise number."""

    id: int
    length: int
    pen: int = 0

    @classmethod
    def of(cls, spec):
        """A Field from a Field, ``(name, length)``, ``(id, length)`` or
        ``(pen, id, length)``."""
        if isinstance(spec, Field):
            return spec
        if len(spec) == 3:
            return cls(id=spec[1], length=spec[2], pen=spec[0])
        ident, length = spec
        if isinstance(ident, str):
            e = element(ident)
            return cls(id=e.id, length=length, pen=e.pen)
        return cls(id=ident, length=length)


def _field_array(fields):
    fields = [Field.of(f) for f in fields]
    arr = (N.fk_field_spec * len(fields))()
    for i, f in enumerate(fields):
        arr[i].pen, arr[i].id, arr[i].length, arr[i].flags = f.pen, f.id, f.length, 0
    return arr, fields


def _template_fields(tmpl):
    count = lib().fk_template_get_field_count(tmpl)
    out = []
    for i in range(count):
        s = lib().fk_template_get_field(tmpl, i).contents
        out.append(Field(id=s.id, length=s.length, pen=s.pen))
    return out


@dataclasses.dataclass
class Header:
    """An IPFIX message header."""

    version: int
    length: int
    export_time: int
    sequence: int
    domain: int


def parse_header(data):
    """Parse and validate the header of a message in ``data``."""
    h = N.fk_ipfix_header()
    buf = (c_uint8 * len(data)).from_buffer_copy(data)
    call("fk_ipfix_parse_header", buf, len(data), byref(h))
    return Header(h.version, h.length, h.export_time, h.sequence, h.domain)


@dataclasses.dataclass
class Template:
    """A template met in a message: id, fields, scope field count."""

    template_id: int
    fields: list
    scope_count: int
    domain: int = 0


@dataclasses.dataclass
class Record:
    """A decoded data record: ``values`` maps element names to Python values
    (ints, floats, address strings, str, bytes; dateTime elements as ns since
    the epoch), ``flow`` is the normalized :class:`flowkit.Flow` and
    ``json`` the library's JSON rendering."""

    template_id: int
    domain: int
    is_options: bool
    values: dict
    flow: Flow
    json: dict


@dataclasses.dataclass
class Withdrawal:
    """A template withdrawal met in a message."""

    template_id: int
    domain: int = 0


@dataclasses.dataclass
class MissingTemplate:
    """A data set whose template is unknown (kept as raw bytes)."""

    template_id: int
    set_bytes: bytes


def _value(v):
    t = v.type
    if t in _UNSIGNED:
        return v.u
    if t in _SIGNED:
        return v.i
    if t in _FLOAT:
        return v.f
    if t == _BOOLEAN:
        return v.u == 1
    if t in _DATETIMES:
        return v.i
    if t in _ADDRS:
        return addr_from_c(v.addr)
    raw = ctypes.string_at(v.raw, v.len) if v.len else b""
    if t == _MAC:
        return ":".join(f"{b:02x}" for b in raw)
    if t == _STRING:
        return raw.decode(errors="replace")
    return raw


def _field_key(v):
    if v.ie:
        return v.ie.contents.name.decode()
    if v.pen:
        return f"e{v.pen}id{v.id}"
    return f"_ipfix_{v.id}"


class TemplateCache(Handle):
    """Templates keyed by (session, domain, id); shareable by decoders."""

    _prefix = "fk_template_cache"

    def __init__(self, **params):
        super().__init__(self._create(None))
        self._apply(params)

    def __len__(self):
        return lib().fk_template_cache_get_count(self)


class Decoder(Handle):
    """An IPFIX decoder (``fk_ipfix_decoder``) with a private template cache
    (or a shared :class:`TemplateCache`).

    >>> with Decoder() as d:
    ...     for item in d.decode(message):
    ...         if isinstance(item, Record): print(item.flow)
    """

    _prefix = "fk_ipfix_decoder"

    def __init__(self, cache=None):
        self._cache = cache  # borrowed by C: keep it alive
        super().__init__(self._create(cache))

    def decode(self, data, session=0, header=None):
        """Walk one message; returns a list of :class:`Record`,
        :class:`Template`, :class:`Withdrawal` and :class:`MissingTemplate`.
        Raises FlowkitError (``FK_EMALFORMED``, ``FK_ETRUNCATED``...) for a
        bad message; items before the fault are in the exception's
        ``items`` attribute. ``header`` (a list) receives the :class:`Header`."""
        data = bytes(data)
        buf = (c_uint8 * max(len(data), 1)).from_buffer_copy(data or b"\0")
        h = N.fk_ipfix_header()
        call("fk_ipfix_decoder_begin", self, session, buf, len(data), byref(h))
        if header is not None:
            header.append(Header(h.version, h.length, h.export_time, h.sequence, h.domain))
        items = []
        item = N.fk_ipfix_item()
        while True:
            rc = lib().fk_ipfix_decoder_next(self, byref(item))
            if rc == 0:
                return items
            if rc < 0:
                try:
                    raise_for(rc, "fk_ipfix_decoder_next")
                except Exception as e:
                    e.items = items
                    raise
            items.append(self._convert(item, h.domain))

    def records(self, data, session=0):
        """Only the data records of one message."""
        return [i for i in self.decode(data, session) if isinstance(i, Record)]

    def _convert(self, item, domain):
        if item.kind == ITEM_RECORD:
            rec = item.record
            values = {}
            count = lib().fk_template_get_field_count(rec.tmpl)
            v = N.fk_ipfix_value()
            for i in range(count):
                call("fk_ipfix_record_get_field", byref(rec), i, byref(v))
                key = _field_key(v)
                values.setdefault(key, _value(v))
            f = N.fk_flow()
            call("fk_ipfix_record_to_flow", byref(rec), byref(f))
            buf = ctypes.create_string_buffer(65536)
            call("fk_ipfix_record_to_json", byref(rec), buf, len(buf))
            return Record(
                template_id=rec.template_id,
                domain=rec.domain,
                is_options=bool(rec.is_options),
                values=values,
                flow=Flow.from_c(f),
                json=json.loads(buf.value.decode()),
            )
        if item.kind == ITEM_TEMPLATE:
            return Template(
                template_id=item.template_id,
                fields=_template_fields(item.tmpl),
                scope_count=lib().fk_template_get_scope_count(item.tmpl),
                domain=domain,
            )
        if item.kind == ITEM_WITHDRAWAL:
            return Withdrawal(template_id=item.template_id, domain=domain)
        return MissingTemplate(
            template_id=item.template_id,
            set_bytes=ctypes.string_at(item.set, item.set_len),
        )


class Encoder(Handle):
    """An IPFIX encoder (``fk_ipfix_encoder``) producing messages as bytes.

    >>> with Encoder(mtu=1400) as e:
    ...     e.add_template(256, [("sourceIPv4Address", 4), ("octetDeltaCount", 8)])
    ...     msg = e.encode(domain=1, templates=[256], records=[(256, {...})])
    """

    _prefix = "fk_ipfix_encoder"

    def __init__(self, **params):
        super().__init__(self._create(None))
        self._templates = {}
        self._buf = None
        self._apply(params)

    def add_template(self, template_id, fields, scope_count=0):
        """Define a template: ``fields`` as accepted by :meth:`Field.of`."""
        arr, fields = _field_array(fields)
        call("fk_ipfix_encoder_add_template", self, template_id, arr, len(fields), scope_count)
        self._templates[template_id] = fields
        return self

    # --- one message, step by step
    def begin(self, domain=0, export_time=None, size=None):
        """Start a message (size defaults to the MTU)."""
        if export_time is None:
            export_time = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
        size = size or self.get("mtu")
        self._buf = (c_uint8 * size)()
        call("fk_ipfix_encoder_begin", self, domain, export_time, self._buf, size)
        return self

    def write_template(self, template_id):
        """Append a template record."""
        call("fk_ipfix_encoder_write_template", self, template_id)
        return self

    def write_withdrawal(self, template_id, options=False):
        """Append a template withdrawal."""
        call("fk_ipfix_encoder_write_withdrawal", self, template_id, int(options))
        return self

    def add_flow(self, template_id, flow):
        """Append a :class:`flowkit.Flow` as a record of a template."""
        call("fk_ipfix_encoder_add_flow", self, template_id, byref(flow.to_c()))
        return self

    def add_record(self, template_id, values):
        """Append a record given as ``{element name or (pen, id): value}``.
        Integers, floats, address strings, str/bytes; dateTime elements take
        ns since the epoch (int) or a timezone-aware datetime."""
        call("fk_ipfix_encoder_record_begin", self, template_id)
        for key, value in values.items():
            if isinstance(key, str):
                e = element(key)
            else:
                e = element(key[1], pen=key[0])
            self._set(e, value)
        call("fk_ipfix_encoder_record_end", self)
        return self

    def _set(self, e, value):
        t = e.type_code
        if t in _DATETIMES:
            if isinstance(value, datetime.datetime):
                value = int(value.timestamp() * 1_000_000_000)
            call("fk_ipfix_encoder_put_time", self, e.pen, e.id, int(value))
        elif t in _ADDRS:
            call("fk_ipfix_encoder_put_addr", self, e.pen, e.id, byref(addr_to_c(value)))
        elif t in _FLOAT:
            call("fk_ipfix_encoder_put_double", self, e.pen, e.id, float(value))
        elif t == _BOOLEAN:
            call("fk_ipfix_encoder_put_uint", self, e.pen, e.id, 1 if value else 2)
        elif isinstance(value, (bytes, bytearray, str)):
            raw = value.encode() if isinstance(value, str) else bytes(value)
            if t == _MAC and isinstance(value, str):
                raw = bytes(int(x, 16) for x in value.split(":"))
            call("fk_ipfix_encoder_put_bytes", self, e.pen, e.id, raw, len(raw))
        else:
            call("fk_ipfix_encoder_put_uint", self, e.pen, e.id, int(value))

    def finish(self):
        """Close the message and return it as bytes."""
        n = c_size_t()
        call("fk_ipfix_encoder_finish", self, byref(n))
        out = bytes(self._buf[: n.value])
        self._buf = None
        return out

    def encode(self, domain=0, export_time=None, templates=(), flows=(), records=()):
        """One message: template records for ``templates``, then ``flows``
        as ``(template_id, Flow)`` and ``records`` as ``(template_id, dict)``."""
        self.begin(domain, export_time)
        for t in templates:
            self.write_template(t)
        for tid, f in flows:
            self.add_flow(tid, f)
        for tid, values in records:
            self.add_record(tid, values)
        return self.finish()

    def sequence(self, domain=0):
        """Data records sent so far in a domain (next message's sequence number)."""
        return lib().fk_ipfix_encoder_get_sequence(self, domain)


__all__ = [
    "PEN_REVERSE",
    "VARLEN",
    "Element",
    "element",
    "elements",
    "Field",
    "Header",
    "parse_header",
    "Template",
    "Record",
    "Withdrawal",
    "MissingTemplate",
    "TemplateCache",
    "Decoder",
    "Encoder",
]
