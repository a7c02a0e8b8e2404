#!/bin/bash
# Regenerate every capture in tests/data/ (root; needs tcpdump, iproute2,
# nftables, ethtool, /usr/bin/python3). Each scenario creates and removes its
# own tgs-<name>-c / tgs-<name>-s (and, for cause-*, tgs-<name>-f) network
# namespaces; nothing leaves them.
set -euo pipefail
cd "$(dirname "$0")"
scenarios=(graceful closed-port rst-from-client rst-from-server syn-unanswered
    half-close zero-window retransmissions port-reuse ipv6 vlan demo
    cause-middlebox-reset cause-close-unread cause-reset-after-close cause-peer-lost
    cause-zero-window cause-handshake-abort cause-unsolicited-synack cause-out-of-window
    cause-server-closed cause-idle cause-no-answer cause-rst-after-fin
    attack-real-synflood attack-real-scan attack-real-bruteforce attack-real-reflector)
if [ $# -gt 0 ]; then scenarios=("$@"); fi
fail=0
for s in "${scenarios[@]}"; do
    if ! ./"$s".sh; then
        echo "make-all: $s FAILED" >&2
        fail=1
    fi
done
left=$(ip netns list | grep -c '^tgs-' || true)
if [ "$left" -ne 0 ]; then
    echo "make-all: $left tgs-* namespaces left behind" >&2
    fail=1
fi
if [ $fail -eq 0 ] && [ $# -eq 0 ]; then
    /usr/bin/python3 ./verify.py || fail=1
fi
exit $fail
