#!/bin/bash
# cause-reset-after-close.pcap: the server reads the 100 B request, replies
# 1000 B and closes (FIN); the client reads reply and EOF, then sends 100 B
# more: the server, closed for reading, answers with RST (RFC 1122 4.2.2.13).
. "$(dirname "$0")/lib.sh"
tgs_init_fw crac
tgs_capture_start c cause-reset-after-close
tgs_py cause-reset-after-close --cport 40103
tgs_capture_stop
