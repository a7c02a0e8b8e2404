#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Installs the Debian packages tcpguard needs to build, test and benchmark.
# Idempotent and quiet: it checks each package with dpkg-query and only calls
# apt-get for the missing ones. Without root it lists what is missing and
# leaves the machine alone (the build then fails with the compiler's own
# message if a header is really absent).
#
#   scripts/deps.sh          build + test dependencies
#   scripts/deps.sh --check  report missing packages, install nothing
#   scripts/deps.sh --bench  the same plus the tools `make bench` compares
#                            with: tshark, tcptrace, argus (argus-server)
set -u

pkgs=(
	build-essential pkg-config clang llvm libclang-rt-dev
	libpcap-dev libcmocka-dev
	tcpdump iproute2 nftables ethtool python3 procps time
	libbpf-dev bpftool hping3
)

if [ "${1:-}" = "--bench" ]; then
	pkgs+=(tshark tcptrace argus-server)
	shift
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${1:-}" = "--check" ] || [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	[ "$(id -u)" -ne 0 ] && echo "deps: run 'sudo scripts/deps.sh' to install them" >&2
	exit 0
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
	apt-get update -qq >/dev/null 2>&1
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		{ echo "deps: apt-get install failed" >&2; exit 1; }
fi
exit 0
