#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Capture rate: blast.c sends a bounded, paced stream of TCP frames over
# the test veth (1024 sessions, 100-byte frames, to a MAC nobody owns so
# the peer's stack drops them after the capture tap) while watch captures
# with its default ring. At each rate every frame sent must reach the
# engine and the kernel must report no drop.
#
#   TG_LIVE_RATES="200000 400000 800000" TG_LIVE_SECONDS=5 tests/live/watch-rate.sh
# sweeps and reports the highest rate with zero drops (default: 200000
# for 2 s, the target).
. "$(dirname "$0")/lib.sh"
tgl_init rate 4
out=$TGL_WORK
chown nobody "$out"
secs=${TG_LIVE_SECONDS:-2}
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -o "$out/blast" "$TGL_DIR/blast.c" || tgl_fail "cannot build blast.c"

best=0 fail=0
for rate in ${TG_LIVE_RATES:-200000}; do
	tgl_watch "$out/err" --max-flows 65536
	sleep 0.2
	ip netns exec "$TGL_NS_C" "$out/blast" veth-c 4 "$rate" $((rate * secs)) 1024 >"$out/blast.out" ||
		tgl_fail "blast failed"
	sleep 0.3
	tgl_stop
	[ "$TGL_WATCH_RC" = 0 ] || { cat "$out/err" >&2; tgl_fail "exit status $TGL_WATCH_RC"; }
	sent=$(awk '/^sent/ { print $2 }' "$out/blast.out")
	got=$(sed -n 's/^frames \([0-9]*\),.*/\1/p' "$out/err.out")
	drops=$(sed -n 's/.* \([0-9]*\) dropped by kernel.*/\1/p' "$out/err" | tail -1)
	tgl_log "asked $rate pkt/s, $(sed 's/^sent //' "$out/blast.out"); engine got $got frames, kernel dropped ${drops:-?}"
	if [ "${drops:-1}" = 0 ] && [ "${got:-0}" -ge "$sent" ]; then
		best=$(awk '/^sent/ { print int($NF == "pkt/s" ? $(NF-1) : 0) }' "$out/blast.out")
	else
		fail=1
	fi
done
tgl_log "highest rate with zero drops: $best pkt/s"
exit $fail
