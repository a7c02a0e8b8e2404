#!/bin/bash
# Reset after close: the server answers and closes (FIN); the client keeps
# streaming data it never checks the answer for; the closed socket resets.
. "$(dirname "$0")/lib.sh"
th_init2 hx-rac
th_bg s serve 7401 finclose req=100 resp=800
sleep 0.4
th_cap_start c veth-c hx-rac
th_run c client $TH_S6 7401 42401 keepsend req=100 count=3 gap=0.3 chunk=200
th_truth "$TH_C6 42401 $TH_S6 7401 reset-after-close"
th_run c client $TH_S4 7401 42402 keepsend req=100 count=2 gap=0.5 chunk=60
th_truth "$TH_C4 42402 $TH_S4 7401 reset-after-close"
th_run c client $TH_S6 7401 42403 keepsend req=100 count=2 gap=0.3 chunk=4000
th_truth "$TH_C6 42403 $TH_S6 7401 reset-after-close"
sleep 0.3
th_cap_stop
