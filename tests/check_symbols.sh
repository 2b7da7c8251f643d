#!/bin/bash
# The shared library exports only fk_* functions and data (plus the version node).
set -euo pipefail
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
bad=$(echo "$syms" | grep -v -e '^fk_' -e '^FLOWKIT_[0-9]*$' -e '^$' || true)
count=$(echo "$syms" | grep -c '^fk_' || true)
if [ -n "$bad" ]; then
    echo "symbols exported by $lib that are not fk_*:"
    echo "$bad"
    exit 1
fi
if echo "$syms" | grep -q '^fk__'; then
    echo "internal fk__ symbols leaked from $lib:"
    echo "$syms" | grep '^fk__'
    exit 1
fi
# strerror() may share one buffer between threads; the library runs worker
# threads, so it uses strerror_r (fk__strerror_r) everywhere.
if nm -D --undefined-only "$lib" | awk '{print $2}' | sed 's/@.*//' | grep -qx strerror; then
    echo "$lib calls strerror(); use fk__strerror_r (thread-safe)"
    exit 1
fi
echo "ok: $count exported symbols, all fk_*; no strerror()"
