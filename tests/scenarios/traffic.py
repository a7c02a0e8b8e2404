#!/usr/bin/python3
"""Traffic drivers for the tcpguard capture scenarios (standard library only).

One process plays both ends: it switches its network namespace with setns(2)
before creating each socket (a socket stays in the namespace it was created
in), so client and server steps run in a fixed order with no IPC.  Only the
addresses that lib.sh assigns inside the scenario namespaces are used.

Usage: traffic.py --cns NS --sns NS SCENARIO [--family 4|6] [--cport N] ...
"""
import argparse
import ctypes
import os
import signal
import socket
import struct
import sys
import threading
import time

CLONE_NEWNET = 0x40000000
ADDR = {4: ("10.99.0.1", "10.99.0.2"), 6: ("fd00:99::1", "fd00:99::2")}

_libc = ctypes.CDLL(None, use_errno=True)


def setns(name):
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns(%s): %s" % (name, os.strerror(e)))
    finally:
        os.close(fd)


def payload(n, tag=b"tcpguard-"):
    return (tag * (n // len(tag) + 1))[:n]


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(65536, n - len(buf)))
        if not chunk:
            raise RuntimeError("EOF after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def expect_eof(s):
    data = s.recv(65536)
    if data:
        raise RuntimeError("expected EOF, got %d bytes" % len(data))


def abort(s):
    """close() with SO_LINGER {1, 0}: the kernel sends RST instead of FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class Ctx:
    def __init__(self, a):
        self.a = a
        self.fam = socket.AF_INET if a.family == 4 else socket.AF_INET6
        self.caddr, self.saddr = ADDR[a.family]

    def listen(self, port=None, rcvbuf=None):
        setns(self.a.sns)
        s = socket.socket(self.fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((self.saddr, port or self.a.sport))
        s.listen(8)
        s.settimeout(10)
        return s

    def client(self, cport=None):
        setns(self.a.cns)
        s = socket.socket(self.fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.caddr, cport or self.a.cport))
        s.settimeout(10)
        return s

    def connect(self, c, port=None):
        c.connect((self.saddr, port or self.a.sport))


def pause(t=0.05):
    time.sleep(t)


# --------------------------------------------------------------- scenarios

def sc_graceful(x, a):
    """client: 100 B request; server: 2000 B reply; client FIN first, then server FIN."""
    srv = x.listen()
    c = x.client()
    x.connect(c)
    s, _ = srv.accept()
    srv.close()
    c.sendall(payload(a.req, b"REQUEST-"))
    recv_exact(s, a.req)
    pause()
    s.sendall(payload(a.resp, b"RESPONSE-"))
    recv_exact(c, a.resp)
    pause()
    c.close()                 # client FIN
    expect_eof(s)
    pause()
    s.close()                 # server FIN
    pause(0.1)


def sc_closed_port(x, a):
    """SYN to a port without listener -> RST/ACK from the server kernel."""
    c = x.client()
    c.settimeout(3)
    try:
        x.connect(c)
    except ConnectionRefusedError:
        pass
    else:
        raise RuntimeError("connect unexpectedly succeeded")
    c.close()
    pause(0.1)


def _established_exchange(x, a):
    srv = x.listen()
    c = x.client()
    x.connect(c)
    s, _ = srv.accept()
    srv.close()
    c.sendall(payload(100, b"REQUEST-"))
    recv_exact(s, 100)
    pause()
    s.sendall(payload(1000, b"RESPONSE-"))
    recv_exact(c, 1000)
    pause()
    return c, s


def sc_rst_client(x, a):
    """data both ways, then the client aborts (SO_LINGER 0 + close) -> RST from client."""
    c, s = _established_exchange(x, a)
    c.sendall(payload(200, b"MORE-"))
    recv_exact(s, 200)
    pause(0.1)
    abort(c)                  # RST from client
    try:
        s.recv(100)
    except ConnectionResetError:
        pass
    else:
        raise RuntimeError("server did not see the reset")
    s.close()                 # socket already reset: nothing on the wire
    pause(0.1)


def sc_rst_server(x, a):
    """server sends 1000 of a promised 5000 B and aborts -> RST from server."""
    c, s = _established_exchange(x, a)
    pause(0.1)
    abort(s)                  # RST from server, client still waiting for data
    try:
        c.recv(100)
    except ConnectionResetError:
        pass
    else:
        raise RuntimeError("client did not see the reset")
    c.close()
    pause(0.1)


def sc_syn_unanswered(x, a):
    """SYNs are dropped by nftables in the server ns; client gives up after a.timeout s."""
    c = x.client()
    c.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        x.connect(c)
    except socket.timeout:
        pass
    else:
        raise RuntimeError("connect unexpectedly succeeded")
    c.close()                 # SYN_SENT -> CLOSED: nothing on the wire
    print("syn-unanswered: gave up after %.2f s" % (time.monotonic() - t0), file=sys.stderr)


def sc_half_close(x, a):
    """client: 100 B + shutdown(SHUT_WR); server keeps sending 5 x 1000 B, then closes."""
    srv = x.listen()
    c = x.client()
    x.connect(c)
    s, _ = srv.accept()
    srv.close()
    c.sendall(payload(100, b"REQUEST-"))
    pause()
    c.shutdown(socket.SHUT_WR)    # client FIN, client keeps reading
    recv_exact(s, 100)
    expect_eof(s)
    for _ in range(a.chunks):
        pause(0.2)
        s.sendall(payload(1000, b"AFTER-FIN-"))
        recv_exact(c, 1000)
    pause(0.2)
    s.close()                 # server FIN
    expect_eof(c)
    c.close()
    pause(0.1)


def sc_zero_window(x, a):
    """server with tiny SO_RCVBUF stalls a.stall s while the client writes a.bytes."""
    srv = x.listen(rcvbuf=a.rcvbuf)
    c = x.client()
    x.connect(c)
    s, _ = srv.accept()
    srv.close()
    s.settimeout(30)
    c.settimeout(30)
    err = []

    def writer():
        try:
            c.sendall(payload(a.bytes, b"BULK-"))
            c.close()         # client FIN after the last byte is queued
        except Exception as e:  # noqa: BLE001
            err.append(e)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(a.stall)       # not reading: window closes, client probes
    got = 0
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += len(d)
    t.join()
    if err:
        raise err[0]
    if got != a.bytes:
        raise RuntimeError("server read %d of %d bytes" % (got, a.bytes))
    pause()
    s.close()                 # server FIN
    pause(0.1)


def sc_bulk(x, a):
    """client uploads a.up bytes, server answers a.down bytes; client FIN first."""
    srv = x.listen(rcvbuf=a.bulk_rcvbuf)
    c = x.client()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.bulk_rcvbuf)
    x.connect(c)
    s, _ = srv.accept()
    srv.close()
    s.settimeout(30)
    c.settimeout(30)
    got = []
    t = threading.Thread(target=lambda: got.append(recv_exact(s, a.up)))
    t.start()                 # server reads concurrently: no zero window
    c.sendall(payload(a.up, b"UPLOAD-"))
    t.join()
    if not got:
        raise RuntimeError("server did not receive the upload")
    s.sendall(payload(a.down, b"DOWNLOAD-"))
    recv_exact(c, a.down)
    pause()
    c.close()
    expect_eof(s)
    pause()
    s.close()
    pause(0.1)


def sc_port_reuse(x, a):
    """two sessions on the same 5-tuple; the server closes first each time
    (server holds TIME_WAIT and accepts the second SYN)."""
    srv = x.listen()
    for i in range(2):
        c = x.client()
        x.connect(c)
        s, _ = srv.accept()
        c.sendall(payload(100, b"REQUEST-%d-" % (i + 1)))
        recv_exact(s, 100)
        pause()
        s.sendall(payload(500, b"RESPONSE-%d-" % (i + 1)))
        recv_exact(c, 500)
        pause()
        s.close()             # server FIN first -> server TIME_WAIT
        expect_eof(c)
        pause()
        c.close()             # client FIN (LAST_ACK -> CLOSED on ACK)
        pause(0.5)
    srv.close()


SCENARIOS = {
    "graceful": sc_graceful,
    "closed-port": sc_closed_port,
    "rst-client": sc_rst_client,
    "rst-server": sc_rst_server,
    "syn-unanswered": sc_syn_unanswered,
    "half-close": sc_half_close,
    "zero-window": sc_zero_window,
    "bulk": sc_bulk,
    "port-reuse": sc_port_reuse,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cns", required=True)
    p.add_argument("--sns", required=True)
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--family", type=int, choices=(4, 6), default=4)
    p.add_argument("--cport", type=int, default=40001)
    p.add_argument("--sport", type=int, default=8080)
    p.add_argument("--req", type=int, default=100)
    p.add_argument("--resp", type=int, default=2000)
    p.add_argument("--timeout", type=float, default=3.5)
    p.add_argument("--chunks", type=int, default=5)
    p.add_argument("--bytes", type=int, default=1 << 20)
    p.add_argument("--rcvbuf", type=int, default=4096)
    p.add_argument("--stall", type=float, default=2.5)
    p.add_argument("--up", type=int, default=100000)
    p.add_argument("--down", type=int, default=50000)
    p.add_argument("--bulk-rcvbuf", type=int, default=1 << 20)
    a = p.parse_args()
    for ns in (a.cns, a.sns):
        if not ns.startswith("tgs-"):
            sys.exit("refusing namespace %r (must be a tgs-* scenario namespace)" % ns)
    signal.alarm(60)          # hard bound on any scenario
    SCENARIOS[a.scenario](Ctx(a), a)


if __name__ == "__main__":
    main()
