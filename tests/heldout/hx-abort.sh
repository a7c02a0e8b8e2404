#!/bin/bash
# Abortive close (SO_LINGER 0) after a complete exchange, from the server side
# and from the client side, IPv4 and IPv6, different sizes and delays.
. "$(dirname "$0")/lib.sh"
th_init2 hx-abort
th_bg s serve 7101 abort req=200 resp=3000
th_bg s serve 7102 respond req=50 resp=20000
th_bg s serve 7103 respond req=1 resp=300
th_bg s serve 7104 abort req=700 resp=90 delay=1.0
sleep 0.4
th_cap_start c veth-c hx-abort
# server resets right after its answer; the client has read it all
th_run c client $TH_S4 7101 42101 req req=200 resp=3000 then=waiteof
th_truth "$TH_C4 42101 $TH_S4 7101 abortive-close"
th_run c client $TH_S6 7101 42102 req req=200 resp=3000 then=waiteof
th_truth "$TH_C6 42102 $TH_S6 7101 abortive-close"
# client reads the whole answer, then resets (server waits for more)
th_run c client $TH_S4 7102 42103 req req=50 resp=20000 then=abort
th_truth "$TH_C4 42103 $TH_S4 7102 abortive-close"
th_run c client $TH_S6 7102 42104 req req=50 resp=20000 then=abort delay=0.4
th_truth "$TH_C6 42104 $TH_S6 7102 abortive-close"
th_run c client $TH_S4 7103 42105 req req=1 resp=300 then=abort delay=1.2
th_truth "$TH_C4 42105 $TH_S4 7103 abortive-close"
# server answers, then resets a second later (connection pool trimming)
th_run c client $TH_S6 7104 42106 req req=700 resp=90 then=waiteof
th_truth "$TH_C6 42106 $TH_S6 7104 abortive-close"
sleep 0.3
th_cap_stop
