#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# analyze -j N writes the same sessions and the same alerts as -j 1, in
# another order: for every capture under tests/data (with its .args, if
# any) and for a generated capture of 50,000 sessions with a SYN flood and
# a scan (bench/gen.c), the sorted JSON lines, the sorted conn.log rows and
# the sorted alert lines of -j 2 and -j 4 must equal those of -j 1 byte
# for byte. A capture then counts once per N. -j 2 runs detection inside
# the detection thread's engine, -j 4 hands it to a detector thread of
# its own (TCPGUARD_DETECT_THREAD); -j 2 has the reader do worker 0's
# share itself, -j 4 gives every worker a thread (TCPGUARD_READER_WORKS),
# so all ways are checked on any machine.
#
#   tests/parallel.sh TCPGUARD GEN
set -u
bin=${1:?usage: parallel.sh TCPGUARD GEN}
gen=${2:?usage: parallel.sh TCPGUARD GEN}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0 fail=0

# outputs N CAPTURE ARGS...: sorted JSON, conn.log rows and alerts in $tmp/N.*
outputs() {
	local n=$1 cap=$2 split=0 works=1
	shift 2
	[ "$n" -ge 4 ] && split=1 works=0
	TCPGUARD_DETECT_THREAD=$split TCPGUARD_READER_WORKS=$works "$bin" analyze -q -j "$n" "$cap" --json "$tmp/$n.json" --zeek "$tmp/$n.log" \
		--alerts "$tmp/$n.alerts" "$@" 2>"$tmp/$n.err"
	echo "exit $?" >"$tmp/$n.rc"
	sort -o "$tmp/$n.json" "$tmp/$n.json"
	grep -v '^#' "$tmp/$n.log" | sort >"$tmp/$n.rows"
	sort -o "$tmp/$n.alerts" "$tmp/$n.alerts"
}

check() {
	local cap=$1 args=()
	if [ -f "${cap%.pcap}.args" ]; then
		read -r -a args <"${cap%.pcap}.args"
	fi
	outputs 1 "$cap" "${args[@]}"
	for n in 2 4; do
		outputs "$n" "$cap" "${args[@]}"
		local bad=
		for k in rc json rows alerts; do
			cmp -s "$tmp/1.$k" "$tmp/$n.$k" || bad="$bad $k"
		done
		if [ -z "$bad" ] && [ -s "$tmp/1.json" ]; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL ${cap#"$root"/} -j $n:${bad:- no sessions}"
		fi
	done
}

while IFS= read -r cap; do
	check "$cap"
done < <(find "$root/tests/data" -name '*.pcap' | sort)

if "$gen" --sessions 50000 --flood 20000 --scan 2000 "$tmp/gen.pcap" >/dev/null 2>&1; then
	check "$tmp/gen.pcap"
	# Without detection: -j 3, the reader doing a share of its own.
	TCPGUARD_READER_WORKS=1 "$bin" analyze -q -j 3 --no-detect "$tmp/gen.pcap" \
		--json "$tmp/nd.json" >/dev/null 2>&1
	sort -o "$tmp/nd.json" "$tmp/nd.json"
	if cmp -s "$tmp/1.json" "$tmp/nd.json"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL gen.pcap -j 3 --no-detect, reader working: JSON differs"
	fi
	# The measuring pass reads only the stretches of the file the alerts'
	# times touch (an index noted on the first reading); the plain walk
	# over every frame must measure the same.
	TCPGUARD_MEASURE_INDEX=0 "$bin" analyze -q "$tmp/gen.pcap" --alerts "$tmp/walk.alerts" \
		>/dev/null 2>&1
	sort -o "$tmp/walk.alerts" "$tmp/walk.alerts"
	if cmp -s "$tmp/1.alerts" "$tmp/walk.alerts" && grep -q '"precision"' "$tmp/1.alerts"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL measuring with the index differs from the plain walk"
	fi
else
	fail=$((fail + 1))
	echo "FAIL capture generator"
fi

echo "parallel: $pass passed, $fail failed"
echo "parallel: $pass passed, $fail failed" >>"${TG_RESULTS:-/dev/null}"
[ "$fail" -eq 0 ]
