#!/bin/bash
# Zero-window stalls: a client that stops reading a download (tiny receive
# buffer) while the server's sender gives up after 3 s and aborts (v4, v6);
# a server that stops reading an upload, the client gives up after 2.5 s.
. "$(dirname "$0")/lib.sh"
th_init2 hx-zerowin
th_bg s serve 8001 zwsend req=10 stall=3 sndbuf=16384
th_bg s serve 8002 noread rcvbuf=4096
sleep 0.4
th_cap_start c veth-c hx-zerowin
th_bg c client $TH_S4 8001 43001 zwrecv req=10 read=100 stall=6 rcvbuf=4096
th_truth "$TH_C4 43001 $TH_S4 8001 zero-window-stall"
th_bg c client $TH_S6 8001 43002 zwrecv req=10 read=3000 stall=6 rcvbuf=6000
th_truth "$TH_C6 43002 $TH_S6 8001 zero-window-stall"
th_bg c client $TH_S4 8002 43003 zwsend stall=2.5 sndbuf=8192
th_truth "$TH_C4 43003 $TH_S4 8002 zero-window-stall"
sleep 5
th_cap_stop
