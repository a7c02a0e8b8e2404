#!/bin/bash
# Middlebox resets from the router (nft "reject with tcp reset" in forward):
#  - an operator blocks a running v4 download in both directions: the router
#    resets the server (as the client) at its next segment and the client (as
#    the server) at its next progress note
#  - a v6 download blocked client->server only: the client's ACK is answered
#    by the router's RST; the server keeps sending to a dead socket
#  - an upload blocked client->server only: only the client is reset
#  - an IPS keyword rule on a line protocol ("BADCMD!!"), v4 and v6
# Captured on the client's link.
. "$(dirname "$0")/lib.sh"
th_init3 hx-mbox-nft
th_nft r 'table inet ips {
 chain tghforward {
  type filter hook forward priority 0;
  tcp dport 7803 @ih,0,64 0x424144434d442121 reject with tcp reset
 }
}'
th_bg s serve 7801 stream req=30 chunk=2000 gap=0.1 total=60000
th_bg s serve 7802 sink
th_bg s serve 7803 sink
sleep 0.4
th_cap_start c veth-c hx-mbox-nft
th_bg c client $TH_S4 7801 42801 download req=30 wait=5 tick=0.25
th_truth "$TH_C4 42801 $TH_S4 7801 middlebox-reset"
th_bg c client $TH_S6 7801 42803 download req=30 wait=5
th_truth "$TH_C6 42803 $TH_S6 7801 middlebox-reset"
th_bg c client $TH_S4 7802 42802 upload chunk=3000 gap=0.1 total=60000
th_truth "$TH_C4 42802 $TH_S4 7802 middlebox-reset"
sleep 1.0
th_nft r 'table inet block {
 chain tghforward {
  type filter hook forward priority 0;
  tcp sport 42801 reject with tcp reset
  tcp dport 42801 reject with tcp reset
  tcp sport 42803 reject with tcp reset
  tcp sport 42802 reject with tcp reset
 }
}'
sleep 1.5
th_run c client $TH_S4 7803 42804 cmds count=5 bad=2
th_truth "$TH_C4 42804 $TH_S4 7803 middlebox-reset"
th_run c client $TH_S6 7803 42805 cmds count=4 bad=1
th_truth "$TH_C6 42805 $TH_S6 7803 middlebox-reset"
sleep 0.5
th_cap_stop
