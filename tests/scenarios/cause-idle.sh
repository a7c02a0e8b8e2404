#!/bin/bash
# cause-idle.pcap: request/response, 3 s of silence, another
# request/response, graceful close. Analysed with --timeout tcp=2
# (tests/data/cause-idle.args), so the first part ends as idle-timeout.
. "$(dirname "$0")/lib.sh"
tgs_init_fw cidle
tgs_capture_start c cause-idle
tgs_py cause-idle --cport 40110 --idle 3.0
tgs_capture_stop
