#!/bin/bash
# port-reuse.pcap: two complete sessions on the same 5-tuple
# 10.99.0.1:40009 -> 10.99.0.2:8080, 0.5 s apart. Each: 100 B req, 500 B reply,
# server FIN first (server keeps TIME_WAIT and accepts the 2nd SYN), client FIN.
. "$(dirname "$0")/lib.sh"
tgs_init portreuse
tgs_capture_start s port-reuse
tgs_py port-reuse --cport 40009
tgs_capture_stop
