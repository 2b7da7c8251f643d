"""Every C function the binding calls is declared (argtypes/restype), and
each declaration agrees with the public header's prototype."""

import ctypes
import glob
import os
import re

import flowkit
from flowkit import _native as N
from conftest import source_dir

PKG = os.path.dirname(flowkit.__file__)


def _prototypes():
    protos = {}
    inc = os.path.join(source_dir(), "include", "flowkit")
    for path in glob.glob(os.path.join(inc, "*.h")) + glob.glob(os.path.join(inc, "*.h.in")):
        text = open(path).read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        for m in re.finditer(r"FK_API\s+([^;{]*?)\b(fk_\w+)\s*\(([^;]*?)\)\s*;", text, re.S):
            ret, name, args = m.group(1).strip(), m.group(2), m.group(3).strip()
            nargs = 0 if args in ("", "void") else len(args.split(","))
            protos[name] = (" ".join(ret.split()), nargs)
    return protos


def _ret_ok(c_ret, restype):
    if c_ret == "void":
        return restype is None
    if c_ret.endswith("*"):
        if c_ret.replace(" ", "") in ("constchar*", "char*"):
            return restype is ctypes.c_char_p
        return restype is ctypes.c_void_p or issubclass(restype, ctypes._Pointer)
    table = {
        "int": ctypes.c_int,
        "size_t": ctypes.c_size_t,
        "uint16_t": ctypes.c_uint16,
        "uint32_t": ctypes.c_uint32,
        "int64_t": ctypes.c_int64,
    }
    return table.get(c_ret) is restype


def test_declarations_match_headers():
    protos = _prototypes()
    assert "fk_version_string" in protos  # the parser sees the headers
    checked = 0
    for name, (restype, argtypes) in N.DECLS.items():
        if name not in protos:
            continue  # header of that module not in this tree yet
        c_ret, nargs = protos[name]
        assert len(argtypes) == nargs, f"{name}: {len(argtypes)} argtypes, header has {nargs}"
        assert _ret_ok(c_ret, restype), f"{name}: restype {restype} vs header {c_ret!r}"
        checked += 1
    assert checked >= 50


def test_every_called_function_is_declared():
    used = set()
    for path in glob.glob(os.path.join(PKG, "*.py")):
        used |= set(re.findall(r"\b(fk_[a-z0-9_]+)\b", open(path).read()))
    # Handle subclasses build names from their prefix at run time.
    from flowkit import _core

    def subclasses(c):
        for s in c.__subclasses__():
            yield s
            yield from subclasses(s)

    for cls in subclasses(_core.Handle):
        used |= {f"{cls._prefix}_create", f"{cls._prefix}_destroy", f"{cls._prefix}_params"}
    # Type names (fk_flow, fk_addr...) are not functions.
    types = {s.__name__ for s in N.STRUCT_HEADERS}
    funcs = {u for u in used if u not in types and not u.endswith("_t")}
    undeclared = sorted(f for f in funcs if f not in N.DECLS and f in _prototypes())
    assert undeclared == []


def test_undeclared_call_is_refused():
    import pytest

    with pytest.raises(AttributeError, match="not declared"):
        N.lib().fk_set_allocator
