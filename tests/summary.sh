#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Adds up the "NAME: N passed, M failed" lines the suites appended to
# $TG_RESULTS and prints one closing line for the whole run.
set -u
f=${TG_RESULTS:?TG_RESULTS not set}
[ -f "$f" ] || { echo "no test results in $f"; exit 1; }
p=0 x=0
while read -r _ np _ nf _; do
	p=$((p + np)); x=$((x + nf))
done < <(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$f")
sed 's/^/  /' "$f"
echo "total: $p passed, $x failed"
[ "$x" -eq 0 ]
