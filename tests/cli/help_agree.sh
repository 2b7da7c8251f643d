#!/bin/bash
# --help, the man pages and the docs agree for every tool, and --version is
# printed the same way by all four (tests/cli/help_agree.py).
set -u
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
exec "$PY" "$FLOWKIT_SOURCE_DIR/tests/cli/help_agree.py" "$FLOWKIT_SOURCE_DIR" "$FLOWKIT_BUILD_DIR"
