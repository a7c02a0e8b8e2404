#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Server and client ends for tests/protect.sh and bench/protect.sh.

  peer.py server LOG PORT...          accept on every port (IPv4 and IPv6),
                                      log each peer, say hello; port 9090
                                      keeps the connection open 3 s
  peer.py client HOST PORT N [SRC]    N sequential connects (2 s timeout,
                                      PEER_TIMEOUT seconds when set),
                                      prints "ok K fail F"; with PEER_SEND=1
                                      each client speaks first (a request
                                      line), as HTTP or TLS clients do
  peer.py hold HOST PORT [SRC]        one connection held open 3 s
"""
import os, selectors, socket, sys, threading, time

TIMEOUT = float(os.environ.get("PEER_TIMEOUT", "2"))
SEND = os.environ.get("PEER_SEND") == "1"


def server(log, ports):
    out = open(log, "a", buffering=1)
    sel = selectors.DefaultSelector()
    for p in ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", p))
        s.listen(4096)
        sel.register(s, selectors.EVENT_READ, p)
    while True:
        for key, _ in sel.select():
            try:
                c, a = key.fileobj.accept()
            except OSError:
                continue
            host = a[0][7:] if a[0].startswith("::ffff:") else a[0]
            out.write("%s %d\n" % (host, key.data))
            try:
                c.sendall(b"hi\n")
            except OSError:
                pass
            if key.data == 9090:
                threading.Timer(3.0, c.close).start()
            else:
                c.close()


def connect(host, port, src):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def client(host, port, n, src):
    ok = fail = 0
    for _ in range(n):
        try:
            s = connect(host, port, src)
            if SEND:
                s.sendall(b"hello\n")
            if s.recv(16).startswith(b"hi"):
                ok += 1
            else:
                fail += 1
            s.close()
        except OSError:
            fail += 1
    print("ok %d fail %d" % (ok, fail))


def hold(host, port, src):
    s = connect(host, port, src)
    s.recv(16)
    time.sleep(3)
    s.close()


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "server":
        server(a[2], [int(p) for p in a[3:]])
    elif a[1] == "client":
        client(a[2], int(a[3]), int(a[4]), a[5] if len(a) > 5 else None)
    elif a[1] == "hold":
        hold(a[2], int(a[3]), a[4] if len(a) > 4 else None)
