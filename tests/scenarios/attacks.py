#!/usr/bin/python3
"""Generated attack captures for tcpguard's detection golden tests.

Writes small classic pcap files (Ethernet, microsecond timestamps) with
fixed, seeded content into tests/data/attack-*.pcap.  Every spoofed
address is inside the test ranges 10.98.0.0/16 and 10.97.0.0/16; the
"real" clients are 10.99.0.0/24 as in lib.sh.  Each file has a one-line
why in tests/data/README.md and its expected alerts in
tests/data/expected/<name>.alerts.json.

Usage: attacks.py [OUTDIR]
"""
import random
import struct
import sys

T0 = 1700000000.0


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def frame(src, dst, sport, dport, flags, seq=0, ack=0, win=64240, ttl=64,
          ipid=0, opts=b"", payload=b""):
    s, d = ip4(src), ip4(dst)
    hl = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hl // 4) << 4,
                      flags, win, 0, 0) + opts + payload
    ph = s + d + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid, 0x4000,
                     ttl, 6, 0, s, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\x99\0\0\0\x02\x02\x99\0\0\0\x01\x08\x00" + ip + tcp


LINUX_SYN_OPTS = bytes([2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
                        1, 3, 3, 7])
SA_OPTS = bytes([2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1, 1, 3, 3, 7])
SYN, ACK, RST, FIN, PSH = 2, 16, 4, 1, 8


class Cap:
    def __init__(self):
        self.pk = []

    def add(self, t, f):
        self.pk.append((t, len(self.pk), f))

    def handshake(self, t, cli, srv, cport, sport, data=True, close=True):
        ci, si = 1000 + cport * 7, 5000 + cport * 13
        self.add(t, frame(cli, srv, cport, sport, SYN, ci, 0, 64240, 64,
                          cport & 0xffff, LINUX_SYN_OPTS))
        self.add(t + 0.0002, frame(srv, cli, sport, cport, SYN | ACK, si, ci + 1,
                                   65160, 64, 0, SA_OPTS))
        self.add(t + 0.0004, frame(cli, srv, cport, sport, ACK, ci + 1, si + 1, 502))
        if data:
            self.add(t + 0.001, frame(cli, srv, cport, sport, PSH | ACK, ci + 1,
                                      si + 1, 502, payload=b"x" * 100))
            self.add(t + 0.0012, frame(srv, cli, sport, cport, PSH | ACK, si + 1,
                                       ci + 101, 509, payload=b"y" * 200))
            ci += 100
            si += 200
        if close:
            self.add(t + 0.003, frame(cli, srv, cport, sport, FIN | ACK, ci + 1,
                                      si + 1, 502))
            self.add(t + 0.0032, frame(srv, cli, sport, cport, FIN | ACK, si + 1,
                                       ci + 2, 509))
            self.add(t + 0.0034, frame(cli, srv, cport, sport, ACK, ci + 2,
                                       si + 2, 502))

    def write(self, path):
        self.pk.sort()
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for t, _, fr in self.pk:
                sec = int(t)
                us = int(round((t - sec) * 1e6))
                if us == 1000000:
                    sec, us = sec + 1, 0
                f.write(struct.pack("<IIII", sec, us, len(fr), len(fr)) + fr)


def background(c, rnd, seconds, port=8080):
    """Real clients 10.99.0.1-20: a handshake every 100 ms."""
    for i in range(int(seconds * 10)):
        c.handshake(T0 + i * 0.1 + rnd.random() * 0.01,
                    "10.99.0.%d" % (1 + i % 20), "10.99.0.2", 40000 + i, port)


def spoofed_syn(rnd, dst, dport):
    return frame("10.98.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255)), dst,
                 rnd.randrange(1024, 65535), dport, SYN, rnd.getrandbits(32), 0,
                 512, 64, rnd.getrandbits(16))


def flood(out):
    """2000 SYN/s for 3 s to 10.99.0.2:8080 from random 10.98/16."""
    rnd, c = random.Random(1), Cap()
    background(c, rnd, 8)
    for i in range(6000):
        t = T0 + 3 + i / 2000.0
        c.add(t, spoofed_syn(rnd, "10.99.0.2", 8080))
    c.write(out + "/attack-synflood.pcap")


def carpet(out):
    """64 hosts of 10.99.1.0/24, 40 SYN/s each (below the per-host alarm),
    2560 SYN/s in all, for 3 s."""
    rnd, c = random.Random(2), Cap()
    background(c, rnd, 8)
    for i in range(7680):
        t = T0 + 3 + i / 2560.0
        c.add(t, spoofed_syn(rnd, "10.99.1.%d" % (1 + i % 64), 80))
    c.write(out + "/attack-carpet.pcap")


def backscatter(out):
    """Seen at the victim: SYN-ACKs and RSTs from 30 reflectors in
    10.97.0.0/24 to 10.99.2.0/24, 300/s for 3 s, for SYNs sent by someone
    spoofing the victim's addresses."""
    rnd, c = random.Random(3), Cap()
    background(c, rnd, 8)
    for i in range(900):
        t = T0 + 3 + i / 300.0
        refl = "10.97.0.%d" % (1 + rnd.randrange(30))
        victim = "10.99.2.%d" % (1 + rnd.randrange(200))
        c.add(t, frame(refl, victim, 80, rnd.randrange(1024, 65535), SYN | ACK,
                       rnd.getrandbits(32), rnd.getrandbits(32), 65160, 57, 0, SA_OPTS))
    c.write(out + "/attack-backscatter.pcap")


def reflector(out):
    """Seen at the reflector 10.99.0.2: SYNs 'from' 10.97.0.5 (the spoofed
    victim) to port 80, 40/s for 4 s; the server answers each with a
    SYN-ACK and retransmits it at +1 s and +3 s; the victim never answers."""
    rnd, c = random.Random(4), Cap()
    background(c, rnd, 10)
    for i in range(160):
        t = T0 + 3 + i / 40.0
        sp, isn, si = rnd.randrange(1024, 65535), rnd.getrandbits(32), rnd.getrandbits(32)
        c.add(t, frame("10.97.0.5", "10.99.0.2", sp, 80, SYN, isn, 0, 512, 64,
                       rnd.getrandbits(16)))
        for d in (0.0001, 1.0, 3.0):
            c.add(t + d, frame("10.99.0.2", "10.97.0.5", 80, sp, SYN | ACK, si,
                               isn + 1, 65160, 64, 0, SA_OPTS))
    c.write(out + "/attack-reflector.pcap")


def scan(out):
    """10.97.0.66 probes ports 1-400 of 10.99.0.2, 200 probes/s; closed
    ports answer RST, ports 22, 80 and 443 SYN-ACK, which the scanner
    resets."""
    rnd, c = random.Random(5), Cap()
    background(c, rnd, 6)
    for p in range(1, 401):
        t = T0 + 2 + p / 200.0
        c.add(t, frame("10.97.0.66", "10.99.0.2", 61000, p, SYN, 4242, 0, 1024, 49,
                       rnd.getrandbits(16), bytes([2, 4, 5, 0xb4])))
        if p in (22, 80, 443):
            c.add(t + 0.0001, frame("10.99.0.2", "10.97.0.66", p, 61000, SYN | ACK,
                                    777, 4243, 65160, 64, 0, SA_OPTS))
            c.add(t + 0.0002, frame("10.97.0.66", "10.99.0.2", 61000, p, RST, 4243,
                                    0, 0, 49))
        else:
            c.add(t + 0.0001, frame("10.99.0.2", "10.97.0.66", p, 61000, RST | ACK,
                                    0, 4243, 0, 64))
    c.write(out + "/attack-scan.pcap")


def brute(out):
    """10.97.0.77 opens 40 short ssh sessions to 10.99.0.2:22, one every
    250 ms: banner, a failed login, the server closes."""
    rnd, c = random.Random(6), Cap()
    background(c, rnd, 12)
    for i in range(40):
        c.handshake(T0 + 1 + i * 0.25, "10.97.0.77", "10.99.0.2", 50000 + i, 22)
    c.write(out + "/attack-bruteforce.pcap")


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    for fn in (flood, carpet, backscatter, reflector, scan, brute):
        fn(out)
