#!/bin/bash
# zero-window.pcap: server SO_RCVBUF 4096 (kernel doubles it), does not read
# for 2.5 s while the client writes 1 MiB -> zero windows + zero-window probes;
# then the server drains everything, client FIN (after its last byte), server FIN.
# Snaplen 128 to keep the file small (payload truncated, headers intact).
. "$(dirname "$0")/lib.sh"
tgs_init zerowin
tgs_capture_start s zero-window 128
tgs_py zero-window --cport 40007 --bytes 1048576 --rcvbuf 4096 --stall 2.5
tgs_capture_stop
