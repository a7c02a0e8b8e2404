#!/bin/bash
# cause-middlebox-reset.pcap: after a first request/response the client sends
# 100 B starting with the marker "BLOCKME!"; the firewall's forward chain
# rejects it with a TCP reset (nft reject with tcp reset). That RST carries the
# server's address but the firewall's TTL 64 (the server's own packets arrive
# with 63) and the firewall's IP ID. Capture on the client's veth.
. "$(dirname "$0")/lib.sh"
tgs_init_fw cmbox
tgs_nft f 'table inet tgs {
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip daddr 10.95.2.1 tcp dport 8080 @ih,0,64 0x424c4f434b4d4521 reject with tcp reset
  }
}'
tgs_capture_start c cause-middlebox-reset
tgs_py cause-middlebox --cport 40101
tgs_capture_stop
