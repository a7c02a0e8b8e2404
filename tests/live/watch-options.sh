#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# watch's refusals and its BPF filter: without root or CAP_NET_RAW it must
# refuse with a clear message (exit 2) before writing anything; an unknown
# --user and a bad filter are refused the same way; a filter restricts the
# sessions tracked exactly as tcpdump's would.
. "$(dirname "$0")/lib.sh"
tgl_init opt 3
out=$TGL_WORK
chown nobody "$out"

expect_refusal() { # WHAT PATTERN COMMAND...
	local what=$1 pat=$2 rc=0
	shift 2
	"$@" >"$out/r.out" 2>"$out/r.err" || rc=$?
	[ "$rc" = 2 ] || tgl_fail "$what: exit status $rc, want 2"
	grep -q -e "$pat" "$out/r.err" || tgl_fail "$what: message '$(cat "$out/r.err")'"
}

if command -v setpriv >/dev/null; then
	expect_refusal "unprivileged capture" "capture not permitted.*root or.*CAP_NET_RAW" \
		ip netns exec "$TGL_NS_S" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all \
		"$TGL_BIN" watch -i veth-s --json "$out/never.json"
	[ ! -e "$out/never.json" ] || tgl_fail "unprivileged capture: wrote its output file"
else
	tgl_log "setpriv missing: unprivileged refusal not checked"
fi
expect_refusal "unknown user" "--user no-such-user-tg: no such user" \
	ip netns exec "$TGL_NS_S" "$TGL_BIN" watch -i veth-s --user no-such-user-tg
expect_refusal "bad filter" "bad filter" \
	ip netns exec "$TGL_NS_S" "$TGL_BIN" watch -i veth-s tcp port nonsense
expect_refusal "no interface" "no such interface" \
	ip netns exec "$TGL_NS_S" "$TGL_BIN" watch -i veth-none
expect_refusal "missing -i" "watch: -i IFACE is required" "$TGL_BIN" watch

tgl_watch "$out/err" -q --json "$out/s.json" --timeout tcp-time-wait=0.5 tcp port 8080
tgl_drive closed-port --cport 42001 --sport 8081 || tgl_fail traffic
tgl_drive graceful --cport 42002 || tgl_fail traffic
tgl_stop
[ "$TGL_WATCH_RC" = 0 ] || tgl_fail "exit status $TGL_WATCH_RC"
"$TGL_DIR/check.py" 3 "$out/s.json" -- 42002 8080 SF ShADadFf tcp-fin ||
	tgl_fail "filter 'tcp port 8080'"
exit 0
