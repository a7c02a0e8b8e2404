#!/bin/bash
# cause-out-of-window.pcap: the server sends 5 x 1000 B; after the first
# chunk the firewall ns injects (raw socket, its own TTL 64 and IP ID) a RST
# toward the client with the server's address and ports and a sequence number
# 2^31 away from the server's; the client drops it, the transfer goes on and
# closes gracefully.
. "$(dirname "$0")/lib.sh"
tgs_init_fw coow
tgs_capture_start c cause-out-of-window
tgs_py cause-out-of-window --cport 40108 --chunks 5
tgs_capture_stop
