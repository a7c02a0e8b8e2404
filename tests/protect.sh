#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tcpguard protect in network namespaces this script creates: a server
# namespace behind the protected veth (10.94.0.1, fd00:94::1) and a client
# namespace (10.94.0.2 and friends). Checks SYN cookies with the options
# kept, a spoofed flood (sources 10.94.128.0/17) against real connections,
# allow/deny, a brute-force client banned then unbanned, an innocent
# address spoofed by a flood never banned, the backscatter guard and a
# clean detach; then mode auto: a bounded flood turns cookies on through
# the detector and off after it stops, with alerts written and reopened;
# then bans through the nftables backend (--backend nft).
# Needs root; skips visibly otherwise.
#
#   tests/protect.sh TCPGUARD
set -u
bin=${1:?usage: protect.sh TCPGUARD}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
root=$(cd "$(dirname "$0")/.." && pwd)
results=${TG_RESULTS:-/dev/null}

skip() {
	echo "protect: skipped: $1"
	echo "protect: skipped: $1" >>"$results"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root"
"$bin" protect --help >/dev/null 2>&1 || skip "tcpguard built without protect"
"$bin" protect --help | grep -q "built without BPF" &&
	skip "built without BPF support (clang, bpftool or libbpf-dev missing)"
for t in ip ethtool python3 cc; do
	command -v $t >/dev/null || skip "needs $t"
done
bpftool btf dump file /sys/kernel/btf/vmlinux format raw 2>/dev/null |
	grep -q "FUNC 'bpf_sk_assign_tcp_reqsk'" ||
	skip "kernel lacks XDP helper bpf_sk_assign_tcp_reqsk (Linux 6.9+)"

S=tgp-s-$$ C=tgp-c-$$ VS=tgps$$ VC=tgpc$$
dir=$(mktemp -d)
chmod 755 "$dir"
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids "$C" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del "$S" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "protect: ok   $* [${SECONDS}s]"; }
ko() { fail=$((fail + 1)); echo "protect: FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
sx() { ip netns exec "$S" "$@"; }
cx() { ip netns exec "$C" "$@"; }

cc -O2 -o "$dir/flood" "$root/tests/protect/flood.c" || skip "cannot build the flood sender"
ip netns add "$S" && ip netns add "$C" || skip "cannot create network namespaces"
ip link add "$VS" type veth peer name "$VC"
ip link set "$VS" netns "$S"
ip link set "$VC" netns "$C"
sx ip link set lo up
cx ip link set lo up
sx ip addr add 10.94.0.1/16 dev "$VS"
sx ip -6 addr add fd00:94::1/64 dev "$VS" nodad
for a in 10.94.0.2 10.94.0.3 10.94.0.5 10.94.2.6 10.94.2.7; do
	cx ip addr add $a/16 dev "$VC"
done
cx ip -6 addr add fd00:94::2/64 dev "$VC" nodad
sx ip link set "$VS" up
cx ip link set "$VC" up
# A veth takes its peer's XDP_TX frames only when it runs XDP itself.
clang -O2 -target bpf -I/usr/include/$(cc -dumpmachine) -c \
	"$root/tests/protect/pass.bpf.c" -o "$dir/pass.o" &&
	cx ip link set dev "$VC" xdp obj "$dir/pass.o" sec xdp ||
	skip "cannot attach XDP to the client veth"
peer="$root/tests/protect/peer.py"
sx python3 "$peer" server "$dir/accepted" 8080 9090 2222 &
srv=$!
sleep 0.5

# Options as the server negotiates them without protection.
opts() {
	cx timeout 5 tcpdump -nli "$VC" -c 1 -Q in \
		"tcp src port 9090" 2>/dev/null |
		grep -o 'options \[.*\]' | sed -E 's/(val|ecr) [0-9]+/\1 N/g' >"$dir/synack" &
	local d=$!
	sleep 1
	cx python3 "$peer" hold "$1" 9090 &
	local h=$!
	sleep 0.5
	sx ss -tinH state established "( sport = :9090 )" |
		tr -s ' \t' '\n\n' | grep -E '^(ts|sack|ecn|wscale:[0-9,]+|mss:[0-9]+)$' | sort | tr '\n' ' '
	wait $h $d
	tr '\n' ' ' <"$dir/synack"
}
base4=$(opts 10.94.0.1)
base6=$(opts fd00:94::1)

cat >"$dir/conf" <<CONF
[protect]
mode = always
ports = 8080, 9090, 2222
backscatter = on
backscatter_rate = 100
[allow]
10.94.2.7
[deny]
10.94.2.0/24
[bans]
ports = 2222
maxretry = 3
findtime = 60
bantime = 4
max_duration = 5
CONF
chmod 644 "$dir/conf"
ip netns exec "$S" "$bin" protect -i "$VS" --config "$dir/conf" --state "$dir/bans" \
	--events "$dir/events" --timeout tcp-time-wait=1 --timeout tcp-init=1 \
	2>"$dir/protect.err" &
pid=$!
for _ in $(seq 50); do
	grep -q "protecting" "$dir/protect.err" && break
	sleep 0.1
done
check "protect attached" grep -q "protecting" "$dir/protect.err"
sed 's/^/protect: /' "$dir/protect.err"

prot4=$(opts 10.94.0.1)
prot6=$(opts fd00:94::1)
echo "protect: options without: $base4| with: $prot4"
echo "protect: options v6 without: $base6| with: $prot6"
check "IPv4 options negotiated as without protection" [ -n "$base4" -a "$base4" = "$prot4" ]
check "IPv6 options negotiated as without protection" [ -n "$base6" -a "$base6" = "$prot6" ]

# A spoofed flood while a real client makes 150 connections.
: >"$dir/accepted"
ip netns exec "$C" "$dir/flood" -d 10.94.0.1 -p 8080 -S 10.94.128.0/17 -n 3000000 2>"$dir/flood.err" &
fl=$!
sleep 0.3
# A client under a flood may lose a packet of its handshake to the
# overloaded link like any other. A lost SYN or SYN-ACK is retransmitted
# (after 1 s, then 3 s: each client waits 5 s). A lost final ACK is not:
# with cookies the server keeps no state and never retransmits its
# SYN-ACK, so a client that waits for the server to speak first hangs (a
# known limit of SYN cookies, the kernel's too). These clients speak
# first, as HTTP and TLS clients do: their request carries the ACK and
# is retransmitted.
res=$(cx env PEER_TIMEOUT=5 PEER_SEND=1 python3 "$peer" client 10.94.0.1 8080 150)
kill -TERM $fl 2>/dev/null; wait $fl 2>/dev/null
echo "protect: during the flood: $res; $(cat "$dir/flood.err")"
okc=${res#ok }; okc=${okc%% *}
check "legitimate connections >= 99% during the flood" [ "${okc:-0}" -ge 149 ]
check "no spoofed source reached the server's accept queue" \
	bash -c "! grep -q '^10\.94\.1[2-9][0-9]\.\|^10\.94\.2[0-5][0-9]\.' '$dir/accepted'"
res6=$(cx python3 "$peer" client fd00:94::1 8080 5)
check "IPv6 connections through cookies ($res6)" [ "$res6" = "ok 5 fail 0" ]

# Allow wins over deny; the denied host reaches nothing.
rd=$(cx python3 "$peer" client 10.94.0.1 8080 2 10.94.2.6)
ra=$(cx python3 "$peer" client 10.94.0.1 8080 2 10.94.2.7)
check "denylisted 10.94.2.6 refused ($rd)" [ "$rd" = "ok 0 fail 2" ]
check "denylisted source never reached the server" bash -c "! grep -q '^10\.94\.2\.6 ' '$dir/accepted'"
check "allowlisted 10.94.2.7 inside the denied prefix gets through ($ra)" [ "$ra" = "ok 2 fail 0" ]

# A flood spoofing an innocent address at the jail port: never a ban.
cx "$dir/flood" -d 10.94.0.1 -p 2222 -s 10.94.0.5 -n 20000 2>/dev/null
sleep 2.5
check "spoofed SYNs from innocent 10.94.0.5 did not ban it" \
	bash -c "! '$bin' bans --state '$dir/bans' list | grep -q '^10\.94\.0\.5 '"
ri=$(cx python3 "$peer" client 10.94.0.1 2222 1 10.94.0.5)
check "innocent 10.94.0.5 still connects ($ri)" [ "$ri" = "ok 1 fail 0" ]

# Brute force: short sessions from 10.94.0.3 to the jail port.
cx python3 "$peer" client 10.94.0.1 2222 4 10.94.0.3 >/dev/null
banned=0
for _ in $(seq 40); do
	"$bin" bans --state "$dir/bans" list | grep -q '^10\.94\.0\.3 ' && { banned=1; break; }
	sleep 0.1
done
check "brute-force client 10.94.0.3 banned" [ "$banned" = 1 ]
rb=$(cx python3 "$peer" client 10.94.0.1 8080 1 10.94.0.3)
check "banned client dropped ($rb)" [ "$rb" = "ok 0 fail 1" ]
sleep 3
ru=$(cx python3 "$peer" client 10.94.0.1 8080 1 10.94.0.3)
check "ban expired, client back ($ru)" [ "$ru" = "ok 1 fail 0" ]
check "ban and unban logged" bash -c "grep -q '\"event\":\"ban\",\"addr\":\"10.94.0.3\"' '$dir/events' &&
	grep -q '\"event\":\"unban\",\"addr\":\"10.94.0.3\"' '$dir/events'"

# Manual bans through the state file reach the running data path.
"$bin" bans --state "$dir/bans" add 10.94.0.2 --time 60
sleep 1.5
rm_=$(cx python3 "$peer" client 10.94.0.1 8080 1 10.94.0.2)
"$bin" bans --state "$dir/bans" del 10.94.0.2
sleep 1.5
rm2=$(cx python3 "$peer" client 10.94.0.1 8080 1 10.94.0.2)
check "bans add/del reach a running protect ($rm_ / $rm2)" \
	[ "$rm_" = "ok 0 fail 1" -a "$rm2" = "ok 1 fail 0" ]

# Backscatter: SYN-ACKs nobody here asked for get a RST.
cx "$dir/flood" -d 10.94.0.1 -p 40000 -s 10.94.0.2 -A -n 20 2>/dev/null
sleep 0.3

kill -INT $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	ko "protect exits on SIGINT"
	grep -E 'State|Sig' /proc/$pid/status; cat /proc/$pid/wchan; echo
	timeout 5 gdb -p $pid -batch -ex bt 2>/dev/null | grep '^#' | head
	kill -KILL $pid
fi
wait $pid
pid=
sed 's/^/protect: /' "$dir/protect.err" | grep -E "packets|syn-|ack-cookie|handshake|backscatter|deny|ban-drop|rule"
bs=$(awk '$1=="backscatter-rst"{print $2}' "$dir/protect.err")
odd=$(awk '$1=="syn-passed-odd"{print $2}' "$dir/protect.err")
check "every flood SYN answered at XDP, none passed to the kernel (${odd:-?} passed)" [ "${odd:-1}" -eq 0 ]
check "backscatter SYN-ACKs answered with RST (${bs:-0})" [ "${bs:-0}" -ge 20 ]
check "XDP detached at exit" bash -c "! ip netns exec '$S' ip link show '$VS' | grep -q xdp"
check "TC filter removed at exit" bash -c "[ -z \"\$(ip netns exec '$S' tc filter show dev '$VS' ingress)\" ]"
# Auto mode: the detector's syn-flood alert (fed with XDP's samples of
# the SYNs cookies answer) turns cookies on for 10.94.0.1:8080 and its end
# turns them off; alerts go to --alerts, reopened on SIGHUP.
cat >"$dir/auto.conf" <<CONF
[protect]
mode = auto
ports = 8080
[detect]
quiet_ms = 2000
[syn-flood]
syn_alarm_pps = 200
syn_activate_pps = 500
[baseline]
baseline_windows = 100000
CONF
chmod 644 "$dir/auto.conf"
ip netns exec "$S" "$bin" protect -i "$VS" --config "$dir/auto.conf" --state "$dir/bans2" \
	--events "$dir/auto.events" --alerts "$dir/alerts" --timeout tcp-init=1 \
	2>"$dir/auto.err" &
pid=$!
for _ in $(seq 50); do grep -q "protecting" "$dir/auto.err" && break; sleep 0.1; done
check "protect attached in mode auto" grep -q "mode auto" "$dir/auto.err"
# 45 rounds of 5 sequential connects (2 s timeout each) before, during and
# after the flood.
(for _ in $(seq 45); do cx python3 "$peer" client 10.94.0.1 8080 5; sleep 0.1; done) \
	>"$dir/auto.clients" &
cl=$!
sleep 1
t0=$(date +%s%N)
cx "$dir/flood" -d 10.94.0.1 -p 8080 -S 10.94.128.0/17 -r 3000 -n 15000 2>/dev/null &
fl=$!
on=
for _ in $(seq 80); do
	grep -q '"cookies-on","addr":"10.94.0.1","port":8080' "$dir/auto.events" 2>/dev/null &&
		{ on=$(( ($(date +%s%N) - t0) / 1000000 )); break; }
	sleep 0.1
done
check "auto: cookies on for 10.94.0.1:8080 ${on:-never} ms after the flood began" \
	[ -n "$on" ] && [ "${on:-99999}" -le 4000 ]
mv "$dir/alerts" "$dir/alerts.1"
kill -HUP $pid
wait $fl
t1=$(date +%s%N)
off=
for _ in $(seq 100); do
	grep -q '"cookies-off","addr":"10.94.0.1","port":8080' "$dir/auto.events" &&
		{ off=$(( ($(date +%s%N) - t1) / 1000000 )); break; }
	sleep 0.1
done
check "auto: cookies off ${off:-never} ms after the flood stopped (quiet_ms 2000)" \
	[ -n "$off" ] && [ "${off:-99999}" -le 6000 ]
wait $cl
ac=$(awk '{o += $2; f += $4} END {print o + 0, f + 0}' "$dir/auto.clients")
# The target: at least 99 % of legitimate connections succeed.
check "auto: legitimate connections succeed throughout, >= 99 % (ok/fail: $ac)" \
	[ "${ac% *}" -ge 200 ] && [ $(( ${ac#* } * 100 )) -le $(( ${ac% *} + ${ac#* } )) ]
check "auto: syn-flood start alert in the alerts file" \
	grep -q '"event":"start".*"kind":"syn-flood"' "$dir/alerts.1"
check "auto: after SIGHUP the alert's end goes to the reopened file" \
	grep -q '"event":"end".*"kind":"syn-flood"' "$dir/alerts"
kill -INT $pid
wait $pid
pid=
grep -E "syn-cookie-sent|syn-passed |syn-sample|syn-samples-fed" "$dir/auto.err" | sed 's/^/protect: /'
check "auto: attacks section in the summary" grep -q "attacks detected" "$dir/auto.err"
sed 's/^/protect: /' "$dir/auto.events"

# The nftables backend (mode off: bans only, no XDP): the brute-force
# client lands in the set protect manages (table inet tcpguard, set ban4,
# src/ctl/nft.c) and is dropped; `bans del` takes it out again.
nft_backend() {
	cat >"$dir/nft.conf" <<CONF
[protect]
mode = off
[bans]
ports = 2222
maxretry = 3
findtime = 60
bantime = 60
max_duration = 5
CONF
	chmod 644 "$dir/nft.conf"
	inset() { sx nft list set inet tcpguard ban4 2>/dev/null | grep -qwF "$1"; }
	ip netns exec "$S" "$bin" protect -i "$VS" --backend nft --config "$dir/nft.conf" \
		--state "$dir/bans3" --events "$dir/nft.events" --timeout tcp-time-wait=1 \
		2>"$dir/nft.err" &
	pid=$!
	for _ in $(seq 50); do sx nft list chain inet tcpguard input >/dev/null 2>&1 && break; sleep 0.1; done
	check "nft: protect made table inet tcpguard" sx nft list set inet tcpguard ban4 >/dev/null
	sleep 0.5                       # the capture opens after the table
	cx python3 "$peer" client 10.94.0.1 2222 4 10.94.0.3 >/dev/null
	banned=0
	for _ in $(seq 40); do inset 10.94.0.3 && { banned=1; break; }; sleep 0.1; done
	check "nft: brute-force client 10.94.0.3 in set ban4" [ "$banned" = 1 ]
	check "nft: the ban is in the state file" \
		bash -c "'$bin' bans --state '$dir/bans3' list | grep -q '^10\.94\.0\.3 .*brute-force:2222'"
	rb=$(cx python3 "$peer" client 10.94.0.1 8080 1 10.94.0.3)
	rc_=$(cx python3 "$peer" client 10.94.0.1 8080 1 10.94.0.2)
	check "nft: banned client dropped ($rb), another still served ($rc_)" \
		[ "$rb" = "ok 0 fail 1" -a "$rc_" = "ok 1 fail 0" ]
	"$bin" bans --state "$dir/bans3" del 10.94.0.3
	gone=0
	for _ in $(seq 30); do inset 10.94.0.3 || { gone=1; break; }; sleep 0.1; done
	check "nft: bans del took 10.94.0.3 out of ban4" [ "$gone" = 1 ]
	ru=$(cx python3 "$peer" client 10.94.0.1 8080 1 10.94.0.3)
	check "nft: unbanned client connects again ($ru)" [ "$ru" = "ok 1 fail 0" ]
	kill -INT $pid
	for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill -0 $pid 2>/dev/null && { ko "nft: protect exits on SIGINT"; kill -KILL $pid; }
	wait $pid
	pid=
	check "nft: table removed at exit" bash -c "! ip netns exec '$S' nft list table inet tcpguard >/dev/null 2>&1"
	grep -E "verified-failures|bans-made" "$dir/nft.err" | sed 's/^/protect: nft /'
}
if command -v nft >/dev/null; then
	nft_backend
else
	echo "protect: nft backend not tested: needs nft"
fi

sx setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" protect -i "$VS" \
	--config "$dir/conf" >"$dir/noperm" 2>&1
check "clear error without privileges: $(head -c 200 "$dir/noperm")" grep -q 'not permitted' "$dir/noperm"

echo "protect: $pass passed, $fail failed"
echo "protect: $pass passed, $fail failed" >>"$results"
[ "$fail" -eq 0 ]
