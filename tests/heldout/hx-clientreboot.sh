#!/bin/bash
# Client reboot, captured on the router's server-side link: a ticker server
# pushes to two clients; the client host loses its state; the server's next
# push is answered with RST by the rebooted client.
. "$(dirname "$0")/lib.sh"
th_init3 hx-clientreboot
th_bg s serve 7701 push chunk=100 gap=0.7
sleep 0.4
th_cap_start r veth-rs hx-clientreboot
th_bg c client $TH_S4 7701 42701 download wait=20
C1=$TH_LAST
th_truth "$TH_C4 42701 $TH_S4 7701 half-open-peer-lost"
th_bg c client $TH_S6 7701 42702 download wait=20
C2=$TH_LAST
th_truth "$TH_C6 42702 $TH_S6 7701 half-open-peer-lost"
sleep 1.6
th_reboot c $C1 $C2
sleep 2.5
th_cap_stop
