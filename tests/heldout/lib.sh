# shellcheck shell=bash
# Held-out capture scenarios for tcpguard's end causes (independent of
# tests/scenarios).  Every script sources this file.
#
# Two topologies, namespaces named tgh-<name>-*:
#   th_init2 <name>  client ns -c (veth-c 10.93.0.1/24 fd00:93::1/64)
#                    server ns -s (veth-s 10.93.0.2/24 fd00:93::2/64)
#   th_init3 <name>  client ns -c (veth-c 10.93.1.1/24, fd00:93::1/128)
#                    router ns -r (veth-rc 10.93.1.254, veth-rs 10.93.2.254,
#                                  fe80::fe on both, forwarding on)
#                    server ns -s (veth-s 10.93.2.1/24, fd00:93::2/128)
#     IPv6 stays inside fd00:93::/64: hosts have /128s, routed over link-local.
# Static neighbours, offloads off, no DAD.  Captures: th_cap_start <ns-suffix>
# <dev> <name> [filter] ... th_cap_stop; the pcap goes to tests/heldout/.
# Truth: th_truth <line> appends to the capture's .truth (written by the
# script from the situation it drives, never from tcpguard).

set -euo pipefail

TH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TH_PY=${TH_PY:-/usr/bin/python3}
TH_DRIVE=$TH_DIR/drive.py

TH_NAME= TH_NSC= TH_NSS= TH_NSR= TH_WORK= TH_CAP_PID= TH_CAP_TMP= TH_CAP_LOG= TH_CAP_OUT=
TH_PIDS=()
TH_TOPO=

th_log() { printf '[%s] %s\n' "${TH_NAME:-tgh}" "$*" >&2; }
th_die() { th_log "ERROR: $*"; exit 1; }

th_cleanup() {
    local rc=$? p
    set +e
    for p in "${TH_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    if [ -n "$TH_CAP_PID" ]; then kill -INT "$TH_CAP_PID" 2>/dev/null; wait "$TH_CAP_PID" 2>/dev/null; fi
    for p in "$TH_NSC" "$TH_NSR" "$TH_NSS"; do [ -n "$p" ] && ip netns del "$p" 2>/dev/null; done
    [ -n "$TH_WORK" ] && rm -rf "$TH_WORK"
    [ $rc -eq 0 ] || th_log "FAILED rc=$rc"
    exit $rc
}

th_common() {
    TH_NAME=$1
    [ "$(id -u)" -eq 0 ] || th_die "must run as root"
    TH_NSC=tgh-$TH_NAME-c TH_NSS=tgh-$TH_NAME-s
    trap th_cleanup EXIT
    trap 'exit 130' INT TERM HUP
    TH_WORK=$(mktemp -d /tmp/tgh-"$TH_NAME".XXXXXX)
    : >"$TH_DIR/$TH_NAME.truth"
    rm -f "$TH_DIR/$TH_NAME.args"
}

th_nsprep() { # ns dev
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0 2>/dev/null || true
    ip -n "$1" link set lo up
}
th_devprep() { # ns dev
    ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off sg off >/dev/null 2>&1 || true
    ip -n "$1" link set "$2" up
}

th_init2() {
    th_common "$1"
    TH_TOPO=2
    TH_C4=10.93.0.1 TH_S4=10.93.0.2 TH_C6=fd00:93::1 TH_S6=fd00:93::2
    ip netns del "$TH_NSC" 2>/dev/null || true
    ip netns del "$TH_NSS" 2>/dev/null || true
    ip netns add "$TH_NSC"; ip netns add "$TH_NSS"
    th_nsprep "$TH_NSC"; th_nsprep "$TH_NSS"
    ip link add veth-c netns "$TH_NSC" address 02:93:00:00:00:01 type veth \
        peer name veth-s netns "$TH_NSS" address 02:93:00:00:00:02
    th_devprep "$TH_NSC" veth-c; th_devprep "$TH_NSS" veth-s
    ip -n "$TH_NSC" addr add $TH_C4/24 dev veth-c
    ip -n "$TH_NSS" addr add $TH_S4/24 dev veth-s
    ip -n "$TH_NSC" addr add $TH_C6/64 dev veth-c nodad
    ip -n "$TH_NSS" addr add $TH_S6/64 dev veth-s nodad
    ip -n "$TH_NSC" neigh replace $TH_S4 lladdr 02:93:00:00:00:02 dev veth-c nud permanent
    ip -n "$TH_NSS" neigh replace $TH_C4 lladdr 02:93:00:00:00:01 dev veth-s nud permanent
    ip -n "$TH_NSC" -6 neigh replace $TH_S6 lladdr 02:93:00:00:00:02 dev veth-c nud permanent
    ip -n "$TH_NSS" -6 neigh replace $TH_C6 lladdr 02:93:00:00:00:01 dev veth-s nud permanent
}

# client side of the 3-namespace topology (also used to "reboot" the client)
th_mk_c() {
    ip netns add "$TH_NSC"; th_nsprep "$TH_NSC"
    ip link add veth-c netns "$TH_NSC" address 02:93:00:01:00:01 type veth \
        peer name veth-rc netns "$TH_NSR" address 02:93:00:01:00:fe
    ip -n "$TH_NSC" addr add fe80::1/64 dev veth-c nodad
    ip -n "$TH_NSR" addr add fe80::fe/64 dev veth-rc nodad
    th_devprep "$TH_NSC" veth-c; th_devprep "$TH_NSR" veth-rc
    ip -n "$TH_NSR" addr add 10.93.1.254/24 dev veth-rc
    ip -n "$TH_NSC" addr add $TH_C4/24 dev veth-c
    ip -n "$TH_NSC" addr add $TH_C6/128 dev veth-c nodad
    ip -n "$TH_NSC" route add 10.93.0.0/16 via 10.93.1.254 dev veth-c
    ip -n "$TH_NSC" -6 route add fd00:93::/64 via fe80::fe dev veth-c
    ip -n "$TH_NSC" neigh replace 10.93.1.254 lladdr 02:93:00:01:00:fe dev veth-c nud permanent
    ip -n "$TH_NSC" -6 neigh replace fe80::fe lladdr 02:93:00:01:00:fe dev veth-c nud permanent
    ip -n "$TH_NSR" neigh replace $TH_C4 lladdr 02:93:00:01:00:01 dev veth-rc nud permanent
    ip -n "$TH_NSR" -6 neigh replace fe80::1 lladdr 02:93:00:01:00:01 dev veth-rc nud permanent
    ip -n "$TH_NSR" -6 route replace $TH_C6/128 via fe80::1 dev veth-rc
}
th_mk_s() {
    ip netns add "$TH_NSS"; th_nsprep "$TH_NSS"
    ip link add veth-s netns "$TH_NSS" address 02:93:00:02:00:01 type veth \
        peer name veth-rs netns "$TH_NSR" address 02:93:00:02:00:fe
    ip -n "$TH_NSS" addr add fe80::2/64 dev veth-s nodad
    ip -n "$TH_NSR" addr add fe80::fe/64 dev veth-rs nodad
    th_devprep "$TH_NSS" veth-s; th_devprep "$TH_NSR" veth-rs
    ip -n "$TH_NSR" addr add 10.93.2.254/24 dev veth-rs
    ip -n "$TH_NSS" addr add $TH_S4/24 dev veth-s
    ip -n "$TH_NSS" addr add $TH_S6/128 dev veth-s nodad
    ip -n "$TH_NSS" route add 10.93.0.0/16 via 10.93.2.254 dev veth-s
    ip -n "$TH_NSS" -6 route add fd00:93::/64 via fe80::fe dev veth-s
    ip -n "$TH_NSS" neigh replace 10.93.2.254 lladdr 02:93:00:02:00:fe dev veth-s nud permanent
    ip -n "$TH_NSS" -6 neigh replace fe80::fe lladdr 02:93:00:02:00:fe dev veth-s nud permanent
    ip -n "$TH_NSR" neigh replace $TH_S4 lladdr 02:93:00:02:00:01 dev veth-rs nud permanent
    ip -n "$TH_NSR" -6 neigh replace fe80::2 lladdr 02:93:00:02:00:01 dev veth-rs nud permanent
    ip -n "$TH_NSR" -6 route replace $TH_S6/128 via fe80::2 dev veth-rs
}

th_init3() {
    th_common "$1"
    TH_TOPO=3
    TH_NSR=tgh-$TH_NAME-r
    TH_C4=10.93.1.1 TH_S4=10.93.2.1 TH_C6=fd00:93::1 TH_S6=fd00:93::2
    local ns
    for ns in "$TH_NSC" "$TH_NSR" "$TH_NSS"; do ip netns del "$ns" 2>/dev/null || true; done
    ip netns add "$TH_NSR"; th_nsprep "$TH_NSR"
    ip netns exec "$TH_NSR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    th_mk_c
    th_mk_s
}

# "reboot" a host: nothing more leaves it (output dropped), its processes
# (given as pids) are killed, its namespace and every socket in it disappear,
# and it comes back with the same addresses.  3-namespace topology only.
th_reboot() { # <c|s> pids...
    local side=$1 ns dev p; shift
    ns=$(th_ns "$side"); dev=veth-r$side
    printf 'table inet down {\n chain o {\n  type filter hook output priority -300; policy drop;\n }\n}\n' |
        ip netns exec "$ns" nft -f -
    for p in "$@"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    # the old namespace may live on a while (orphaned sockets); cut its link
    ip -n "$TH_NSR" link del "$dev"
    ip netns del "$ns"
    if [ "$side" = c ]; then th_mk_c; else th_mk_s; fi
}

th_ns() { case $1 in c) echo "$TH_NSC" ;; r) echo "$TH_NSR" ;; *) echo "$TH_NSS" ;; esac; }

# th_bg <c|r|s> drive.py-args... : run a driver in the background (killed at exit)
th_bg() {
    local ns; ns=$(th_ns "$1"); shift
    ip netns exec "$ns" "$TH_PY" "$TH_DRIVE" "$@" &
    TH_PIDS+=($!)
    TH_LAST=$!
}
# th_run <c|r|s> drive.py-args... : run a driver in the foreground
th_run() {
    local ns; ns=$(th_ns "$1"); shift
    ip netns exec "$ns" "$TH_PY" "$TH_DRIVE" "$@"
}
th_nft() { # <c|r|s> ruleset
    local ns; ns=$(th_ns "$1")
    printf '%s\n' "$2" | ip netns exec "$ns" nft -f -
}

th_cap_start() { # <c|r|s> dev name [filter]
    local ns; ns=$(th_ns "$1")
    TH_CAP_OUT=$TH_DIR/$3.pcap TH_CAP_TMP=$TH_WORK/$3.pcap TH_CAP_LOG=$TH_WORK/tcpdump.log
    : >"$TH_CAP_LOG"
    # shellcheck disable=SC2086
    ip netns exec "$ns" tcpdump -i "$2" -n -U --immediate-mode -s 262144 -w "$TH_CAP_TMP" ${4:-tcp} 2>"$TH_CAP_LOG" &
    TH_CAP_PID=$!
    local i
    for i in $(seq 1 100); do
        grep -q 'listening on' "$TH_CAP_LOG" && break
        sleep 0.05
    done
    grep -q 'listening on' "$TH_CAP_LOG" || { cat "$TH_CAP_LOG" >&2; th_die "tcpdump not ready"; }
    sleep 0.2
}
th_cap_stop() {
    sleep 0.3
    kill -INT "$TH_CAP_PID"; wait "$TH_CAP_PID" || true
    TH_CAP_PID=
    [ -s "$TH_CAP_TMP" ] || th_die "empty capture"
    mv -f "$TH_CAP_TMP" "$TH_CAP_OUT"; chmod 0644 "$TH_CAP_OUT"
    local sz; sz=$(stat -c %s "$TH_CAP_OUT")
    th_log "wrote ${TH_CAP_OUT##*/} ($sz bytes, $(wc -l <"$TH_DIR/$TH_NAME.truth") truth lines)"
    [ "$sz" -lt 204800 ] || th_die "capture too big"
}

th_truth() { echo "$*" >>"$TH_DIR/$TH_NAME.truth"; }
th_args() { echo "$*" >"$TH_DIR/$TH_NAME.args"; }
