#!/bin/bash
# Backscatter: an attacker behind the router floods the server with SYNs
# spoofed from the client's addresses (v4 and v6); the server's SYN-ACKs reach
# the client, which never sent a SYN and resets.  Captured on the victim.
. "$(dirname "$0")/lib.sh"
th_init3 hx-backscatter
th_bg s serve 8090 respond req=1 resp=1
sleep 0.4
th_cap_start c veth-c hx-backscatter
th_run r spoof-syn src=$TH_C4 dst=$TH_S4 dport=8090 sports=43201,43202,43203 gap=0.25
for p in 43201 43202 43203; do th_truth "$TH_C4 $p $TH_S4 8090 unsolicited-synack"; done
th_run r spoof-syn src=$TH_C6 dst=$TH_S6 dport=8090 sports=43204,43205 gap=0.4
for p in 43204 43205; do th_truth "$TH_C6 $p $TH_S6 8090 unsolicited-synack"; done
sleep 0.5
th_cap_stop
