#!/bin/bash
# Close with unread data: the server closes while part of the client's data
# sits unread in its receive queue (the kernel turns close() into RST).
. "$(dirname "$0")/lib.sh"
th_init2 hx-unread
th_bg s serve 7201 unread read=100 resp=500          # reads 100 of a 3000-byte request
th_bg s serve 7202 unread read=64 resp=1000 delay=0.3 # pipelined second request never read
th_bg s serve 7203 unread read=0 delay=0.5            # never reads, closes after 0.5 s
sleep 0.4
th_cap_start c veth-c hx-unread
th_run c client $TH_S6 7201 42201 req req=3000 resp=500 then=waiteof
th_truth "$TH_C6 42201 $TH_S6 7201 close-with-unread-data"
th_run c client $TH_S4 7201 42202 req req=3000 resp=500 then=waiteof
th_truth "$TH_C4 42202 $TH_S4 7201 close-with-unread-data"
th_run c client $TH_S6 7202 42203 req req=128 resp=1000 then=waiteof
th_truth "$TH_C6 42203 $TH_S6 7202 close-with-unread-data"
th_run c client $TH_S4 7203 42204 req req=40 resp=0 then=waiteof
th_truth "$TH_C4 42204 $TH_S4 7203 close-with-unread-data"
sleep 0.3
th_cap_stop
