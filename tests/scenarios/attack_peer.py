#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The real ends of the attack-real-* captures (run under ip netns exec in
a tgs-* namespace; standard library only):

  attack_peer.py listen ADDR PORT SECONDS [BACKLOG]
      accepts for SECONDS: reads the request, answers 200 bytes, closes
  attack_peer.py connect ADDR PORT COUNT INTERVAL
      COUNT sessions, one every INTERVAL seconds: 100 bytes up, the answer
      down, close; failures are counted, not fatal; prints "ok N failed M"
"""
import socket
import sys
import threading
import time


def serve(c):
    try:
        c.settimeout(5)
        c.recv(4096)
        c.sendall(b"tcpguard-" * 22 + b"tc")
    except OSError:
        pass
    finally:
        c.close()


def listen(addr, port, secs, backlog=128):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(backlog)
    s.settimeout(0.2)
    end = time.time() + secs
    print("listening", flush=True)
    while time.time() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def connect(addr, port, count, interval):
    ok = failed = 0
    for _ in range(count):
        t = time.time()
        try:
            c = socket.create_connection((addr, port), timeout=5)
            c.sendall(b"x" * 100)
            while c.recv(4096):
                pass
            c.close()
            ok += 1
        except OSError:
            failed += 1
        time.sleep(max(0.0, interval - (time.time() - t)))
    print("ok %d failed %d" % (ok, failed), flush=True)


def main():
    a = sys.argv[1:]
    if a[0] == "listen":
        listen(a[1], int(a[2]), float(a[3]), int(a[4]) if len(a) > 4 else 128)
    elif a[0] == "connect":
        connect(a[1], int(a[2]), int(a[3]), float(a[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
