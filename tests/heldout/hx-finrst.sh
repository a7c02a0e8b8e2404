#!/bin/bash
# Reset after both FINs: the host that closed first keeps no FIN_WAIT2 /
# TIME_WAIT state for orphaned sockets (tcp_max_tw_buckets=0, as on a host
# whose TIME_WAIT table overflowed), so the peer's FIN meets a RST.
# Server closes first (7501) and client closes first (7502), IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
th_init3 hx-finrst
ip netns exec "$TH_NSC" sysctl -qw net.ipv4.tcp_max_tw_buckets=0
ip netns exec "$TH_NSS" sysctl -qw net.ipv4.tcp_max_tw_buckets=0
th_bg s serve 7501 finclose req=100 resp=800
th_bg s serve 7502 waiteof req=100 resp=800 delay=0.2
sleep 0.4
th_cap_start c veth-c hx-finrst
th_run c client $TH_S4 7501 42501 req req=100 resp=800 then=waiteof delay=0.3
th_truth "$TH_C4 42501 $TH_S4 7501 reset-after-fin"
th_run c client $TH_S6 7501 42502 req req=100 resp=800 then=waiteof delay=0.3
th_truth "$TH_C6 42502 $TH_S6 7501 reset-after-fin"
th_run c client $TH_S4 7502 42503 req req=100 resp=800 then=close delay=0.2
th_truth "$TH_C4 42503 $TH_S4 7502 reset-after-fin"
th_run c client $TH_S6 7502 42504 req req=100 resp=800 then=close delay=0.2
th_truth "$TH_C6 42504 $TH_S6 7502 reset-after-fin"
sleep 2
th_cap_stop
