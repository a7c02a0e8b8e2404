#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Log rotation: the output files are renamed (as logrotate does) and watch
# gets SIGHUP mid-run. Every session must then be in exactly one of the
# two files, the old conn.log must end with #close and the new one start
# with its own header; a SIGHUP with nothing renamed must change nothing.
# It runs as contrib/tcpguard-watch.service runs it: root with only
# CAP_NET_RAW, CAP_SETUID and CAP_SETGID, dropping to nobody, the log
# directory root:nogroup 0770 (created by root at start, by nobody after).
. "$(dirname "$0")/lib.sh"
tgl_init rot 2
out=$TGL_WORK
chgrp nogroup "$out" && chmod 0770 "$out"
TGL_WRAP="setpriv --bounding-set=-all,+net_raw,+setuid,+setgid --inh-caps=-all"

tgl_watch "$out/err" -q --json "$out/s.json" --zeek "$out/conn.log" \
	--timeout tcp-time-wait=0.5
tgl_drive graceful --cport 41001 || tgl_fail traffic
tgl_drive closed-port --cport 41002 --sport 8081 || tgl_fail traffic
tgl_wait_lines "$out/s.json" 2 10 || tgl_fail "first sessions not written"
# the third is open across the rename and ends at the stop
tgl_drive_open 41003

mv "$out/s.json" "$out/s.json.1"
mv "$out/conn.log" "$out/conn.log.1"
kill -HUP "$TGL_WATCH_PID"
for _ in $(seq 1 100); do [ -f "$out/conn.log" ] && break; sleep 0.05; done
[ -f "$out/s.json" ] && [ -f "$out/conn.log" ] || { cat "$out/err" >&2; tgl_fail "files not reopened"; }

tgl_drive rst-client --cport 41004 || tgl_fail traffic
tgl_wait_lines "$out/s.json" 1 10 || tgl_fail "sessions after rotation not written"
kill -HUP "$TGL_WATCH_PID"  # nothing renamed: same files, no new header
sleep 0.3
tgl_drive graceful --cport 41005 || tgl_fail traffic
tgl_stop
[ "$TGL_WATCH_RC" = 0 ] || { cat "$out/err" >&2; tgl_fail "exit status $TGL_WATCH_RC"; }

# 41003 was open at the rename and ended at the stop: in the new file only
"$TGL_DIR/check.py" 2 "$out/s.json.1" "$out/s.json" -- \
	41001 8080 SF ShADadFf tcp-fin \
	41002 8081 REJ Sr tcp-rst-from-server \
	41003 8080 S1 ShADad open-at-end \
	41004 8080 RSTO ShADadR tcp-rst-from-client \
	41005 8080 SF ShADadFf tcp-fin || tgl_fail "session records"
[ "$(grep -c . "$out/s.json.1")" = 2 ] || tgl_fail "old JSON file: want 2 sessions"

for f in conn.log.1 conn.log; do
	[ "$(head -1 "$out/$f")" = '#separator \x09' ] || tgl_fail "$f: no header"
	[ "$(grep -c '^#fields' "$out/$f")" = 1 ] || tgl_fail "$f: want one #fields line"
	[ "$(tail -1 "$out/$f" | cut -f1)" = "#close" ] || tgl_fail "$f: no #close at the end"
	[ "$(grep -c '^#close' "$out/$f")" = 1 ] || tgl_fail "$f: want one #close"
done
old=$(grep -v '^#' "$out/conn.log.1" | cut -f4 | sort | tr '\n' ' ')
new=$(grep -v '^#' "$out/conn.log" | cut -f4 | sort | tr '\n' ' ')
[ "$old" = "41001 41002 " ] || tgl_fail "old conn.log rows: $old"
[ "$new" = "41003 41004 41005 " ] || tgl_fail "new conn.log rows: $new"
exit 0
