#!/bin/bash
# Port closed, IPv6 and IPv4: nothing listening, and a listener hidden behind
# an nft "reject with tcp reset" rule on the server host; one graceful control.
. "$(dirname "$0")/lib.sh"
th_init2 hx-closed
th_nft s 'table inet tgh {
 chain in {
  type filter hook input priority 0;
  tcp dport 7003 reject with tcp reset
 }
}'
th_bg s serve 7003 respond req=10 resp=10
th_bg s serve 7004 respond req=64 resp=700
sleep 0.4
th_cap_start c veth-c hx-closed
th_run c client $TH_S6 7001 42001 closed;            th_truth "$TH_C6 42001 $TH_S6 7001 port-closed"
sleep 0.2
th_run c client $TH_S6 7001 42002 closed;            th_truth "$TH_C6 42002 $TH_S6 7001 port-closed"
th_run c client $TH_S4 7002 42003 closed;            th_truth "$TH_C4 42003 $TH_S4 7002 port-closed"
th_run c client $TH_S4 7003 42004 closed;            th_truth "$TH_C4 42004 $TH_S4 7003 port-closed"
th_run c client $TH_S6 7003 42005 closed;            th_truth "$TH_C6 42005 $TH_S6 7003 port-closed"
th_run c client $TH_S6 7004 42006 req req=64 resp=700 then=close
th_truth "$TH_C6 42006 $TH_S6 7004 graceful"
sleep 0.3
th_cap_stop
