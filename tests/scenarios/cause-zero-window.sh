#!/bin/bash
# cause-zero-window.pcap: server SO_RCVBUF 4096 and client SO_SNDBUF 4096;
# the server never reads, its window goes to zero, the client probes for 2 s,
# then the server closes with unread data: RST while the window is zero.
# Snaplen 128 (payload truncated, headers intact).
. "$(dirname "$0")/lib.sh"
tgs_init_fw czwin
tgs_capture_start c cause-zero-window 128
tgs_py cause-zero-window --cport 40105 --bytes 65536 --rcvbuf 4096 --probe 2.0
tgs_capture_stop
