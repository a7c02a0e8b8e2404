#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Golden tests: every capture in tests/data made by real Linux stacks is
# analysed and the JSON lines, the Zeek conn.log (minus the #open/#close
# wall-clock lines) and, for the demo, the summary must equal the
# expected files in tests/data/expected/ byte for byte; the attack
# captures in tests/data/attacks/ must give the expected alerts and the
# others none. The JSON must be the same with the decoder's and the
# tracker's fast paths off (TCPGUARD_FAST_PATHS=0). A capture NAME.pcap
# with a NAME.args beside it is analysed with the options in that file
# (one line, split into words), e.g. shorter timers.
#
#   tests/golden.sh TCPGUARD           check
#   tests/golden.sh TCPGUARD --update  rewrite the expected files (review the diff!)
set -u
bin=${1:?usage: golden.sh TCPGUARD [--update]}
update=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
data=$root/tests/data
exp=$data/expected
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$exp"

pass=0 fail=0
check() {
	local name=$1 got=$2 want=$3
	if [ -n "$update" ]; then
		cp "$got" "$want"
	fi
	if cmp -s "$got" "$want"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "golden: FAIL $name"
		diff -u "$want" "$got" | head -20
	fi
}

for pcap in "$data"/*.pcap; do
	name=$(basename "$pcap" .pcap)
	args=()
	if [ -f "$data/$name.args" ]; then
		read -r -a args <"$data/$name.args"
	fi
	if ! "$bin" analyze -q "${args[@]}" --json "$tmp/$name.json" --zeek "$tmp/$name.raw.log" "$pcap" 2>"$tmp/err"; then
		echo "golden: FAIL $name: tcpguard exited non-zero: $(cat "$tmp/err")"
		fail=$((fail + 1))
		continue
	fi
	grep -v -e '^#open' -e '^#close' "$tmp/$name.raw.log" >"$tmp/$name.conn.log"
	check "$name.json" "$tmp/$name.json" "$exp/$name.json"
	check "$name.conn.log" "$tmp/$name.conn.log" "$exp/$name.conn.log"
	# Decoding and tracking by their general paths only: the same JSON.
	TCPGUARD_FAST_PATHS=0 "$bin" analyze -q "${args[@]}" --json "$tmp/$name.general.json" \
		"$pcap" 2>/dev/null
	check "$name.json (fast paths off)" "$tmp/$name.general.json" "$exp/$name.json"
done
"$bin" analyze "$data/demo.pcap" >"$tmp/demo.summary" 2>&1
check "demo.summary" "$tmp/demo.summary" "$exp/demo.summary"

# Attack detection: each capture in tests/data/attacks gives exactly the
# expected alerts (kind, target, time window, signature and its measured
# precision/recall), and those made by real stacks (attack-real-*) match
# their NAME.truth; every benign capture above gives none.
for pcap in "$data"/attacks/*.pcap; do
	name=$(basename "$pcap" .pcap)
	if ! "$bin" analyze -q --alerts "$tmp/$name.alerts.json" "$pcap" 2>"$tmp/err"; then
		echo "golden: FAIL $name: tcpguard exited non-zero: $(cat "$tmp/err")"
		fail=$((fail + 1))
		continue
	fi
	check "$name.alerts.json" "$tmp/$name.alerts.json" "$exp/$name.alerts.json"
	# Real-stack captures: against what their scenario drove.
	if [ -f "$data/attacks/$name.truth" ]; then
		if "$root/tests/attacks_truth.py" "$data/attacks/$name.truth" \
			"$tmp/$name.alerts.json" >"$tmp/truth" 2>&1; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "golden: FAIL $name against $name.truth:"
			cat "$tmp/truth"
		fi
	fi
done
"$bin" analyze "$data/attacks/attack-synflood.pcap" >"$tmp/attack-synflood.summary" 2>&1
check "attack-synflood.summary" "$tmp/attack-synflood.summary" "$exp/attack-synflood.summary"
for pcap in "$data"/*.pcap; do
	name=$(basename "$pcap" .pcap)
	"$bin" analyze -q --alerts "$tmp/benign.alerts" "$pcap" 2>/dev/null
	if [ -s "$tmp/benign.alerts" ]; then
		fail=$((fail + 1))
		echo "golden: FAIL $name: alerts on a benign capture:"
		head -c 600 "$tmp/benign.alerts"
	else
		pass=$((pass + 1))
	fi
done

echo "${TG_SUITE:-golden}: $pass passed, $fail failed"
echo "${TG_SUITE:-golden}: $pass passed, $fail failed" >>"${TG_RESULTS:-/dev/null}"
[ $fail -eq 0 ]
