#!/bin/bash
# syn-unanswered.pcap: the server namespace silently drops SYNs to port 8080
# (nftables drop, not reject); the client gives up after 3.5 s
# (initial SYN + kernel retransmissions at ~1 s and ~3 s).
. "$(dirname "$0")/lib.sh"
tgs_init synun
tgs_nft s 'table inet tgs {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 8080 drop
  }
}'
tgs_capture_start s syn-unanswered
tgs_py syn-unanswered --cport 40005 --timeout 3.5
tgs_capture_stop
