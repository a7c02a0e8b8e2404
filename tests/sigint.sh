#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# No data lost on exit: analyze is stopped by SIGINT, then by SIGTERM,
# then -j 2 as two threads (one tracking, one detecting and writing) by
# SIGINT, about 0.3 s into a large generated capture (bench/gen.c, 200,000
# sessions). It must say it was interrupted, write every session it had
# seen (those still open marked "open-at-end"), leave only complete JSON
# lines, and close the conn.log with #close.
#
#   tests/sigint.sh TCPGUARD GEN
set -u
bin=${1:?usage: sigint.sh TCPGUARD GEN}
gen=${2:?usage: sigint.sh TCPGUARD GEN}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0 fail=0
if ! "$gen" --sessions 200000 "$tmp/big.pcap" >/dev/null 2>&1; then
	echo "sigint: 0 passed, 1 failed (capture generator)"
	echo "sigint: 0 passed, 1 failed" >>"${TG_RESULTS:-/dev/null}"
	exit 1
fi
for run in INT TERM INT-j2; do
	sig=${run%-j2} jobs=1
	[ "$run" = "$sig" ] || jobs=2
	TCPGUARD_PIPELINE=1 "$bin" analyze -q -j "$jobs" --json "$tmp/out.json" \
		--zeek "$tmp/out.log" "$tmp/big.pcap" 2>"$tmp/err" &
	pid=$!
	sleep 0.3
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	why=""
	grep -q 'interrupted: writing every session seen so far' "$tmp/err" ||
		why+=" no 'interrupted' message (finished before the signal?);"
	[ "$rc" -le 1 ] || why+=" exit status $rc;"
	res=$(python3 -c 'import json, sys
n = opened = 0
with open(sys.argv[1], "rb") as f:
    data = f.read()
if data and not data.endswith(b"\n"):
    sys.exit("last JSON line incomplete")
for line in data.splitlines():
    r = json.loads(line)
    n += 1
    opened += r["end_reason"] == "open-at-end"
print(n, opened)' "$tmp/out.json" 2>&1) || why+=" JSON: $res;"
	read -r n opened <<<"$res"
	[ "${opened:-0}" -gt 0 ] 2>/dev/null || why+=" no session marked open-at-end;"
	rows=$(grep -vc '^#' "$tmp/out.log")
	[ "$rows" = "${n:-x}" ] || why+=" conn.log has $rows rows, JSON $n;"
	tail -n 1 "$tmp/out.log" | grep -q '^#close' || why+=" conn.log lacks #close;"
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		echo "sigint: SIG$sig -j $jobs: $n sessions written, $opened of them open-at-end"
	else
		fail=$((fail + 1))
		echo "sigint: FAIL SIG$sig -j $jobs:$why"
	fi
done
echo "sigint: $pass passed, $fail failed"
echo "sigint: $pass passed, $fail failed" >>"${TG_RESULTS:-/dev/null}"
[ "$fail" -eq 0 ]
