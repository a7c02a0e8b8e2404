#!/bin/bash
# cause-handshake-abort.pcap: a SYN from a raw socket in the client ns to
# the listening port 8080; the server answers SYN-ACK and the client kernel,
# which has no socket for it, answers with a bare RST (half-open scan).
. "$(dirname "$0")/lib.sh"
tgs_init_fw chsabort
tgs_capture_start c cause-handshake-abort
tgs_py cause-handshake-abort --cport 40106
tgs_capture_stop
