#!/bin/bash
# cause-unsolicited-synack.pcap: a SYN-ACK from a raw socket in the server
# ns to the client, which never sent a SYN; the client kernel resets it
# (what backscatter of a spoofed SYN looks like at the spoofed address).
. "$(dirname "$0")/lib.sh"
tgs_init_fw csynack
tgs_capture_start c cause-unsolicited-synack
tgs_py cause-unsolicited-synack --cport 40107
tgs_capture_stop
