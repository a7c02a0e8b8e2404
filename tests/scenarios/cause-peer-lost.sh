#!/bin/bash
# cause-peer-lost.pcap: request/response, then the server's socket vanishes
# without a trace: SO_LINGER 0 close while nftables in the server ns drops the
# server's outgoing RST; the rule is removed; 1 s later the client sends 100 B
# and the server kernel (no socket) answers with a bare RST.
. "$(dirname "$0")/lib.sh"
tgs_init_fw cpeer
tgs_nft s 'table inet tgs {
  chain output {
    type filter hook output priority 0; policy accept;
    tcp flags & rst == rst drop
  }
}'
tgs_capture_start c cause-peer-lost
tgs_py cause-peer-lost --cport 40104 --nft-table tgs
tgs_capture_stop
