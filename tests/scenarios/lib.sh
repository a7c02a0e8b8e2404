# shellcheck shell=bash
# Common helpers for the tcpguard capture scenarios.
#
# Every scenario script sources this file, then:
#   tgs_init <scenario>          # namespaces tgs-<scenario>-c / tgs-<scenario>-s, veth pair, addresses
#   tgs_init_fw <scenario>       # or: client ns - firewall ns (router) - server ns, see below
#   tgs_capture_start <side> <pcap-name> [snaplen] [filter]
#   tgs_py <scenario-fn> [args]  # drive the traffic (tests/scenarios/traffic.py)
#   tgs_capture_stop
#
# Topology (fixed, so captures are as reproducible as possible):
#   ns tgs-<name>-c : veth-c  02:99:00:00:00:01  10.99.0.1/24  fd00:99::1/64
#   ns tgs-<name>-s : veth-s  02:99:00:00:00:02  10.99.0.2/24  fd00:99::2/64
# Static neighbour entries (no ARP / ND on the wire), offloads off (correct
# checksums and MTU-sized segments on the wire), IPv6 without DAD.
# Nothing is ever routed outside the two namespaces.
#
# Three-namespace topology (tgs_init_fw), IPv4 only, all inside 10.95.0.0/16:
#   ns tgs-<name>-c : veth-c   02:95:00:00:01:01  10.95.1.1/24    route 10.95.0.0/16 via .1.254
#   ns tgs-<name>-f : veth-fc  02:95:00:00:01:fe  10.95.1.254/24  (ip_forward=1)
#                     veth-fs  02:95:00:00:02:fe  10.95.2.254/24
#   ns tgs-<name>-s : veth-s   02:95:00:00:02:01  10.95.2.1/24    route 10.95.0.0/16 via .2.254
# A capture on veth-c then shows the server's packets with TTL 63 (one hop)
# and whatever the firewall itself sends with its own TTL 64 and IP IDs.

set -euo pipefail

TGS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TGS_REPO=$(cd "$TGS_DIR/../.." && pwd)
TGS_DATA=${TGS_DATA:-$TGS_REPO/tests/data}
TGS_PY=${TGS_PY:-/usr/bin/python3}

TGS_C_MAC=02:99:00:00:00:01
TGS_S_MAC=02:99:00:00:00:02
TGS_C4=10.99.0.1
TGS_S4=10.99.0.2
TGS_C6=fd00:99::1
TGS_S6=fd00:99::2

TGS_FW_C_MAC=02:95:00:00:01:01
TGS_FW_FC_MAC=02:95:00:00:01:fe
TGS_FW_FS_MAC=02:95:00:00:02:fe
TGS_FW_S_MAC=02:95:00:00:02:01
TGS_FW_C4=10.95.1.1
TGS_FW_FC4=10.95.1.254
TGS_FW_FS4=10.95.2.254
TGS_FW_S4=10.95.2.1

TGS_NAME=
TGS_NS_C=
TGS_NS_S=
TGS_NS_F=
TGS_CAP_PID=
TGS_CAP_TMP=
TGS_CAP_OUT=
TGS_CAP_LOG=
TGS_WORK=
TGS_BPFFS=

tgs_log() { printf '[%s] %s\n' "${TGS_NAME:-tgs}" "$*" >&2; }
tgs_die() { tgs_log "ERROR: $*"; exit 1; }

tgs_need() {
    local missing=()
    command -v tcpdump >/dev/null || missing+=(tcpdump)
    command -v ip >/dev/null || missing+=(iproute2)
    command -v nft >/dev/null || missing+=(nftables)
    command -v ethtool >/dev/null || missing+=(ethtool)
    [ -x "$TGS_PY" ] || missing+=(python3)
    if [ ${#missing[@]} -gt 0 ]; then
        tgs_die "missing tools: ${missing[*]} (apt-get install -y ${missing[*]})"
    fi
    [ "$(id -u)" -eq 0 ] || tgs_die "must run as root (network namespaces)"
}

tgs_cleanup() {
    local rc=$?
    set +e
    if [ -n "$TGS_CAP_PID" ] && kill -0 "$TGS_CAP_PID" 2>/dev/null; then
        kill -INT "$TGS_CAP_PID" 2>/dev/null
        wait "$TGS_CAP_PID" 2>/dev/null
    fi
    TGS_CAP_PID=
    [ -n "$TGS_NS_C" ] && ip netns del "$TGS_NS_C" 2>/dev/null
    [ -n "$TGS_NS_S" ] && ip netns del "$TGS_NS_S" 2>/dev/null
    [ -n "$TGS_NS_F" ] && ip netns del "$TGS_NS_F" 2>/dev/null
    if [ -n "$TGS_BPFFS" ] && mountpoint -q "$TGS_BPFFS"; then
        umount "$TGS_BPFFS" 2>/dev/null
    fi
    [ -n "$TGS_WORK" ] && rm -rf "$TGS_WORK"
    if [ $rc -ne 0 ]; then
        tgs_log "FAILED (rc=$rc); namespaces removed, no pcap written"
    fi
    exit $rc
}

# tgs_init <name> [noipv6] : create namespaces + veth pair, configure addresses.
# noipv6: IPv6 disabled on the veths (no ND/MLD frames at all, for unfiltered captures)
TGS_V6=1
tgs_init() {
    TGS_NAME=$1
    [ "${2:-}" = noipv6 ] && TGS_V6=0
    tgs_need
    TGS_NS_C=tgs-$TGS_NAME-c
    TGS_NS_S=tgs-$TGS_NAME-s
    trap tgs_cleanup EXIT
    trap 'exit 130' INT TERM HUP
    # leftovers from an interrupted earlier run
    ip netns del "$TGS_NS_C" 2>/dev/null || true
    ip netns del "$TGS_NS_S" 2>/dev/null || true
    TGS_WORK=$(mktemp -d /tmp/tgs-"$TGS_NAME".XXXXXX)
    mkdir -p "$TGS_DATA"

    ip netns add "$TGS_NS_C"
    ip netns add "$TGS_NS_S"
    ip link add veth-c netns "$TGS_NS_C" address $TGS_C_MAC type veth \
        peer name veth-s netns "$TGS_NS_S" address $TGS_S_MAC

    local ns dev
    for ns in "$TGS_NS_C" "$TGS_NS_S"; do
        if [ "$ns" = "$TGS_NS_C" ]; then dev=veth-c; else dev=veth-s; fi
        ip -n "$ns" link set lo up
        # no IPv6 noise (RS / MLD) and no DAD wait
        [ $TGS_V6 = 1 ] || ip netns exec "$ns" sysctl -qw net.ipv6.conf."$dev".disable_ipv6=1
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
            net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.router_solicitations=0 \
            net.ipv6.conf.default.router_solicitations=0
        # correct checksums + MTU-sized segments on the wire
        ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off tx off rx off sg off >/dev/null 2>&1 ||
            tgs_log "warning: ethtool -K $dev failed (offloads left on)"
        ip -n "$ns" link set "$dev" up
    done
    tgs_addr veth-c veth-s
}

# tgs_init_fw <name> : client ns - firewall ns - server ns, two veth pairs,
# IPv4 only (IPv6 disabled on every veth: no ND/MLD noise), static routes and
# neighbours, forwarding on in the firewall ns only.
tgs_init_fw() {
    TGS_NAME=$1
    TGS_V6=0
    tgs_need
    TGS_NS_C=tgs-$TGS_NAME-c
    TGS_NS_F=tgs-$TGS_NAME-f
    TGS_NS_S=tgs-$TGS_NAME-s
    trap tgs_cleanup EXIT
    trap 'exit 130' INT TERM HUP
    local ns
    for ns in "$TGS_NS_C" "$TGS_NS_F" "$TGS_NS_S"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    TGS_WORK=$(mktemp -d /tmp/tgs-"$TGS_NAME".XXXXXX)
    mkdir -p "$TGS_DATA"
    for ns in "$TGS_NS_C" "$TGS_NS_F" "$TGS_NS_S"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    ip link add veth-c netns "$TGS_NS_C" address $TGS_FW_C_MAC type veth \
        peer name veth-fc netns "$TGS_NS_F" address $TGS_FW_FC_MAC
    ip link add veth-s netns "$TGS_NS_S" address $TGS_FW_S_MAC type veth \
        peer name veth-fs netns "$TGS_NS_F" address $TGS_FW_FS_MAC
    local pair dev
    for pair in "$TGS_NS_C:veth-c" "$TGS_NS_F:veth-fc" "$TGS_NS_F:veth-fs" "$TGS_NS_S:veth-s"; do
        ns=${pair%%:*} dev=${pair#*:}
        ip netns exec "$ns" sysctl -qw net.ipv6.conf."$dev".disable_ipv6=1
        ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off tx off rx off sg off >/dev/null 2>&1 ||
            tgs_log "warning: ethtool -K $dev failed (offloads left on)"
        ip -n "$ns" link set "$dev" up
    done
    ip netns exec "$TGS_NS_F" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$TGS_NS_C" addr add $TGS_FW_C4/24 dev veth-c
    ip -n "$TGS_NS_F" addr add $TGS_FW_FC4/24 dev veth-fc
    ip -n "$TGS_NS_F" addr add $TGS_FW_FS4/24 dev veth-fs
    ip -n "$TGS_NS_S" addr add $TGS_FW_S4/24 dev veth-s
    ip -n "$TGS_NS_C" route add 10.95.0.0/16 via $TGS_FW_FC4 dev veth-c
    ip -n "$TGS_NS_S" route add 10.95.0.0/16 via $TGS_FW_FS4 dev veth-s
    ip -n "$TGS_NS_C" neigh replace $TGS_FW_FC4 lladdr $TGS_FW_FC_MAC dev veth-c nud permanent
    ip -n "$TGS_NS_F" neigh replace $TGS_FW_C4 lladdr $TGS_FW_C_MAC dev veth-fc nud permanent
    ip -n "$TGS_NS_F" neigh replace $TGS_FW_S4 lladdr $TGS_FW_S_MAC dev veth-fs nud permanent
    ip -n "$TGS_NS_S" neigh replace $TGS_FW_FS4 lladdr $TGS_FW_FS_MAC dev veth-s nud permanent
}

# tgs_addr <client-dev> <server-dev> : addresses + static neighbours
tgs_addr() {
    local cdev=$1 sdev=$2
    ip -n "$TGS_NS_C" addr add $TGS_C4/24 dev "$cdev"
    ip -n "$TGS_NS_S" addr add $TGS_S4/24 dev "$sdev"
    ip -n "$TGS_NS_C" neigh replace $TGS_S4 lladdr $TGS_S_MAC dev "$cdev" nud permanent
    ip -n "$TGS_NS_S" neigh replace $TGS_C4 lladdr $TGS_C_MAC dev "$sdev" nud permanent
    [ $TGS_V6 = 1 ] || return 0
    ip -n "$TGS_NS_C" addr add $TGS_C6/64 dev "$cdev" nodad
    ip -n "$TGS_NS_S" addr add $TGS_S6/64 dev "$sdev" nodad
    ip -n "$TGS_NS_C" -6 neigh replace $TGS_S6 lladdr $TGS_S_MAC dev "$cdev" nud permanent
    ip -n "$TGS_NS_S" -6 neigh replace $TGS_C6 lladdr $TGS_C_MAC dev "$sdev" nud permanent
}

# tgs_nft <c|f|s> <ruleset text> : load an nftables ruleset into one namespace
tgs_nft() {
    local ns
    case $1 in
    c) ns=$TGS_NS_C ;;
    f) ns=$TGS_NS_F ;;
    *) ns=$TGS_NS_S ;;
    esac
    printf '%s\n' "$2" | ip netns exec "$ns" nft -f -
}

# tgs_capture_start <c|s> <name> [snaplen] [filter]
# Capture on veth-<side> inside that side's namespace into tests/data/<name>.pcap
tgs_capture_start() {
    local side=$1 name=$2 snap=${3:-262144} filter=${4-tcp} ns dev
    if [ "$side" = c ]; then ns=$TGS_NS_C; dev=veth-c; else ns=$TGS_NS_S; dev=veth-s; fi
    TGS_CAP_OUT=$TGS_DATA/$name.pcap
    TGS_CAP_TMP=$TGS_WORK/$name.pcap
    TGS_CAP_LOG=$TGS_WORK/tcpdump.log
    : >"$TGS_CAP_LOG"
    # shellcheck disable=SC2086
    ip netns exec "$ns" tcpdump -i "$dev" -n -U --immediate-mode -s "$snap" -w "$TGS_CAP_TMP" $filter \
        2>"$TGS_CAP_LOG" &
    TGS_CAP_PID=$!
    local i
    for i in $(seq 1 100); do
        grep -q 'listening on' "$TGS_CAP_LOG" && break
        kill -0 "$TGS_CAP_PID" 2>/dev/null || { cat "$TGS_CAP_LOG" >&2; tgs_die "tcpdump died"; }
        sleep 0.05
    done
    grep -q 'listening on' "$TGS_CAP_LOG" || { cat "$TGS_CAP_LOG" >&2; tgs_die "tcpdump not ready"; }
    sleep 0.2
}

# tgs_capture_stop : stop tcpdump cleanly and move the pcap into tests/data
tgs_capture_stop() {
    sleep 0.3 # let the last ACKs reach the capture
    kill -INT "$TGS_CAP_PID"
    wait "$TGS_CAP_PID" || true
    TGS_CAP_PID=
    local captured dropped
    captured=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$TGS_CAP_LOG")
    dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$TGS_CAP_LOG")
    [ "${dropped:-0}" = 0 ] || tgs_log "warning: tcpdump reports $dropped packets dropped by kernel"
    [ -s "$TGS_CAP_TMP" ] || tgs_die "empty capture"
    mv -f "$TGS_CAP_TMP" "$TGS_CAP_OUT"
    chown --reference="$TGS_DATA" "$TGS_CAP_OUT" 2>/dev/null || true
    chmod 0644 "$TGS_CAP_OUT"
    tgs_log "wrote ${TGS_CAP_OUT#"$TGS_REPO"/} ($captured packets, $(stat -c %s "$TGS_CAP_OUT") bytes)"
}

# tgs_vlan <c|s> <egress-push-spec...> : (re)attach tc eBPF VLAN programs on
# veth-<side>: egress pushes the given tags (innermost first, TPID:VID),
# ingress pops up to two tags. Needs no 8021q module (see vlan_bpf.py).
tgs_vlan() {
    local side=$1 ns dev
    shift
    if [ "$side" = c ]; then ns=$TGS_NS_C; dev=veth-c; else ns=$TGS_NS_S; dev=veth-s; fi
    if [ -z "$TGS_BPFFS" ]; then
        TGS_BPFFS=$TGS_WORK/bpffs
        mkdir -p "$TGS_BPFFS"
        mount -t bpf bpf "$TGS_BPFFS"
        "$TGS_PY" "$TGS_DIR/vlan_bpf.py" "$TGS_BPFFS/pop2" pop 2
    fi
    local pin=$TGS_BPFFS/push-$side-$(echo "$*" | tr ' :' '_-')
    [ -e "$pin" ] || "$TGS_PY" "$TGS_DIR/vlan_bpf.py" "$pin" push "$@"
    ip netns exec "$ns" tc qdisc replace dev "$dev" clsact
    ip netns exec "$ns" tc filter del dev "$dev" egress 2>/dev/null || true
    ip netns exec "$ns" tc filter del dev "$dev" ingress 2>/dev/null || true
    ip netns exec "$ns" tc filter add dev "$dev" egress bpf object-pinned "$pin" direct-action
    ip netns exec "$ns" tc filter add dev "$dev" ingress bpf object-pinned "$TGS_BPFFS/pop2" direct-action
}

# tgs_py <scenario> [extra args] : run a traffic driver from traffic.py
tgs_py() {
    local fn=$1
    shift
    if [ -n "$TGS_NS_F" ]; then
        "$TGS_PY" "$TGS_DIR/traffic.py" --cns "$TGS_NS_C" --sns "$TGS_NS_S" --fns "$TGS_NS_F" \
            --caddr $TGS_FW_C4 --saddr $TGS_FW_S4 "$fn" "$@"
    else
        "$TGS_PY" "$TGS_DIR/traffic.py" --cns "$TGS_NS_C" --sns "$TGS_NS_S" "$fn" "$@"
    fi
}
