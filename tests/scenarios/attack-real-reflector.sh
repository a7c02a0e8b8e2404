#!/bin/bash
# attack-real-reflector.pcap: the server namespace used as a reflector.
# hping3 in the client namespace sends 100 SYNs to 10.99.0.2:8080 (20/s)
# spoofed from the victim 10.97.3.1, which lives in the client namespace
# and drops what it gets (nftables), so the server retransmits each
# SYN-ACK (tcp_synack_retries 3: four SYN-ACKs per SYN) at the victim:
# amplification about 4 in packets. A real client completes sessions to
# 8080 meanwhile. The capture (server side) runs until the last
# retransmission has gone.
. "$(dirname "$0")/attack-lib.sh"
tga_init refl
ip -n "$TGS_NS_C" route del blackhole 10.97.0.0/16
ip -n "$TGS_NS_C" addr add 10.97.3.1/32 dev lo
tgs_nft c 'table inet victim {
    chain input {
        type filter hook input priority 0;
        ip daddr 10.97.3.1 drop
    }
}'
ip netns exec "$TGS_NS_S" sysctl -qw net.ipv4.tcp_synack_retries=3
tga_listen 8080 40
tgs_capture_start s attack-real-reflector 96
tga_clients 8080 40 0.5 >"$TGS_WORK/clients" &
TGA_PIDS+=($!)
sleep 1
t0=$(tga_now)
ip netns exec "$TGS_NS_C" timeout 20 hping3 -q -S -p 8080 -i u50000 -c 100 -a 10.97.3.1 $TGS_S4 \
    >/dev/null 2>&1 || true
t1=$(tga_now)
# the last SYN-ACK retransmission goes 1 + 2 + 4 s after the last SYN
tga_truth reflector $TGS_S4 0 "$t0" "$(echo "$t1 + 7" | bc)"
wait "${TGA_PIDS[1]}"
tgs_log "real clients: $(cat "$TGS_WORK/clients")"
sleep 1
tga_done attack-real-reflector
