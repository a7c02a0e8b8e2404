/* SPDX-License-Identifier: MIT */
/*
 * Frame builders shared by the unit tests: small functions that write an
 * IPv4 or IPv6 packet carrying TCP or UDP into a caller's buffer, with a
 * correct IPv4 header checksum and a correct TCP checksum over the RFC 9293
 * §3.1 / RFC 8200 §8.1 pseudo-header, plus the link and tunnel headers
 * the decoder peels. Every builder appends at the end of a struct pb_buf
 * and returns the offset where its header starts, so a test can corrupt a
 * field after building a valid frame. Tests only: nothing here is careful
 * about overflow beyond the fixed buffer size.
 */
#ifndef TG_TESTS_PKTBUILD_H
#define TG_TESTS_PKTBUILD_H

#include <stdint.h>
#include <string.h>

#define PB_MAX 2048

struct pb_buf {
	uint8_t b[PB_MAX];
	uint32_t len;
};

/* What the TCP header of one segment says. */
struct pb_tcp {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt;      /* option bytes, a multiple of 4 long */
	uint32_t opt_len;
	const uint8_t *payload;
	uint32_t payload_len;
};

static inline uint32_t pb_put(struct pb_buf *f, const void *p, uint32_t n)
{
	uint32_t at = f->len;

	memcpy(f->b + f->len, p, n);
	f->len += n;
	return at;
}

static inline void pb_w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void pb_w32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t pb_sum(uint32_t sum, const uint8_t *p, uint32_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* RFC 1071: the complement of the folded one's-complement sum. */
static inline uint16_t pb_csum(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Writes the TCP segment @t into @out (at least 60 + payload bytes) with
 * its checksum over the pseudo-header of @src/@dst (@alen 4 or 16 bytes
 * each). Returns the segment length. */
static inline uint32_t pb_tcp_seg(uint8_t *out, const struct pb_tcp *t,
				  const uint8_t *src, const uint8_t *dst,
				  uint32_t alen)
{
	uint32_t hlen = 20 + t->opt_len, len = hlen + t->payload_len;
	uint32_t sum = 0;

	memset(out, 0, 20);
	pb_w16(out, t->sport);
	pb_w16(out + 2, t->dport);
	pb_w32(out + 4, t->seq);
	pb_w32(out + 8, t->ack);
	out[12] = (uint8_t)(hlen / 4 << 4);
	out[13] = t->flags;
	pb_w16(out + 14, t->win);
	if (t->opt_len)
		memcpy(out + 20, t->opt, t->opt_len);
	if (t->payload_len)
		memcpy(out + hlen, t->payload, t->payload_len);
	sum = pb_sum(sum, src, alen);
	sum = pb_sum(sum, dst, alen);
	sum += 6 + len;
	sum = pb_sum(sum, out, len);
	pb_w16(out + 16, pb_csum(sum));
	return len;
}

/* Writes an 8-byte UDP header and @payload; checksum 0 (none, RFC 768). */
static inline uint32_t pb_udp(uint8_t *out, uint16_t sport, uint16_t dport,
			      const uint8_t *payload, uint32_t len)
{
	pb_w16(out, sport);
	pb_w16(out + 2, dport);
	pb_w16(out + 4, (uint16_t)(8 + len));
	pb_w16(out + 6, 0);
	memcpy(out + 8, payload, len);
	return 8 + len;
}

/* Appends an IPv4 header (with @ip_opt_len option bytes, a multiple of 4)
 * and @l4 to @f. @frag is the flags+offset word. Returns the header
 * offset in @f. */
static inline uint32_t pb_ipv4(struct pb_buf *f, const uint8_t src[4],
			       const uint8_t dst[4], uint8_t proto,
			       uint16_t id, uint16_t frag, uint8_t ttl,
			       const uint8_t *ip_opt, uint32_t ip_opt_len,
			       const uint8_t *l4, uint32_t l4_len)
{
	uint32_t at = f->len, hlen = 20 + ip_opt_len;
	uint8_t *ip = f->b + at;

	memset(ip, 0, 20);
	ip[0] = (uint8_t)(0x40 | hlen / 4);
	pb_w16(ip + 2, (uint16_t)(hlen + l4_len));
	pb_w16(ip + 4, id);
	pb_w16(ip + 6, frag);
	ip[8] = ttl;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	if (ip_opt_len)
		memcpy(ip + 20, ip_opt, ip_opt_len);
	pb_w16(ip + 10, pb_csum(pb_sum(0, ip, hlen)));
	memcpy(ip + hlen, l4, l4_len);
	f->len += hlen + l4_len;
	return at;
}

/* Appends IPv4 + TCP segment @t. Returns the IPv4 header offset. */
static inline uint32_t pb_ipv4_tcp(struct pb_buf *f, const uint8_t src[4],
				   const uint8_t dst[4], const struct pb_tcp *t)
{
	uint8_t seg[PB_MAX];
	uint32_t n = pb_tcp_seg(seg, t, src, dst, 4);

	return pb_ipv4(f, src, dst, 6, 0x1234, 0x4000, 64, NULL, 0, seg, n);
}

/* Appends an IPv6 header, the extension header bytes @ext (whose first
 * byte is @next's chain continuation, set by the caller) and @l4.
 * @next is the Next Header of the fixed header. */
static inline uint32_t pb_ipv6(struct pb_buf *f, const uint8_t src[16],
			       const uint8_t dst[16], uint8_t next,
			       const uint8_t *ext, uint32_t ext_len,
			       const uint8_t *l4, uint32_t l4_len)
{
	uint32_t at = f->len;
	uint8_t *ip = f->b + at;

	memset(ip, 0, 40);
	ip[0] = 0x60;
	pb_w16(ip + 4, (uint16_t)(ext_len + l4_len));
	ip[6] = next;
	ip[7] = 63;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	if (ext_len)
		memcpy(ip + 40, ext, ext_len);
	memcpy(ip + 40 + ext_len, l4, l4_len);
	f->len += 40 + ext_len + l4_len;
	return at;
}

static inline uint32_t pb_ipv6_tcp(struct pb_buf *f, const uint8_t src[16],
				   const uint8_t dst[16], const struct pb_tcp *t)
{
	uint8_t seg[PB_MAX];
	uint32_t n = pb_tcp_seg(seg, t, src, dst, 16);

	return pb_ipv6(f, src, dst, 6, NULL, 0, seg, n);
}

/* Appends an Ethernet header with EtherType @type. */
static inline uint32_t pb_eth(struct pb_buf *f, uint16_t type)
{
	static const uint8_t macs[12] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01,
	};
	uint32_t at = pb_put(f, macs, 12);

	pb_w16(f->b + f->len, type);
	f->len += 2;
	return at;
}

/* Appends one 802.1Q/802.1ad tag body: TCI with @vid, then @next type. */
static inline uint32_t pb_vlan(struct pb_buf *f, uint16_t vid, uint16_t next)
{
	uint32_t at = f->len;

	pb_w16(f->b + at, vid);
	pb_w16(f->b + at + 2, next);
	f->len += 4;
	return at;
}

#endif
