"""Errors, parameters, addresses, flows and session events."""

import ctypes
import dataclasses
import json
from ctypes import byref, c_char_p, c_double, c_int64, c_size_t, c_void_p

from . import _native as N
from ._native import lib

# ----------------------------------------------------------------- errors


def status_name(code):
    """Symbolic name of a status code, e.g. ``"FK_ERANGE"``."""
    return lib().fk_status_name(int(code)).decode()


def strerror(code):
    """Fixed text of a status code, e.g. ``"value out of range"``."""
    return lib().fk_strerror(int(code)).decode()


class FlowkitError(Exception):
    """A libflowkit call failed.

    Attributes: ``code`` (negative ``FK_E*`` value), ``name`` (e.g.
    ``"FK_ERANGE"``), ``message`` (the library's message with context, from
    ``fk_error_last()``), ``errno`` (the system errno behind it, or 0) and
    ``function`` (the C function that failed).
    """

    def __init__(self, code, message, errno=0, function=None):
        self.code = int(code)
        self.name = status_name(code)
        self.message = message
        self.errno = errno
        self.function = function
        super().__init__(f"{self.name}: {message}")


def last_error():
    """``(code, errno, message)`` of the calling thread's last failure."""
    e = lib().fk_error_last().contents
    return e.code, e.sys_errno, (e.message or b"").decode(errors="replace")


def raise_for(rc, function=None):
    """Raise :class:`FlowkitError` for a negative status just returned by a call."""
    code, errno, message = last_error()
    if code != rc or not message:
        # The call failed without recording details (or they belong to an
        # earlier failure): fall back to the status's fixed text.
        message, errno = strerror(rc), 0
    raise FlowkitError(rc, message, errno, function)


def check(rc, function=None):
    """Return ``rc`` when it is >= 0, else raise :class:`FlowkitError`."""
    if rc < 0:
        raise_for(rc, function)
    return rc


def call(name, *args):
    """Call a declared C function and raise on a negative status."""
    try:
        rc = getattr(lib(), name)(*args)
    except ctypes.ArgumentError as e:
        if "is closed" in str(e):  # a closed Handle passed as an argument
            raise ValueError(str(e).split(": ", 2)[-1]) from None
        raise
    return check(rc, name)


class _StatusCodes:
    """Status codes by name: ``flowkit.status.ERANGE == -3``."""

    def __init__(self):
        self._by_name = None

    def _load(self):
        if self._by_name is None:
            table = {}
            code = 0
            while True:
                name = status_name(code)
                if name == "FK_UNKNOWN":
                    break
                table[name[3:]] = code
                code -= 1
            self._by_name = table
        return self._by_name

    def __getattr__(self, name):
        table = self._load()
        if name in table:
            return table[name]
        raise AttributeError(name)

    def __iter__(self):
        return iter(self._load().items())


status = _StatusCodes()

# ----------------------------------------------------------------- version


def version():
    """Version of the loaded library, e.g. ``"0.2.0"``."""
    return lib().fk_version_string().decode()


def version_number():
    """Version of the loaded library as major*10000 + minor*100 + patch."""
    return lib().fk_version_number()


# -------------------------------------------------------------- addresses


def addr_from_c(a):
    """Text form of an ``fk_addr`` (``None`` when absent)."""
    if a.family == 0:
        return None
    buf = ctypes.create_string_buffer(N.FK_PROCESS_NAME_MAX)
    call("fk_addr_format", byref(a), buf, len(buf))
    return buf.value.decode()


def addr_to_c(text):
    """An ``fk_addr`` from text (``None`` or ``""`` gives an absent address)."""
    a = N.fk_addr()
    if text:
        call("fk_addr_parse", str(text).encode(), byref(a))
    return a


def time_format(ns):
    """RFC 3339 UTC text with milliseconds of a time in ns since the epoch."""
    buf = ctypes.create_string_buffer(64)
    call("fk_time_format", int(ns), buf, len(buf))
    return buf.value.decode()


# ------------------------------------------------------------------ flows

FLOW_HAS_PROCESS = 0x01
FLOW_HAS_IFACES = 0x02
FLOW_HAS_SAMPLING = 0x04
FLOW_HAS_END_REASON = 0x08
FLOW_HAS_REVERSE = 0x10
FLOW_HAS_EXPORTER = 0x20
FLOW_HAS_UID = 0x40
FLOW_HAS_REV_ICMP = 0x100


@dataclasses.dataclass
class Flow:
    """A normalized flow record (``fk_flow``); addresses are text.

    ``present`` holds the ``FLOW_HAS_*`` bits saying which optional fields
    are meaningful. Times are nanoseconds since the epoch.
    """

    src: str = None
    dst: str = None
    src_port: int = 0
    dst_port: int = 0
    proto: int = 0
    bytes: int = 0
    packets: int = 0
    start_ns: int = 0
    end_ns: int = 0
    tcp_flags: int = 0
    rev_tcp_flags: int = 0
    tos: int = 0
    vlan: int = 0
    version: int = 0
    present: int = 0
    rev_bytes: int = 0
    rev_packets: int = 0
    in_if: int = 0
    out_if: int = 0
    sampling: int = 0
    end_reason: int = 0
    odid: int = 0
    exporter: str = None
    pid: int = 0
    process: str = ""
    # From the collector (None when unknown): interface names from options
    # data, and the user, executable and uid of flowkit-export's process fields.
    in_if_name: str = None
    out_if_name: str = None
    user: str = None
    exe: str = None
    uid: int = 0
    event: int = 0  # nonzero: a session event (SESSION_SYN/FIN/RST) at end_ns
    rev_icmp: int = 0  # ICMP biflow: the reply's type * 256 + code (FLOW_HAS_REV_ICMP)
    src_as: int = 0  # BGP AS numbers from the exporter (0 when absent)
    dst_as: int = 0
    tags: str = None  # metadata tags the record carried, "KEY=VALUE,KEY=VALUE"

    _ADDRS = ("src", "dst", "exporter")
    _STRS = ("in_if_name", "out_if_name", "user", "exe", "tags")

    @classmethod
    def from_c(cls, f):
        """Copy an ``fk_flow`` into a new :class:`Flow`."""
        kw = {}
        for field in dataclasses.fields(cls):
            v = getattr(f, field.name)
            if field.name in cls._ADDRS:
                v = addr_from_c(v)
            elif field.name == "process":
                v = v.decode(errors="replace")
            elif field.name in cls._STRS:
                v = v.decode(errors="replace") if v is not None else None
            kw[field.name] = v
        return cls(**kw)

    def to_c(self):
        """A new ``fk_flow`` with this flow's values."""
        f = N.fk_flow()
        for field in dataclasses.fields(self):
            v = getattr(self, field.name)
            if field.name in self._ADDRS:
                v = addr_to_c(v)
            elif field.name == "process":
                v = (v or "").encode()[: N.FK_PROCESS_NAME_MAX - 1]
            elif field.name in self._STRS:
                v = v.encode() if v is not None else None  # kept alive by f
            setattr(f, field.name, v)
        return f

    def to_json(self):
        """The library's JSON line for this flow (the CLIs' contract) as text,
        without a newline. Since 0.2.0; before, it returned the dict that
        :meth:`to_dict` returns."""
        buf = ctypes.create_string_buffer(4096)  # FK_FLOW_JSON_MAX
        call("fk_flow_to_json", byref(self.to_c()), buf, len(buf))
        return buf.value.decode()

    def to_dict(self):
        """The library's JSON line for this flow, parsed into a dict."""
        return json.loads(self.to_json())


SESSION_SYN = 1
SESSION_FIN = 2
SESSION_RST = 3
SESSION_HAS_PROCESS = 0x01
SESSION_HAS_UID = 0x02


@dataclasses.dataclass
class SessionEvent:
    """A TCP session event (``fk_session_event``): kind SYN, FIN or RST."""

    kind: int = 0
    proto: int = 6
    vlan: int = 0
    present: int = 0
    time_ns: int = 0
    src: str = None
    dst: str = None
    src_port: int = 0
    dst_port: int = 0
    pid: int = 0
    process: str = ""
    # The capture's attribution (None when unknown; uid with SESSION_HAS_UID).
    uid: int = 0
    user: str = None
    exe: str = None

    _STRS = ("user", "exe")

    @property
    def kind_name(self):
        """``"syn"``, ``"fin"`` or ``"rst"``."""
        return lib().fk_session_kind_name(self.kind).decode()

    @classmethod
    def from_c(cls, e):
        """Copy an ``fk_session_event``."""
        kw = {f.name: getattr(e, f.name) for f in dataclasses.fields(cls)}
        kw["src"] = addr_from_c(e.src)
        kw["dst"] = addr_from_c(e.dst)
        kw["process"] = e.process.decode(errors="replace")
        for name in cls._STRS:
            v = getattr(e, name)
            kw[name] = v.decode(errors="replace") if v is not None else None
        return cls(**kw)

    def to_c(self):
        """A new ``fk_session_event``."""
        e = N.fk_session_event()
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name in ("src", "dst"):
                v = addr_to_c(v)
            elif f.name == "process":
                v = (v or "").encode()[: N.FK_PROCESS_NAME_MAX - 1]
            elif f.name in self._STRS:
                v = v.encode() if v is not None else None  # kept alive by e
            setattr(e, f.name, v)
        return e

    def to_json(self):
        """The library's JSON line for this event as text, without a newline.
        Since 0.2.0; before, it returned the dict that :meth:`to_dict`
        returns."""
        buf = ctypes.create_string_buffer(4096)  # FK_SESSION_JSON_MAX
        call("fk_session_event_to_json", byref(self.to_c()), buf, len(buf))
        return buf.value.decode()

    def to_dict(self):
        """The library's JSON line for this event, parsed into a dict."""
        return json.loads(self.to_json())


# ------------------------------------------------------------- parameters

PARAM_INT = 0
PARAM_BOOL = 1
PARAM_DOUBLE = 2
PARAM_STRING = 3
PARAM_RUNTIME = 0x1


@dataclasses.dataclass(frozen=True)
class ParamInfo:
    """One entry of a handle's parameter table (``fk_param_info``)."""

    id: int
    name: str
    type: str  # "int", "bool", "double" or "string"
    runtime: bool
    min: object
    max: object
    default: object
    unit: str
    help: str


def _param_table(fn_name):
    count = c_size_t(0)
    table = getattr(lib(), fn_name)(byref(count))
    out = []
    for i in range(count.value):
        p = table[i]
        tname = lib().fk_param_type_name(p.type).decode()
        if p.type == PARAM_DOUBLE:
            lo, hi, default = p.min_double, p.max_double, p.default_double
        elif p.type == PARAM_STRING:
            lo = hi = None
            default = p.default_string.decode() if p.default_string else None
        else:
            lo, hi, default = p.min_int, p.max_int, p.default_int
            if p.type == PARAM_BOOL:
                default = bool(default)
        out.append(
            ParamInfo(
                id=p.id,
                name=p.name.decode(),
                type=tname,
                runtime=bool(p.flags & PARAM_RUNTIME),
                min=lo,
                max=hi,
                default=default,
                unit=(p.unit or b"").decode(),
                help=(p.help or b"").decode(),
            )
        )
    return out


class Inbox:
    """What a handle's C callback hands to Python: passed to ``callback`` at
    once, or kept until :meth:`take`. An exception raised on the way (while
    converting, or by the user's callback) cannot cross the C frame: it is
    kept, :meth:`deliver` returns False so that the caller breaks the C
    loop, and :meth:`take` raises it."""

    def __init__(self, callback=None):
        self.callback = callback
        self.pending = []
        self.error = None

    def deliver(self, make):
        """Build an item with ``make()`` and hand it on; False on an exception."""
        try:
            item = make()
            if self.callback is not None:
                self.callback(item)
            else:
                self.pending.append(item)
            return True
        except BaseException as e:
            if self.error is None:
                self.error = e
            return False

    def take(self):
        """The items kept so far (and forget them); raise a kept exception first."""
        if self.error is not None:
            e, self.error = self.error, None
            raise e
        out, self.pending = self.pending, []
        return out


class Handle:
    """Base of every handle: ownership of the C pointer, context manager,
    and parameters by name from the handle's own ``fk_<h>_params`` table.

    Subclasses set ``_prefix`` (e.g. ``"fk_capture"``); the C setters and
    getters are ``<prefix>_set_int/_double/_str`` and ``<prefix>_get_*``
    where the library has them.
    """

    _prefix = None
    _table_fn = None  # defaults to <prefix>_params

    def __init__(self, ptr):
        self._ptr = ptr
        self._keep = []  # objects the C side borrows (callbacks, buffers)

    # --- lifecycle
    @property
    def _as_parameter_(self):
        if not self._ptr:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._ptr

    def close(self):
        """Destroy the C handle (idempotent)."""
        if getattr(self, "_ptr", None):
            getattr(lib(), f"{self._prefix}_destroy")(self._ptr)
            self._ptr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @classmethod
    def _create(cls, *args):
        p = c_void_p()
        call(f"{cls._prefix}_create", byref(p), *args)
        return p

    # --- parameters
    @classmethod
    def params(cls):
        """The parameter table: a list of :class:`ParamInfo`."""
        return _param_table(cls._table_fn or f"{cls._prefix}_params")

    @classmethod
    def param(cls, name):
        """:class:`ParamInfo` of one parameter ('-' matches '_'); KeyError if unknown."""
        key = name.replace("-", "_")
        for p in cls.params():
            if p.name == key:
                return p
        raise KeyError(f"{cls.__name__} has no parameter {name!r}")

    def set(self, name, value):
        """Set a parameter by name through the typed C setter (bounds are
        checked by the library: out of range raises FlowkitError FK_ERANGE)."""
        p = self.param(name)
        if p.type in ("int", "bool"):
            if isinstance(value, float) and not value.is_integer():
                raise TypeError(f"{p.name} takes an integer")
            call(f"{self._prefix}_set_int", self, p.id, int(value))
        elif p.type == "double":
            call(f"{self._prefix}_set_double", self, p.id, float(value))
        else:
            call(
                f"{self._prefix}_set_str",
                self,
                p.id,
                None if value is None else str(value).encode(),
            )
        return self

    def get(self, name):
        """Read a parameter by name through the typed C getter."""
        p = self.param(name)
        if p.type in ("int", "bool"):
            v = c_int64()
            call(f"{self._prefix}_get_int", self, p.id, byref(v))
            return bool(v.value) if p.type == "bool" else v.value
        if p.type == "double":
            v = c_double()
            call(f"{self._prefix}_get_double", self, p.id, byref(v))
            return v.value
        v = c_char_p()
        call(f"{self._prefix}_get_str", self, p.id, byref(v))
        return v.value.decode() if v.value is not None else None

    def _apply(self, params):
        for k, v in params.items():
            self.set(k, v)
