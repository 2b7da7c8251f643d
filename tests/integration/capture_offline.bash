# Shared by the offline replay tests (capture_replay_*.sh; sourced, not a test
# itself): checks for the pcap generator, makes WORK (removed on exit) and
# builds examples/capture_flows against the build tree into WORK.
# Usage: source this file, then `capture_offline_setup NAME [TOOL...]`; a
# missing TOOL makes the test skip. Sets SRC, BUILD, PY, GEN, WORK.
set -uo pipefail

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

capture_offline_setup() {
    local name=$1 t
    shift
    SRC=${FLOWKIT_SOURCE_DIR:?}
    BUILD=${FLOWKIT_BUILD_DIR:?}
    PY=/usr/bin/python3
    GEN=$BUILD/tests/tools/fk_pcapgen
    [ -x "$GEN" ] || {
        echo "SKIP: $GEN is not built (tests/tools)" >&2
        exit 77
    }
    for t in "$@"; do
        command -v "$t" >/dev/null || {
            echo "SKIP: $t is not installed" >&2
            exit 77
        }
    done
    WORK=$(mktemp -d "/tmp/fk_$name.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
    local libdir=$BUILD/lib
    cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -I"$SRC/include" \
        -I"$BUILD/include" "$SRC/examples/capture_flows.c" -L"$libdir" -lflowkit \
        -Wl,-rpath,"$libdir" -o "$WORK/capture_flows" || fail "cannot build examples/capture_flows.c"
}
