#!/usr/bin/env python3
"""Traffic drivers for the held-out tcpguard scenarios (run inside a netns).

  drive.py serve PORT MODE [k=v ...]          one listener, a thread per connection
  drive.py client ADDR PORT SPORT MODE [k=v]  one client connection from a fixed port
  drive.py inject ...  / forge-rst ... / spoof-syn ... / v6scan ...   raw tools

Every wait is bounded; nothing runs longer than a few seconds unless the
calling script keeps it (and kills it at exit).
"""
import os
import random
import socket
import struct
import sys
import threading
import time

LINGER0 = struct.pack("ii", 1, 0)


def kv(args):
    d = {}
    for a in args:
        k, _, v = a.partition("=")
        d[k] = v
    return d


def num(d, k, default):
    v = d.get(k)
    if v is None:
        return default
    return float(v) if "." in v else int(v)


def payload(n, ch=b"x"):
    return (ch * n)[:n]


def recv_exact(s, n):
    got = 0
    while got < n:
        b = s.recv(min(65536, n - got))
        if not b:
            break
        got += len(b)
    return got


def recv_eof(s, limit=30.0):
    """read until EOF / error / limit seconds; returns 'eof', 'reset' or 'timeout'"""
    s.settimeout(limit)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return "eof"
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "timeout"
    except OSError:
        return "error"


def abort(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    s.close()


# ---------------------------------------------------------------- server
def serve(port, mode, o):
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if "rcvbuf" in o:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(o["rcvbuf"]))
    if "sndbuf" in o:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(o["sndbuf"]))
    ls.bind(("::", port))
    ls.listen(16)
    print("listening", port, flush=True)
    keep = []
    while True:
        c, _ = ls.accept()
        keep.append(c)
        threading.Thread(target=handle, args=(c, mode, o), daemon=True).start()


def handle(c, mode, o):
    req = num(o, "req", 0)
    resp = num(o, "resp", 0)
    delay = num(o, "delay", 0.0)
    try:
        if mode == "abort":  # read the whole request, answer, RST (SO_LINGER 0)
            recv_exact(c, req)
            c.sendall(payload(resp, b"A"))
            time.sleep(delay)
            abort(c)
        elif mode == "respond":  # read, answer, wait for the client to end it
            recv_exact(c, req)
            c.sendall(payload(resp, b"R"))
            recv_eof(c, num(o, "wait", 20.0))
            c.close()
        elif mode == "unread":  # read only part of the request, answer, close
            recv_exact(c, num(o, "read", 0))
            if resp:
                c.sendall(payload(resp, b"U"))
            time.sleep(delay)
            c.close()
        elif mode == "finclose":  # read the request, answer, close at once (FIN)
            recv_exact(c, req)
            c.sendall(payload(resp, b"F"))
            c.close()
        elif mode == "waiteof":  # answer, then close only after the client's FIN
            recv_exact(c, req)
            c.sendall(payload(resp, b"W"))
            recv_eof(c, 20.0)
            time.sleep(delay)
            c.close()
        elif mode == "echo":  # echo forever (until killed)
            while True:
                b = c.recv(65536)
                if not b:
                    time.sleep(600)
                c.sendall(b)
        elif mode == "readsome":  # read some bytes, then never read again
            recv_exact(c, num(o, "read", 0))
            time.sleep(600)
        elif mode == "closenow":  # accept, (wait), close without a byte
            time.sleep(delay)
            c.close()
        elif mode == "stream":  # request, then chunks at an interval
            recv_exact(c, req)
            chunk, gap, total = num(o, "chunk", 1000), num(o, "gap", 0.1), num(o, "total", 10000)
            sent = 0
            while sent < total:
                c.sendall(payload(chunk, b"S"))
                sent += chunk
                time.sleep(gap)
            recv_eof(c, 20.0)
            c.close()
        elif mode == "sink":  # read everything forever
            while c.recv(65536):
                pass
            time.sleep(600)
        elif mode == "noread":  # never read (zero window), hold
            time.sleep(600)
        elif mode == "zwsend":  # send until the peer's window stays shut `stall` s, then abort
            recv_exact(c, req)
            c.settimeout(num(o, "stall", 3.0))
            try:
                while True:
                    c.sendall(payload(4096, b"Z"))
            except socket.timeout:
                pass
            abort(c)
        elif mode == "push":  # ticker: a small message every gap seconds
            gap = num(o, "gap", 0.5)
            while True:
                c.sendall(payload(num(o, "chunk", 100), b"P"))
                time.sleep(gap)
        else:
            raise SystemExit("unknown server mode " + mode)
    except OSError:
        pass


# ---------------------------------------------------------------- client
def connect(addr, port, sport, o, timeout=5.0):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if "rcvbuf" in o:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(o["rcvbuf"]))
    if "sndbuf" in o:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(o["sndbuf"]))
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport))
    s.settimeout(timeout)
    s.connect((addr, port))
    s.settimeout(None)
    return s


def client(addr, port, sport, mode, o):
    req = num(o, "req", 0)
    resp = num(o, "resp", 0)
    delay = num(o, "delay", 0.0)
    if mode == "closed":  # expect ECONNREFUSED
        try:
            connect(addr, port, sport, o)
        except ConnectionRefusedError:
            print(sport, "refused")
            return
        raise SystemExit("%d: connected to a port that should be closed" % sport)
    if mode == "timeout":  # connect with a short timeout, give up silently
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport))
        s.settimeout(num(o, "t", 0.5))
        try:
            s.connect((addr, port))
            raise SystemExit("%d: connect succeeded unexpectedly" % sport)
        except socket.timeout:
            pass
        s.close()
        print(sport, "gave up")
        return
    s = connect(addr, port, sport, o)
    if "keepidle" in o:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, int(o["keepidle"]))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    try:
        if req:
            s.sendall(payload(req, b"q"))
        if mode == "req":  # request, response, then close / abort / wait for the end
            got = recv_exact(s, resp)
            time.sleep(delay)
            then = o.get("then", "close")
            if then == "abort":
                abort(s)
            elif then == "waiteof":
                r = recv_eof(s, num(o, "wait", 10.0))
                s.close()
                print(sport, "got", got, r)
                return
            elif then == "hold":  # stay idle, then optionally send again
                time.sleep(num(o, "idle", 3.0))
                if num(o, "again", 0):
                    s.sendall(payload(num(o, "again", 0), b"h"))
                r = recv_eof(s, num(o, "wait", 5.0))
                print(sport, "after idle:", r)
            else:
                s.close()
            print(sport, "got", got)
        elif mode == "waiteof":  # wait for the server (banner) until EOF, close
            r = recv_eof(s, num(o, "wait", 10.0))
            time.sleep(delay)
            s.close()
            print(sport, r)
        elif mode == "eofsend":  # read until EOF but keep sending anyway
            r = recv_eof(s, num(o, "wait", 10.0))
            time.sleep(delay)
            for _ in range(num(o, "count", 3)):
                s.send(payload(num(o, "chunk", 100), b"e"))
                time.sleep(0.2)
            print(sport, r)
        elif mode == "keepsend":  # after the request, keep sending chunks, never read
            for _ in range(num(o, "count", 3)):
                time.sleep(num(o, "gap", 0.3))
                s.send(payload(num(o, "chunk", 200), b"k"))
            print(sport, "sent")
        elif mode == "download":  # read until EOF or reset (tick: a progress note every tick s)
            if "tick" in o:
                tick, end, r = num(o, "tick", 0.3), time.time() + num(o, "wait", 10.0), "timeout"
                s.settimeout(tick)
                while time.time() < end:
                    try:
                        if not s.recv(65536):
                            r = "eof"
                            break
                    except socket.timeout:
                        s.send(b".")
                    except ConnectionResetError:
                        r = "reset"
                        break
            else:
                r = recv_eof(s, num(o, "wait", 10.0))
            print(sport, "download", r)
        elif mode == "upload":  # send total bytes in chunks, gap apart
            chunk, gap, total = num(o, "chunk", 1000), num(o, "gap", 0.1), num(o, "total", 10000)
            sent = 0
            while sent < total:
                s.sendall(payload(chunk, b"u"))
                sent += chunk
                time.sleep(gap)
            s.close()
            print(sport, "uploaded")
        elif mode == "cmds":  # line protocol; one command carries a bad word
            for i in range(num(o, "count", 5)):
                line = b"BADCMD!! rm -rf /\n" if i == num(o, "bad", 2) else b"GET item %d\n" % i
                s.sendall(line)
                time.sleep(0.3)
            print(sport, "cmds done")
        elif mode == "zwrecv":  # read a little, then stop reading (until the sender gives up)
            recv_exact(s, num(o, "read", 100))
            time.sleep(num(o, "stall", 5.0))
            print(sport, "stalled")
        elif mode == "zwsend":  # upload to a peer that stopped reading, abort after stall
            s.settimeout(num(o, "stall", 3.0))
            try:
                while True:
                    s.sendall(payload(4096, b"z"))
            except socket.timeout:
                pass
            abort(s)
            print(sport, "aborted stalled upload")
        else:
            raise SystemExit("unknown client mode " + mode)
    except (ConnectionResetError, BrokenPipeError) as e:
        print(sport, "reset:", e)


# ---------------------------------------------------------------- raw frames
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_frame(src, dst, sport, dport, seq, ack, flags, win=0, ttl=64, ipid=None, opts=b""):
    """Ethernet payload (IPv4 or IPv6 + TCP), returns (ethertype, bytes)"""
    off = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags, win, 0, 0) + opts
    if ":" in src:
        s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
        ph = s6 + d6 + struct.pack("!IxxxB", len(tcp), 6)
        tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
        return 0x86DD, struct.pack("!IHBB", 0x60000000, len(tcp), 6, ttl) + s6 + d6 + tcp
    s4, d4 = socket.inet_aton(src), socket.inet_aton(dst)
    ph = s4 + d4 + struct.pack("!xBH", 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    if ipid is None:
        ipid = random.randrange(65536)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid & 0xFFFF, 0x4000, ttl, 6, 0, s4, d4)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return 0x0800, h + tcp


def mac(m):
    return bytes(int(x, 16) for x in m.split(":"))


def send_frame(iface, dmac, smac, et_pkt):
    et, pkt = et_pkt
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(mac(dmac) + mac(smac) + struct.pack("!H", et) + pkt)
    s.close()


def parse(frame):
    """-> dict(src,dst,sport,dport,seq,ack,flags,plen,ttl,ipid) or None"""
    et = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if et == 0x0800 and p[9] == 6:
        ihl = (p[0] & 15) * 4
        tot = struct.unpack("!H", p[2:4])[0]
        src, dst = socket.inet_ntoa(p[12:16]), socket.inet_ntoa(p[16:20])
        ttl, ipid = p[8], struct.unpack("!H", p[4:6])[0]
        t = p[ihl:tot]
    elif et == 0x86DD and p[6] == 6:
        plen = struct.unpack("!H", p[4:6])[0]
        src = socket.inet_ntop(socket.AF_INET6, p[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, p[24:40])
        ttl, ipid = p[7], None
        t = p[40:40 + plen]
    else:
        return None
    sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", t[:16])
    return dict(src=src, dst=dst, sport=sport, dport=dport, seq=seq, ack=ack, flags=flags,
                plen=len(t) - (off >> 4) * 4, ttl=ttl, ipid=ipid)


def sniffer(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((iface, 0))
    s.settimeout(0.2)
    return s


MAC_C, MAC_RC, MAC_RS, MAC_S = "02:93:00:01:00:01", "02:93:00:01:00:fe", "02:93:00:02:00:fe", "02:93:00:02:00:01"


def inject(o):
    """On-path IPS in the router: watch the session with client port cport on
    veth-rs; once the server has sent `after` payload bytes, inject an RST to
    each end with exact sequence numbers (does not drop anything)."""
    cport, after, ttlmode = int(o["cport"]), int(o["after"]), o.get("ttl", "own")
    sn = sniffer("veth-rs")
    st = {}
    deadline = time.time() + float(o.get("limit", 15))
    while time.time() < deadline:
        try:
            f, addr = sn.recvfrom(65536)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            direction = "c2s"
        else:
            direction = "s2c"
        p = parse(f)
        if not p or cport not in (p["sport"], p["dport"]) or p["flags"] & 4:
            continue
        syn_fin = 1 if p["flags"] & 3 else 0
        st[direction] = p
        st[direction + "_next"] = p["seq"] + p["plen"] + syn_fin
        if direction == "s2c":
            st["sbytes"] = st.get("sbytes", 0) + p["plen"]
        if st.get("sbytes", 0) >= after and "c2s" in st:
            s2c, c2s = st["s2c"], st["c2s"]
            # what the client would see from the server: one hop less
            if ttlmode == "copy":
                ttl_c, id_c = s2c["ttl"] - 1, (s2c["ipid"] or 0) + 1
                ttl_s, id_s = c2s["ttl"], (c2s["ipid"] or 0) + 1
            else:
                ttl_c = ttl_s = 64
                id_c = id_s = None
            send_frame("veth-rc", MAC_C, MAC_RC,
                       ip_frame(s2c["src"], s2c["dst"], s2c["sport"], s2c["dport"], st["s2c_next"],
                                st["c2s_next"], 0x14, 0, ttl_c, id_c))
            send_frame("veth-rs", MAC_S, MAC_RS,
                       ip_frame(c2s["src"], c2s["dst"], c2s["sport"], c2s["dport"], st["c2s_next"],
                                st["s2c_next"], 0x14, 0, ttl_s, id_s))
            print("injected resets for", cport, flush=True)
            return
    raise SystemExit("inject: session %d never reached %d bytes" % (cport, after))


def forge_rst(o):
    """Blind-reset attacker in the router: learn the server's sequence number
    of session cport (sniffing veth-rc for `learn` seconds), then send `count`
    RSTs to the client, spoofed from the server, `offset` bytes off."""
    cport, learn = int(o["cport"]), float(o.get("learn", 2.0))
    offset, count = int(o["offset"]), int(o.get("count", 1))
    sn = sniffer("veth-rc")
    last = None
    end = time.time() + learn
    while time.time() < end:
        try:
            f, addr = sn.recvfrom(65536)
        except socket.timeout:
            continue
        p = parse(f)
        if p and p["dport"] == cport and addr[2] == socket.PACKET_OUTGOING and not p["flags"] & 4:
            last = p
    if not last:
        raise SystemExit("forge-rst: nothing seen for %d" % cport)
    for i in range(count):
        send_frame("veth-rc", MAC_C, MAC_RC,
                   ip_frame(last["src"], last["dst"], last["sport"], last["dport"],
                            last["seq"] + last["plen"] + offset + 1000 * i, 0, 0x04, 0, 64))
        time.sleep(0.2)
    print("forged", count, "resets at offset", offset, "for", cport)


def spoof_syn(o):
    """Attacker in the router: SYNs to the server spoofed from the victim (client)."""
    src, dst, dport = o["src"], o["dst"], int(o["dport"])
    for sp in o["sports"].split(","):
        opts = struct.pack("!BBH", 2, 4, 1460)
        send_frame("veth-rs", MAC_S, MAC_RS,
                   ip_frame(src, dst, int(sp), dport, random.randrange(1 << 32), 0, 0x02, 64240, 60, None, opts))
        time.sleep(float(o.get("gap", 0.3)))


def v6scan(o):
    """Half-open SYN scan over IPv6 from the client ns (2-namespace topology):
    the client's own kernel answers the SYN-ACK with RST."""
    src, dst, dport = o["src"], o["dst"], int(o["dport"])
    for sp in o["sports"].split(","):
        send_frame("veth-c", "02:93:00:00:00:02", "02:93:00:00:00:01",
                   ip_frame(src, dst, int(sp), dport, random.randrange(1 << 32), 0, 0x02, 1024, 64))
        time.sleep(float(o.get("gap", 0.3)))


def main():
    a = sys.argv[1:]
    if a[0] == "serve":
        serve(int(a[1]), a[2], kv(a[3:]))
    elif a[0] == "client":
        client(a[1], int(a[2]), int(a[3]), a[4], kv(a[5:]))
    elif a[0] == "inject":
        inject(kv(a[1:]))
    elif a[0] == "forge-rst":
        forge_rst(kv(a[1:]))
    elif a[0] == "spoof-syn":
        spoof_syn(kv(a[1:]))
    elif a[0] == "v6scan":
        v6scan(kv(a[1:]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
