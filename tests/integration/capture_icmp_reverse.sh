#!/bin/bash
# ICMP biflows keep the reverse direction's own type and code: known ICMP
# between the host and a netns (echo and timestamp requests over IPv4,
# echo over ICMPv6, a port unreachable that goes one way) captured live by
# flowkit-export on the veth. Its JSON (--stdout) and what flowkit-collect
# decodes from its IPFIX (--biflow: the RFC 5103 reverse icmpTypeCode)
# both say rev_icmp_type/rev_icmp_code of the reply, and nothing for the
# one-way unreachable. With the default uniflow export, the reply record
# itself carries the reply's type.
set -uo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
PY=/usr/bin/python3
. "$SRC/scripts/netns.sh"
fk_netns_require_root
EXP=$BUILD/cli/flowkit-export/flowkit-export
COL=$BUILD/cli/flowkit-collect/flowkit-collect
[ -x "$EXP" ] && [ -x "$COL" ] || { echo "SKIP: the CLIs are not built" >&2; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
W=$(mktemp -d /tmp/fk_icmp.XXXXXX)
fk_netns_on_exit "rm -rf '$W'"

NS=fkic$$
N=$(fk_netns_free_subnet) || fail "no free subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h

run_once() { # run_once NAME EXPORT-OPTION
    local name=$1 mode=$2
    "$COL" -l udp://127.0.0.1:0 -o "jsonl:$W/$name.col.jsonl" 2>"$W/$name.col.err" &
    local cpid=$!
    fk_netns_on_exit "kill -9 $cpid"
    local port=
    for _ in $(seq 100); do
        port=$(grep -o 'listening on udp://127.0.0.1:[0-9]*' "$W/$name.col.err" | sed 's/.*://')
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || fail "$name: collector did not start: $(cat "$W/$name.col.err")"
    "$EXP" -i "$IF" --flows --events none --attribution off "$mode" --stdout \
        -c "udp://127.0.0.1:$port" >"$W/$name.exp.jsonl" 2>"$W/$name.exp.err" &
    local epid=$!
    fk_netns_on_exit "kill -9 $epid"
    for _ in $(seq 100); do
        grep -q 'attribution\|capturing\|listening' "$W/$name.exp.err" && break
        sleep 0.05
    done
    sleep 0.5
    got=$("$PY" "$SRC/tests/integration/icmp_send.py" "10.213.$N.2" "fd00:213:$N::2") ||
        fail "$name: sender"
    echo "$name: answers by type $got"
    kill -TERM "$epid"
    wait "$epid" || fail "$name: flowkit-export exit $?: $(tail -3 "$W/$name.exp.err")"
    sleep 0.3
    kill -TERM "$cpid"
    wait "$cpid" || fail "$name: flowkit-collect exit $?"
}

# flow FILE JQ-CONDITION: how many flow lines match
flows() { jq -c "select(.type==\"flow\" and ($2))" "$1" | wc -l; }

run_once bi --biflow
case " $got " in *" 0:2 "*) ;; *) fail "no echo replies: $got" ;; esac
H4="10.213.$N.1" D4="10.213.$N.2" D6="fd00:213:$N::2"
for f in "$W/bi.exp.jsonl" "$W/bi.col.jsonl"; do
    what=$(basename "$f")
    [ "$(flows "$f" ".proto==1 and .src_addr==\"$H4\" and .dst_port==2048 and .packets==2 and .rev_packets==2 and .rev_icmp_type==0 and .rev_icmp_code==0")" = 1 ] ||
        fail "$what: IPv4 echo biflow without the reply's type 0: $(jq -c 'select(.proto==1)' "$f")"
    if [ "$(echo "$got" | grep -c '14:')" = 1 ]; then
        [ "$(flows "$f" ".proto==1 and .dst_port==3328 and .rev_icmp_type==14 and .rev_icmp_code==0")" = 1 ] ||
            fail "$what: timestamp biflow without the reply's type 14: $(jq -c 'select(.proto==1)' "$f")"
    fi
    [ "$(flows "$f" ".proto==58 and .dst_addr==\"$D6\" and .dst_port==32768 and .rev_packets==2 and .rev_icmp_type==129 and .rev_icmp_code==0")" = 1 ] ||
        fail "$what: ICMPv6 echo biflow without the reply's type 129: $(jq -c 'select(.proto==58)' "$f")"
    [ "$(flows "$f" ".proto==1 and .src_addr==\"$D4\" and .dst_port==771 and (has(\"rev_icmp_type\")|not)")" = 1 ] ||
        fail "$what: the one-way port unreachable: $(jq -c 'select(.proto==1)' "$f")"
done

# Uniflow (the default): one record per direction, the reply's own type.
run_once uni --uniflow
f=$W/uni.col.jsonl
[ "$(flows "$f" ".proto==1 and .src_addr==\"$D4\" and .dst_addr==\"$H4\" and .dst_port==0 and .packets==2")" = 1 ] ||
    fail "uniflow: no echo reply record: $(jq -c 'select(.proto==1)' "$f")"
[ "$(flows "$f" ".proto==58 and .src_addr==\"$D6\" and .dst_port==33024 and .packets==2")" = 1 ] ||
    fail "uniflow: no ICMPv6 echo reply record: $(jq -c 'select(.proto==58)' "$f")"
[ "$(flows "$f" 'has("rev_icmp_type")')" = 0 ] || fail "uniflow records carry a reverse type"
echo "ok: reverse ICMP type/code in flowkit-export's JSON, on the wire (--biflow) and per direction (uniflow)"
