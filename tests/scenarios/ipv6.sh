#!/bin/bash
# ipv6.pcap: over fd00:99::/64 - a graceful session (100 B / 2000 B, client FIN
# first) to [fd00:99::2]:8080, then a SYN to closed port 8081 -> RST/ACK.
. "$(dirname "$0")/lib.sh"
tgs_init ipv6
tgs_capture_start s ipv6
tgs_py graceful --family 6 --cport 40010
tgs_py closed-port --family 6 --cport 40011 --sport 8081
tgs_capture_stop
