#!/bin/bash
# cause-server-closed.pcap: the server accepts and closes at once without
# sending a byte (sshd MaxStartups, hosts.deny); the client reads EOF, closes.
. "$(dirname "$0")/lib.sh"
tgs_init_fw csrvclosed
tgs_capture_start c cause-server-closed
tgs_py cause-server-closed --cport 40109
tgs_capture_stop
