#!/usr/bin/python3
"""Check that the generated captures contain what each scenario drove.

Standard library only: a minimal pcap reader (Ethernet, 802.1Q/802.1ad,
IPv4/IPv6, TCP). Sessions are split per 5-tuple at each new initial SYN.
Prints one summary line per session and exits non-zero if an expectation fails.
The cause-*.pcap captures (three namespaces, client-side capture) are also
checked packet by packet for the pattern that makes their cause: who sent
the reset, its flags, TTL and sequence number, and what came before it.

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


# ------------------------------------------------ cause-*.pcap packet patterns

class P:
    """One IPv4/TCP packet of a cause capture."""
    def __init__(self, t, frame):
        ip = frame[14:]
        self.t = t
        self.ttl, self.ipid = ip[8], struct.unpack("!H", ip[4:6])[0]
        self.df = bool(ip[6] & 0x40)
        self.src, self.dst = ip_str(ip[12:16]), ip_str(ip[16:20])
        total, ihl = struct.unpack("!H", ip[2:4])[0], (ip[0] & 0xF) * 4
        tcp = ip[ihl:]
        (self.sport, self.dport, self.seq, self.ack, doff, self.flags,
         self.win) = struct.unpack("!HHIIBBH", tcp[:16])
        self.len = total - ihl - (doff >> 4) * 4
        self.data = tcp[(doff >> 4) * 4:]

    def has(self, f):
        return self.flags & f == f

    def bare_rst(self):
        return self.flags & (RST | ACK | SYN | FIN) == RST


def cause_pkts(path):
    out = []
    for t, frame, _ in packets(path):
        if len(frame) >= 54 and frame[12:14] == b"\x08\x00" and frame[23] == 6:
            out.append(P(t, frame))
    return out


CLI, SRV = "10.95.1.1", "10.95.2.1"


def frm(ps, a):
    return [p for p in ps if p.src == a]


def seq_far(a, b):
    d = (a - b) & 0xFFFFFFFF
    return min(d, 0x100000000 - d) > 1 << 30


def first(ps, pred):
    for i, p in enumerate(ps):
        if pred(p):
            return i, p
    return None, None


def c_middlebox(ps):
    i, r = first(ps, lambda p: p.flags & RST)
    if r is None or r.src != SRV:
        return False, "no reset from the server's address"
    before = [p.ttl for p in frm(ps[:i], SRV)]
    trig = ps[i - 1]
    ok = (set(before) == {63} and r.ttl == 64 and r.bare_rst() and
          trig.src == CLI and trig.data.startswith(b"BLOCKME!") and r.seq == trig.ack and
          not any(p.flags & FIN for p in ps) and
          all(p.flags & RST for p in frm(ps[i:], SRV)))
    return ok, "RST TTL %d IP ID %d after the marker; server's own TTLs %s" % (
        r.ttl, r.ipid, sorted(set(before)))


def c_close_unread(ps):
    i, r = first(ps, lambda p: p.flags & RST)
    if r is None:
        return False, "no reset"
    cdata = sum(p.len for p in frm(ps, CLI))
    ok = (r.src == SRV and r.has(RST | ACK) and cdata == 100 and r.ack == ps[0].seq + 101 and
          sum(p.len for p in frm(ps, SRV)) == 0 and not any(p.flags & FIN for p in ps))
    return ok, "client sent %d B (ACKed), server RST+ACK ack=ISN+%d, no server data" % (
        cdata, (r.ack - ps[0].seq) & 0xFFFFFFFF)


def c_reset_after_close(ps):
    fi, f = first(ps, lambda p: p.src == SRV and p.flags & FIN)
    ri, r = first(ps, lambda p: p.flags & RST)
    if f is None or r is None:
        return False, "no server FIN or no reset"
    late = [p for p in ps[fi:ri] if p.src == CLI and p.len > 0]
    ok = r.src == SRV and fi < ri and late and r.bare_rst() and \
        not any(p.flags & FIN for p in frm(ps, CLI))
    return ok, "server FIN, %d client data segment(s) after it, then %s from the server" % (
        len(late), "bare RST" if r.bare_rst() else "RST")


def c_peer_lost(ps):
    i, r = first(ps, lambda p: p.flags & RST)
    if r is None:
        return False, "no reset"
    trig = ps[i - 1]
    gap = trig.t - ps[i - 2].t
    ttls = {p.ttl for p in frm(ps[:i], SRV)}
    ok = (r.src == SRV and r.bare_rst() and r.win == 0 and trig.src == CLI and trig.len > 0 and
          gap > 0.9 and r.seq == trig.ack and ttls == {r.ttl} and i == len(ps) - 1 and
          not any(p.flags & FIN for p in ps))
    return ok, "client data after %.2f s of silence answered by a bare RST, TTL %d (server's %s)" % (
        gap, r.ttl, sorted(ttls))


def c_zero_window(ps):
    i, r = first(ps, lambda p: p.flags & RST)
    if r is None:
        return False, "no reset"
    zi, _ = first(ps, lambda p: p.src == SRV and p.win == 0 and not p.flags & SYN)
    if zi is None:
        return False, "no zero window"
    probes = [p for p in ps[zi:i] if p.src == CLI and p.len == 0 and p.flags == ACK]
    last_win = [p.win for p in frm(ps[:i], SRV)][-1]
    ok = r.src == SRV and r.has(RST | ACK) and last_win == 0 and len(probes) >= 2 and \
        ps[i - 1].t - ps[zi].t > 1.0 and not any(p.flags & FIN for p in ps)
    return ok, "server win 0 from frame %d, %d client probes, RST+ACK %.2f s later" % (
        zi + 1, len(probes), r.t - ps[zi].t)


def c_handshake_abort(ps):
    ok = (len(ps) == 3 and ps[0].src == CLI and ps[0].flags == SYN and
          ps[1].src == SRV and ps[1].flags == SYN | ACK and ps[1].ack == ps[0].seq + 1 and
          ps[2].src == CLI and ps[2].bare_rst() and ps[2].seq == ps[0].seq + 1)
    return ok, "SYN, SYN-ACK, bare RST seq=ISN+1 from the client"


def c_unsolicited_synack(ps):
    ok = (len(ps) == 2 and ps[0].src == SRV and ps[0].flags == SYN | ACK and
          ps[1].src == CLI and ps[1].bare_rst() and ps[1].seq == ps[0].ack)
    return ok, "SYN-ACK nobody asked for, bare RST seq=its ack from the client"


def c_out_of_window(ps):
    rs = [p for p in ps if p.flags & RST]
    if len(rs) != 1:
        return False, "%d resets" % len(rs)
    r = rs[0]
    i = ps.index(r)
    own = [p for p in frm(ps[:i], SRV)]
    ok = (r.src == SRV and r.ttl == 64 and {p.ttl for p in own} == {63} and
          r.ipid != 0 and seq_far(r.seq, own[-1].seq) and
          any(p.src == SRV and p.len > 0 for p in ps[i:]) and
          sum(1 for p in ps if p.flags & FIN) == 2)
    return ok, "RST TTL %d IP ID %d seq %+d from the server's, data and both FINs after it" % (
        r.ttl, r.ipid, ((r.seq - own[-1].seq + 0x80000000) & 0xFFFFFFFF) - 0x80000000)


def c_server_closed(ps):
    fi, f = first(ps, lambda p: p.flags & FIN)
    ok = (f is not None and f.src == SRV and ps[fi - 1].src == CLI and ps[fi - 1].flags == ACK and
          fi == 3 and sum(p.len for p in ps) == 0 and
          sum(1 for p in ps if p.flags & FIN) == 2 and not any(p.flags & RST for p in ps))
    return ok, "server FIN right after the handshake, no data either way, client FIN"


def c_idle(ps):
    gaps = [(b.t - a.t, k) for k, (a, b) in enumerate(zip(ps, ps[1:]), 1)]
    g, k = max(gaps)
    ok = (g > 2.5 and ps[k].src == CLI and ps[k].len > 0 and
          sum(1 for p in ps[:k] if p.len > 0) >= 2 and
          sum(1 for p in ps if p.flags & FIN) == 2 and not any(p.flags & RST for p in ps))
    return ok, "%.2f s silence after frame %d, then data and both FINs" % (g, k)


def c_no_answer(ps):
    syns = [p for p in ps if p.dport == 8080]
    rest = [p for p in ps if p.dport != 8080 and p.sport != 8080]
    ok = (len(syns) >= 2 and all(p.flags == SYN for p in syns) and
          len({p.seq for p in syns}) == 1 and not any(p.sport == 8080 for p in ps) and
          rest and rest[-1].t - syns[0].t > 2.0 and rest[0].t - syns[0].t > 2.0 and
          sum(1 for p in rest if p.flags & FIN) == 2)
    return ok, "%d SYNs to 8080 unanswered; fallback to 8081 starts %.2f s after the first" % (
        len(syns), rest[0].t - syns[0].t if rest else 0)


def c_rst_after_fin(ps):
    i, r = first(ps, lambda p: p.flags & RST)
    if r is None:
        return False, "no reset"
    cf = any(p.src == CLI and p.flags & FIN for p in ps[:i])
    sf = any(p.src == SRV and p.flags & FIN for p in ps[:i])
    ok = cf and sf and r.src == SRV and r.has(RST | ACK) and i == len(ps) - 1
    return ok, "client FIN, server FIN, then RST+ACK from the server"


CAUSE_EXPECT = {
    "cause-middlebox-reset.pcap": c_middlebox,
    "cause-close-unread.pcap": c_close_unread,
    "cause-reset-after-close.pcap": c_reset_after_close,
    "cause-peer-lost.pcap": c_peer_lost,
    "cause-zero-window.pcap": c_zero_window,
    "cause-handshake-abort.pcap": c_handshake_abort,
    "cause-unsolicited-synack.pcap": c_unsolicited_synack,
    "cause-out-of-window.pcap": c_out_of_window,
    "cause-server-closed.pcap": c_server_closed,
    "cause-idle.pcap": c_idle,
    "cause-no-answer.pcap": c_no_answer,
    "cause-rst-after-fin.pcap": c_rst_after_fin,
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
    for name, check in CAUSE_EXPECT.items():
        path = os.path.join(d, name)
        if not os.path.exists(path):
            print("MISSING %s" % name)
            bad += 1
            continue
        ps = cause_pkts(path)
        try:
            ok, what = check(ps)
        except (IndexError, ValueError) as e:
            ok, what = False, "pattern not found (%s)" % e
        ok = bool(ok)
        print("%s %s (%d packets, %d bytes): %s" % ("ok  " if ok else "FAIL", name, len(ps),
                                                    os.path.getsize(path), what))
        bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
