#!/bin/bash
# Network-namespace helpers for integration tests. Source this file:
#
#   . "$FLOWKIT_SOURCE_DIR/scripts/netns.sh"
#   fk_netns_require_root                 # exit 77 (skip) loudly when not possible
#   fk_netns_add NAME N                   # netns NAME + veth pair, subnet N (1..254)
#   fk_netns_exec NAME cmd...             # run inside
#   fk_netns_del NAME                     # remove early (else done at exit)
#
# fk_netns_add N creates the namespace NAME and a veth pair:
#   host side  "${NAME}h"  10.213.N.1/24  fd00:213:N::1/64
#   ns side    "veth0"     10.213.N.2/24  fd00:213:N::2/64   (plus lo up)
# IPv6 addresses skip duplicate address detection, so they work at once.
# NAME must be at most 14 characters (interface names are limited to 15);
# include $$ in it so parallel runs do not clash. Everything created is
# registered and removed by an EXIT/INT/TERM trap even when the test fails;
# fk_netns_on_exit CMD adds more cleanup (e.g. killing a background pid).
# Nothing here changes the host's sysctls or routes beyond the /24 and /64
# of each veth.

FK_NETNS_LIST=()
FK_NETNS_EXIT_CMDS=()

fk_netns_log() { echo "netns: $*" >&2; }

fk_netns_require_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "################################################################" >&2
        echo "SKIP: $(basename "$0") needs root (network namespaces, veth, libpcap)" >&2
        echo "################################################################" >&2
        exit 77
    fi
    if ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
        echo "SKIP: $(basename "$0"): 'ip netns' is not available" >&2
        exit 77
    fi
}

fk_netns_cleanup() {
    local rc=$?
    local cmd name
    for cmd in "${FK_NETNS_EXIT_CMDS[@]}"; do
        eval "$cmd" >/dev/null 2>&1 || true
    done
    FK_NETNS_EXIT_CMDS=()
    for name in "${FK_NETNS_LIST[@]}"; do
        ip link del "${name}h" >/dev/null 2>&1 || true
        ip netns del "$name" >/dev/null 2>&1 || true
    done
    FK_NETNS_LIST=()
    return $rc
}

fk_netns_on_exit() {
    FK_NETNS_EXIT_CMDS+=("$1")
}

trap fk_netns_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fk_netns_add() {
    local name=$1 n=$2
    if [ ${#name} -gt 14 ]; then
        fk_netns_log "name '$name' is longer than 14 characters"
        return 1
    fi
    FK_NETNS_LIST+=("$name")
    ip netns add "$name" || return 1
    ip link add "${name}h" type veth peer name "${name}n" || return 1
    ip link set "${name}n" netns "$name" || return 1
    ip -n "$name" link set "${name}n" name veth0 || return 1
    ip -n "$name" link set lo up || return 1
    ip addr add "10.213.$n.1/24" dev "${name}h" || return 1
    ip -6 addr add "fd00:213:$n::1/64" dev "${name}h" nodad || return 1
    ip -n "$name" addr add "10.213.$n.2/24" dev veth0 || return 1
    ip -n "$name" -6 addr add "fd00:213:$n::2/64" dev veth0 nodad || return 1
    ip link set "${name}h" up || return 1
    ip -n "$name" link set veth0 up || return 1
    # Wait until both ends report carrier (veth is up once both sides are).
    local i
    for i in $(seq 1 50); do
        if ip link show "${name}h" | grep -q 'LOWER_UP' &&
            ip -n "$name" link show veth0 | grep -q 'LOWER_UP'; then
            return 0
        fi
        sleep 0.1
    done
    fk_netns_log "veth ${name}h did not come up"
    return 1
}

fk_netns_exec() {
    local name=$1
    shift
    ip netns exec "$name" "$@"
}

fk_netns_del() {
    local name=$1 keep=() x
    ip link del "${name}h" >/dev/null 2>&1 || true
    ip netns del "$name" >/dev/null 2>&1 || true
    for x in "${FK_NETNS_LIST[@]}"; do
        [ "$x" != "$name" ] && keep+=("$x")
    done
    FK_NETNS_LIST=("${keep[@]}")
}

# Print a subnet number N (1..254) whose 10.213.N.0/24 is not on any
# interface now; starts from a number derived from the pid.
fk_netns_free_subnet() {
    local start=$((($$ % 200) + 20)) i n
    for i in $(seq 0 253); do
        n=$(((start + i - 1) % 254 + 1))
        if ! ip -4 addr show | grep -q "inet 10\.213\.$n\."; then
            echo "$n"
            return 0
        fi
    done
    return 1
}
