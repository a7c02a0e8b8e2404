#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the fuzz harnesses from the classic pcaps of
tests/data, small enough to commit (tests/fuzz/corpus/<harness>/):

  fuzz_decode  one frame per file; the first byte picks the link type
               (0 Ethernet, 1 raw, 2 null, 3 loop, 4 SLL, 5 SLL2, 6 IPv4,
               7 IPv6; | 0x80 validates checksums), so each link type
               gets frames re-wrapped in its own header
  fuzz_engine  one capture per file in the harness's record format
               (2-byte length, 2-byte time step in ms, Ethernet frame)
  fuzz_source  classic pcap files: the first frames of each capture, in
               both byte orders and both time resolutions
  fuzz_pcapng  pcapng files: one interface, two interfaces of one link
               type, two of different link types (which libpcap refuses)

Frames are cut to 128 bytes (headers intact) to keep the files small.

  tests/fuzz/seed.py OUTDIR tests/data/*.pcap
"""
import os, struct, sys

SNAP = 128


def frames(path):
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack('<I', data[:4])[0]
    end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    nsec = magic in (0xa1b23c4d, 0x4d3cb2a1)
    if struct.unpack(end + 'I', data[20:24])[0] != 1:
        return
    off = 24
    while off + 16 <= len(data):
        sec, frac, cap, wire = struct.unpack(end + 'IIII', data[off:off + 16])
        off += 16
        ns = sec * 10**9 + (frac if nsec else frac * 1000)
        yield ns, wire, data[off:off + cap]
        off += cap


def rewrap(link, fr):
    """The Ethernet frame @fr (untagged IPv4/IPv6 only) in link @link's header."""
    et = fr[12:14]
    ip = fr[14:]
    v6 = et == b'\x86\xdd'
    if link == 0:
        return fr
    if link in (1, 6, 7):
        return ip
    if link == 2:
        return struct.pack('<I', 30 if v6 else 2) + ip
    if link == 3:
        return struct.pack('>I', 30 if v6 else 2) + ip
    if link == 4:
        return struct.pack('>HHH8s', 0, 1, 6, fr[6:12] + b'\0\0') + et + ip
    if link == 5:
        return et + b'\0\0' + struct.pack('>IHBB8s', 2, 1, 0, 6, fr[6:12] + b'\0\0') + ip
    raise ValueError(link)


def pcap(recs, big=False, nsec=False, link=1):
    e = '>' if big else '<'
    out = struct.pack(e + 'IHHiIII', 0xa1b23c4d if nsec else 0xa1b2c3d4, 2, 4, 0, 0, 65535, link)
    for ns, wire, fr in recs:
        frac = ns % 10**9 if nsec else (ns % 10**9) // 1000
        out += struct.pack(e + 'IIII', ns // 10**9, frac, len(fr), wire) + fr
    return out


def pad4(b):
    return b + b'\0' * (-len(b) % 4)


def block(btype, body):
    n = 12 + len(pad4(body))
    return struct.pack('<II', btype, n) + pad4(body) + struct.pack('<I', n)


def pcapng(recs, links):
    out = block(0x0a0d0d0a, struct.pack('<IHHq', 0x1a2b3c4d, 1, 0, -1))
    for link in links:
        # if_tsresol = 9 (nanoseconds), then opt_endofopt.
        opts = struct.pack('<HHB', 9, 1, 9) + b'\0\0\0' + struct.pack('<HH', 0, 0)
        out += block(1, struct.pack('<HHI', link, 0, 65535) + opts)
    for i, (ns, wire, fr) in enumerate(recs):
        ifc = i % len(links)
        if links[ifc] == 101:
            fr = fr[14:]
            wire -= 14
        out += block(6, struct.pack('<IIIII', ifc, ns >> 32, ns & 0xffffffff,
                                    len(fr), wire) + fr)
    return out


def main():
    outdir = sys.argv[1]
    dirs = {h: os.path.join(outdir, h) for h in
            ('fuzz_decode', 'fuzz_engine', 'fuzz_source', 'fuzz_pcapng')}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)

    def put(h, name, data):
        with open(os.path.join(dirs[h], name), 'wb') as f:
            f.write(data)

    for path in sys.argv[2:]:
        name = os.path.splitext(os.path.basename(path))[0]
        recs = [(ns, wire, fr[:SNAP]) for ns, wire, fr in frames(path)]
        if not recs:
            continue
        # fuzz_decode: the first two frames of each capture as Ethernet;
        # for two captures (IPv4, IPv6) the first frame in each other link
        # type and once with checksums validated.
        for i, (_, _, fr) in enumerate(recs[:2]):
            put('fuzz_decode', '%s-eth-%d' % (name, i), b'\0' + fr)
        plain = [fr for _, _, fr in recs if fr[12:14] in (b'\x08\x00', b'\x86\xdd')]
        if plain and name in ('graceful', 'ipv6'):
            fr = plain[0]
            for link in range(1, 8):
                if link == 6 and fr[12:14] != b'\x08\x00':
                    continue
                if link == 7 and fr[12:14] != b'\x86\xdd':
                    continue
                put('fuzz_decode', '%s-link%d' % (name, link), bytes([link]) + rewrap(link, fr))
            put('fuzz_decode', '%s-csum' % name, b'\x80' + fr)
        # fuzz_engine: up to 40 frames in record format.
        buf, prev = b'', None
        for ns, _, fr in recs[:40]:
            step = 0 if prev is None else min(max(ns - prev, 0) // 10**6, 65535)
            prev = ns
            buf += struct.pack('>HH', len(fr), step) + fr
        put('fuzz_engine', name, buf)
        # fuzz_source: classic pcap in four flavours.
        few = recs[:24]
        put('fuzz_source', name + '-le-us', pcap(few))
        put('fuzz_source', name + '-be-ns', pcap(few, big=True, nsec=True))
        # fuzz_pcapng
        put('fuzz_pcapng', name + '-1if', pcapng(few, [1]))
        put('fuzz_pcapng', name + '-2if', pcapng(few, [1, 1]))
        if name in ('graceful', 'ipv6'):
            put('fuzz_pcapng', name + '-mixed', pcapng(few, [1, 101]))
            put('fuzz_pcapng', name + '-classic', pcap(few))


if __name__ == '__main__':
    main()
