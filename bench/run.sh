#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The tcpguard benchmark driver, called by `make bench` as
#
#   bench/run.sh BUILD_DIR [TCPGUARD_ARGS...]
#
# BUILD_DIR holds the gen, floor and (once it exists) tcpguard binaries.
# The seeded generator makes three captures in bench/out (each regenerated
# when bench/gen.c or its arguments change; a stamp file records both):
#
#   short  bench.pcap  ~1 M short sessions, ~10.8 M packets (BENCH_GEN_ARGS)
#   flood  flood.pcap  a SYN flood from 5 M spoofed sources, nothing else
#   bulk   bulk.pcap   8 long-lived bulk transfers of full-sized segments
#
# For each it warms the page cache with one untimed floor pass, then times,
# best of BENCH_RUNS by wall clock around the whole process: the floor,
# `tcpguard analyze CAPTURE --json /dev/null TCPGUARD_ARGS...` with -j 1 and
# each -j of BENCH_JOBS (and all again with --no-detect; and -j 1 once
# more with neither detection nor --json, to split -j 1's time), taken in turn
# round by round (a shared machine's speed drifts over minutes: each
# command then meets the same moments, which keeps the ratios between
# them honest). Then, once every capture has its tcpguard rows, where
# installed (scripts/deps.sh --bench), `tshark -q -z conv,tcp`, `tcptrace
# -n` and `argus -r CAPTURE -w /dev/null` on each, the page cache warmed
# again (best of BENCH_TOOL_RUNS: they are slow).
# It prints a table per capture (seconds, Mpps, MB/s, peak RSS, time as a
# multiple of the floor's and of tcpguard -j 1's), the flow table's bytes
# per tracked flow and peak RSS per peak open session, and writes it all
# to bench/out/results.json. See bench/README.md.
#
# Environment: BENCH_GEN_ARGS (the short capture's generator arguments,
# default "--seed 1"), BENCH_CAPTURES (default "short flood bulk"),
# BENCH_RUNS (default 3), BENCH_TOOL_RUNS (default 1), BENCH_TOOLS=0 to
# leave the other tools out, BENCH_JOBS (the -j values timed besides -j 1,
# default "2"; "2 4 8 16" draws the scaling curve on a bigger machine). Peak RSS needs GNU time at /usr/bin/time.
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
captures=${BENCH_CAPTURES-"short flood bulk"}
runs=${BENCH_RUNS-3}
tool_runs=${BENCH_TOOL_RUNS-1}
jobs=${BENCH_JOBS-2}
for v in $jobs; do
	case $v in '' | *[!0-9]* | 0 | 1) echo "run.sh: BENCH_JOBS lists worker counts of 2 or more" >&2; exit 2 ;; esac
done
for v in "$runs" "$tool_runs"; do
	case $v in '' | *[!0-9]* | 0) echo "run.sh: BENCH_RUNS and BENCH_TOOL_RUNS must be positive integers" >&2; exit 2 ;; esac
done
out=bench/out
tmp=$out/tmp
for b in gen floor; do
	[ -x "$build/$b" ] || { echo "run.sh: $build/$b is missing; build it first" >&2; exit 1; }
done
mkdir -p "$out" "$tmp"

# capture NAME: sets pcap and gargs, generating the file when needed.
capture() {
	case $1 in
	short) pcap=$out/bench.pcap; gargs=$gen_args ;;
	flood) pcap=$out/flood.pcap
		gargs="--seed 1 --sessions 0 --scan 0 --flood 5000000 --flood-wide" ;;
	bulk) pcap=$out/bulk.pcap; gargs="--seed 1 --sessions 0 --flood 0 --scan 0 --bulk 8" ;;
	*) echo "run.sh: unknown capture $1 (short, flood, bulk)" >&2; exit 2 ;;
	esac
	local stamp=${pcap%.pcap}.stamp want
	want="gen.c $(cksum < bench/gen.c | awk '{print $1 "-" $2}') args: $gargs"
	if [ ! -f "$pcap" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
		echo "run.sh: generating $pcap ($gargs)" >&2
		rm -f "$stamp" "$pcap"
		# shellcheck disable=SC2086 # word splitting of the arguments is wanted
		"$build/gen" $gargs "$pcap.part"
		mv "$pcap.part" "$pcap"
		echo "$want" > "$stamp"
	fi
}

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
		# Another tool failing (tcptrace runs out of memory on the
		# flood capture) leaves its row out; tcpguard failing is fatal.
		if [ -n "${soft:-}" ]; then
			secs=
			rss_kb=
			return 1
		fi
		exit 1
	fi
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
	rss_kb=
	if [ -n "$gnu_time" ]; then
		rss_kb=$(tail -n 1 "$tmp/$name.rss")
	fi
}

# note KEY RUN: keeps the run just timed (secs, rss_kb) in best_of[KEY]
# (lowest wall time) and rss_of[KEY] (highest peak RSS).
declare -A best_of=() rss_of=()
note() {
	echo "  $1 run $2: ${secs} s" >&2
	if [ -z "${best_of[$1]:-}" ] || awk -v a="$secs" -v b="${best_of[$1]}" 'BEGIN { exit !(a < b) }'; then
		best_of[$1]=$secs
	fi
	if [ -n "$rss_kb" ] && { [ -z "${rss_of[$1]:-}" ] || [ "$rss_kb" -gt "${rss_of[$1]}" ]; }; then
		rss_of[$1]=$rss_kb
	fi
}

# best NAME RUNS CMD...: best (lowest) wall time of RUNS runs and the
# highest peak RSS seen; sets best_secs and best_rss.
best() {
	local name=$1 n=$2 i
	shift 2
	for i in $(seq 1 "$n"); do
		timed "$name" "$@" || continue
		note "$name" "$i"
	done
	best_secs=${best_of[$name]:-}
	best_rss=${rss_of[$name]:-}
}

# ---- the flow table's memory per flow ------------------------------------
# sizeof(struct tg_session) + the record's share of the side pool
# (struct tg_rare) + bucket bytes per record, from the library itself.
flow_bytes=
if [ -f "$build/libtcpguard.a" ] && command -v "${CC:-cc}" >/dev/null; then
	"${CC:-cc}" -std=c11 -D_GNU_SOURCE -Iinclude -o "$tmp/flowsize" -x c - -x none \
		"$build/libtcpguard.a" 2>/dev/null <<'EOF' && flow_bytes=$("$tmp/flowsize")
#include <stdio.h>
#include "tcpguard/flow.h"
int main(void)
{
	unsigned cap = 1u << 20;
	struct tg_flow_table t;

	/* Address space only: pages are committed on first use. */
	if (tg_flow_init(&t, cap))
		return 1;
	printf("%zu %.1f %.1f\n", sizeof(struct tg_session),
	       (double)t.rare_cap * sizeof(struct tg_rare) / cap,
	       (double)(t.mask + 1) * sizeof(*t.bucket) / cap);
	tg_flow_destroy(&t);
	return 0;
}
EOF
fi
if [ -n "$flow_bytes" ]; then
	read -r sess_b pool_b bucket_b <<<"$flow_bytes"
	per_flow=$(awk -v a="$sess_b" -v b="$pool_b" -v c="$bucket_b" 'BEGIN { printf "%.1f", a + b + c }')
fi

mpps() { awk -v p="$packets" -v s="$1" 'BEGIN { printf "%.2f", p / s / 1e6 }'; }
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }
mib() { # KB or empty -> MiB or n/a
	if [ -n "$1" ]; then awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; else echo n/a; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
jstr() { # JSON string literal
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr -d '\000-\037')"
}
jnum() { if [ -n "$1" ]; then printf '%s' "$1"; else printf null; fi; }
have() { [ "${BENCH_TOOLS-1}" != 0 ] && command -v "$1" >/dev/null 2>&1; }

variants=()
if [ -x "$build/tcpguard" ]; then
	# "j1-track": no detection and no per-session output, the summary
	# only: reading, decoding and tracking, for the split of -j 1's time
	# printed with each table.
	variants=("j1:--json /dev/null -j 1" "j1-nodetect:--json /dev/null -j 1 --no-detect"
		"j1-track:-j 1 --no-detect")
	for j in $jobs; do
		variants+=("j$j:--json /dev/null -j $j" "j$j-nodetect:--json /dev/null -j $j --no-detect")
	done
else
	echo "run.sh: $build/tcpguard not built yet: analyze skipped" >&2
fi

# warm: reads the capture once, untimed, into the page cache.
warm() {
	echo "run.sh: $cap: warming the page cache" >&2
	timed floor-warm "$build/floor" "$pcap"
}
declare -A packets_of=()

# First the floor and tcpguard on every capture, then the other tools:
# tshark and tcptrace take 8-12 GiB on the short capture, and what ran
# right after them was slower (on a 2-core virtual machine the flood's
# -j 1 took 4.3-5.0 s after them, 2.97-3.49 s in runs before), which
# would bias every capture timed after the first.
for cap in $captures; do
	capture "$cap"
	bytes=$(wc -c < "$pcap" | tr -d ' ')
	avail_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)
	if [ -n "$avail_kb" ] && [ "$avail_kb" -gt 0 ] && [ $((avail_kb * 1024)) -lt "$bytes" ]; then
		echo "run.sh: warning: $pcap is larger than available memory;" \
			"timings will include disk reads" >&2
	fi
	warm
	packets=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' "$tmp/floor-warm.out")
	[ -n "$packets" ] || { echo "run.sh: cannot parse floor output" >&2; exit 1; }
	packets_of[$cap]=$packets
	# Round by round, every command once in each.
	for i in $(seq 1 "$runs"); do
		timed "$cap-floor" "$build/floor" "$pcap"
		note "$cap-floor" "$i"
		for v in "${variants[@]}"; do
			# shellcheck disable=SC2086 # the -j words are split on purpose
			timed "$cap-${v%%:*}" "$build/tcpguard" analyze "$pcap" ${v#*:} "$@"
			note "$cap-${v%%:*}" "$i"
		done
	done
done

json_caps=
for cap in $captures; do
	capture "$cap"
	bytes=$(wc -c < "$pcap" | tr -d ' ')
	rows=()         # "name seconds rss_kb"
	declare -A secs_of=()
	peak_sessions='' j1_rss=''
	packets=${packets_of[$cap]}
	if have tshark || have tcptrace || have argus; then
		warm
	fi
	floor_secs=${best_of[$cap-floor]}
	rows+=("floor $floor_secs ${rss_of[$cap-floor]:-}")
	if [ "${#variants[@]}" -gt 0 ]; then
		for v in "${variants[@]}"; do
			name=${v%%:*}
			rows+=("tcpguard-$name ${best_of[$cap-$name]} ${rss_of[$cap-$name]:-}")
			secs_of[$name]=${best_of[$cap-$name]}
		done
		j1_rss=$(sed -n 1p "$tmp/$cap-j1.rss" 2>/dev/null || true)
		peak_sessions=$(sed -n 's/.*(peak \([0-9]*\) open at once.*/\1/p' "$tmp/$cap-j1.out")
	fi
	soft=1
	if have tshark; then
		best "$cap-tshark" "$tool_runs" tshark -n -q -z conv,tcp -r "$pcap"
		[ -n "$best_secs" ] && rows+=("tshark $best_secs ${best_rss:-}")
	fi
	if have tcptrace; then
		best "$cap-tcptrace" "$tool_runs" tcptrace -n "$pcap"
		[ -n "$best_secs" ] && rows+=("tcptrace $best_secs ${best_rss:-}")
	fi
	if have argus; then
		best "$cap-argus" "$tool_runs" argus -r "$pcap" -w /dev/null
		[ -n "$best_secs" ] && rows+=("argus $best_secs ${best_rss:-}")
	fi
	soft=

	j1_secs=${secs_of[j1]:-}
	echo
	printf 'capture %s  %s: %s packets, %s bytes (best of %s runs; other tools best of %s)\n' \
		"$cap" "$pcap" "$packets" "$bytes" "$runs" "$tool_runs"
	printf '%-22s %10s %8s %9s %12s %8s %10s\n' "" seconds Mpps MB/s "peak RSS" "x floor" "x tg -j 1"
	json_rows=
	for row in "${rows[@]}"; do
		read -r name secs rss <<<"$row"
		vs_j1=n/a
		[ -n "$j1_secs" ] && vs_j1=$(ratio "$secs" "$j1_secs")
		printf '%-22s %10s %8s %9s %12s %8s %10s\n' "$name" "$secs" "$(mpps "$secs")" \
			"$(mbps "$secs")" "$(mib "${rss:-}")" "$(ratio "$secs" "$floor_secs")" "$vs_j1"
		json_rows="$json_rows${json_rows:+,
}        $(jstr "$name"): {\"seconds\": $secs, \"mpps\": $(mpps "$secs"), \"mbps\": $(mbps "$secs"), \"peak_rss_kb\": $(jnum "${rss:-}"), \"x_floor\": $(ratio "$secs" "$floor_secs")}"
	done
	speedup='' speedup_nd='' json_scale=''
	if [ -n "$j1_secs" ]; then
		for j in $jobs; do
			su=$(ratio "$j1_secs" "${secs_of[j$j]}")
			su_nd=$(ratio "${secs_of[j1-nodetect]}" "${secs_of[j$j-nodetect]}")
			printf -- '-j %s speed-up over -j 1: %sx with detection, %sx with --no-detect\n' \
				"$j" "$su" "$su_nd"
			if [ "$j" = 2 ]; then
				speedup=$su
				speedup_nd=$su_nd
			fi
			json_scale="$json_scale${json_scale:+, }\"$j\": {\"speedup\": $su, \"speedup_nodetect\": $su_nd}"
		done
	fi
	json_split=null
	if [ -n "$j1_secs" ]; then
		# Differences of best times: a rough split (each best comes
		# from its own moment), but it shows what each part costs
		# against the floor.
		read -r t_track t_json t_detect <<<"$(awk -v f="$floor_secs" -v t="${secs_of[j1-track]}" \
			-v n="${secs_of[j1-nodetect]}" -v a="$j1_secs" \
			'BEGIN { printf "%.3f %.3f %.3f", t - f, n - t, a - n }')"
		printf -- '-j 1 time, split: floor %s s + tracking %s s + JSON %s s + detection %s s\n' \
			"$floor_secs" "$t_track" "$t_json" "$t_detect"
		json_split="{\"floor\": $floor_secs, \"tracking\": $t_track, \"json\": $t_json, \"detection\": $t_detect}"
	fi
	rss_per=
	if [ -n "$peak_sessions" ] && [ "$peak_sessions" -gt 0 ] && [ -n "$j1_rss" ]; then
		# All of it: tables, detector, buffers and the window of the
		# mapped capture the reader keeps (it drops pages behind it).
		rss_per=$(awk -v r="$j1_rss" -v n="$peak_sessions" \
			'BEGIN { printf "%.0f", r * 1024 / n }')
		printf 'tcpguard -j 1: peak %s sessions open; peak RSS %s bytes per peak open session (everything included)\n' \
			"$peak_sessions" "$rss_per"
	fi
	json_caps="$json_caps${json_caps:+,
}    $(jstr "$cap"): {\"path\": $(jstr "$pcap"), \"bytes\": $bytes, \"packets\": $packets, \"gen_args\": $(jstr "$gargs"),
      \"peak_sessions\": $(jnum "$peak_sessions"), \"rss_bytes_per_peak_session\": $(jnum "$rss_per"),
      \"speedup_j2\": $(jnum "$speedup"), \"speedup_j2_nodetect\": $(jnum "$speedup_nd"),
      \"scaling\": {$json_scale}, \"j1_split\": $json_split,
      \"rows\": {
$json_rows
      }}"
	unset secs_of
done

echo
if [ -n "${per_flow:-}" ]; then
	printf 'flow table per tracked flow: %s bytes (session %s + side pool %s + buckets %s)\n' \
		"$per_flow" "$sess_b" "$pool_b" "$bucket_b"
fi

{
	printf '{\n'
	printf '  "runs": %s,\n  "tool_runs": %s,\n  "args": %s,\n' "$runs" "$tool_runs" "$(jstr "$extra")"
	printf '  "host": {"kernel": %s, "cpu": %s, "cpus": %s, "load_avg": %s, "date": %s},\n' \
		"$(jstr "$(uname -sr)")" \
		"$(jstr "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)")" \
		"$(nproc 2>/dev/null || echo null)" \
		"$(jstr "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)")" \
		"$(jstr "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
	if [ -n "${per_flow:-}" ]; then
		printf '  "flow_bytes": {"per_flow": %s, "session": %s, "side_pool": %s, "buckets": %s},\n' \
			"$per_flow" "$sess_b" "$pool_b" "$bucket_b"
	else
		printf '  "flow_bytes": null,\n'
	fi
	printf '  "captures": {\n%s\n  }\n}\n' "$json_caps"
} > "$out/results.json"
echo "results: $out/results.json"
