# Shared by the proc integration tests (sourced; not a test itself).
# Makes a netns + veth with unique names and addresses, starts peers, and
# cleans everything up on exit, also on failure.
PY=/usr/bin/python3
PEERS="$FLOWKIT_SOURCE_DIR/tests/integration/proc_peers.py"
PROBE="$FLOWKIT_BUILD_DIR/tests/tools/proc_probe"

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "!!! SKIP: $1 needs root (netns + veth); run as root to test process attribution" >&2
        exit 77
    fi
}

PIDS=()
WORK=$(mktemp -d)
NS=fkp$$
VH=fkph$$
VN=fkpn$$
OCT=$(($$ % 200 + 20))
H4=10.213.$OCT.1
N4=10.213.$OCT.2
H6=fd00:213:0:$OCT::1
N6=fd00:213:0:$OCT::2

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    ip link del "$VH" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

make_netns() {
    ip netns add "$NS" &&
        ip link add "$VH" type veth peer name "$VN" &&
        ip link set "$VN" netns "$NS" &&
        ip addr add "$H4/24" dev "$VH" &&
        ip -6 addr add "$H6/64" dev "$VH" nodad &&
        ip link set "$VH" up &&
        ip -n "$NS" addr add "$N4/24" dev "$VN" &&
        ip -n "$NS" -6 addr add "$N6/64" dev "$VN" nodad &&
        ip -n "$NS" link set "$VN" up &&
        ip -n "$NS" link set lo up || {
        echo "cannot create netns/veth" >&2
        exit 1
    }
    # nodad: the IPv6 addresses are usable at once; ARP/ND resolve on first use.
    sleep 0.2
}

# start_server WHERE(host|ns) PROTO ADDR PORT: background server, waits for "ready".
start_server() {
    local where=$1 out="$WORK/srv.$2.$3.$4"
    shift
    : >"$out"
    if [ "$where" = ns ]; then
        ip netns exec "$NS" $PY "$PEERS" server "$@" >"$out" 2>&1 &
    else
        $PY "$PEERS" server "$@" >"$out" 2>&1 &
    fi
    PIDS+=($!)
    local i
    for i in $(seq 50); do
        grep -q ready "$out" && return 0
        sleep 0.1
    done
    echo "server $* did not start: $(cat "$out")" >&2
    exit 1
}

# free_port tcp|udp: a port free on every address of the host (dual-stack
# wildcard), so that parallel or repeated runs do not clash.
free_port() {
    $PY -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 0))
print(s.getsockname()[1])' "$1"
}

# hold WHERE(host|ns) PROTO SRC DST PORT: a client that keeps its socket
# (proc_peers.py hold) until the test exits; sets HPID HPORT.
hold() {
    local where=$1 fifo="$WORK/in.$RANDOM$RANDOM" out="$WORK/hold.$RANDOM$RANDOM"
    shift
    mkfifo "$fifo"
    if [ "$where" = ns ]; then
        ip netns exec "$NS" $PY "$PEERS" hold "$@" <"$fifo" >"$out" 2>&1 &
    else
        $PY "$PEERS" hold "$@" <"$fifo" >"$out" 2>&1 &
    fi
    PIDS+=($!)
    exec {fd}>"$fifo" # keeps the client's stdin open until we exit
    local i
    for i in $(seq 50); do
        [ -s "$out" ] && break
        sleep 0.1
    done
    read -r HPID HPORT <"$out"
    HPORT=${HPORT:-0}
}
