#!/bin/bash
# graceful.pcap: 100 B request, 2000 B reply, client FIN first, then server FIN.
. "$(dirname "$0")/lib.sh"
tgs_init graceful
tgs_capture_start s graceful
tgs_py graceful --cport 40001 --req 100 --resp 2000
tgs_capture_stop
