#!/usr/bin/env python3
"""Compile and run the code blocks of README.md, docs/*.md and the EXAMPLES
of docs/man/*.1 (docs/conventions.md, "Code blocks in the documentation").

A marker is an HTML comment on the line before a fenced block (``` or ~~~),
in a man page a roff comment on the line before `.nf`:

  <!-- snippet: compile -->                 C: compile with -Wall -Werror
  <!-- snippet: compile (fk_capture *cap) -->  ... with these names given
  <!-- snippet: run -->                     C: compile and run (exit 0);
                                            sh: run with bash -e;
                                            python: run with /usr/bin/python3
  <!-- snippet: run creates=FILE -->        sh: ... and FILE must be non-empty
  <!-- snippet: run continues -->           ... in the directory of the file's
                                            previous run block (its files stay)
  <!-- snippet: skip REASON -->             not run: REASON says why (a real
                                            NIC, a terminal, other hosts, ...)
  .\" snippet: run                          (man page EXAMPLES, before .nf)

Every block in a code language (c, sh, bash, python, cmake, sql) and every
.nf block of a man page's EXAMPLES must carry a marker: an unmarked one fails
the test, so nothing is left out silently; skipped blocks are counted and
listed with their reasons.

A C block that defines main() is compiled as it stands. Any other C block
is wrapped: its #include lines and the functions it defines (a line at
column 0 that starts a definition, up to the `}` at column 0) stay at file
scope, the rest becomes the body of `int snippet(PARAMS)`, which returns 0.
A `run` C block gets a main() that calls snippet() and is run (in a
directory holding trace.pcap, as shell blocks below); the others
get an empty main(), so that they are linked too.

Shell blocks run in a fresh network namespace (only its loopback is up, so
their fixed ports cannot collide with anything else) in an empty directory
holding trace.pcap (written by tests/tools/tcp_session_pcap.py), with the build
tree's flowkit-* tools first in PATH, each bounded by SNIPPET_TIMEOUT seconds.

Usage: doc_snippets.py SOURCE_DIR BUILD_DIR [FILE...]
Exit 0 when every marked block passes, 1 otherwise, 77 when no C compiler.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(compile|run|skip)\b(.*?)-->\s*$")
# docs/clickhouse.md's named queries are run by tests/integration/clickhouse_check.py
QUERY_MARKER = re.compile(r"^\s*<!--\s*query:\s*(\w+)\s*-->\s*$")
MAN_MARKER = re.compile(r'^\.\\"\s*snippet:\s*(run|skip)\b(.*)$')
CODE_LANGS = ("c", "sh", "bash", "python", "cmake", "sql")
FENCE = re.compile(r"^(\s*)(```|~~~)\s*\{?\.?([A-Za-z]*)\}?\s*$")
TIMEOUT = int(os.environ.get("SNIPPET_TIMEOUT", "120"))
PRELUDE = "#include <flowkit/flowkit.h>\n#include <stdio.h>\n#include <stdlib.h>\n"


def blocks(path):
    """Yield (line, mode, args, lang, code) for every fenced block of path in
    a code language or with a marker; mode is None for an unmarked one."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        q = QUERY_MARKER.match(lines[i])
        if q and i + 1 < len(lines) and FENCE.match(lines[i + 1]):
            m = re.match(r"(skip)(.*)", "skip query %s: run by tests/integration/clickhouse_check.py"
                         % q.group(1))
        f = FENCE.match(lines[i + 1]) if m and i + 1 < len(lines) else FENCE.match(lines[i])
        if m and not f:
            raise SystemExit(f"{path}:{i + 1}: snippet marker not followed by a fenced block")
        if not f:
            i += 1
            continue
        start = i + 1 if m else i  # the fence line
        indent, fence, lang = f.group(1), f.group(2), f.group(3).lower()
        body = []
        j = start + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            line = lines[j]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        if j == len(lines):
            raise SystemExit(f"{path}:{start + 1}: unterminated block")
        if m or lang in CODE_LANGS:
            yield (start + 1, m.group(1) if m else None, m.group(2).strip() if m else "", lang,
                   "\n".join(body) + "\n")
        i = j + 1


def roff_text(line):
    """A line of a man page's .nf block as the shell sees it."""
    line = re.sub(r"\\f[BIRP]", "", line)
    return line.replace("\\-", "-").replace("\\(em", "--").replace("\\e", "\\").replace("\\&", "")


def man_blocks(path):
    """Yield (line, mode, args, "sh", code) for every .nf block of the
    EXAMPLES section of a man page; mode is None for an unmarked one."""
    lines = open(path, encoding="utf-8").read().split("\n")
    in_examples = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(".SH"):
            in_examples = line.split(None, 1)[1:] == ["EXAMPLES"]
        if in_examples and line.strip() == ".nf":
            m = MAN_MARKER.match(lines[i - 1]) if i > 0 else None
            j = i + 1
            body = []
            while j < len(lines) and lines[j].strip() != ".fi":
                body.append(roff_text(lines[j]))
                j += 1
            if j == len(lines):
                raise SystemExit(f"{path}:{i + 1}: .nf without .fi")
            yield (i + 1, m.group(1) if m else None, m.group(2).strip() if m else "", "sh",
                   "\n".join(body) + "\n")
            i = j
        i += 1


def wrap_c(code, params, run):
    """A complete translation unit for a C block."""
    if re.search(r"^\s*int\s+main\s*\(", code, re.M):
        return code
    top, body = [], []
    lines = code.split("\n")
    k = 0
    while k < len(lines):
        line = lines[k]
        if line.startswith("#"):
            top.append(line)
        elif re.match(r"^[A-Za-z_][\w\s\*]*\([^;]*\)\s*$", line) and k + 1 < len(lines) \
                and lines[k + 1].startswith("{"):
            while k < len(lines):  # a function definition, to its closing brace
                top.append(lines[k])
                if lines[k].startswith("}"):
                    break
                k += 1
        else:
            body.append("    " + line)
        k += 1
    unit = PRELUDE + "\n".join(top) + "\n\n"
    unit += "int snippet(%s);\nint snippet(%s)\n{\n" % (params or "void", params or "void")
    unit += "\n".join(body) + "\n    return 0;\n}\n"
    if run:
        unit += "\nint main(void)\n{\n    return snippet();\n}\n"
    else:  # linked all the same: every function it calls must exist
        unit += "\nint main(void)\n{\n    return 0;\n}\n"
    return unit


def workdir(src, tmp):
    """An empty directory holding trace.pcap, for a block to run in."""
    work = tempfile.mkdtemp(dir=tmp)
    subprocess.run([sys.executable, os.path.join(src, "tests/tools/tcp_session_pcap.py"),
                    os.path.join(work, "trace.pcap")], check=True)
    return work


def build_compiler(build):
    """The compiler and flags a program linking this build's libflowkit
    needs: a sanitizer build (ASan/UBSan, TSan) wants the same compiler and
    runtime, as tests/integration/capture_common.bash does."""
    cc, flags = shutil.which(os.environ.get("CC", "cc")), []
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            cache = f.read()
    except OSError:
        return cc, flags
    m = re.search(r"^CMAKE_C_COMPILER:[A-Z]*=(.*)$", cache, re.M)
    if re.search(r"^FLOWKIT_SANITIZE:BOOL=ON$", cache, re.M):
        flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    elif re.search(r"^FLOWKIT_TSAN:BOOL=ON$", cache, re.M):
        flags = ["-fsanitize=thread", "-fno-omit-frame-pointer"]
    if flags and m:
        cc = m.group(1).strip()
    return cc, flags


def check_c(where, code, params, run, src, build, tmp, work):
    cc, sanitize = build_compiler(build)
    unit = wrap_c(code, params, run)
    c_file = os.path.join(tmp, "snippet.c")
    exe = os.path.join(tmp, "snippet")
    with open(c_file, "w") as f:
        f.write(unit)
    cmd = [cc] + sanitize + ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Werror", "-I", os.path.join(src, "include"),
           "-I", os.path.join(build, "include"), c_file, "-o", exe, "-L",
           os.path.join(build, "lib"), "-lflowkit"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return f"{where}: does not compile:\n{r.stderr}--- as compiled:\n{unit}"
    if run:
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(build, "lib"))
        r = subprocess.run([exe], capture_output=True, text=True, env=env, timeout=TIMEOUT,
                           cwd=work)
        if r.returncode != 0:
            return f"{where}: exited {r.returncode}:\n{r.stdout}{r.stderr}"
    return None


def tool_path(build):
    """PATH with the build tree's flowkit-* tools first."""
    tools = [os.path.join(build, "cli", t) for t in sorted(os.listdir(os.path.join(build, "cli")))
             if t.startswith("flowkit-")]
    return ":".join(tools + [os.environ.get("PATH", "/usr/bin:/bin")])


def check_sh(where, code, args, src, build, work):
    creates = None
    m = re.search(r"creates=(\S+)", args)
    if m:
        creates = m.group(1)
    env = dict(os.environ, PATH=tool_path(build))
    script = "ip link set lo up\nset -e\n" + code
    cmd = ["unshare", "--net", "timeout", str(TIMEOUT), "bash", "-c", script]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=work, env=env)
    if r.returncode != 0:
        return f"{where}: exited {r.returncode}:\n{code}--- stdout:\n{r.stdout}--- stderr:\n{r.stderr}"
    if creates and not (os.path.isfile(os.path.join(work, creates))
                        and os.path.getsize(os.path.join(work, creates)) > 0):
        return f"{where}: {creates} missing or empty after the block:\n{code}--- stderr:\n{r.stderr}"
    return None


def check_python(where, code, src, build, work):
    """A Python block with the binding from the source tree and the build's
    library, in a fresh network namespace as shell blocks."""
    py = "/usr/bin/python3"
    env = dict(os.environ, PATH=tool_path(build),
               PYTHONPATH=os.path.join(src, "bindings", "python"),
               FLOWKIT_LIBRARY=os.path.join(build, "lib", "libflowkit.so"))
    cc, sanitize = build_compiler(build)
    if "-fsanitize=address,undefined" in sanitize:
        # ctypes loads an ASan-built libflowkit into a Python that is not:
        # the runtime must come first, and Python's own lifetime
        # allocations are not the library's leaks.
        rt = subprocess.run([cc, "-print-file-name=libclang_rt.asan-x86_64.so"],
                            capture_output=True, text=True).stdout.strip()
        env.update(LD_PRELOAD=rt, ASAN_OPTIONS="detect_leaks=0")
    script = os.path.join(work, "snippet.py")
    with open(script, "w") as f:
        f.write(code)
    cmd = ["unshare", "--net", "sh", "-c",
           f'ip link set lo up && exec timeout {TIMEOUT} {py} "$0"', script]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=work, env=env)
    if r.returncode != 0:
        return f"{where}: exited {r.returncode}:\n--- stdout:\n{r.stdout}--- stderr:\n{r.stderr}"
    return None


def doc_files(src):
    return [os.path.join(src, "README.md")] + sorted(
        os.path.join(src, "docs", f) for f in os.listdir(os.path.join(src, "docs"))
        if f.endswith(".md")) + sorted(
        os.path.join(src, "docs", "man", f) for f in os.listdir(os.path.join(src, "docs", "man"))
        if f.endswith(".1"))


def main():
    src, build = sys.argv[1], sys.argv[2]
    files = sys.argv[3:] or doc_files(src)
    if not shutil.which(os.environ.get("CC", "cc")):
        print("SKIP: no C compiler")
        return 77
    can_netns = os.geteuid() == 0 and subprocess.run(
        ["unshare", "--net", "true"], capture_output=True).returncode == 0
    failures, ran, skipped, marked_skip = [], 0, 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            rel = os.path.relpath(path, src)
            work = None  # the directory of this file's last run block
            found = man_blocks(path) if path.endswith(".1") else blocks(path)
            for line, mode, args, lang, code in found:
                where = f"{rel}:{line}"
                if mode is None:
                    print(f"FAIL {where} ({lang}): no snippet marker (run, compile or skip REASON)")
                    failures.append(f"{where}: a {lang} block without a snippet marker; mark it "
                                    "run/compile, or skip with the reason it cannot run")
                    continue
                if mode == "skip":
                    if not args:
                        failures.append(f"{where}: 'snippet: skip' without a reason")
                        print(f"FAIL {where}: skip without a reason")
                        continue
                    marked_skip.append((where, args))
                    print(f"skip {where} ({lang or 'text'}): {args}")
                    continue
                if "continues" not in args.split() or work is None:
                    work = workdir(src, tmp)
                if lang in ("c", ""):
                    params = ""
                    m = re.match(r"\((.*)\)", args)
                    if m:
                        params = m.group(1)
                    err = check_c(where, code, params, mode == "run", src, build, tmp, work)
                elif lang in ("sh", "bash", "python"):
                    if mode != "run":
                        raise SystemExit(f"{where}: a {lang} block is only ever run")
                    if not can_netns:
                        print(f"SKIP {where}: needs root and unshare --net")
                        skipped += 1
                        continue
                    if lang == "python":
                        err = check_python(where, code, src, build, work)
                    else:
                        err = check_sh(where, code, args, src, build, work)
                else:
                    raise SystemExit(f"{where}: no snippet check for language '{lang}'")
                ran += 1
                print(("FAIL " if err else "ok   ") + f"{where} ({mode} {lang or 'c'})")
                if err:
                    failures.append(err)
    for f in failures:
        print("\n" + f)
    reasons = {}
    for _, why in marked_skip:
        reasons[why] = reasons.get(why, 0) + 1
    print(f"{ran} snippets checked, {len(failures)} failed, {skipped} skipped (no netns), "
          f"{len(marked_skip)} marked skip")
    for why, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"  skip x{n}: {why}")
    if ran == 0:
        print("FAIL: no marked snippets found")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
