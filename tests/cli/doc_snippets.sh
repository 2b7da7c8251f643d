#!/bin/bash
# The code blocks of README.md and docs/*.md marked `<!-- snippet: ... -->`
# compile with -Wall -Werror against the build tree (C) or run on a private
# loopback (shell); see tests/cli/doc_snippets.py and docs/conventions.md.
set -u
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
exec "$PY" "$FLOWKIT_SOURCE_DIR/tests/cli/doc_snippets.py" "$FLOWKIT_SOURCE_DIR" "$FLOWKIT_BUILD_DIR"
