#!/bin/bash
# Server reboot: three clients hold idle connections through a router; the
# server host loses every socket (namespace destroyed, nothing sent), comes
# back; the clients' next data (two) or keepalive probe (one) meets a RST.
. "$(dirname "$0")/lib.sh"
th_init3 hx-reboot
th_bg s serve 7601 echo
SRV=$TH_LAST
sleep 0.4
th_cap_start c veth-c hx-reboot
th_bg c client $TH_S4 7601 42601 req req=20 resp=20 then=hold idle=4 again=30 wait=2
th_truth "$TH_C4 42601 $TH_S4 7601 half-open-peer-lost"
th_bg c client $TH_S6 7601 42602 req req=300 resp=300 then=hold idle=4.5 again=1400 wait=2
th_truth "$TH_C6 42602 $TH_S6 7601 half-open-peer-lost"
th_bg c client $TH_S4 7601 42603 req req=5 resp=5 then=hold idle=8 again=0 wait=0.1 keepidle=3
th_truth "$TH_C4 42603 $TH_S4 7601 half-open-peer-lost"
sleep 1
th_reboot s $SRV
th_bg s serve 7601 echo   # the service is back after the reboot
sleep 5.5
th_cap_stop
