#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# analyze -j N writes the same sessions and the same alerts as -j 1, in
# another order: for every capture under tests/data (with its .args, if
# any) and for a generated capture of 50,000 sessions with a SYN flood and
# a scan (bench/gen.c), the sorted JSON lines, the sorted conn.log rows and
# the sorted alert lines of -j 2 and -j 4 must equal those of -j 1 byte
# for byte. -j 2 runs detection inside the detection thread's engine, -j 4
# hands it to a detector thread of its own (TCPGUARD_DETECT_THREAD); -j 2
# has the reader do worker 0's share itself, -j 4 gives every worker a
# thread (TCPGUARD_READER_WORKS). The third way, -j 2 as two threads (one
# tracking, one detecting and writing: TCPGUARD_PIPELINE), must write
# exactly what -j 1 writes, in the same order, and the same summary. A
# capture counts once per way, so all ways are checked on any machine.
# The generated capture is also read without detection, by -j 3 with the
# reader working and by -j 2 as two threads, and with a table too small
# for it, where every way's alerts must still be -j 1's.
#
#   tests/parallel.sh TCPGUARD GEN
set -u
bin=${1:?usage: parallel.sh TCPGUARD GEN}
gen=${2:?usage: parallel.sh TCPGUARD GEN}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0 fail=0

# outputs WAY CAPTURE ARGS...: JSON, conn.log rows and alerts in $tmp/WAY.*
# (sorted, except for the two-thread way p), the summary in $tmp/WAY.out
outputs() {
	local way=$1 cap=$2 n=$1 split=0 works=1 pipe=0
	shift 2
	case $way in
	4) split=1 works=0 ;;
	p) n=2 pipe=1 ;;
	esac
	TCPGUARD_PIPELINE=$pipe TCPGUARD_DETECT_THREAD=$split TCPGUARD_READER_WORKS=$works \
		"$bin" analyze -j "$n" "$cap" --json "$tmp/$way.json" --zeek "$tmp/$way.log" \
		--alerts "$tmp/$way.alerts" "$@" >"$tmp/$way.out" 2>"$tmp/$way.err"
	echo "exit $?" >"$tmp/$way.rc"
	grep -v '^#' "$tmp/$way.log" >"$tmp/$way.rows"
	if [ "$way" = 1 ]; then
		for k in json rows alerts; do cp "$tmp/1.$k" "$tmp/1u.$k"; done
		cp "$tmp/1.rc" "$tmp/1u.rc"
	fi
	[ "$way" = p ] && return
	sort -o "$tmp/$way.json" "$tmp/$way.json"
	sort -o "$tmp/$way.rows" "$tmp/$way.rows"
	sort -o "$tmp/$way.alerts" "$tmp/$way.alerts"
}

check() {
	local cap=$1 args=()
	if [ -f "${cap%.pcap}.args" ]; then
		read -r -a args <"${cap%.pcap}.args"
	fi
	outputs 1 "$cap" "${args[@]}"
	for way in 2 4 p; do
		local ref=1 bad=
		outputs "$way" "$cap" "${args[@]}"
		[ "$way" = p ] && ref=1u
		for k in rc json rows alerts; do
			cmp -s "$tmp/$ref.$k" "$tmp/$way.$k" || bad="$bad $k"
		done
		if [ "$way" = p ] && ! cmp -s "$tmp/1.out" "$tmp/p.out"; then
			bad="$bad summary"
		fi
		if [ -z "$bad" ] && [ -s "$tmp/1.json" ]; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL ${cap#"$root"/} -j ${way/p/2 as two threads}:${bad:- no sessions}"
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
	# Two threads without detection: the second only writes.
	"$bin" analyze -q --no-detect "$tmp/gen.pcap" --json "$tmp/nd1.json" >/dev/null 2>&1
	TCPGUARD_PIPELINE=1 "$bin" analyze -q -j 2 --no-detect "$tmp/gen.pcap" \
		--json "$tmp/nd2.json" >/dev/null 2>&1
	if [ -s "$tmp/nd1.json" ] && cmp -s "$tmp/nd1.json" "$tmp/nd2.json"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL gen.pcap -j 2 --no-detect as two threads: JSON differs from -j 1"
	fi
	# A table too small for the capture (--max-memory, sessions evicted):
	# the detection thread's table must be -j 1's, detector or not, in
	# every way, or it evicts other sessions and the alerts differ.
	"$bin" analyze --max-memory 20M "$tmp/gen.pcap" --alerts "$tmp/mm1.alerts" \
		>"$tmp/mm1.out" 2>&1
	for way in "0 0" "0 1" "1 0"; do
		read -r pipe split <<<"$way"
		TCPGUARD_PIPELINE=$pipe TCPGUARD_DETECT_THREAD=$split "$bin" analyze -q -j 2 \
			--max-memory 20M "$tmp/gen.pcap" --alerts "$tmp/mm2.alerts" >/dev/null 2>&1
		if grep -q 'evicted under table pressure: [1-9]' "$tmp/mm1.out" &&
		   [ -s "$tmp/mm1.alerts" ] && cmp -s "$tmp/mm1.alerts" "$tmp/mm2.alerts"; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL gen.pcap --max-memory 20M -j 2 (two threads $pipe," \
				"detector thread $split): alerts differ from -j 1 (or nothing evicted)"
		fi
	done
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
	# The decoder's and the tracker's fast paths against their general
	# paths (TCPGUARD_FAST_PATHS=0): the same sessions, the same alerts.
	"$bin" analyze -q --no-detect "$tmp/gen.pcap" --json "$tmp/fp1.json" >/dev/null 2>&1
	TCPGUARD_FAST_PATHS=0 "$bin" analyze -q --no-detect "$tmp/gen.pcap" \
		--json "$tmp/fp0.json" >/dev/null 2>&1
	TCPGUARD_FAST_PATHS=0 "$bin" analyze -q "$tmp/gen.pcap" --alerts "$tmp/fp0.alerts" \
		>/dev/null 2>&1
	sort -o "$tmp/fp0.alerts" "$tmp/fp0.alerts"
	if [ -s "$tmp/fp1.json" ] && cmp -s "$tmp/fp1.json" "$tmp/fp0.json" &&
	   cmp -s "$tmp/1.alerts" "$tmp/fp0.alerts"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL gen.pcap with the fast paths off: sessions or alerts differ"
	fi
else
	fail=$((fail + 1))
	echo "FAIL capture generator"
fi

echo "parallel: $pass passed, $fail failed"
echo "parallel: $pass passed, $fail failed" >>"${TG_RESULTS:-/dev/null}"
[ "$fail" -eq 0 ]
