# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Common helpers for the live tests of `tcpguard watch`: two network
# namespaces joined by a veth pair, tcpguard capturing in the server's,
# traffic driven by tests/scenarios/traffic.py's scenarios.
#
#   tgl_init NAME NET        # namespaces tgl-NAME-c / tgl-NAME-s, 10.96.NET.1 / .2
#   tgl_watch OUTDIR [args]  # start tcpguard watch -i veth-s in the server ns
#   tgl_drive SCENARIO [--cport N --sport N ...]
#   tgl_drive_open CPORT     # a session held open until the test ends
#   tgl_stop                 # SIGTERM, wait, exit status in TGL_WATCH_RC
#
# Only addresses 10.96.NET.0/24 inside the test's own namespaces are used;
# nothing is routed anywhere else. Everything is removed on exit (trap).

set -u
TGL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TGL_REPO=$(cd "$TGL_DIR/../.." && pwd)
TGL_BIN=${TGL_BIN:-$TGL_REPO/build/tcpguard}
TGL_NAME= TGL_NS_C= TGL_NS_S= TGL_NET= TGL_WORK= TGL_WATCH_PID= TGL_WATCH_RC=
TGL_PIDS=()

tgl_log() { printf '[%s] %s\n' "${TGL_NAME:-live}" "$*" >&2; }
tgl_fail() { tgl_log "FAIL: $*"; exit 1; }

tgl_cleanup() {
	local rc=$? p
	set +e
	for p in "${TGL_PIDS[@]}" $TGL_WATCH_PID; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "$TGL_NS_C" ] && ip netns del "$TGL_NS_C" 2>/dev/null
	[ -n "$TGL_NS_S" ] && ip netns del "$TGL_NS_S" 2>/dev/null
	[ -n "$TGL_WORK" ] && [ -z "${TGL_KEEP:-}" ] && rm -rf "$TGL_WORK"
	exit $rc
}

tgl_init() {
	TGL_NAME=$1 TGL_NET=$2
	TGL_NS_C=tgl-$TGL_NAME-c TGL_NS_S=tgl-$TGL_NAME-s
	trap tgl_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	ip netns del "$TGL_NS_C" 2>/dev/null
	ip netns del "$TGL_NS_S" 2>/dev/null
	TGL_WORK=$(mktemp -d /tmp/tgl-"$TGL_NAME".XXXXXX)
	chmod 0755 "$TGL_WORK"
	ip netns add "$TGL_NS_C" && ip netns add "$TGL_NS_S" || tgl_fail "ip netns add"
	ip link add veth-c netns "$TGL_NS_C" address 02:96:00:00:$TGL_NET:01 type veth \
		peer name veth-s netns "$TGL_NS_S" address 02:96:00:00:$TGL_NET:02 ||
		tgl_fail "veth pair"
	local ns dev
	for ns in "$TGL_NS_C" "$TGL_NS_S"; do
		if [ "$ns" = "$TGL_NS_C" ]; then dev=veth-c; else dev=veth-s; fi
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf."$dev".disable_ipv6=1 2>/dev/null
		# correct checksums and MTU-sized segments on the wire
		ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off tx off rx off sg off \
			>/dev/null 2>&1
		ip -n "$ns" link set "$dev" up
	done
	ip -n "$TGL_NS_C" addr add 10.96.$TGL_NET.1/24 dev veth-c
	ip -n "$TGL_NS_S" addr add 10.96.$TGL_NET.2/24 dev veth-s
	ip -n "$TGL_NS_C" neigh replace 10.96.$TGL_NET.2 lladdr 02:96:00:00:$TGL_NET:02 \
		dev veth-c nud permanent
	ip -n "$TGL_NS_S" neigh replace 10.96.$TGL_NET.1 lladdr 02:96:00:00:$TGL_NET:01 \
		dev veth-s nud permanent
}

# tgl_watch LOG [watch args...]: starts watch in the server namespace with
# stderr to LOG, stdout to LOG.out, and waits for its "listening on" line.
# TGL_WRAP (a command prefix, e.g. setpriv ...) runs it under restrictions.
tgl_watch() {
	local log=$1 i
	shift
	# shellcheck disable=SC2086
	ip netns exec "$TGL_NS_S" ${TGL_WRAP:-} "$TGL_BIN" watch -i veth-s "$@" 2>"$log" >"$log.out" &
	TGL_WATCH_PID=$!
	for i in $(seq 1 100); do
		grep -q 'listening on' "$log" 2>/dev/null && return 0
		kill -0 "$TGL_WATCH_PID" 2>/dev/null || { cat "$log" >&2; tgl_fail "watch died"; }
		sleep 0.05
	done
	cat "$log" >&2
	tgl_fail "watch not ready"
}

tgl_stop() {
	kill -TERM "$TGL_WATCH_PID"
	TGL_WATCH_RC=0
	wait "$TGL_WATCH_PID" || TGL_WATCH_RC=$?
	TGL_WATCH_PID=
}

tgl_drive() {
	"${TGL_PY:-python3}" "$TGL_DIR/drive.py" --cns "$TGL_NS_C" --sns "$TGL_NS_S" \
		--net "$TGL_NET" "$@"
}

# tgl_drive_open CPORT: a session left open (drive.py's "open" scenario) in
# the background until the test ends; returns once it is established.
tgl_drive_open() {
	local f=$TGL_WORK/open-$1 i
	"${TGL_PY:-python3}" "$TGL_DIR/drive.py" --cns "$TGL_NS_C" --sns "$TGL_NS_S" \
		--net "$TGL_NET" open --cport "$1" >"$f" &
	TGL_PIDS+=($!)
	for i in $(seq 1 100); do
		grep -q open "$f" && return 0
		sleep 0.05
	done
	tgl_fail "open session not established"
}

# tgl_wait_lines FILE N SECONDS: waits until FILE has N lines.
tgl_wait_lines() {
	local f=$1 n=$2 t=$3 i
	for i in $(seq 1 $((t * 20))); do
		[ -f "$f" ] && [ "$(grep -c . "$f")" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}
