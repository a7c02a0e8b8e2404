#!/usr/bin/python3
"""Traffic drivers for the tcpguard capture scenarios (standard library only).

One process plays both ends: it switches its network namespace with setns(2)
before creating each socket (a socket stays in the namespace it was created
in), so client and server steps run in a fixed order with no IPC.  Only the
addresses that lib.sh assigns inside the scenario namespaces are used.

The cause-* scenarios run on lib.sh's three-namespace topology (client -
firewall - server, --fns/--caddr/--saddr) and some of them hand-build TCP
segments on raw sockets: a SYN or SYN-ACK no socket asked for, a reset
injected by the firewall.

Usage: traffic.py --cns NS --sns NS [--fns NS --caddr A --saddr A] SCENARIO
                  [--family 4|6] [--cport N] ...
"""
import argparse
import ctypes
import os
import signal
import socket
import struct
import subprocess
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
        if a.caddr:
            self.caddr, self.saddr = a.caddr, a.saddr

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


# ---------------------------------------------- cause-* scenarios (3 namespaces)
#
# Hand-built segments: raw IPPROTO_TCP sockets. Without IP_HDRINCL the kernel
# writes the IP header (its own TTL and IP ID); with it we write it, leaving
# the ID 0 so the kernel fills in its own counter.

F_FIN, F_SYN, F_RST, F_PSH, F_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(data):
    if len(data) % 2:
        data += b"\0"
    t = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def tcp_segment(src, dst, sport, dport, seq, ack, flags, win=64240, opts=b""):
    """TCP header (no payload) with a correct checksum over the IPv4 pseudo-header."""
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags, win, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr))
    c = csum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def ipv4_header(src, dst, l4len, ttl=64):
    """IPv4 header for IP_HDRINCL. ID 0 and no DF: the kernel fills in an ID from
    its own generator (with DF it would leave 0); it also writes the checksum."""
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + l4len, 0, 0, ttl, 6, 0,
                       socket.inet_aton(src), socket.inet_aton(dst))


def raw_send(ns, dst, segment, hdr=None):
    """Send one segment from namespace ns on a raw socket."""
    setns(ns)
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    try:
        if hdr is not None:
            r.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
            segment = hdr + segment
        r.sendto(segment, (dst, 0))
    finally:
        r.close()


MSS_OPT = struct.pack("!BBH", 2, 4, 1460)


def nft(ns, *args, ruleset=None):
    """nft ARGS in namespace ns; ruleset: text fed to 'nft -f -'."""
    if ruleset is not None:
        args = ("-f", "-")
    subprocess.run(["ip", "netns", "exec", ns, "nft"] + list(args), check=True,
                   input=ruleset, text=True)


def expect_reset(s, what):
    try:
        d = s.recv(65536)
    except ConnectionResetError:
        return
    raise RuntimeError("%s: expected a reset, got %r" % (what, d[:20]))


def sc_cause_middlebox(x, a):
    """request/response, then the client sends data with a marker the firewall
    rejects (nft reject with tcp reset): the RST reaches the client from the
    firewall with the server's address but the firewall's TTL. The server
    never sees the marker; it later aborts (its RST finds no socket)."""
    c, s = _established_exchange(x, a)
    pause(0.1)
    c.sendall(payload(100, a.marker.encode()))
    c.settimeout(3)
    expect_reset(c, "client")
    c.close()
    pause(0.1)
    abort(s)
    pause(0.1)


def sc_cause_close_unread(x, a):
    """server accepts, the client's 100 B request arrives, the server closes
    without reading it: Linux resets (tcp_close, data_was_unread)."""
    srv = x.listen()
    c = x.client()
    x.connect(c)
    s, _ = srv.accept()
    srv.close()
    c.sendall(payload(100, b"REQUEST-"))
    pause(0.1)
    s.close()                 # 100 B unread -> RST instead of FIN
    expect_reset(c, "client")
    c.close()
    pause(0.1)


def sc_cause_reset_after_close(x, a):
    """server reads the request, replies and closes (FIN); the client, which
    has read the reply and the EOF, sends more data: the server resets."""
    c, s = _established_exchange(x, a)
    s.close()                 # server FIN
    expect_eof(c)
    pause(0.1)
    c.sendall(payload(100, b"LATE-"))
    pause(0.1)
    try:                      # reset in CLOSE_WAIT: the next send gets EPIPE
        c.send(b"x")
    except (BrokenPipeError, ConnectionResetError):
        pass
    else:
        raise RuntimeError("client: no reset after the late data")
    c.close()
    pause(0.1)


def sc_cause_peer_lost(x, a):
    """the server's connection vanishes without a trace (SO_LINGER 0 with its
    RST dropped by nftables in the server ns); 1 s later the client sends and
    the server kernel answers with a bare RST."""
    c, s = _established_exchange(x, a)
    pause(0.1)
    abort(s)                  # RST dropped on the way out
    nft(a.sns, "delete", "table", "inet", a.nft_table)
    time.sleep(1.0)
    c.sendall(payload(100, b"ARE-YOU-THERE-"))
    pause(0.1)
    expect_reset(c, "client")
    c.close()
    pause(0.1)


def sc_cause_zero_window(x, a):
    """small buffers, the server stops reading: zero window, the client
    probes for a.probe s, then the server closes with unread data -> RST."""
    srv = x.listen(rcvbuf=a.rcvbuf)
    c = x.client()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, a.rcvbuf)
    x.connect(c)
    s, _ = srv.accept()
    srv.close()
    c.settimeout(20)
    err = []

    def writer():
        try:
            c.sendall(payload(a.bytes, b"BULK-"))
        except (ConnectionResetError, BrokenPipeError) as e:
            err.append(e)

    t = threading.Thread(target=writer)
    t.start()
    pause(0.3)                # window closes within a few ms
    time.sleep(a.probe)       # persist timer probes
    s.close()                 # unread data -> RST
    t.join(5)
    if t.is_alive() or not err:
        raise RuntimeError("client writer did not see the reset")
    c.close()
    pause(0.1)


def sc_cause_handshake_abort(x, a):
    """a SYN from a raw socket in the client ns: the server answers SYN-ACK and
    the client kernel, having no socket for it, resets (half-open scan)."""
    srv = x.listen()
    seg = tcp_segment(x.caddr, x.saddr, a.cport, a.sport, 0x1000, 0, F_SYN, opts=MSS_OPT)
    raw_send(a.cns, x.saddr, seg)
    pause(0.3)
    srv.close()


def sc_cause_unsolicited_synack(x, a):
    """a SYN-ACK from a raw socket in the server ns for a SYN nobody sent:
    the client kernel resets it (backscatter of a spoofed SYN)."""
    seg = tcp_segment(x.saddr, x.caddr, a.sport, a.cport, 0x2000, 0x3000,
                      F_SYN | F_ACK, opts=MSS_OPT)
    raw_send(a.sns, x.caddr, seg)
    pause(0.3)


def sniff_open(ns, ifname, timeout=3.0):
    """AF_PACKET socket on ifname in ns (read_seq reads from it)."""
    setns(ns)
    p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    p.bind((ifname, 0))
    p.settimeout(timeout)
    return p


def read_seq(p, src, sport):
    """(seq, ack) of the next TCP segment from src:sport seen on p."""
    while True:
        f = p.recv(2048)
        ip = f[14:]
        if ip[9] != 6 or ip[12:16] != socket.inet_aton(src):
            continue
        t = ip[(ip[0] & 0xF) * 4:]
        sp, _, seq, ack = struct.unpack("!HHII", t[:12])
        if sp == sport:
            p.close()
            return seq, ack


def sc_cause_out_of_window(x, a):
    """the firewall injects a RST toward the client with the server's address,
    its own TTL 64 and IP ID, and a seq 2^31 away from the server's: the client
    drops it and the transfer goes on to a graceful close."""
    srv = x.listen()
    c = x.client()
    x.connect(c)
    s, _ = srv.accept()
    srv.close()
    c.sendall(payload(100, b"REQUEST-"))
    recv_exact(s, 100)
    sn = sniff_open(a.fns, "veth-fs")
    for i in range(a.chunks):
        pause(0.1)
        s.sendall(payload(1000, b"CHUNK-%d-" % i))
        recv_exact(c, 1000)
        if i == 0:
            seq, _ = read_seq(sn, x.saddr, a.sport)
            seg = tcp_segment(x.saddr, x.caddr, a.sport, a.cport, seq + 0x80000000, 0,
                              F_RST, win=0)
            raw_send(a.fns, x.caddr, seg, ipv4_header(x.saddr, x.caddr, len(seg)))
    pause()
    c.close()
    expect_eof(s)
    pause()
    s.close()
    pause(0.1)


def sc_cause_server_closed(x, a):
    """server accepts and closes at once without a byte (MaxStartups,
    hosts.deny); the client reads EOF and closes."""
    srv = x.listen()
    c = x.client()
    x.connect(c)
    s, _ = srv.accept()
    srv.close()
    s.close()                 # server FIN, nothing sent
    expect_eof(c)
    pause()
    c.close()
    pause(0.1)


def sc_cause_idle(x, a):
    """request/response, a.idle s of silence, another request/response, close."""
    c, s = _established_exchange(x, a)
    time.sleep(a.idle)
    c.sendall(payload(100, b"AGAIN-"))
    recv_exact(s, 100)
    pause()
    s.sendall(payload(500, b"REPLY-"))
    recv_exact(c, 500)
    pause()
    c.close()
    expect_eof(s)
    pause()
    s.close()
    pause(0.1)


def sc_cause_no_answer(x, a):
    """SYNs to a.sport are dropped; the client gives up after a.timeout s and,
    1 s later, falls back to a.sport + 1, which answers: the later packets let
    a 2 s tcp-init timer of the first attempt run out inside the capture."""
    c = x.client()
    c.settimeout(a.timeout)
    try:
        x.connect(c)
    except (socket.timeout, TimeoutError):
        pass
    else:
        raise RuntimeError("connect unexpectedly succeeded")
    c.close()                 # SYN_SENT -> CLOSED: nothing on the wire
    time.sleep(1.0)
    srv = x.listen(port=a.sport + 1)
    c = x.client(cport=a.cport + 1)
    x.connect(c, port=a.sport + 1)
    s, _ = srv.accept()
    srv.close()
    c.sendall(payload(100, b"FALLBACK-"))
    recv_exact(s, 100)
    pause()
    s.sendall(payload(500, b"RESPONSE-"))
    recv_exact(c, 500)
    pause()
    c.close()
    expect_eof(s)
    pause()
    s.close()
    pause(0.1)


def sc_cause_rst_after_fin(x, a):
    """client sends a request and half-closes (FIN); the server answers without
    reading it and half-closes too (FIN); the client's ACK of that FIN is lost
    (dropped once at the firewall), so the server is still in LAST_ACK when it
    close()s with the request unread: RST after both FINs."""
    srv = x.listen()
    c = x.client()
    x.connect(c)
    s, _ = srv.accept()
    srv.close()
    c.sendall(payload(100, b"REQUEST-"))
    c.shutdown(socket.SHUT_WR)        # client FIN
    pause(0.1)
    nft(a.fns, ruleset="""table inet %s {
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip saddr %s tcp flags == ack ip length 52 drop
  }
}""" % (a.nft_table, x.caddr))
    s.sendall(payload(500, b"RESPONSE-"))
    s.shutdown(socket.SHUT_WR)        # server FIN (the ACK for it is lost)
    recv_exact(c, 500)
    expect_eof(c)
    pause(0.1)
    s.close()                         # LAST_ACK, 100 B unread -> RST
    nft(a.fns, "delete", "table", "inet", a.nft_table)
    pause(0.1)
    c.close()
    pause(0.1)


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
    "cause-middlebox": sc_cause_middlebox,
    "cause-close-unread": sc_cause_close_unread,
    "cause-reset-after-close": sc_cause_reset_after_close,
    "cause-peer-lost": sc_cause_peer_lost,
    "cause-zero-window": sc_cause_zero_window,
    "cause-handshake-abort": sc_cause_handshake_abort,
    "cause-unsolicited-synack": sc_cause_unsolicited_synack,
    "cause-out-of-window": sc_cause_out_of_window,
    "cause-server-closed": sc_cause_server_closed,
    "cause-idle": sc_cause_idle,
    "cause-no-answer": sc_cause_no_answer,
    "cause-rst-after-fin": sc_cause_rst_after_fin,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cns", required=True)
    p.add_argument("--sns", required=True)
    p.add_argument("--fns", help="firewall namespace (three-namespace topology)")
    p.add_argument("--caddr", help="client IPv4 address (with --saddr)")
    p.add_argument("--saddr", help="server IPv4 address (with --caddr)")
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
    p.add_argument("--marker", default="BLOCKME!")
    p.add_argument("--idle", type=float, default=3.0)
    p.add_argument("--probe", type=float, default=2.0)
    p.add_argument("--nft-table", default="tgs")
    a = p.parse_args()
    for ns in (a.cns, a.sns, a.fns or "tgs-"):
        if not ns.startswith("tgs-"):
            sys.exit("refusing namespace %r (must be a tgs-* scenario namespace)" % ns)
    signal.alarm(60)          # hard bound on any scenario
    SCENARIOS[a.scenario](Ctx(a), a)


if __name__ == "__main__":
    main()
