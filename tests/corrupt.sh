#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Corrupt and odd captures. Each case is made here from the committed
# tests/data/demo.pcap (python3, stdlib only), analysed, and must end the
# way a user can act on: the exit status analyze documents (0 read to the
# end, 1 read error after partial data, 2 not opened), a message naming
# the file, the frame and the reason, or the damage counted under "decode
# problems" in the summary; and everything readable still reported, as
# complete JSON lines and a conn.log that ends with #close.
#
#   tests/corrupt.sh TCPGUARD
set -u
bin=${1:?usage: corrupt.sh TCPGUARD}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$root/tests/data/demo.pcap" "$tmp" <<'EOF' || { echo "corrupt: 0 passed, 1 failed (generator)"; exit 1; }
import struct, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
hdr, recs, off = data[:24], [], 24
while off + 16 <= len(data):
    cap = struct.unpack('<I', data[off + 8:off + 12])[0]
    recs.append(bytearray(data[off:off + 16 + cap]))
    off += 16 + cap
assert len(recs) == 154

def put(name, b):
    open('%s/%s' % (out, name), 'wb').write(bytes(b))

def join(rs, h=hdr):
    return h + b''.join(bytes(r) for r in rs)

def setcap(r, cap, wire=None):
    r[8:12] = struct.pack('<I', cap)
    if wire is not None:
        r[12:16] = struct.pack('<I', wire)

def frame_off(r):
    return 16

whole = join(recs)
put('header-cut.pcap', whole[:13])
put('record-header-cut.pcap', join(recs[:80]) + bytes(recs[80][:9]))
put('record-data-cut.pcap', join(recs[:80]) + bytes(recs[80][:16 + 20]))
# Records longer than the snap length the file header declares.
h = bytearray(hdr); h[16:20] = struct.pack('<I', 64)
put('over-snaplen.pcap', join(recs, h))
# A zero-length record in the middle: a counted decode error.
z = bytearray(recs[40][:16]); setcap(z, 0, 0)
put('zero-length.pcap', join(recs[:40] + [z] + recs[40:]))
# An absurd captured length in frame 100.
a = [bytearray(r) for r in recs]; setcap(a[99], 0x7fffffff)
put('absurd-length.pcap', join(a))
# Wrong magic.
put('bad-magic.pcap', b'\x0b\xad\xf0\x0d' + whole[4:])
# Timestamps: frames 50..59 in reverse order; frame 60 a day back.
o = [bytearray(r) for r in recs]
o[50:60] = o[50:60][::-1]
sec = struct.unpack('<I', o[60][0:4])[0]; o[60][0:4] = struct.pack('<I', sec - 86400)
put('backwards.pcap', join(o))
# Only the client's side (source MAC ...:01).
put('one-direction.pcap', join([r for r in recs if r[16 + 6:16 + 12] == b'\x02\x99\x00\x00\x00\x01']))
# Header lengths that lie, options that run past the header.
l = [bytearray(r) for r in recs]
l[10][16 + 14] = 0x44                      # IHL 4: a header shorter than 20 bytes
l[11][16 + 14] = 0x4f                      # IHL 15: a header longer than the packet
l[12][16 + 16:16 + 18] = b'\xff\xff'       # IP total length 65535: more than the frame
l[13][16 + 14 + 20 + 12] = 0xf0            # TCP data offset 60 bytes: past the segment
l[14][16 + 14 + 20 + 12] = 0x10            # TCP data offset 4 bytes: under 20
put('header-lengths.pcap', join(l))
p = [bytearray(r) for r in recs]
# Frame 1 is the first SYN (options: MSS, SACK-perm, TS, NOP, WS):
# its MSS option claims 40 bytes.
assert p[0][16 + 14 + 20 + 13] & 0x02 and p[0][16 + 14 + 20 + 20] == 2
p[0][16 + 14 + 20 + 21] = 40
put('option-past-header.pcap', join(p))

# pcapng: two interfaces of one link type, frames alternating.
def pad4(b): return b + b'\0' * (-len(b) % 4)
def block(t, body):
    n = 12 + len(pad4(body))
    return struct.pack('<II', t, n) + pad4(body) + struct.pack('<I', n)
shb = block(0x0a0d0d0a, struct.pack('<IHHq', 0x1a2b3c4d, 1, 0, -1))
def idb(link): return block(1, struct.pack('<HHI', link, 0, 65535))
def epb(ifc, r, strip=0):
    sec, usec, cap, wire = struct.unpack('<IIII', r[:16])
    ts = sec * 10**6 + usec
    fr = bytes(r[16 + strip:])
    return block(6, struct.pack('<IIIII', ifc, ts >> 32, ts & 0xffffffff, len(fr), wire - strip) + fr)
put('pcapng-2if.pcapng', shb + idb(1) + idb(1) + b''.join(epb(i % 2, r) for i, r in enumerate(recs)))
# Ethernet for 60 frames, then an interface of another link type (raw IP).
put('pcapng-2links.pcapng', shb + idb(1) + b''.join(epb(0, r) for r in recs[:60]) + idb(101) +
    b''.join(epb(1, r, 14) for r in recs[60:]))
EOF

pass=0 fail=0
# check NAME FILE RC STDERR-REGEX SUMMARY-REGEX MIN-SESSIONS
check() {
	local name=$1 file=$tmp/$2 want_rc=$3 err_re=$4 sum_re=$5 min=$6 rc why=""
	"$bin" analyze --json "$tmp/out.json" --zeek "$tmp/out.log" "$file" \
		>"$tmp/summary" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq "$want_rc" ] || why+=" exit $rc, want $want_rc;"
	if [ -n "$err_re" ] && ! grep -qE "$err_re" "$tmp/err"; then
		why+=" stderr lacks /$err_re/;"
	fi
	if [ -n "$sum_re" ] && ! grep -qE "$sum_re" "$tmp/summary"; then
		why+=" summary lacks /$sum_re/;"
	fi
	if [ "$want_rc" -ne 2 ]; then
		local n
		n=$(python3 -c 'import json,sys
n = 0
for line in open(sys.argv[1]):
    json.loads(line); n += 1
print(n)' "$tmp/out.json" 2>/dev/null) || why+=" JSON lines do not parse;"
		[ "${n:-0}" -ge "$min" ] || why+=" ${n:-0} sessions reported, want >= $min;"
		tail -n 1 "$tmp/out.log" | grep -q '^#close' || why+=" conn.log lacks #close;"
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "corrupt: FAIL $name:$why"
		sed 's/^/  stderr: /' "$tmp/err" | head -5
	fi
	rm -f "$tmp/out.json" "$tmp/out.log"
}

f='header-cut.pcap'
check "file cut inside its header" $f 2 "$f: .*truncated" "" 0
check "file cut inside a record header" record-header-cut.pcap 1 \
	"record-header-cut.pcap: truncated record header after frame 80" "frames 80," 4
check "file cut inside a record's data" record-data-cut.pcap 1 \
	"record-data-cut.pcap: frame 81 is cut off" "frames 80," 4
check "records longer than the snap length" over-snaplen.pcap 0 "" "frames 154," 8
check "zero-length record" zero-length.pcap 0 "" "truncated-link-header +1" 8
check "absurd captured length" absurd-length.pcap 1 \
	"absurd-length.pcap: frame 100 claims 2147483647 captured bytes" "frames 99," 7
check "wrong magic" bad-magic.pcap 2 "bad-magic.pcap: not a readable capture" "" 0
check "timestamps out of order and backwards" backwards.pcap 0 "" \
	"timestamp-backwards +[0-9]+" 8
check "one direction only" one-direction.pcap 0 "" "frames 93," 8
check "IP and TCP header lengths that lie" header-lengths.pcap 0 "" \
	"bad-ip-header-length +1" 8
# Every lie is one counted decode problem: IHL 4 is a bad header length,
# IHL 15 and a total length past the frame are truncated IP, both TCP data
# offsets bad TCP header lengths.
if grep -qE "truncated-ip +2" "$tmp/summary" && grep -qE "bad-tcp-header-length +2" "$tmp/summary"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "corrupt: FAIL header lengths: each lie not counted once"
	sed -n '/decode problems/,$p' "$tmp/summary"
fi
check "TCP option runs past the header" option-past-header.pcap 0 "" \
	"tcp-option-past-header +1" 8
check "pcapng, two interfaces" pcapng-2if.pcapng 0 "" "frames 154," 8
check "pcapng, two link types" pcapng-2links.pcapng 1 \
	"pcapng-2links.pcapng: after frame 60: .*different from the type" "frames 60," 4

echo "corrupt: $pass passed, $fail failed"
echo "corrupt: $pass passed, $fail failed" >>"${TG_RESULTS:-/dev/null}"
[ "$fail" -eq 0 ]
