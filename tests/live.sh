#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Live tests of `tcpguard watch` (tests/live/watch-*.sh): each builds its
# own pair of network namespaces, drives real Linux TCP between them on
# 10.96.N.0/24 while watch captures, and checks what watch wrote. They need
# root (namespaces, capture); otherwise the suite says so and is skipped.
#
#   tests/live.sh TCPGUARD
set -u
bin=${1:?usage: live.sh TCPGUARD}
root=$(cd "$(dirname "$0")/.." && pwd)
results=${TG_RESULTS:-/dev/null}

skip() {
	echo "live: skipped: $1"
	echo "live: skipped: $1" >>"$results"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root"
for t in ip ethtool python3 setpriv; do
	command -v $t >/dev/null || skip "needs $t"
done
ip netns add tgl-probe-$$ 2>/dev/null || skip "cannot create network namespaces"
ip netns del tgl-probe-$$

export TGL_BIN
TGL_BIN=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
pass=0 fail=0
for t in "$root"/tests/live/watch-*.sh; do
	name=$(basename "$t" .sh)
	log=$(mktemp)
	if timeout 120 bash "$t" >"$log" 2>&1; then
		pass=$((pass + 1))
		grep -E 'latency|highest rate' "$log" | sed "s/^/live: $name: /"
	else
		fail=$((fail + 1))
		echo "live: FAIL $name"
		tail -30 "$log"
	fi
	rm -f "$log"
done
echo "live: $pass passed, $fail failed"
echo "live: $pass passed, $fail failed" >>"$results"
[ $fail -eq 0 ]
