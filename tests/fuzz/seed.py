#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seeds a fuzz corpus from classic pcap files: fuzz_decode gets one file
per frame (link-type selector byte 0 = Ethernet), fuzz_engine one file per
capture in its record format (length, time step in ms, frame)."""
import os, struct, sys

def frames(path):
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack('<I', data[:4])[0]
    end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    if struct.unpack(end + 'I', data[20:24])[0] != 1:
        return
    off, prev = 24, None
    while off + 16 <= len(data):
        sec, frac, cap, _ = struct.unpack(end + 'IIII', data[off:off + 16])
        off += 16
        yield sec + frac / 1e6, data[off:off + cap]
        off += cap

name, out = sys.argv[1], sys.argv[2]
n = 0
for path in sys.argv[3:]:
    if name == 'fuzz_decode':
        for _, fr in list(frames(path))[:40]:
            open(os.path.join(out, 'f%05d' % n), 'wb').write(b'\0' + fr)
            n += 1
    else:
        buf, prev = b'', None
        for ts, fr in list(frames(path))[:200]:
            step = 0 if prev is None else int(min(max(ts - prev, 0) * 1000, 65535))
            prev = ts
            buf += struct.pack('>HH', len(fr), step) + fr
        open(os.path.join(out, 'c%05d' % n), 'wb').write(buf)
        n += 1
