#!/bin/bash
# closed-port.pcap: one SYN to 10.99.0.2:8081 (no listener) -> RST/ACK.
. "$(dirname "$0")/lib.sh"
tgs_init closedport
tgs_capture_start s closed-port
tgs_py closed-port --cport 40002 --sport 8081
tgs_capture_stop
