# The preamble every tests/cli/*.sh script shares. Source it right after
# `set -u`:
#     . "$FLOWKIT_SOURCE_DIR/tests/cli/cli_lib.bash"
# It gives:
#   FK_COLLECT FK_EXPORT FK_IPFIX FK_TOP FK_PCAPGEN  the built tools
#   PY    /usr/bin/python3 (need_py skips without it)
#   T     a scratch directory of the test's own, removed at exit
#   PID   empty; set it to the pid of the one background process the test
#         started (PIDS for more): each is killed at exit, nothing else is
#   fail MSG...   print FAIL and MSG, the tail of $T/err if there is one,
#                 and exit 1
#   need_py, need_exec FILE...   skip (exit 77) loudly when missing
#   wait_for SECS CMD...          until CMD succeeds, at most SECS seconds
#   listen_port FILE SCHEME       the port a collector says it listens on
# A test that must undo more at exit defines cleanup_extra().

FK_COLLECT="$FLOWKIT_BUILD_DIR/cli/flowkit-collect/flowkit-collect"
FK_EXPORT="$FLOWKIT_BUILD_DIR/cli/flowkit-export/flowkit-export"
FK_IPFIX="$FLOWKIT_BUILD_DIR/cli/flowkit-ipfix/flowkit-ipfix"
FK_TOP="$FLOWKIT_BUILD_DIR/cli/flowkit-top/flowkit-top"
FK_PCAPGEN="$FLOWKIT_BUILD_DIR/tests/tools/fk_pcapgen"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/flowkit-cli.XXXXXX) || {
    echo "FAIL: mktemp"
    exit 1
}
PID=
PIDS=()

cli_cleanup() {
    if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
    [ -n "$PID" ] && kill "$PID" 2>/dev/null
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cli_cleanup EXIT

fail() {
    echo "FAIL: $*"
    [ -s "$T/err" ] && tail -5 "$T/err"
    exit 1
}

need_py() {
    [ -x "$PY" ] || {
        echo "SKIP: $PY missing"
        exit 77
    }
}

need_exec() {
    local f
    for f in "$@"; do
        [ -x "$f" ] || {
            echo "SKIP: $f not built"
            exit 77
        }
    done
}

# wait_for SECS CMD...: until CMD succeeds, at most SECS seconds (no timing
# thresholds: every wait is on a condition, bounded generously).
wait_for() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -ge $end ] && return 1
        sleep 0.05
    done
}

# listen_port FILE SCHEME: print the port of the first complete "listening
# on SCHEME://127.0.0.1:PORT" line a collector wrote to FILE (read skips a
# last line still being written, without its newline), waiting up to 10 s
# for it; status 1 if it never came. Use:
#     P=$(listen_port "$T/err" udp) || fail "collector did not start"
listen_port() {
    local l _
    for _ in $(seq 200); do
        if [ -f "$1" ]; then
            while IFS= read -r l; do
                case $l in
                *"listening on $2://127.0.0.1:"[0-9]*)
                    echo "${l##*:}"
                    return 0
                    ;;
                esac
            done <"$1"
        fi
        sleep 0.05
    done
    return 1
}
