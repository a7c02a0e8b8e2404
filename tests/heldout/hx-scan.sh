#!/bin/bash
# Half-open SYN scans: hping3 -S to an open port (the scanner's kernel resets
# each SYN-ACK) and to a closed port; a raw-socket IPv6 SYN scan; and an
# application whose connect() timed out (0.5 s) before the SYN-ACK, delayed
# by a server-side drop, arrived: the client kernel resets it.
. "$(dirname "$0")/lib.sh"
th_init2 hx-scan
command -v hping3 >/dev/null || th_die "hping3 missing (apt-get install -y hping3)"
th_bg s serve 8080 respond req=1 resp=1
th_bg s serve 8443 respond req=1 resp=1
th_bg s serve 8082 respond req=1 resp=1
th_nft s 'table inet slow {
 chain tghout {
  type filter hook output priority 0;
  tcp sport 8082 tcp flags & (syn|ack) == syn|ack drop
 }
}'
sleep 0.4
th_cap_start c veth-c hx-scan
ip netns exec "$TH_NSC" hping3 -q -S -p 8080 -s 43101 -c 3 -i u300000 $TH_S4 >/dev/null 2>&1 || true
for p in 43101 43102 43103; do th_truth "$TH_C4 $p $TH_S4 8080 handshake-abort"; done
ip netns exec "$TH_NSC" hping3 -q -S -p 8081 -s 43111 -c 2 -i u300000 $TH_S4 >/dev/null 2>&1 || true
for p in 43111 43112; do th_truth "$TH_C4 $p $TH_S4 8081 port-closed"; done
th_run c v6scan src=$TH_C6 dst=$TH_S6 dport=8443 sports=43121,43122
for p in 43121 43122; do th_truth "$TH_C6 $p $TH_S6 8443 handshake-abort"; done
th_bg c client $TH_S4 8082 43131 timeout t=0.5
th_truth "$TH_C4 43131 $TH_S4 8082 handshake-abort"
sleep 0.8
ip netns exec "$TH_NSS" nft delete table inet slow
sleep 1.5
th_cap_stop
