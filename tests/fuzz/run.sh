#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs each libFuzzer harness for SECONDS (make fuzz; docs/FUZZING.md).
# Each grows its own corpus in build-fuzz/corpus-NAME, starting from the
# committed seeds in tests/fuzz/corpus/NAME (made by seed.py); crashes are
# written to build-fuzz/NAME-crash-*. Extra libFuzzer flags come from
# $FUZZ_ARGS (e.g. FUZZ_ARGS=-jobs=2).
set -eu
secs=$1; shift
root=$(cd "$(dirname "$0")/../.." && pwd)
for h in "$@"; do
	name=$(basename "$h")
	corpus=$root/build-fuzz/corpus-$name
	mkdir -p "$corpus"
	echo "fuzz: $name for ${secs}s"
	# shellcheck disable=SC2086
	"$h" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$root/build-fuzz/$name-" \
		${FUZZ_ARGS:-} "$corpus" "$root/tests/fuzz/corpus/$name" 2>&1 |
		grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|DONE|ERROR|SUMMARY' | tail -5
done
