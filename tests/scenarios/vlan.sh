#!/bin/bash
# vlan.pcap: two graceful sessions (100 B / 2000 B, client FIN first) captured
# on the server veth with the tags on the wire:
#   1) 10.99.0.1:40012 -> 10.99.0.2:8080 in 802.1Q VLAN 100
#   2) 10.99.0.1:40013 -> 10.99.0.2:8080 in QinQ: outer 802.1ad (0x88a8) VID 200,
#      inner 802.1Q VID 10
# The kernel here has no 8021q module, so the tags are pushed/popped by tc eBPF
# programs (bpf_skb_vlan_push/pop) on both veths; see vlan_bpf.py.
# IPv6 is disabled and ARP is not needed (static neighbours): no filter needed.
. "$(dirname "$0")/lib.sh"
tgs_init vlan noipv6
tgs_vlan c 0x8100:100
tgs_vlan s 0x8100:100
tgs_capture_start s vlan 262144 ""
tgs_py graceful --cport 40012
tgs_vlan c 0x8100:10 0x88a8:200
tgs_vlan s 0x8100:10 0x88a8:200
tgs_py graceful --cport 40013
tgs_capture_stop
