#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs each libFuzzer harness for SECONDS. The decoder corpus is seeded
# with the frames of tests/data's captures (first byte 0 = Ethernet), the
# engine corpus with whole captures cut into its record format.
set -eu
secs=$1; shift
root=$(cd "$(dirname "$0")/../.." && pwd)
for h in "$@"; do
	name=$(basename "$h")
	corpus=$root/build-fuzz/corpus-$name
	mkdir -p "$corpus"
	if [ -z "$(ls -A "$corpus")" ]; then
		python3 "$root/tests/fuzz/seed.py" "$name" "$corpus" "$root"/tests/data/*.pcap
	fi
	echo "fuzz: $name for ${secs}s"
	"$h" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$root/build-fuzz/$name-" \
		"$corpus" 2>&1 | grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|cov:|ERROR|SUMMARY' | tail -4
done
