#!/bin/bash
# Blind reset attack: an attacker on the router learns roughly where three
# idle sessions are, then forges RSTs "from the server" with sequence numbers
# far outside the client's window (+1 GiB, +2e9 x3, -300000 x2).  The client
# ignores them; the sessions stay up until the capture ends.
. "$(dirname "$0")/lib.sh"
th_init3 hx-oow
th_bg s serve 8100 echo
sleep 0.4
th_cap_start c veth-c hx-oow
th_bg r forge-rst cport=43301 learn=1.2 offset=1073741824 count=1
th_bg r forge-rst cport=43302 learn=1.4 offset=2000000000 count=3
th_bg r forge-rst cport=43303 learn=1.6 offset=-300000 count=2
sleep 0.3
th_bg c client $TH_S4 8100 43301 req req=30 resp=30 then=hold idle=20
th_truth "$TH_C4 43301 $TH_S4 8100 out-of-window-reset"
th_bg c client $TH_S6 8100 43302 req req=200 resp=200 then=hold idle=20
th_truth "$TH_C6 43302 $TH_S6 8100 out-of-window-reset"
th_bg c client $TH_S4 8100 43303 req req=2 resp=2 then=hold idle=20
th_truth "$TH_C4 43303 $TH_S4 8100 out-of-window-reset"
sleep 3
th_cap_stop
