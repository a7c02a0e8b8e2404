#!/bin/bash
# demo.pcap: one capture (server veth), sessions in sequence, 10.99.0.1 -> 10.99.0.2:
#   41001 graceful  100 B / 2000 B, client FIN first
#   41002 graceful  300 B / 8000 B, client FIN first
#   41003 closed port 8081 -> RST/ACK
#   41004 client abort (SO_LINGER 0) after 100/1000/200 B -> RST from client
#   41005 server abort (SO_LINGER 0) after 100/1000 B -> RST from server
#   41006 SYNs to 8082 dropped by nftables, client gives up after 3.5 s
#   41007 half-close: client 100 B + SHUT_WR, server 3 x 1000 B after the FIN, server FIN
#   41008 zero window: server rcvbuf 4096 stalls 1.5 s while client writes 64 KiB
. "$(dirname "$0")/lib.sh"
tgs_init demo
tgs_nft s 'table inet tgs {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 8082 drop
  }
}'
tgs_capture_start s demo
tgs_py graceful --cport 41001 --req 100 --resp 2000
tgs_py graceful --cport 41002 --req 300 --resp 8000
tgs_py closed-port --cport 41003 --sport 8081
tgs_py rst-client --cport 41004
tgs_py rst-server --cport 41005
tgs_py syn-unanswered --cport 41006 --sport 8082 --timeout 3.5
tgs_py half-close --cport 41007 --chunks 3
tgs_py zero-window --cport 41008 --bytes 65536 --rcvbuf 4096 --stall 1.5
tgs_capture_stop
