#!/bin/bash
# attack-real-bruteforce.pcap: 40 short real sessions from 10.99.0.1 to a
# "login" service on 10.99.0.2:22 (request, 200-byte answer, close), one
# every 100 ms, as a password-guessing tool makes them; a second client
# port, 8080, gets an ordinary session every 500 ms.
. "$(dirname "$0")/attack-lib.sh"
tga_init brute
tga_listen 22 20
tga_listen 8080 20
tgs_capture_start s attack-real-bruteforce 96
tga_clients 8080 12 0.5 >"$TGS_WORK/clients" &
TGA_PIDS+=($!)
sleep 1
t0=$(tga_now)
tga_clients 22 40 0.1 >"$TGS_WORK/guesses"
t1=$(tga_now)
tga_truth brute-force $TGS_S4 22 "$t0" "$t1"
wait "${TGA_PIDS[2]}"
tgs_log "guesses: $(cat "$TGS_WORK/guesses"), real clients: $(cat "$TGS_WORK/clients")"
tga_done attack-real-bruteforce
