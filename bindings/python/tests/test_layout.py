"""The ctypes structs match the C headers: a C program compiled against the
public headers prints sizeof and every offsetof, compared field by field."""

import os
import shutil
import subprocess

import pytest

import flowkit
from flowkit import _native as N
from conftest import source_dir


def _include_dirs():
    src = os.path.join(source_dir(), "include")
    # version.h is generated into <build>/include next to <build>/lib.
    build_inc = os.path.join(os.path.dirname(os.path.dirname(flowkit.library_path())), "include")
    return src, build_inc


def test_struct_layouts_match_headers(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        pytest.skip("no C compiler to compile the layout probe")
    src_inc, build_inc = _include_dirs()
    if not os.path.exists(os.path.join(build_inc, "flowkit", "version.h")):
        pytest.skip(f"no generated version.h under {build_inc} (not a build tree)")
    lines = ["#include <stddef.h>", "#include <stdio.h>"]
    checked = []
    for struct, header in N.STRUCT_HEADERS.items():
        if not os.path.exists(os.path.join(src_inc, "flowkit", header)):
            continue  # that module's header is not in this tree yet
        lines.append(f"#include <flowkit/{header}>")
        checked.append(struct)
    lines.append("int main(void) {")
    for s in checked:
        name = s.__name__
        lines.append(f'    printf("{name} sizeof %zu\\n", sizeof({name}));')
        for field, _t in s._fields_:
            lines.append(f'    printf("{name} {field} %zu\\n", offsetof({name}, {field}));')
    lines.append("    return 0;\n}")
    prog = tmp_path / "layout.c"
    prog.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    r = subprocess.run(
        [cc, "-std=c11", "-I", src_inc, "-I", build_inc, "-o", str(exe), str(prog)],
        capture_output=True,
        text=True,
    )
    # A failure here means a struct or field of _native.py is gone from the headers.
    assert r.returncode == 0, r.stderr[-3000:]
    c_view = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    py_view = []
    for s in checked:
        py_view.append(f"{s.__name__} sizeof {__import__('ctypes').sizeof(s)}")
        for field, _t in s._fields_:
            py_view.append(f"{s.__name__} {field} {getattr(s, field).offset}")
    assert c_view.splitlines() == py_view
    # Core structs are always in the tree: the probe really ran on them.
    assert N.fk_flow in checked and N.fk_param_info in checked
