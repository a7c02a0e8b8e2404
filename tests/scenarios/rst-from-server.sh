#!/bin/bash
# rst-from-server.pcap: 100 B req, 1000 B reply, then the server aborts
# (SO_LINGER 0 + close) while the client still waits for data -> RST from server.
. "$(dirname "$0")/lib.sh"
tgs_init rstsrv
tgs_capture_start s rst-from-server
tgs_py rst-server --cport 40004
tgs_capture_stop
