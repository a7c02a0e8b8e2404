#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The fuzzing part of `make test`: each harness first replays its
# regression inputs (tests/fuzz/regress/NAME: every crash ever found) and
# its seed corpus (tests/fuzz/corpus/NAME), then fuzzes for SECONDS from
# those seeds, two harnesses at a time, under ASan+UBSan. Each replay and
# each fuzz run is one check: "fuzz: N passed, M failed", appended to
# $TG_RESULTS. A new crash is kept as build-fuzz/NAME-crash-*: add it to
# tests/fuzz/regress/NAME/ with the fix.
#
#   tests/fuzz/smoke.sh SECONDS build-fuzz/fuzz_a build-fuzz/fuzz_b ...
#
# Needs clang with its libFuzzer runtime (Debian: libclang-rt-dev); without
# it the suite says so and is skipped.
set -u
secs=${1:?usage: smoke.sh SECONDS HARNESS...}; shift
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);
int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return !d + (int)n * 0; }' >"$tmp/t.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$tmp/t" "$tmp/t.c" 2>/dev/null; then
	msg="fuzz: skipped: clang's libFuzzer runtime is missing (install clang and libclang-rt-dev)"
	echo "$msg"
	echo "$msg" >>"${TG_RESULTS:-/dev/null}"
	exit 0
fi
if ! make -s --no-print-directory -C "$root" "$@" >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	echo "fuzz: 0 passed, 1 failed (harness build)"
	echo "fuzz: 0 passed, 1 failed" >>"${TG_RESULTS:-/dev/null}"
	exit 1
fi

pass=0 fail=0
result() { # NAME WHAT LOG RC
	if [ "$4" -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "fuzz: FAIL $1 $2"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$3" | head -8
	fi
}

# Replays: libFuzzer runs each file named on its command line once.
for h in "$@"; do
	name=$(basename "$h")
	files=()
	for d in regress corpus; do
		[ -d "$root/tests/fuzz/$d/$name" ] || continue
		for f in "$root/tests/fuzz/$d/$name"/*; do
			[ -f "$f" ] && files+=("$f")
		done
	done
	"$h" "${files[@]}" >"$tmp/$name.replay" 2>&1
	result "$name" "replay of ${#files[@]} inputs" "$tmp/$name.replay" $?
	echo "fuzz: $name: replayed ${#files[@]} inputs"
done

# Fuzzing, two at a time.
run_one() {
	local h=$1 name
	name=$(basename "$h")
	mkdir -p "$tmp/corpus-$name"
	"$h" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$root/build-fuzz/$name-" \
		"$tmp/corpus-$name" "$root/tests/fuzz/corpus/$name" >"$tmp/$name.fuzz" 2>&1
	echo $? >"$tmp/$name.rc"
}
set -- "$@"
while [ $# -gt 0 ]; do
	run_one "$1" &
	if [ $# -gt 1 ]; then run_one "$2" & fi
	wait
	for h in "$1" ${2:+"$2"}; do
		name=$(basename "$h")
		result "$name" "after ${secs}s of fuzzing" "$tmp/$name.fuzz" "$(cat "$tmp/$name.rc")"
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$name.fuzz")
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/$name.fuzz")
		cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$tmp/$name.fuzz" | tail -1)
		echo "fuzz: $name: ${secs}s, ${execs:-?} execs (${rate:-?}/s), $cov"
	done
	shift; [ $# -gt 0 ] && shift
done

echo "fuzz: $pass passed, $fail failed"
echo "fuzz: $pass passed, $fail failed" >>"${TG_RESULTS:-/dev/null}"
[ "$fail" -eq 0 ]
