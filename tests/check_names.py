#!/usr/bin/env python3
"""Check the public headers against the naming and shape rules of
docs/conventions.md (the rules marked "checked").

    check_names.py INCLUDE_DIR            exit 1 and list violations, if any
    check_names.py --expect RULES DIR     exit 0 only if the headers in DIR
                                          break exactly the comma-separated
                                          RULES (proves each rule can fail)
"""

import glob
import os
import re
import sys

# Verbs allowed after the object prefix (docs/conventions.md, "Naming").
VERB = re.compile(
    r"^(?:create|destroy|activate|dispatch|run|break|stop|flush|poll|drain|feed|reopen"
    r"|begin|next|finish|withdraw|rank|next_timeout_ms|params|name|format|encode_bound"
    r"|json_size|record_begin|record_end|advance|search|compile|match"
    r"|(?:set|get)(?:_[a-z0-9]+)+"  # a getter or setter names what it reads or sets
    r"|(?:add|clear|put|write|find|lookup|parse|decode|drop|forget|register|to)"
    r"(?:_[a-z0-9]+)*)$"
)

# Names that predate the rules; this list only shrinks.
LEGACY = {
    "fk_strerror",  # libc's strerror
    "fk_error_last",  # DESIGN.md contract
    "fk_version_string",
    "fk_version_number",
}

# Module prefixes that are not types.
MODULES = {"fk_ipfix", "fk_json_string", "fk_log", "fk_version", "fk_time", "fk_param", "fk_error", "fk"}

RULES = {
    "verb": "function name is not fk_<object>_<allowed verb>",
    "free": "release functions are _destroy, never _free",
    "cb-name": "callback type is not named fk_<what>_cb",
    "cb-user": "callback does not take `void *user` last",
    "cb-pair": "callback parameter is not followed by `void *user` as the last pair",
    "handle-first": "the handle the function is named for is not its first argument",
    "outputs-last": "an input comes after an output",
    "sized": "a filled stats struct is not followed by `size_t size`",
    "event-loop": "fd/timeout getters are not `int fk_X_get_fd(const fk_X *)` + "
    "`int fk_X_next_timeout_ms(const fk_X *)`",
    "since": "declaration has no @since",
    "param-doc": "@param lines are not in the declaration's order",
}


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def split_params(args):
    args = " ".join(args.split())
    if args in ("", "void"):
        return []
    out, depth, cur = [], 0, ""
    for c in args:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    out.append(cur.strip())
    return out


def param_type_name(p):
    """('const fk_x *', 'name') from 'const fk_x *name'."""
    m = re.match(r"^(.*?)(\w+)$", p)
    if not m or not re.search(r"[\w*]\s*$", m.group(1)):
        return p, ""
    return m.group(1).strip(), m.group(2)


def parse(paths):
    protos, cbtypes, types, since_missing, doc_order = [], [], set(), [], []
    for path in paths:
        raw = open(path).read()
        # @since: every FK_API declaration and typedef has one in the comment
        # right before it.
        for m in re.finditer(r"(/\*\*(?:(?!\*/).)*\*/)?\s*(FK_API[^;]*;|typedef[^;]*;)", raw, re.S):
            doc, decl = m.group(1) or "", m.group(2)
            name = re.search(r"\b(fk_\w+)\s*(?:\(|;|\)\s*\()", decl)
            if decl.startswith("typedef") and re.search(r"\}\s*\w+\s*;\s*$", decl):
                continue  # struct/enum typedef: its doc is above the typedef keyword
            if "@since" not in doc and name:
                since_missing.append((os.path.basename(path), name.group(1)))
            documented = re.findall(r"@param(?:\[\w+\])?\s+(\w+)", doc)
            pm = re.search(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*;\s*$", decl)
            if name and pm and documented:
                declared = [param_type_name(p)[1] for p in split_params(pm.group(1))]
                if sorted(documented) == sorted(declared) and documented != declared:
                    doc_order.append((os.path.basename(path), name.group(1)))
        text = strip_comments(raw)
        types |= set(re.findall(r"\}\s*(fk_\w+)\s*;", text))
        types |= set(re.findall(r"typedef\s+(?:struct|enum)\s+\w+\s+(fk_\w+)\s*;", text))
        for m in re.finditer(r"FK_API\s+([^;{]*?)\b(fk_\w+)\s*\(([^;]*?)\)\s*;", text, re.S):
            protos.append((os.path.basename(path), " ".join(m.group(1).split()), m.group(2),
                           split_params(m.group(3))))
        for m in re.finditer(r"typedef\s+([^;(]*?)\(\s*\*\s*(\w+)\s*\)\s*\(([^;]*)\)\s*;", text, re.S):
            cbtypes.append((os.path.basename(path), m.group(2), split_params(m.group(3))))
    return protos, cbtypes, types, since_missing, doc_order


def check(include_dir):
    paths = sorted(glob.glob(os.path.join(include_dir, "*.h")) +
                   glob.glob(os.path.join(include_dir, "*.h.in")))
    protos, cbtypes, types, since_missing, doc_order = parse(paths)
    names = {p[2] for p in protos}
    handles = {t for t in types if f"{t}_create" in names}
    cbnames = {c[1] for c in cbtypes}
    prefixes = sorted(types | MODULES, key=len, reverse=True)
    bad = []

    def fail(rule, where, detail):
        bad.append((rule, where, detail))

    for hdr, name in since_missing:
        fail("since", hdr, name)
    for hdr, name in doc_order:
        fail("param-doc", hdr, name)

    for hdr, cb, params in cbtypes:
        if not cb.startswith("fk_"):
            continue
        if not cb.endswith("_cb"):
            fail("cb-name", hdr, cb)
        if not params or param_type_name(params[-1]) != ("void *", "user"):
            fail("cb-user", hdr, cb)

    for hdr, ret, name, params in protos:
        where = f"{hdr}: {name}"
        if name not in LEGACY:
            prefix = next((p for p in prefixes if name.startswith(p + "_")), None)
            rest = name[len(prefix) + 1:] if prefix else name
            if not VERB.match(rest):
                fail("verb", where, f"'{rest}' after '{prefix}'")
        if re.search(r"_free(_|$)", name):
            fail("free", where, name)

        typed = [param_type_name(p) for p in params]
        # Callback pairs.
        for i, (t, n) in enumerate(typed):
            if t in cbnames or t.endswith("_cb"):
                if i + 2 != len(typed) or typed[i + 1] != ("void *", "user"):
                    fail("cb-pair", where, f"{t} {n}")

        # The handle named by the function comes first.
        handle = next((h for h in sorted(handles, key=len, reverse=True)
                       if name.startswith(h + "_")), None)
        create = handle and name == f"{handle}_create"
        if handle:
            pos = [i for i, (t, _) in enumerate(typed)
                   if re.fullmatch(rf"(const )?{handle} \*{{1,2}}", t)]
            if pos and pos[0] != 0:
                fail("handle-first", where, f"{handle} is argument {pos[0] + 1}")

        # Outputs last.
        def is_output(i, t, n):
            if i == 0 and handle and re.fullmatch(rf"(const )?{handle} \*{{1,2}}", t):
                return False  # the receiver (or, for create, the new handle)
            if "*" not in t:
                return False
            if t == "void *" and n == "user":
                return False
            base = re.sub(r"^const\s+", "", t).rstrip(" *")
            if base in handles and t.count("*") == 1:
                return False  # a borrowed handle passed in
            # A non-const pointer (or pointer to pointer) is written through.
            return not t.startswith("const ") or t.count("*") == 2

        seen_output = None
        for i, (t, n) in enumerate(typed):
            out = is_output(i, t, n)
            if out:
                seen_output = n
            elif seen_output is not None:
                size_pair = t == "size_t" and n in ("size", "capacity")
                if not size_pair:
                    fail("outputs-last", where, f"input '{n}' after output '{seen_output}'")

        # Versioned stats structs.
        for i, (t, n) in enumerate(typed):
            if re.fullmatch(r"fk_\w+_stats \*", t):
                if i + 1 >= len(typed) or typed[i + 1] != ("size_t", "size"):
                    fail("sized", where, f"{t}{n} without size_t size")

    # Event loop getters.
    for h in sorted(handles):
        fd = next((p for p in protos if p[2] in (f"{h}_get_fd", f"{h}_fd")), None)
        to = next((p for p in protos if p[2] == f"{h}_next_timeout_ms"), None)
        if not fd and not to:
            continue
        ok = all(p and p[1] == "int" and len(p[3]) == 1
                 and param_type_name(p[3][0])[0] == f"const {h} *" for p in (fd, to))
        if not ok or fd[2] != f"{h}_get_fd":
            fail("event-loop", h, "get_fd/next_timeout_ms")

    return bad, len(protos), len(cbtypes)


def main(argv):
    if len(argv) == 4 and argv[1] == "--expect":
        want = set(argv[2].split(","))
        bad, _, _ = check(argv[3])
        got = {b[0] for b in bad}
        for b in bad:
            print("expected violation: [%s] %s: %s" % b)
        if got != want:
            print(f"FAIL: rules broken {sorted(got)}, expected {sorted(want)}")
            return 1
        print(f"ok: every rule in {sorted(want)} detected")
        return 0
    if len(argv) != 2:
        print(__doc__)
        return 2
    bad, nfun, ncb = check(argv[1])
    for rule, where, detail in bad:
        print(f"[{rule}] {where}: {detail} ({RULES[rule]})")
    if bad:
        print(f"FAIL: {len(bad)} violation(s) of docs/conventions.md")
        return 1
    if nfun < 100:
        print(f"FAIL: only {nfun} prototypes parsed; the parser is broken")
        return 1
    print(f"ok: {nfun} functions and {ncb} callback types follow docs/conventions.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
