#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Builds the release binary, OUT/tcpguard, at -O3 with link-time and
# profile-guided optimisation: an instrumented build analyses a generated
# capture (its own seed, not the bench's), and the final build is laid out
# by what that run measured: hot paths straight, cold paths out of the way,
# and calls across source files (decoder, flow table, TCP tracking,
# detector, output) inlined where they are hot. With a compiler other than
# GCC it is a plain optimised build.
#
# usage: scripts/release.sh OUT GEN
#   OUT  output directory (its tcpguard is the release binary)
#   GEN  the capture generator (bench/gen.c, built)
set -eu

out=$1
gen=$2
make=${MAKE:-make}
cc=${CC:-cc}

# From scratch: objects left by another compiler or profile would stay.
rm -rf "$out"
if ! "$cc" --version 2>/dev/null | grep -qi 'gcc\|free software foundation'; then
	echo "release: $cc is not GCC: building without a profile"
	exec "$make" --no-print-directory BUILD="$out" O=-O2 "$out/tcpguard"
fi

"$make" --no-print-directory BUILD="$out" \
	O="-O3 -flto=auto -ffat-lto-objects -fprofile-generate -fprofile-update=atomic" "$out/tcpguard"

# The training runs: normal sessions, a SYN flood and a scan, so detection,
# signatures and their measurement run too, written as JSON; once on one
# thread, then as each -j layout runs (two threads, and workers without
# detection), whatever this machine's CPU count would pick.
"$gen" --seed 7 --sessions 100000 --flood 50000 --scan 2000 "$out/train.pcap" >/dev/null
"$out/tcpguard" analyze --json /dev/null "$out/train.pcap" >/dev/null
TCPGUARD_PIPELINE=1 "$out/tcpguard" analyze -j 2 --json /dev/null "$out/train.pcap" >/dev/null
TCPGUARD_PIPELINE=0 "$out/tcpguard" analyze -j 2 --no-detect --json /dev/null \
	"$out/train.pcap" >/dev/null
rm -f "$out/train.pcap"

# Each object's profile (.gcda) sits beside it: compile the objects again,
# in the same places, with the profile.
find "$out" -name '*.o' -delete
# GCC notes what the training did not reach ("missing counts"); the notes
# are kept in profile-notes.txt, not failed on. The normal build (make)
# holds the code itself to -Werror.
if ! "$make" --no-print-directory BUILD="$out" \
	O="-O3 -flto=auto -ffat-lto-objects -fprofile-use -fprofile-partial-training -Wno-missing-profile -Wno-error" \
	"$out/tcpguard" 2>"$out/profile-notes.txt"; then
	cat "$out/profile-notes.txt" >&2
	exit 1
fi
echo "release: $out/tcpguard (profile-guided)"
