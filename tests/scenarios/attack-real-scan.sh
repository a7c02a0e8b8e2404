#!/bin/bash
# attack-real-scan.pcap: a SYN port scan from 10.99.0.1 (its own address)
# across 10.99.0.2:1000-1199 with hping3 (one SYN per port, 100/s). The
# server kernel answers RST/ACK for the closed ports and SYN-ACK for the
# two listeners in the range (1022, 1080), which the scanner's kernel
# resets; a real client keeps completing sessions to 8080 meanwhile.
. "$(dirname "$0")/attack-lib.sh"
tga_init scan
tga_listen 1022 20
tga_listen 1080 20
tga_listen 8080 20
tgs_capture_start s attack-real-scan 96
tga_clients 8080 30 0.2 >"$TGS_WORK/clients" &
TGA_PIDS+=($!)
sleep 1
t0=$(tga_now)
ip netns exec "$TGS_NS_C" timeout 10 hping3 -q -S -p ++1000 -i u10000 -c 200 $TGS_S4 \
    >/dev/null 2>&1 || true
t1=$(tga_now)
tga_truth scan-vertical $TGS_S4 0 "$t0" "$t1"
wait "${TGA_PIDS[3]}"
tgs_log "real clients: $(cat "$TGS_WORK/clients")"
tga_done attack-real-scan
