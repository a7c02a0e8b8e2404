#!/bin/bash
# attack-real-synflood.pcap: a SYN flood on a listening Linux server.
# hping3 sends 1920 SYNs to 10.99.0.2:8080 from 48 spoofed sources in
# 10.97.1.0/24 (four loops of 12 sources, 40 SYNs each at 250/s per
# loop), while a real client keeps completing sessions to the same port
# (every 100 ms, before, during and after). The server's backlog of 128
# fills, SYN cookies take over; its SYN-ACKs to the spoofed sources, with
# retransmissions (tcp_synack_retries 2), are dropped in the client
# namespace.
. "$(dirname "$0")/attack-lib.sh"
tga_init synflood
ip netns exec "$TGS_NS_S" sysctl -qw net.ipv4.tcp_synack_retries=2
tga_listen 8080 30
tgs_capture_start s attack-real-synflood 96
tga_clients 8080 100 0.1 >"$TGS_WORK/clients" &
TGA_PIDS+=($!)
sleep 3
t0=$(tga_now)
pids=()
for j in 0 1 2 3; do
    (
        for i in $(seq 1 12); do
            ip netns exec "$TGS_NS_C" timeout 10 hping3 -q -S -p 8080 -i u4000 -c 40 \
                -a 10.97.1.$((j * 12 + i)) $TGS_S4 >/dev/null 2>&1 || true
        done
    ) &
    pids+=($!)
done
wait "${pids[@]}"
t1=$(tga_now)
tga_truth syn-flood $TGS_S4 8080 "$t0" "$t1" 0.99 0.95
wait "${TGA_PIDS[1]}"
tgs_log "real clients: $(cat "$TGS_WORK/clients")"
sleep 4
tga_done attack-real-synflood
