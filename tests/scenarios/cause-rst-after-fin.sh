#!/bin/bash
# cause-rst-after-fin.pcap: the client sends a 100 B request and half-closes
# (FIN); the server replies 500 B without reading the request and half-closes
# (FIN). The client's ACKs of reply and FIN are lost (the firewall drops the
# client's pure ACKs from then on), so the server is still in LAST_ACK when it
# close()s with the request unread: Linux sends RST after both FINs.
. "$(dirname "$0")/lib.sh"
tgs_init_fw crstfin
tgs_capture_start c cause-rst-after-fin
tgs_py cause-rst-after-fin --cport 40113
tgs_capture_stop
