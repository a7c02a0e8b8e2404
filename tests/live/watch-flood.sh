#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Live attack detection: watch captures a bounded hping3 SYN flood from
# spoofed sources inside the test's own 10.96.200.0/24 (four loops of 16
# sources, 60 SYNs each) against a listener on 10.96.5.2:9090, with real
# sessions before, during and after it. The alerts file must hold one
# syn-flood alert for 10.96.5.2:9090: its start while the flood runs,
# updates, its end once it has been quiet for quiet_ms, one id, a time
# window matching the flood's; each record readable within 1 s of the
# moment the detector could know it (the window that crossed the
# threshold; the first tick after quiet_ms). The sessions of the real
# clients are exact, the status line counts the active alert, the summary
# lists it, and SIGHUP reopens the alerts file. The server's SYN-ACKs to
# the spoofed sources go to the client namespace, which drops them
# (forwarding off, blackhole route): nothing leaves the namespaces.
. "$(dirname "$0")/lib.sh"
command -v hping3 >/dev/null || { echo "skipped: needs hping3"; exit 0; }
tgl_init flood 5
out=$TGL_WORK
chown nobody "$out"
srv=10.96.5.2

ip netns exec "$TGL_NS_C" sysctl -qw net.ipv4.ip_forward=0
ip -n "$TGL_NS_C" route add blackhole 10.96.200.0/24
ip -n "$TGL_NS_S" route add 10.96.200.0/24 via 10.96.5.1 dev veth-s
ip netns exec "$TGL_NS_S" sysctl -qw net.ipv4.tcp_synack_retries=2
ip netns exec "$TGL_NS_S" python3 -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.96.5.2", 9090))
s.listen(64)
time.sleep(60)' &
TGL_PIDS+=($!)

printf '[detect]\nquiet_ms = 2000\nupdate_ms = 1000\n' >"$out/detect.ini"
tgl_watch "$out/err" --json "$out/s.json" --alerts "$out/alerts.json" \
	--config "$out/detect.ini" --timeout tcp-time-wait=1 --status 1

# rotation of the (still empty) alerts file
mv "$out/alerts.json" "$out/alerts.json.0"
kill -HUP "$TGL_WATCH_PID"
for _ in $(seq 1 100); do [ -f "$out/alerts.json" ] && break; sleep 0.05; done
[ -f "$out/alerts.json" ] || tgl_fail "alerts file not reopened on SIGHUP"

"$TGL_DIR/tail_alerts.py" "$out/alerts.json" 40 >"$out/seen" &
tail_pid=$!
TGL_PIDS+=("$tail_pid")
tgl_drive graceful --cport 45001 || tgl_fail "traffic before the flood"
sleep 1
t0=$(date +%s.%N)
flooders=()
for j in 0 1 2 3; do
	(
		for i in $(seq 1 16); do
			ip netns exec "$TGL_NS_C" timeout 10 hping3 -q -S -p 9090 -i u1000 -c 60 \
				-a 10.96.200.$((j * 16 + i)) "$srv" >/dev/null 2>&1
		done
	) &
	flooders+=($!)
	TGL_PIDS+=($!)
done
sleep 0.5
tgl_drive graceful --cport 45002 || tgl_fail "traffic during the flood"
wait "${flooders[@]}"
t1=$(date +%s.%N)
tgl_drive closed-port --cport 45003 --sport 8081 || tgl_fail "traffic after the flood"
t2=$(date +%s.%N)
wait "$tail_pid" || true
grep -q '"event": "end"' "$out/seen" || { cat "$out/err" >&2; tgl_fail "no end record"; }
tgl_stop
[ "$TGL_WATCH_RC" = 0 ] || { cat "$out/err" >&2; tgl_fail "exit status $TGL_WATCH_RC"; }

[ -s "$out/alerts.json.0" ] && tgl_fail "records in the rotated alerts file"
grep -v '"id.orig_h":"10.96.200.' "$out/s.json" >"$out/real.json"
"$TGL_DIR/check.py" 5 "$out/real.json" -- \
	45001 8080 SF ShADadFf tcp-fin \
	45002 8080 SF ShADadFf tcp-fin \
	45003 8081 REJ Sr tcp-rst-from-server || tgl_fail "session records"

python3 - "$out/seen" "$out/alerts.json" "$t0" "$t1" "$srv" "$t2" <<'PY' || tgl_fail "alert records"
import json, math, sys
seen = [json.loads(l) for l in open(sys.argv[1])]
recs = [json.loads(l) for l in open(sys.argv[2])]
t0, t1, srv = float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
# The alert counts every SYN to its host while it is open, so the closed-
# port client's SYN right after the flood (sent before t2) may be its last.
t2 = float(sys.argv[6])
bad = []
ev = [r["event"] for r in recs]
if len(recs) != len(seen) or [r["event"] for r in seen] != ev:
    bad.append("file and follower disagree")
if ev[0] != "start" or ev[-1] != "end" or ev.count("start") != 1 or ev.count("end") != 1:
    bad.append("events %s" % ev)
for r in recs:
    if (r["id"], r["kind"], r["target"], r.get("target_port")) != (1, "syn-flood", srv, 9090):
        bad.append("record %s" % {k: r.get(k) for k in ("id", "kind", "target", "target_port")})
s, e = seen[0], seen[-1]
if not t0 - 0.2 <= e["start"] <= t0 + 1.5:
    bad.append("start %.3f, flood from %.3f" % (e["start"], t0))
if not t1 - 1.5 <= e["end"] <= t2 + 0.2:
    bad.append("end %.3f, flood until %.3f, last SYN to the host before %.3f" %
               (e["end"], t1, t2))
if s["seen"] > t1:
    bad.append("start record only after the flood")
# every SYN to the target while the alert is open: the flood's 3840 and
# the real client's
if e["packets"] < 3000 or e["packets"] > 3850:
    bad.append("packets %d, 3840 sent" % e["packets"])
# when the detector could know: the window that crossed the threshold
# ends at "alarm"; the end is decided at the first 1 s tick after quiet_ms
lat_s = s["seen"] - s["alarm"]
lat_e = e["seen"] - math.ceil(e["end"] + 2.0)
print("alert latency (s): start %.3f, end %.3f; %d updates" % (lat_s, lat_e, ev.count("update")))
if lat_s > 1.0 or lat_e > 1.0:
    bad.append("latency")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
grep -q ', 1 alerts active' "$out/err" || tgl_fail "no status line with the active alert"
grep -q '^attacks detected: 1$' "$out/err.out" || tgl_fail "no attacks section in the summary"
grep -q 'syn-flood  *10.96.5.2:9090' "$out/err.out" || tgl_fail "summary line"
exit 0
