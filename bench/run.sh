#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The tcpguard benchmark driver, called by `make bench` as
#
#   bench/run.sh BUILD_DIR [TCPGUARD_ARGS...]
#
# BUILD_DIR holds the gen, floor and (once it exists) tcpguard binaries.
# The script makes sure bench/out/bench.pcap exists and was written by the
# current bench/gen.c with the current generator arguments (a stamp file
# records both, so editing the generator or the seed regenerates it), warms
# the page cache with one untimed floor pass, then times the floor and
# `tcpguard analyze bench/out/bench.pcap --json /dev/null TCPGUARD_ARGS...`
# best of BENCH_RUNS each, by wall clock around the whole process. It prints
# a small table (packets, seconds, Mpps, MB/s, peak RSS, and how many times
# slower than the floor tcpguard is), the same run with --no-detect and
# what attack detection costs, and writes bench/out/results.json.
# The floor is what merely reading every header costs; the ratio is the
# number to watch. See bench/README.md.
#
# Environment: BENCH_GEN_ARGS (default "--seed 1"; e.g. "--seed 7
# --sessions 200000" for a smaller capture), BENCH_RUNS (default 3).
# Peak RSS needs GNU time at /usr/bin/time; without it the column reads n/a.
set -eu

usage() {
	echo "usage: bench/run.sh BUILD_DIR [TCPGUARD_ARGS...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
build=$1
shift
[ -d "$build" ] || { echo "run.sh: $build: not a directory" >&2; exit 2; }
build=$(cd "$build" && pwd)
extra="$*"	# for results.json; "$@" itself is passed to tcpguard
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

gen_args=${BENCH_GEN_ARGS-"--seed 1"}
runs=${BENCH_RUNS-3}
case $runs in '' | *[!0-9]* | 0) echo "run.sh: BENCH_RUNS must be a positive integer" >&2; exit 2 ;; esac
out=bench/out
pcap=$out/bench.pcap
stamp=$out/bench.stamp
tmp=$out/tmp
for b in gen floor; do
	[ -x "$build/$b" ] || { echo "run.sh: $build/$b is missing; build it first" >&2; exit 1; }
done
mkdir -p "$out" "$tmp"

# ---- the capture -------------------------------------------------------
want="gen.c $(cksum < bench/gen.c | awk '{print $1 "-" $2}') args: $gen_args"
if [ ! -f "$pcap" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
	echo "run.sh: generating $pcap ($gen_args)"
	rm -f "$stamp" "$pcap"
	# shellcheck disable=SC2086 # word splitting of the arguments is wanted
	"$build/gen" $gen_args "$pcap.part"
	mv "$pcap.part" "$pcap"
	echo "$want" > "$stamp"
fi
bytes=$(wc -c < "$pcap" | tr -d ' ')

avail_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)
if [ -n "$avail_kb" ] && [ "$avail_kb" -gt 0 ] && [ $((avail_kb * 1024)) -lt "$bytes" ]; then
	echo "run.sh: warning: the capture is larger than available memory;" \
		"timings will include disk reads" >&2
fi

# ---- timing helpers ----------------------------------------------------
gnu_time=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
	gnu_time=/usr/bin/time
fi

now() { date +%s.%N; }

# timed NAME CMD...: runs CMD once, output in $tmp/NAME.out and .err;
# sets secs and rss_kb (empty when unknown). Exits on failure.
timed() {
	local name=$1 t0 t1 rc=0
	shift
	t0=$(now)
	if [ -n "$gnu_time" ]; then
		"$gnu_time" -f %M -o "$tmp/$name.rss" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" || rc=$?
	else
		"$@" > "$tmp/$name.out" 2> "$tmp/$name.err" || rc=$?
	fi
	t1=$(now)
	if [ "$rc" -ne 0 ]; then
		echo "run.sh: $name failed (exit $rc): $*" >&2
		tail -n 20 "$tmp/$name.err" >&2
		exit 1
	fi
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
	rss_kb=
	if [ -n "$gnu_time" ]; then
		rss_kb=$(tail -n 1 "$tmp/$name.rss")
	fi
}

# best NAME RUNS CMD...: best (lowest) wall time of RUNS runs and the
# highest peak RSS seen; sets best_secs and best_rss.
best() {
	local name=$1 n=$2 i
	shift 2
	best_secs=
	best_rss=
	for i in $(seq 1 "$n"); do
		timed "$name" "$@"
		echo "  $name run $i: ${secs} s" >&2
		if [ -z "$best_secs" ] || awk -v a="$secs" -v b="$best_secs" 'BEGIN { exit !(a < b) }'; then
			best_secs=$secs
		fi
		if [ -n "$rss_kb" ] && { [ -z "$best_rss" ] || [ "$rss_kb" -gt "$best_rss" ]; }; then
			best_rss=$rss_kb
		fi
	done
}

# ---- floor -------------------------------------------------------------
echo "run.sh: warming the page cache" >&2
timed floor-warm "$build/floor" "$pcap"
packets=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' "$tmp/floor-warm.out")
[ -n "$packets" ] || { echo "run.sh: cannot parse floor output" >&2; exit 1; }

best floor "$runs" "$build/floor" "$pcap"
floor_secs=$best_secs
floor_rss=$best_rss

# ---- analyze -----------------------------------------------------------
analyze_secs=
analyze_rss=
analyze_note=
if [ -x "$build/tcpguard" ]; then
	best analyze "$runs" "$build/tcpguard" analyze "$pcap" --json /dev/null "$@"
	analyze_secs=$best_secs
	analyze_rss=$best_rss
	# The same without attack detection: what detection costs.
	best nodetect "$runs" "$build/tcpguard" analyze "$pcap" --json /dev/null --no-detect "$@"
	nodetect_secs=$best_secs
	nodetect_rss=$best_rss
else
	analyze_note="skipped: $build/tcpguard not built yet"
fi

# ---- report ------------------------------------------------------------
mpps() { awk -v p="$packets" -v s="$1" 'BEGIN { printf "%.2f", p / s / 1e6 }'; }
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }
mib() { # KB or empty -> MiB or n/a
	if [ -n "$1" ]; then awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; else echo n/a; fi
}

floor_mpps=$(mpps "$floor_secs")
floor_mbps=$(mbps "$floor_secs")
analyze_mpps='' analyze_mbps='' ratio=''
if [ -n "$analyze_secs" ]; then
	analyze_mpps=$(mpps "$analyze_secs")
	analyze_mbps=$(mbps "$analyze_secs")
	ratio=$(awk -v a="$analyze_secs" -v f="$floor_secs" 'BEGIN { printf "%.2f", a / f }')
	detect_pct=$(awk -v a="$analyze_secs" -v n="$nodetect_secs" 'BEGIN { printf "%.1f", 100 * (a - n) / n }')
fi

echo
printf 'capture  %s: %s packets, %s bytes (best of %s runs)\n' "$pcap" "$packets" "$bytes" "$runs"
printf '%-9s %10s %10s %10s %14s\n' "" seconds Mpps MB/s "peak RSS"
printf '%-9s %10s %10s %10s %14s\n' floor "$floor_secs" "$floor_mpps" "$floor_mbps" "$(mib "$floor_rss")"
if [ -n "$analyze_secs" ]; then
	printf '%-9s %10s %10s %10s %14s\n' analyze "$analyze_secs" "$analyze_mpps" "$analyze_mbps" "$(mib "$analyze_rss")"
	printf '%-9s %10s %10s %10s %14s\n' no-detect "$nodetect_secs" "$(mpps "$nodetect_secs")" \
		"$(mbps "$nodetect_secs")" "$(mib "$nodetect_rss")"
	printf 'analyze/floor  %sx (analyze takes %s times as long as the floor)\n' "$ratio" "$ratio"
	printf 'detection cost %s%% of analyze time without it\n' "$detect_pct"
else
	printf '%-9s %s\n' analyze "$analyze_note"
fi

# ---- results.json ------------------------------------------------------
jstr() { # JSON string literal
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr -d '\000-\037')"
}
jnum() { if [ -n "$1" ]; then printf '%s' "$1"; else printf null; fi; }

{
	printf '{\n'
	printf '  "capture": {"path": %s, "bytes": %s, "packets": %s, "gen_args": %s},\n' \
		"$(jstr "$pcap")" "$bytes" "$packets" "$(jstr "$gen_args")"
	printf '  "runs": %s,\n' "$runs"
	printf '  "host": {"kernel": %s, "cpu": %s, "date": %s},\n' \
		"$(jstr "$(uname -sr)")" \
		"$(jstr "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)")" \
		"$(jstr "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
	printf '  "floor": {"seconds": %s, "mpps": %s, "mbps": %s, "peak_rss_kb": %s},\n' \
		"$floor_secs" "$floor_mpps" "$floor_mbps" "$(jnum "$floor_rss")"
	if [ -n "$analyze_secs" ]; then
		printf '  "analyze": {"seconds": %s, "mpps": %s, "mbps": %s, "peak_rss_kb": %s, "args": %s},\n' \
			"$analyze_secs" "$analyze_mpps" "$analyze_mbps" "$(jnum "$analyze_rss")" "$(jstr "$extra")"
		printf '  "no_detect": {"seconds": %s, "mpps": %s, "peak_rss_kb": %s},\n' \
			"$nodetect_secs" "$(mpps "$nodetect_secs")" "$(jnum "$nodetect_rss")"
		printf '  "detect_cost_pct": %s,\n' "$detect_pct"
		printf '  "ratio": %s\n' "$ratio"
	else
		printf '  "analyze": null,\n'
		printf '  "analyze_skipped": %s,\n' "$(jstr "$analyze_note")"
		printf '  "ratio": null\n'
	fi
	printf '}\n'
} > "$out/results.json"
echo "results: $out/results.json"
