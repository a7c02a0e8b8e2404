#!/bin/bash
# half-close.pcap: client sends 100 B then shutdown(SHUT_WR) (client FIN);
# the server sends 5 x 1000 B (0.2 s apart) after that FIN, then closes.
. "$(dirname "$0")/lib.sh"
tgs_init halfclose
tgs_capture_start s half-close
tgs_py half-close --cport 40006 --chunks 5
tgs_capture_stop
