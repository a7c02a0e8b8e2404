#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# watch end to end: real Linux TCP between two namespaces, captured live.
# A graceful session, a SYN to a closed port and a reset mid-stream must
# each be written, with Zeek's conn_state/history and the end reason, by
# the idle timer alone (no traffic after them) within 1 s of their
# tcp-time-wait timer running out; a session still open at SIGTERM must be
# written as open-at-end; the conn.log must hold the same rows between
# its header and #close; the process must have dropped to nobody.
. "$(dirname "$0")/lib.sh"
tgl_init sess 1
out=$TGL_WORK
chown nobody "$out"
linger=1

tgl_watch "$out/err" --json "$out/s.json" --zeek "$out/conn.log" \
	--timeout tcp-time-wait=$linger --status 1
uid=$(awk '/^Uid:/ { print $2 }' /proc/"$TGL_WATCH_PID"/status 2>/dev/null)
# ip netns exec runs tcpguard as its child or execs it: look at both
[ "$uid" = 65534 ] || uid=$(awk '/^Uid:/ { print $2 }' \
	/proc/"$(pgrep -P "$TGL_WATCH_PID" | head -1)"/status 2>/dev/null)
[ "$uid" = 65534 ] || tgl_fail "watch runs as uid '$uid', not nobody"

"$TGL_DIR/tail_json.py" "$out/s.json" 3 $linger >"$out/latency" &
tail_pid=$!
TGL_PIDS+=("$tail_pid")
tgl_drive graceful --cport 40001 || tgl_fail "graceful traffic"
tgl_drive closed-port --cport 40002 --sport 8081 || tgl_fail "closed-port traffic"
tgl_drive rst-client --cport 40003 || tgl_fail "rst traffic"
# no traffic now: only watch's timer can end these three
tgl_wait_lines "$out/s.json" 3 10 || { cat "$out/err" >&2; tgl_fail "idle sessions not written"; }
wait "$tail_pid"

tgl_drive_open 40004
tgl_stop
[ "$TGL_WATCH_RC" = 0 ] || { cat "$out/err" >&2; tgl_fail "exit status $TGL_WATCH_RC"; }

"$TGL_DIR/check.py" 1 "$out/s.json" -- \
	40001 8080 SF ShADadFf tcp-fin \
	40002 8081 REJ Sr tcp-rst-from-server \
	40003 8080 RSTO ShADadR tcp-rst-from-client \
	40004 8080 S1 ShADad open-at-end || tgl_fail "session records"

max=$(awk '{ if ($3 > m) m = $3 } END { print m + 0 }' "$out/latency")
tgl_log "end-to-record latency (s): $(awk '{ printf "%s ", $3 }' "$out/latency")"
awk -v m="$max" 'BEGIN { exit !(m <= 1.0) }' || tgl_fail "a record came ${max} s after its end"

# conn.log: header, the same four rows, #close
[ "$(grep -c '^#fields' "$out/conn.log")" = 1 ] || tgl_fail "conn.log header"
[ "$(tail -1 "$out/conn.log" | cut -f1)" = "#close" ] || tgl_fail "conn.log #close"
rows=$(grep -v '^#' "$out/conn.log" | awk -F'\t' '{ print $4, $6, $12, $16 }' | sort | tr '\n' ';')
[ "$rows" = "40001 8080 SF ShADadFf;40002 8081 REJ Sr;40003 8080 RSTO ShADadR;40004 8080 S1 ShADad;" ] ||
	tgl_fail "conn.log rows: $rows"

grep -q 'half-open' "$out/err" || tgl_fail "no status line"
grep -q '^frames 32, TCP packets 32, sessions 4 ' "$out/err.out" || tgl_fail "summary"
grep -q '^tcpguard: veth-s: .* 0 dropped by kernel' "$out/err" || tgl_fail "final capture line"
exit 0
