#!/bin/bash
# Timer endings (not resets), with short timers (hx-timers.args): a session
# idle past the idle timer, a SYN that is never answered (dropped on the
# server), two graceful sessions keeping the capture going.
. "$(dirname "$0")/lib.sh"
th_init2 hx-timers
th_args "--timeout tcp=3 --timeout tcp-init=2"
th_bg s serve 8301 echo
th_bg s serve 8303 respond req=10 resp=2000
th_nft s 'table inet tghdrop {
 chain tghin {
  type filter hook input priority 0;
  tcp dport 8302 drop
 }
}'
sleep 0.4
th_cap_start c veth-c hx-timers
th_bg c client $TH_S4 8301 43501 req req=40 resp=40 then=hold idle=30
th_truth "$TH_C4 43501 $TH_S4 8301 idle-timeout"
th_run c client $TH_S4 8302 43502 timeout t=2.5
th_truth "$TH_C4 43502 $TH_S4 8302 no-answer"
sleep 2.5
th_run c client $TH_S6 8303 43503 req req=10 resp=2000 then=close
th_truth "$TH_C6 43503 $TH_S6 8303 graceful"
sleep 2
th_run c client $TH_S4 8303 43504 req req=10 resp=2000 then=close
th_truth "$TH_C4 43504 $TH_S4 8303 graceful"
th_cap_stop
