#!/bin/bash
# Server process crash (SIGKILL) while six clients hold connections.  The
# kernel closes the orphaned sockets: RST where the process left received
# data unread, FIN where it had read everything.  After the FIN, two clients
# close (graceful), one keeps sending to the dead socket (reset after close).
. "$(dirname "$0")/lib.sh"
th_init2 hx-crash
th_bg s serve 7301 echo
SRV1=$TH_LAST
th_bg s serve 7302 readsome read=10
SRV2=$TH_LAST
sleep 0.4
th_cap_start c veth-c hx-crash
th_bg c client $TH_S4 7301 42301 req req=500 resp=500 then=waiteof wait=8
th_truth "$TH_C4 42301 $TH_S4 7301 graceful"
th_bg c client $TH_S6 7301 42302 req req=500 resp=500 then=waiteof wait=8
th_truth "$TH_C6 42302 $TH_S6 7301 graceful"
th_bg c client $TH_S4 7301 42303 eofsend req=50 wait=8 delay=0.3 count=2 chunk=120
th_truth "$TH_C4 42303 $TH_S4 7301 reset-after-close"
th_bg c client $TH_S4 7302 42304 req req=2000 resp=0 then=waiteof wait=8
th_truth "$TH_C4 42304 $TH_S4 7302 close-with-unread-data"
th_bg c client $TH_S6 7302 42305 req req=1500 resp=0 then=waiteof wait=8
th_truth "$TH_C6 42305 $TH_S6 7302 close-with-unread-data"
th_bg c client $TH_S6 7302 42306 req req=10 resp=0 then=waiteof wait=8
th_truth "$TH_C6 42306 $TH_S6 7302 graceful"
sleep 1.5
# the serve processes are children of "ip netns exec"; kill the python itself
kill -9 $(pgrep -P $SRV1) $(pgrep -P $SRV2) 2>/dev/null || kill -9 $SRV1 $SRV2
sleep 2.5
th_cap_stop
