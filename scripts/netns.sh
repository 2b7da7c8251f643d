#!/bin/bash
# Network-namespace helpers for integration tests. Source this file:
#
#   . "$FLOWKIT_SOURCE_DIR/scripts/netns.sh"
#   fk_netns_require_root                 # exit 77 (skip) loudly when not possible
#   fk_netns_add NAME N                   # netns NAME + veth pair, subnet N (1..254)
#   fk_netns_exec NAME cmd...             # run inside
#   fk_netns_del NAME                     # remove early (else done at exit)
#   fk_netns_add_vxlan_pair A B N         # two netns joined by a veth and a vxlan
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

# fk_netns_add_vxlan_pair A B N: netns A and B joined by a veth (va in A,
# vb in B; outer addresses OA=10.213.N.1 and OB=10.213.N.2) and a kernel
# vxlan device vx0 on each end (VNI 4242, port 4789; inner addresses
# IA=10.214.N.1 and IB=10.214.N.2). The four address variables are set for
# the caller. The neighbours over the tunnel are permanent, so no ARP
# exchange travels inside it. Returns 77 (said on stderr) when this kernel
# has no vxlan devices, 1 on any other failure.
fk_netns_add_vxlan_pair() {
    local a=$1 b=$2 n=$3 ns _ amac bmac
    OA=10.213.$n.1 OB=10.213.$n.2 IA=10.214.$n.1 IB=10.214.$n.2
    FK_NETNS_LIST+=("$a" "$b")
    ip netns add "$a" && ip netns add "$b" || return 1
    ip link add va netns "$a" type veth peer name vb netns "$b" || return 1
    for ns in "$a" "$b"; do ip -n "$ns" link set lo up || return 1; done
    ip -n "$a" addr add "$OA/24" dev va && ip -n "$b" addr add "$OB/24" dev vb || return 1
    ip -n "$a" link set va up && ip -n "$b" link set vb up || return 1
    if ! ip -n "$a" link add vx0 type vxlan id 4242 dstport 4789 local "$OA" remote "$OB" dev va; then
        echo "SKIP: no vxlan devices in this kernel" >&2
        return 77
    fi
    ip -n "$b" link add vx0 type vxlan id 4242 dstport 4789 local "$OB" remote "$OA" dev vb ||
        return 1
    ip -n "$a" addr add "$IA/24" dev vx0 && ip -n "$b" addr add "$IB/24" dev vx0 || return 1
    ip -n "$a" link set vx0 up && ip -n "$b" link set vx0 up || return 1
    for _ in $(seq 50); do
        ip -n "$a" link show va | grep -q LOWER_UP && ip -n "$b" link show vb | grep -q LOWER_UP &&
            break
        sleep 0.1
    done
    amac=$(ip netns exec "$a" cat /sys/class/net/vx0/address) &&
        bmac=$(ip netns exec "$b" cat /sys/class/net/vx0/address) || return 1
    ip -n "$a" neigh replace "$IB" lladdr "$bmac" dev vx0 nud permanent &&
        ip -n "$b" neigh replace "$IA" lladdr "$amac" dev vx0 nud permanent
}
