"""Versions, errors, status codes, flows and events through the C library."""

import json
import os
import re
import subprocess
import sys

import pytest

import flowkit
from conftest import source_dir


def test_version_matches_cmake_project():
    text = open(os.path.join(source_dir(), "CMakeLists.txt")).read()
    want = re.search(r"project\(flowkit\s+VERSION\s+(\d+)\.(\d+)\.(\d+)", text).groups()
    assert flowkit.version() == ".".join(want)
    major, minor, patch = (int(x) for x in want)
    assert flowkit.version_number() == major * 10000 + minor * 100 + patch


def test_status_table_comes_from_the_library():
    codes = dict(flowkit.status)
    assert codes["OK"] == 0
    assert flowkit.status.ERANGE == -3
    assert flowkit.status_name(-3) == "FK_ERANGE"
    assert flowkit.strerror(flowkit.status.EMALFORMED) == "malformed input"
    # Codes are dense from 0 down, each with a distinct name.
    assert sorted(codes.values(), reverse=True) == list(range(0, -len(codes), -1))


def test_error_has_code_name_and_library_message():
    with pytest.raises(flowkit.FlowkitError) as ei:
        flowkit.Flow(src="300.1.2.3").to_c()
    e = ei.value
    assert e.code == flowkit.status.EINVAL
    assert e.name == "FK_EINVAL"
    assert "300.1.2.3" in e.message
    assert e.function == "fk_addr_parse"
    # The same failure is what fk_error_last() reports for this thread.
    code, _errno, message = flowkit.last_error()
    assert (code, message) == (e.code, e.message)


def test_flow_round_trip_and_json_contract():
    f = flowkit.Flow(
        src="192.0.2.1",
        dst="2001:db8::2",
        src_port=40000,
        dst_port=443,
        proto=6,
        bytes=1500,
        packets=3,
        start_ns=1_700_000_000_123_000_000,
        end_ns=1_700_000_002_456_000_000,
        tcp_flags=0x1B,
        present=flowkit.FLOW_HAS_PROCESS,
        pid=4242,
        process="curl",
    )
    assert flowkit.Flow.from_c(f.to_c()) == f
    j = f.to_dict()
    assert j["type"] == "flow"
    assert (j["src_addr"], j["dst_addr"]) == ("192.0.2.1", "2001:db8::2")
    assert (j["bytes"], j["packets"], j["proto"]) == (1500, 3, 6)
    assert j["start"] == "2023-11-14T22:13:20.123Z"
    assert j["end"] == "2023-11-14T22:13:22.456Z"
    assert (j["pid"], j["process"]) == (4242, "curl")


def test_to_json_is_the_json_line_and_to_dict_its_parse():
    """to_json() gives the JSON line as text (what flowkit-collect writes,
    json.loads-able, no newline); to_dict() the dict to_json() gave in 0.1.0."""
    f = flowkit.Flow(src="10.0.0.1", dst="10.0.0.2", src_port=40000, dst_port=443, proto=6,
                     bytes=1500, packets=3, start_ns=1_700_000_000_000_000_000,
                     end_ns=1_700_000_001_000_000_000)
    text = f.to_json()
    assert isinstance(text, str)
    assert text.startswith('{"type":"flow","src_addr":"10.0.0.1","dst_addr":"10.0.0.2",')
    assert text.endswith("}") and "\n" not in text
    assert json.loads(text) == f.to_dict()
    assert f.to_dict()["bytes"] == 1500
    ev = flowkit.SessionEvent(kind=flowkit.SESSION_SYN, time_ns=1_700_000_000_000_000_000,
                              src="10.0.0.1", dst="10.0.0.2", src_port=1, dst_port=2)
    assert isinstance(ev.to_json(), str)
    assert json.loads(ev.to_json()) == ev.to_dict()
    assert ev.to_dict()["event"] == "syn"


def test_session_event_json():
    ev = flowkit.SessionEvent(
        kind=flowkit.SESSION_FIN,
        time_ns=1_700_000_000_000_000_000,
        src="10.0.0.1",
        dst="10.0.0.2",
        src_port=1234,
        dst_port=80,
    )
    assert ev.kind_name == "fin"
    j = ev.to_dict()
    assert (j["type"], j["event"], j["dst_port"]) == ("event", "fin", 80)
    assert flowkit.SessionEvent.from_c(ev.to_c()) == ev
    assert "user" not in j and "uid" not in j
    ev.present = flowkit.SESSION_HAS_PROCESS | flowkit.SESSION_HAS_UID
    ev.pid, ev.process, ev.uid, ev.user, ev.exe = 7, "nc", 1000, "alice", "/usr/bin/nc"
    j = ev.to_dict()
    assert (j["pid"], j["process"], j["uid"], j["user"], j["exe"]) == (
        7,
        "nc",
        1000,
        "alice",
        "/usr/bin/nc",
    )
    assert flowkit.SessionEvent.from_c(ev.to_c()) == ev


def test_time_format():
    assert flowkit.time_format(0) == "1970-01-01T00:00:00.000Z"


def _load_in_child(env):
    code = "import flowkit; print(flowkit.library_path()); print(flowkit.version())"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_library_env_var_is_final():
    env = dict(os.environ, FLOWKIT_LIBRARY="/nonexistent/libflowkit.so")
    r = _load_in_child(env)
    assert r.returncode != 0
    assert "FLOWKIT_LIBRARY" in r.stderr and "/nonexistent/libflowkit.so" in r.stderr


def test_library_next_to_package(tmp_path):
    # A copy of the package with the library beside it loads that copy.
    import shutil

    pkg = os.path.dirname(flowkit.__file__)
    shutil.copytree(pkg, tmp_path / "flowkit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(flowkit.library_path(), tmp_path / "flowkit" / "libflowkit.so")
    env = {k: v for k, v in os.environ.items() if k != "FLOWKIT_LIBRARY"}
    env["PYTHONPATH"] = str(tmp_path)
    r = _load_in_child(env)
    assert r.returncode == 0, r.stderr
    path, ver = r.stdout.split()
    assert path == str(tmp_path / "flowkit" / "libflowkit.so")
    assert ver == flowkit.version()
