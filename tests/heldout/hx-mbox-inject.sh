#!/bin/bash
# On-path injector (GFW / IDS "flexresp" style) in the router: sniffs a
# download and, after some bytes, sends an exact-sequence RST to each end
# without dropping anything.  One copies what the client sees of the server
# (TTL one hop less, next IP ID), one uses its own TTL 64, one over IPv6.
. "$(dirname "$0")/lib.sh"
th_init3 hx-mbox-inject
th_bg s serve 7901 stream req=30 chunk=1400 gap=0.05 total=30000
sleep 0.4
th_cap_start c veth-c hx-mbox-inject
n=0
for spec in "$TH_S4 42901 copy 8000" "$TH_S4 42902 own 5000" "$TH_S6 42903 copy 11000"; do
    set -- $spec
    th_bg r inject cport=$2 after=$4 ttl=$3 limit=8
    INJ=$TH_LAST
    sleep 0.3
    th_run c client $1 7901 $2 download req=30 wait=4
    wait $INJ
    if [ "${1#*:}" != "$1" ]; then c=$TH_C6; else c=$TH_C4; fi
    th_truth "$c $2 $1 7901 middlebox-reset"
done
sleep 0.5
th_cap_stop
