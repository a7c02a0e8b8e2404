#!/bin/bash
# Server accepts and closes without a byte (tcpwrappers / MaxStartups); the
# client waits for a banner, sees EOF, closes.
. "$(dirname "$0")/lib.sh"
th_init2 hx-srvclose
th_bg s serve 8200 closenow
th_bg s serve 8201 closenow delay=1.0
sleep 0.4
th_cap_start c veth-c hx-srvclose
th_run c client $TH_S4 8200 43401 waiteof
th_truth "$TH_C4 43401 $TH_S4 8200 server-closed-immediately"
th_run c client $TH_S6 8200 43402 waiteof delay=0.2
th_truth "$TH_C6 43402 $TH_S6 8200 server-closed-immediately"
th_run c client $TH_S4 8201 43403 waiteof
th_truth "$TH_C4 43403 $TH_S4 8201 server-closed-immediately"
sleep 0.3
th_cap_stop
