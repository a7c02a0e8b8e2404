#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs each cmocka unit test binary named on the command line, shows its
# output, and ends with one line "unit: N passed, M failed" counting test
# cases (from cmocka's "[  PASSED  ] N test(s)." and "[  FAILED  ] N
# test(s)" summaries). A binary that crashes or prints no summary counts as
# one failed case. The same line is appended to $TG_RESULTS when set, for
# tests/summary.sh. Exits non-zero when anything failed.
set -u

passed=0
failed=0
for bin in "$@"; do
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		# Crashed, or failed without a summary (sanitizer abort).
		echo "run-unit: $bin exited with status $rc" >&2
		failed=$((failed + 1))
	fi
done

line="unit: $passed passed, $failed failed"
echo "$line"
if [ -n "${TG_RESULTS:-}" ]; then
	echo "$line" >> "$TG_RESULTS"
fi
[ "$failed" -eq 0 ]
