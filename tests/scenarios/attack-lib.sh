# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers of the attack-real-* scenarios (on top of lib.sh): the captures
# go to tests/data/attacks/ (snaplen 96), each with NAME.truth beside it,
# one JSON line per attack that was driven (kind, target, port, the wall
# times it ran, the precision/recall its signature must reach), which
# tests/attacks_truth.py checks the alerts against.
#
# Spoofed sources are only ever inside 10.97.0.0/16. The server answers
# them through the client namespace, which forwards nothing and
# blackholes 10.97.0.0/16: nothing leaves the namespaces.
TGS_DATA=${TGS_DATA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../data/attacks" && pwd)}
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TGA_PEER=$TGS_DIR/attack_peer.py
TGA_TRUTH=
TGA_PIDS=()

tga_cleanup() {
    local rc=$? p
    for p in "${TGA_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    (exit $rc)
    tgs_cleanup
}

# tga_init NAME: namespaces, routes for the spoofed range, the truth file
tga_init() {
    command -v hping3 >/dev/null || tgs_die "needs hping3"
    tgs_init "$1" noipv6
    trap tga_cleanup EXIT
    ip netns exec "$TGS_NS_C" sysctl -qw net.ipv4.ip_forward=0
    ip -n "$TGS_NS_C" route add blackhole 10.97.0.0/16
    ip -n "$TGS_NS_S" route add 10.97.0.0/16 via $TGS_C4 dev veth-s
    TGA_TRUTH=$TGS_WORK/truth
    : >"$TGA_TRUTH"
}

# tga_listen PORT SECONDS [BACKLOG]: a server in the server namespace
tga_listen() {
    ip netns exec "$TGS_NS_S" "$TGS_PY" "$TGA_PEER" listen $TGS_S4 "$@" >"$TGS_WORK/listen-$1" &
    TGA_PIDS+=($!)
    local i
    for i in $(seq 1 100); do
        grep -q listening "$TGS_WORK/listen-$1" && return 0
        sleep 0.05
    done
    tgs_die "listener on $1 not ready"
}

# tga_clients PORT COUNT INTERVAL: real sessions from 10.99.0.1
tga_clients() {
    ip netns exec "$TGS_NS_C" "$TGS_PY" "$TGA_PEER" connect $TGS_S4 "$@"
}

tga_now() { date +%s.%N; }

# tga_truth KIND TARGET PORT START END [PRECISION RECALL]
tga_truth() {
    printf '{"kind":"%s","target":"%s","target_port":%s,"start":%s,"end":%s,"precision":%s,"recall":%s}\n' \
        "$1" "$2" "$3" "$4" "$5" "${6:-0}" "${7:-0}" >>"$TGA_TRUTH"
}

# tga_done NAME: stops the capture, installs NAME.truth
tga_done() {
    tgs_capture_stop
    install -m 0644 "$TGA_TRUTH" "$TGS_DATA/$1.truth"
    [ "$(stat -c %s "$TGS_DATA/$1.pcap")" -lt 512000 ] || tgs_die "$1.pcap over 500 KB"
}
