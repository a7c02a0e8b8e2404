#!/bin/bash
# retransmissions.pcap: client uploads 100000 B, server replies 50000 B.
# nftables numgen drops every 10th full-size data segment in each direction
# at the receiver's input hook (after the capture tap, so both the original
# and the retransmission are in the capture). Graceful close, client FIN first.
. "$(dirname "$0")/lib.sh"
tgs_init retrans
tgs_nft s 'table inet tgs {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 8080 meta length > 1000 numgen inc mod 10 == 9 drop
  }
}'
tgs_nft c 'table inet tgs {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp sport 8080 meta length > 1000 numgen inc mod 10 == 4 drop
  }
}'
tgs_capture_start s retransmissions
tgs_py bulk --cport 40008 --up 100000 --down 50000
tgs_capture_stop
