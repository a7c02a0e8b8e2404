#!/usr/bin/python3
"""Check that the generated captures contain what each scenario drove.

Standard library only: a minimal pcap reader (Ethernet, 802.1Q/802.1ad,
IPv4/IPv6, TCP). Sessions are split per 5-tuple at each new initial SYN.
Prints one summary line per session and exits non-zero if an expectation fails.

  verify.py [tests/data]
"""
import os
import struct
import sys

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def packets(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            e = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            e = ">"
        else:
            raise ValueError("%s: not a classic pcap" % path)
        linktype = struct.unpack(e + "I", hdr[20:24])[0]
        if linktype != 1:
            raise ValueError("%s: linktype %d, expected Ethernet" % (path, linktype))
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                return
            sec, frac, incl, orig = struct.unpack(e + "IIII", ph)
            yield sec + frac / 1e6, f.read(incl), orig


def parse(frame):
    """-> (vlans, src, dst, sport, dport, seq, ack, flags, win, paylen) or None"""
    off, et = 14, struct.unpack("!H", frame[12:14])[0]
    vlans = []
    while et in (0x8100, 0x88A8):
        tci, inner = struct.unpack("!HH", frame[off:off + 4])
        vlans.append("%s:%d" % ("Q" if et == 0x8100 else "AD", tci & 0xFFF))
        et, off = inner, off + 4
    if et == 0x0800:
        ihl = (frame[off] & 0xF) * 4
        total = struct.unpack("!H", frame[off + 2:off + 4])[0]
        if frame[off + 9] != 6:
            return None
        src, dst = frame[off + 12:off + 16], frame[off + 16:off + 20]
        tcp, l4len = off + ihl, total - ihl
    elif et == 0x86DD:
        if frame[off + 6] != 6:
            return None
        l4len = struct.unpack("!H", frame[off + 4:off + 6])[0]
        src, dst = frame[off + 8:off + 24], frame[off + 24:off + 40]
        tcp = off + 40
    else:
        return None
    sport, dport, seq, ack, doff, flags, win = struct.unpack("!HHIIBBH", frame[tcp:tcp + 16])
    paylen = l4len - (doff >> 4) * 4
    return tuple(vlans), bytes(src), bytes(dst), sport, dport, seq, ack, flags, win, paylen


def ip_str(b):
    if len(b) == 4:
        return ".".join(str(x) for x in b)
    import ipaddress
    return str(ipaddress.IPv6Address(b))


class Side:
    def __init__(self):
        self.syn = self.fin = self.rst = self.data = self.bytes = 0
        self.zwin = self.retx = 0
        self.max_end = None
        self.data_after_peer_fin = 0


class Session:
    def __init__(self, key, isn):
        self.key, self.isn = key, isn
        self.o, self.r = Side(), Side()
        self.pkts = 0
        self.hist = ""
        self.order = []          # ('o'|'r', flagletter) for FIN/RST in time order
        self.vlans = set()

    def add(self, orig, vlans, seq, flags, win, paylen):
        me, peer = (self.o, self.r) if orig else (self.r, self.o)
        self.pkts += 1
        self.vlans.add(vlans)
        letters = []
        if flags & SYN:
            me.syn += 1
            letters.append("S" if not flags & ACK else "H")
        if flags & RST:
            me.rst += 1
            letters.append("R")
            self.order.append(("o" if orig else "r") + "R")
        if flags & FIN:
            me.fin += 1
            letters.append("F")
            if me.fin == 1:
                self.order.append(("o" if orig else "r") + "F")
        if paylen > 0:
            me.data += 1
            me.bytes += paylen
            letters.append("D")
            end = (seq + paylen) & 0xFFFFFFFF
            if me.max_end is not None and ((end - me.max_end) & 0xFFFFFFFF) > 0x7FFFFFFF or end == me.max_end:
                me.retx += 1
            else:
                me.max_end = end
            if peer.fin:
                me.data_after_peer_fin += 1
        elif flags & ACK and not flags & (SYN | FIN | RST):
            letters.append("A")
        if win == 0 and not flags & RST:
            me.zwin += 1
        for L in letters:
            # Zeek-like: first occurrence of each letter per direction
            L2 = L if orig else L.lower()
            if L == "H":
                L2 = "h" if not orig else "H"
            if L2 not in self.hist:
                self.hist += L2

    def line(self):
        (s, sp), (d, dp) = self.key
        v = ",".join("/".join(x) for x in sorted(self.vlans) if x) or "-"
        return ("%s:%d > %s:%d pkts=%d hist=%s close=%s orig[data=%dB retx=%d zwin=%d] "
                "resp[data=%dB retx=%d zwin=%d after_fin=%d] vlan=%s" % (
                    ip_str(s), sp, ip_str(d), dp, self.pkts, self.hist,
                    ",".join(self.order) or "-", self.o.bytes, self.o.retx, self.o.zwin,
                    self.r.bytes, self.r.retx, self.r.zwin, self.r.data_after_peer_fin, v))


def sessions(path):
    out, live = [], {}
    for _, frame, _ in packets(path):
        p = parse(frame)
        if not p:
            continue
        vlans, src, dst, sport, dport, seq, ack, flags, win, paylen = p
        a, b = (src, sport), (dst, dport)
        k = (a, b) if (a, b) in live else (b, a) if (b, a) in live else None
        if flags & SYN and not flags & ACK:
            if k is None or k != (a, b) or live[k].isn != seq:
                k = (a, b)
                live[k] = Session(k, seq)
                out.append(live[k])
        if k is None:
            k = (a, b)
            live[k] = Session(k, None)
            out.append(live[k])
        live[k].add(k == (a, b), vlans, seq, flags, win, paylen)
    return out


def first_close(s):
    return s.order[0] if s.order else None


# expectations: list of per-session predicates, in order of first packet
def graceful(s):
    return s.o.syn >= 1 and s.r.syn == 1 and s.o.fin == 1 and s.r.fin == 1 \
        and s.o.rst == 0 and s.r.rst == 0 and first_close(s) == "oF"


def rej(s):
    return s.o.syn >= 1 and s.r.syn == 0 and s.r.rst == 1 and s.pkts == 2


def rsto(s):
    return s.r.syn == 1 and s.o.rst >= 1 and s.r.rst == 0 and s.o.fin == 0 and first_close(s) == "oR"


def rstr(s):
    return s.r.syn == 1 and s.r.rst >= 1 and s.o.rst == 0 and s.r.fin == 0 and first_close(s) == "rR"


def s0(s):
    return s.o.syn >= 2 and s.r.syn == 0 and s.r.rst == 0 and s.r.data == 0 and s.hist == "S"


def halfclose(s):
    return graceful(s) and s.r.data_after_peer_fin >= 3


def zwin(s):
    return graceful(s) and s.r.zwin >= 1 and s.o.bytes > 60000


def retx(s):
    return graceful(s) and s.o.retx >= 1 and s.r.retx >= 1


def server_first(s):
    return s.o.fin == 1 and s.r.fin == 1 and first_close(s) == "rF" and s.o.rst == 0 and s.r.rst == 0


def vlan(tags):
    return lambda s: graceful(s) and s.vlans == {tags}


EXPECT = {
    "graceful.pcap": [graceful],
    "closed-port.pcap": [rej],
    "rst-from-client.pcap": [rsto],
    "rst-from-server.pcap": [rstr],
    "syn-unanswered.pcap": [s0],
    "half-close.pcap": [halfclose],
    "zero-window.pcap": [zwin],
    "retransmissions.pcap": [retx],
    "port-reuse.pcap": [server_first, server_first],
    "ipv6.pcap": [graceful, rej],
    "vlan.pcap": [vlan(("Q:100",)), vlan(("AD:200", "Q:10"))],
    "demo.pcap": [graceful, graceful, rej, rsto, rstr, s0, halfclose, zwin],
}


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data")
    bad = 0
    for name, preds in EXPECT.items():
        path = os.path.join(d, name)
        if not os.path.exists(path):
            print("MISSING %s" % name)
            bad += 1
            continue
        ss = sessions(path)
        ok = len(ss) == len(preds) and all(p(s) for p, s in zip(preds, ss))
        if name == "port-reuse.pcap" and ok:
            ok = ss[0].key == ss[1].key and ss[0].isn != ss[1].isn
        print("%s %s (%d sessions, %d bytes)" % ("ok  " if ok else "FAIL", name, len(ss),
                                                 os.path.getsize(path)))
        for s in ss:
            print("      " + s.line())
        bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
