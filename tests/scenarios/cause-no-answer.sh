#!/bin/bash
# cause-no-answer.pcap: the server ns drops SYNs to 8080; the client gives up
# after 1.5 s (SYN + one retransmission at ~1 s), waits 1 s and falls back to
# 8081, which answers. Analysed with --timeout tcp-init=2
# (tests/data/cause-no-answer.args): the first attempt ends as no-answer when
# the fallback's packets move the clock past its timer.
. "$(dirname "$0")/lib.sh"
tgs_init_fw cnoans
tgs_nft s 'table inet tgs {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 8080 drop
  }
}'
tgs_capture_start c cause-no-answer
tgs_py cause-no-answer --cport 40111 --timeout 1.5
tgs_capture_stop
