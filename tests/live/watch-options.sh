#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# watch's refusals and its BPF filter: without root or CAP_NET_RAW it must
# refuse with a clear message (exit 2) before writing anything; an unknown
# --user and a bad filter are refused the same way; a filter restricts the
# sessions tracked exactly as tcpdump's would; an interface that goes
# away ends the run with exit status 1 and every session written.
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

# the interface goes away under a running watch: exit 1, nothing lost
tgl_watch "$out/err2" -q --json "$out/gone.json"
tgl_drive_open 42003
ip -n "$TGL_NS_S" link del veth-s
for _ in $(seq 1 100); do kill -0 "$TGL_WATCH_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$TGL_WATCH_PID" 2>/dev/null && tgl_fail "interface gone: watch still running"
rc=0
wait "$TGL_WATCH_PID" || rc=$?
TGL_WATCH_PID=
[ "$rc" = 1 ] || tgl_fail "interface gone: exit status $rc, want 1"
grep -q "interface disappeared\|went down" "$out/err2" || tgl_fail "interface gone: message"
"$TGL_DIR/check.py" 3 "$out/gone.json" -- 42003 8080 S1 ShADad open-at-end ||
	tgl_fail "interface gone: session records"
exit 0
