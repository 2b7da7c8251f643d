# Shared by the flowkit-collect tests that talk to its HTTP API
# (collect_senders.sh, collect_prefix_stats.sh). The caller sets B (the
# flowkit-collect binary), T (scratch dir) and fail(), and traps EXIT to
# kill $PID.

# start_collect ARGS...: flowkit-collect listening on a free UDP port of
# 127.0.0.1 with its console on another, stderr in $T/err; sets PID, P (the
# UDP port) and URL (the console) once both are listening, or fails.
start_collect() {
    "$B" -l udp://127.0.0.1:0 --http 127.0.0.1:0 "$@" 2>"$T/err" &
    PID=$!
    P= URL=
    for _ in $(seq 200); do
        P=$(grep -o 'listening on udp://127.0.0.1:[0-9]*' "$T/err" | sed 's/.*://')
        URL=$(grep -o 'console at http://[^ ]*' "$T/err" | sed 's/console at //')
        [ -n "$P" ] && [ -n "$URL" ] && return 0
        sleep 0.05
    done
    fail "collector did not start"
}
