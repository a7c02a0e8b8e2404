#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# SYN-cookie throughput on a veth rig, in one run: the kernel's own
# cookies (tcp_syncookies=2, no XDP) against tcpguard protect (mode always,
# native XDP on the server veth). Two senders flood spoofed SYNs from
# 10.94.128.0/17 at full speed; we count SYN-ACKs the server side produced
# (TcpExtSyncookiesSent, or protect's syn-cookie-sent) per second of flood,
# and the server-side CPU (softirq + system jiffies over the run).
# Root only.   bench/protect.sh [TCPGUARD] [SYNS_PER_SENDER]
set -u
bin=${1:-build/tcpguard}
n=${2:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench/protect: needs root"; exit 0; }
dir=$(mktemp -d)
S=tgb-s-$$ C=tgb-c-$$
cleanup() {
	ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del "$S" 2>/dev/null; ip netns del "$C" 2>/dev/null; rm -rf "$dir"
}
trap cleanup EXIT INT TERM
cc -O2 -o "$dir/flood" "$root/tests/protect/flood.c"
clang -O2 -target bpf -I/usr/include/$(cc -dumpmachine) -c "$root/tests/protect/pass.bpf.c" -o "$dir/pass.o"
ip netns add "$S"; ip netns add "$C"
ip link add tgbs type veth peer name tgbc
ip link set tgbs netns "$S"; ip link set tgbc netns "$C"
ip -n "$S" addr add 10.94.0.1/16 dev tgbs; ip -n "$C" addr add 10.94.0.2/16 dev tgbc
ip -n "$S" link set tgbs up; ip -n "$C" link set tgbc up; ip -n "$S" link set lo up
ip -n "$C" link set dev tgbc xdp obj "$dir/pass.o" sec xdp
ip netns exec "$S" python3 "$root/tests/protect/peer.py" server "$dir/acc" 8080 &
sleep 0.5

cpu() { awk '/^cpu /{print $4 + $7 + $8}' /proc/stat; }
flood() {
	local t0 c0 t1 c1
	t0=$(date +%s.%N); c0=$(cpu)
	ip netns exec "$C" "$dir/flood" -d 10.94.0.1 -p 8080 -S 10.94.128.0/17 -n "$n" 2>>"$dir/fl" &
	ip netns exec "$C" "$dir/flood" -d 10.94.0.1 -p 8080 -S 10.94.128.0/17 -n "$n" 2>>"$dir/fl" &
	wait %2 %3 2>/dev/null; wait
	t1=$(date +%s.%N); c1=$(cpu)
	echo "$(echo "$t1 - $t0" | bc -l) $((c1 - c0))"
}

ip netns exec "$S" sysctl -qw net.ipv4.tcp_syncookies=2
ip netns exec "$S" nstat -n
read -r dt jif < <(flood)
k=$(ip netns exec "$S" nstat -az TcpExtSyncookiesSent | awk '/Syncookies/{print $2}')
krate=$(echo "$k / $dt" | bc)
echo "kernel tcp_syncookies=2: $k SYN-ACKs in ${dt%???????} s = $krate /s, CPU $jif jiffies (sys+irq+softirq, all cores)"

ip netns exec "$S" sysctl -qw net.ipv4.tcp_syncookies=1
printf '[protect]\nmode = always\nports = 8080\n' >"$dir/conf"
ip netns exec "$S" "$bin" protect -i tgbs --config "$dir/conf" --state "$dir/bans" 2>"$dir/p.err" &
p=$!
sleep 1.5
read -r dt jif < <(flood)
kill -INT $p; wait $p
x=$(awk '$1=="syn-cookie-sent"{print $2}' "$dir/p.err")
xrate=$(echo "$x / $dt" | bc)
echo "tcpguard protect ($(grep -o '[a-z]* XDP' "$dir/p.err" | head -1)): $x SYN-ACKs in ${dt%???????} s = $xrate /s, CPU $jif jiffies"
echo "ratio: $(echo "scale=2; $xrate / ($krate + 1)" | bc)x"
cat "$dir/fl" | sed 's/^/sender: /'
