# Shared by the flowkit-export TCP tests (export_tcp_kill.sh,
# export_tcp_restart.sh): a server whose accepted connections make the SYN
# events, connections from known client ports, and a wait until the sink
# has every port. The caller defines PY, SPORT, W (scratch dir; the sink
# writes "$W/sink.txt") and inns() (run in the exporter's namespace), and
# has sourced scripts/netns.sh.

# start_syn_server NS: a TCP server on 127.0.0.1:$SPORT in NS that accepts
# and closes; killed on exit.
start_syn_server() {
    ip netns exec "$1" $PY -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $SPORT)); s.listen(512)
while True:
    c, _ = s.accept(); c.close()
" &
    SERVER=$!
    fk_netns_on_exit "kill $SERVER"
}

# connect N BASE: N connections to the server from client ports BASE,
# BASE+1, ... (distinct in the whole test, so every event is known by its
# port); prints the ports.
connect() {
    inns $PY -c "
import socket, time
for port in range($2, $2 + $1):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind(('127.0.0.1', port))
    c.connect(('127.0.0.1', $SPORT))
    print(port); c.close(); time.sleep(0.002)
"
}

# wait_ports FILE SECONDS: until every port in FILE arrived at the sink.
wait_ports() {
    for _ in $(seq $(($2 * 10))); do
        $PY - "$1" "$W/sink.txt" <<'PY' && return 0
import sys
want = set(open(sys.argv[1]).read().split())
got = set(l.split()[2] for l in open(sys.argv[2]))
sys.exit(0 if want <= got else 1)
PY
        sleep 0.1
    done
    return 1
}
