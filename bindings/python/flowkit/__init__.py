"""flowkit for Python: a ctypes binding over libflowkit's public C API.

No compiled extension and no dependency beyond the standard library. The
shared library is found through, in order: the ``FLOWKIT_LIBRARY``
environment variable (a path), a ``libflowkit.so`` next to this package,
``ctypes.util.find_library("flowkit")``, then the installed soname.

Every failing C call raises :class:`FlowkitError` with the library's status
``code`` and ``name`` and the message of ``fk_error_last()``. Handles
(:class:`Capture`, :class:`Collector`, :class:`Exporter`,
:class:`ipfix.Decoder`, :class:`ipfix.Encoder`, :class:`netflow.Decoder`)
are context managers and take their parameters, by name, from each
handle's own parameter table.
"""

from . import ipfix, netflow
from ._core import (
    FLOW_HAS_END_REASON,
    FLOW_HAS_EXPORTER,
    FLOW_HAS_IFACES,
    FLOW_HAS_PROCESS,
    FLOW_HAS_REVERSE,
    FLOW_HAS_SAMPLING,
    FLOW_HAS_UID,
    FLOW_HAS_REV_ICMP,
    SESSION_FIN,
    SESSION_HAS_PROCESS,
    SESSION_HAS_UID,
    SESSION_RST,
    SESSION_SYN,
    Flow,
    FlowkitError,
    ParamInfo,
    SessionEvent,
    last_error,
    status,
    status_name,
    strerror,
    time_format,
    version,
    version_number,
)
from ._native import lib as _lib
from .capture import Capture, CaptureError, RankConnection, RankDevice, RankRow, RankSnapshot
from .collector import Collector
from .exporter import Exporter

__version__ = "0.2.0"


def library_path():
    """Path (or name) the shared library was loaded from."""
    return _lib().path


def available(*functions):
    """True when the loaded library exports every named C function, e.g.
    ``available("fk_capture_rank")`` (for features added in later versions)."""
    return _lib().has(*functions)


__all__ = [
    "Capture",
    "CaptureError",
    "Collector",
    "Exporter",
    "Flow",
    "FlowkitError",
    "ParamInfo",
    "RankConnection",
    "RankDevice",
    "RankRow",
    "RankSnapshot",
    "SessionEvent",
    "FLOW_HAS_END_REASON",
    "FLOW_HAS_EXPORTER",
    "FLOW_HAS_IFACES",
    "FLOW_HAS_PROCESS",
    "FLOW_HAS_REVERSE",
    "FLOW_HAS_SAMPLING",
    "FLOW_HAS_UID",
    "FLOW_HAS_REV_ICMP",
    "SESSION_FIN",
    "SESSION_HAS_PROCESS",
    "SESSION_HAS_UID",
    "SESSION_RST",
    "SESSION_SYN",
    "available",
    "ipfix",
    "last_error",
    "library_path",
    "netflow",
    "status",
    "status_name",
    "strerror",
    "time_format",
    "version",
    "version_number",
]
