#!/bin/bash
# rst-from-client.pcap: 100 B req, 1000 B reply, 200 B more from the client,
# then the client aborts (SO_LINGER 0 + close) -> RST from the client.
. "$(dirname "$0")/lib.sh"
tgs_init rstcli
tgs_capture_start s rst-from-client
tgs_py rst-client --cport 40003
tgs_capture_stop
