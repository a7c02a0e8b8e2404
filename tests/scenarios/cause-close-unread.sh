#!/bin/bash
# cause-close-unread.pcap: the server accepts, the client's 100 B request
# arrives (and is ACKed by the kernel), the server close()s without reading it:
# Linux sends RST+ACK instead of FIN (tcp_close: unread data, RFC 2525 2.17).
. "$(dirname "$0")/lib.sh"
tgs_init_fw cunread
tgs_capture_start c cause-close-unread
tgs_py cause-close-unread --cport 40102
tgs_capture_stop
