#!/usr/bin/env python3
"""--help, the man pages and the documentation agree for every tool.

For flowkit-top, flowkit-export, flowkit-collect and flowkit-ipfix:
  1. the options --help lists (long and short) are exactly the options the
     man page's OPTIONS section documents, and every --option --help names
     in its prose is one it lists;
  2. every flowkit-* command line in README.md, docs/*.md and the man pages
     (code blocks, inline code, man EXAMPLES and bold spans) uses only
     options that tool's --help lists, and `--set NAME=VALUE` only names
     its --list-params prints;
  3. every peer command of the option maps (`softflowd -x`, `nfcapd -x`,
     `nfdump -x`, `nethogs -x` in inline code) uses flags the peer's own
     help lists (when the peer is installed);
  4. `--version` and `-V` print one line, `TOOL (flowkit) VERSION`, the same
     VERSION for all four, and exit 0.

Usage: help_agree.py SOURCE_DIR BUILD_DIR
Exit 0 when everything agrees, 1 otherwise (each difference is printed).
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

TOOLS = ("flowkit-top", "flowkit-export", "flowkit-collect", "flowkit-ipfix")
PEERS = {"softflowd": ["-h"], "nfcapd": ["-h"], "nfdump": ["-h"], "nethogs": ["-h"]}
LONG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")
HELP_LONG = re.compile(r"^\s+(?:-[A-Za-z0-9],?\s+)?--([a-z][a-z0-9-]*)")
HELP_SHORT = re.compile(r"^\s+-([A-Za-z0-9])(?:[,\s]|$)")
CMD = re.compile(r"(?:^|(?<=[\s|;&(`]))(flowkit-(?:top|export|collect|ipfix)|softflowd|nfcapd|nfdump|nethogs)"
                 r"(?=\s|$)(.*)")
STOP = re.compile(r"\s(?:\||;|&&|&|>|2>|\)|#)(?:\s|$)|`")


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def help_options(text):
    """(long, short) options listed at the start of --help's option lines."""
    longs, shorts = set(), set()
    for line in text.split("\n"):
        m = HELP_LONG.match(line)
        if m:
            longs.add(m.group(1))
        m = HELP_SHORT.match(line)
        if m:
            shorts.add(m.group(1))
    return longs, shorts


def roff(line):
    line = re.sub(r"\\f[BIRP]", "", line)
    return line.replace("\\-", "-").replace("\\(em", "--").replace("\\&", "").replace("\\e", "\\")


def man_options(path):
    """(long, short) options of the OPTIONS section: the tag lines after .TP."""
    lines = open(path, encoding="utf-8").read().split("\n")
    longs, shorts, in_opts = set(), set(), False
    for i, line in enumerate(lines):
        if line.startswith(".SH"):
            in_opts = line.strip() == ".SH OPTIONS"
        if in_opts and line.strip() == ".TP" and i + 1 < len(lines):
            tag = roff(lines[i + 1])
            longs |= set(LONG.findall(tag))
            shorts |= set(re.findall(r"(?:^|[\s,])-([A-Za-z0-9])\b(?!-)", tag))
    return longs, shorts


def doc_commands(src):
    """(where, text) of every place a command may be written."""
    files = [os.path.join(src, "README.md")]
    files += sorted(os.path.join(src, "docs", f) for f in os.listdir(os.path.join(src, "docs"))
                    if f.endswith(".md"))
    mans = sorted(os.path.join(src, "docs", "man", f)
                  for f in os.listdir(os.path.join(src, "docs", "man")) if f.endswith(".1"))
    for path in files:
        rel = os.path.relpath(path, src)
        text = open(path, encoding="utf-8").read()
        in_code = False
        lines = text.split("\n")
        k = 0
        while k < len(lines):
            line = lines[k]
            if re.match(r"^\s*(```|~~~)", line):
                in_code = not in_code
                k += 1
                continue
            if in_code:
                while line.endswith("\\") and k + 1 < len(lines):
                    k += 1
                    line = line[:-1] + " " + lines[k].strip()
                yield f"{rel}:{k + 1}", line
            else:
                for span in re.findall(r"`([^`]+)`", line):
                    yield f"{rel}:{k + 1}", span
            k += 1
    for path in mans:
        rel = os.path.relpath(path, src)
        lines = open(path, encoding="utf-8").read().split("\n")
        in_nf = False
        for k, line in enumerate(lines):
            s = line.strip()
            if s in (".nf", ".fi"):
                in_nf = s == ".nf"
                continue
            if in_nf:
                yield f"{rel}:{k + 1}", roff(line)
            else:
                for span in re.findall(r"\\fB(flowkit-[^\\]*(?:\\-[^\\]*)*)\\fR", line):
                    yield f"{rel}:{k + 1}", roff(span)


def words(rest):
    """The arguments of one command: up to the next pipe, separator or
    redirection, split as the shell would (quotes kept together)."""
    m = STOP.search(rest)
    if m:
        rest = rest[:m.start()]
    try:
        return shlex.split(rest, comments=False)
    except ValueError:
        return rest.split()


def main():
    src, build = sys.argv[1], sys.argv[2]
    bins = {t: os.path.join(build, "cli", t, t) for t in TOOLS}
    fails = []
    opts, params, versions = {}, {}, {}
    for tool, exe in bins.items():
        if not os.access(exe, os.X_OK):
            print(f"FAIL {tool}: {exe} missing")
            return 1
        rc, out, err = run([exe, "--help"])
        if rc != 0:
            fails.append(f"{tool} --help exits {rc}")
        longs, shorts = help_options(out)
        if "fk__" in out:
            fails.append(f"{tool} --help shows an internal name (fk__...)")
        mentioned = set(LONG.findall(out))
        for o in sorted(mentioned - longs):
            fails.append(f"{tool} --help names --{o} but does not list it")
        man_l, man_s = man_options(os.path.join(src, "docs", "man", tool + ".1"))
        for o in sorted(longs - man_l):
            fails.append(f"{tool}: --{o} is in --help, not in the man page's OPTIONS")
        for o in sorted(man_l - longs):
            fails.append(f"{tool}: --{o} is in the man page's OPTIONS, not in --help")
        for o in sorted(shorts - man_s):
            fails.append(f"{tool}: -{o} is in --help, not in the man page's OPTIONS")
        for o in sorted(man_s - shorts):
            fails.append(f"{tool}: -{o} is in the man page's OPTIONS, not in --help")
        opts[tool] = (longs, shorts)
        print(f"ok   {tool}: {len(longs)} long and {len(shorts)} short options in --help, "
              f"{len(man_l)} and {len(man_s)} in the man page")
        rc, out, _ = run([exe, "--list-params"])
        if "fk__" in out:
            fails.append(f"{tool} --list-params shows an internal name (fk__...)")
        names = set()
        for line in out.split("\n") if rc == 0 else []:
            name = line.split("\t", 1)[0]
            if name:
                names.add(name)
                names.add(name.split(".", 1)[-1])
        params[tool] = names
        for flag in ("--version", "-V"):
            rc, out, err = run([exe, flag])
            lines = out.rstrip("\n").split("\n")
            m = re.fullmatch(re.escape(tool) + r" \(flowkit\) (\d+\.\d+\.\d+\S*)", lines[0])
            if rc != 0 or len(lines) != 1 or not m or err:
                fails.append(f"{tool} {flag}: want one line '{tool} (flowkit) VERSION' and exit 0, "
                             f"got exit {rc}: {out!r} {err!r}")
            else:
                versions.setdefault(m.group(1), []).append(f"{tool} {flag}")
    if len(versions) != 1:
        fails.append(f"--version differs between tools: {versions}")
    else:
        print(f"ok   --version and -V: '{{tool}} (flowkit) {next(iter(versions))}' for all four")

    peer_help = {}
    for peer, args in PEERS.items():
        if shutil.which(peer):
            rc, out, err = run([peer] + args)
            peer_help[peer] = out + err
    checked = 0
    for where, text in doc_commands(src):
        for m in CMD.finditer(text):
            cmd, argv = m.group(1), words(m.group(2))
            if cmd in PEERS:
                if cmd not in peer_help:
                    continue
                for w in argv:
                    if re.fullmatch(r"-[A-Za-z0-9]", w) and not re.search(
                            r"(?:^|[\s\[|])" + re.escape(w) + r"\b", peer_help[cmd], re.M):
                        fails.append(f"{where}: {cmd} has no {w} ({cmd} -h): {text.strip()}")
                checked += 1
                continue
            longs, shorts = opts[cmd]
            for i, w in enumerate(argv):
                if w == "--":
                    break
                if w.startswith("--") and len(w) > 2:
                    name = w[2:].split("=", 1)[0]
                    if name not in longs:
                        fails.append(f"{where}: {cmd} has no --{name}: {text.strip()}")
                    if name == "set" and i + 1 < len(argv):
                        pname = argv[i + 1].split("=", 1)[0]
                        if pname not in params[cmd] and not pname.isupper():
                            fails.append(f"{where}: {cmd} --set {pname}: not in --list-params")
                elif re.fullmatch(r"-[A-Za-z0-9]", w) and w[1] not in shorts:
                    fails.append(f"{where}: {cmd} has no {w}: {text.strip()}")
            checked += 1
    print(f"ok   {checked} command lines in README.md, docs/ and the man pages checked" if not fails
          else f"     {checked} command lines checked")
    for f in fails:
        print("FAIL " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
