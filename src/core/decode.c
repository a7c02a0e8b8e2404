// SPDX-License-Identifier: MIT
/*
 * The packet decoder. From a link-layer frame to a struct tg_pkt describing
 * one TCP segment, following what a capture of a real network holds:
 * Ethernet with stacked 802.1Q/802.1ad tags, MPLS label stacks, PPPoE
 * sessions and Cisco FabricPath; Linux cooked captures (SLL, SLL2); raw IP;
 * BSD and OpenBSD loopback; IPv4 with options and fragments; IPv6 with its
 * extension header chain; IP-in-IP and the UDP tunnels that mirrored cloud
 * traffic arrives in (VXLAN, Teredo, GTP-U), peeled to the inner TCP.
 *
 * Called once per frame by the engine, the tests and the fuzzers. Tuned to
 * touch only header bytes; checksums are computed only when asked for.
 * It must never read past cap_len, never trust a length field without a
 * bound check, and never allocate: every bad frame is a verdict, not a crash.
 */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tcpguard/decode.h"

const char *const tg_decode_verdict_str[TG_DEC__COUNT] = {
	[TG_DEC_TCP] = "tcp",
	[TG_DEC_NOT_IP] = "not-ip",
	[TG_DEC_NOT_TCP] = "not-tcp",
	[TG_DEC_FRAGMENT] = "ip-fragment",
	[TG_DEC_BAD_LINKTYPE] = "unsupported-linktype",
	[TG_DEC_TRUNC_LINK] = "truncated-link-header",
	[TG_DEC_TRUNC_VLAN] = "truncated-vlan-tag",
	[TG_DEC_TRUNC_IP] = "truncated-ip",
	[TG_DEC_BAD_IP_VERSION] = "bad-ip-version",
	[TG_DEC_BAD_IP_HDRLEN] = "bad-ip-header-length",
	[TG_DEC_BAD_IP_LEN] = "bad-ip-total-length",
	[TG_DEC_BAD_IP_CSUM] = "bad-ip-checksum",
	[TG_DEC_TRUNC_IPV6_EXT] = "truncated-ipv6-extension",
	[TG_DEC_TRUNC_TCP] = "truncated-tcp",
	[TG_DEC_BAD_TCP_HDRLEN] = "bad-tcp-header-length",
	[TG_DEC_BAD_TCP_CSUM] = "bad-tcp-checksum",
	[TG_DEC_TRUNC_TUNNEL] = "truncated-tunnel-header",
	[TG_DEC_TUNNEL_DEPTH] = "tunnel-too-deep",
};

const char *const tg_opt_verdict_str[TG_OPT__COUNT] = {
	[TG_OPT_OK] = "ok",
	[TG_OPT_RUNS_PAST_HEADER] = "tcp-option-past-header",
	[TG_OPT_BAD_LENGTH] = "tcp-option-bad-length",
	[TG_OPT_TRUNCATED] = "tcp-options-not-captured",
};

#define ETH_IPV4   0x0800
#define ETH_IPV6   0x86dd
#define ETH_VLAN   0x8100
#define ETH_QINQ   0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS   0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE  0x8864
#define ETH_FABRICPATH 0x8903

#define PORT_VXLAN  4789
#define PORT_TEREDO 3544
#define PORT_GTPU   2152

#define DEFAULT_TUNNEL_DEPTH 4

/* Where the decoder is in one frame: the bytes left and what is known. */
struct cursor {
	const struct tg_decode_cfg *cfg;
	const uint8_t *p;
	uint32_t cap;            /* captured bytes left from p */
	uint32_t wire;           /* wire bytes left from p (>= cap) */
	unsigned depth;
	unsigned max_depth;
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void skip(struct cursor *c, uint32_t n)
{
	c->p += n;
	c->cap -= n;
	c->wire = c->wire >= n ? c->wire - n : 0;
}

static enum tg_decode_verdict dec_ip(struct cursor *c, struct tg_pkt *out);
static enum tg_decode_verdict dec_ether(struct cursor *c, struct tg_pkt *out);

bool tg_decode_link_supported(int link)
{
	return tg_decode_link_name(link) != NULL;
}

const char *tg_decode_link_name(int link)
{
	switch (link) {
	case TG_LINK_NULL: return "NULL (BSD loopback)";
	case TG_LINK_ETHERNET: return "EN10MB (Ethernet)";
	case TG_LINK_RAW: return "RAW (IP)";
	case TG_LINK_LOOP: return "LOOP (OpenBSD loopback)";
	case TG_LINK_LINUX_SLL: return "LINUX_SLL (Linux cooked v1)";
	case TG_LINK_IPV4: return "IPV4";
	case TG_LINK_IPV6: return "IPV6";
	case TG_LINK_LINUX_SLL2: return "LINUX_SLL2 (Linux cooked v2)";
	default: return NULL;
	}
}

/* One's-complement sum over @len bytes, folded later. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	while (len > 1) {
		sum += rd16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

void tg_decode_tcp_opts(const uint8_t *opt, size_t len, struct tg_tcp_opts *o)
{
	unsigned nkinds = 0;
	size_t i = 0;

	/* Most segments of a session carry NOP, NOP, timestamps and nothing
	 * else: the same result as the walk below, without it. */
	if (len == 12 && opt[0] == 1 && opt[1] == 1 && opt[2] == 8 && opt[3] == 10) {
		o->layout |= 1u | 1u << 4 | 8u << 8;
		o->present |= TG_OPT_HAS_TS;
		o->ts_val = rd32(opt + 4);
		o->ts_ecr = rd32(opt + 8);
		return;
	}

	/* Linux's SYN and SYN-ACK: MSS, SACK permitted, timestamps, NOP,
	 * window scale. */
	if (len == 20 && opt[0] == 2 && opt[1] == 4 && opt[4] == 4 && opt[5] == 2 &&
	    opt[6] == 8 && opt[7] == 10 && opt[16] == 1 && opt[17] == 3 && opt[18] == 3) {
		o->layout |= 2u | 4u << 4 | 8u << 8 | 1u << 12 | 3u << 16;
		o->present |= TG_OPT_HAS_MSS | TG_OPT_HAS_SACKOK | TG_OPT_HAS_TS |
			      TG_OPT_HAS_WSCALE;
		o->mss = rd16(opt + 2);
		o->ts_val = rd32(opt + 8);
		o->ts_ecr = rd32(opt + 12);
		o->wscale = opt[19];
		return;
	}

	while (i < len) {
		uint8_t kind = opt[i];
		uint8_t olen;

		if (nkinds < 8)
			o->layout |= (uint32_t)(kind > 15 ? 15 : kind) << (4 * nkinds++);
		if (kind == 0)          /* end of option list */
			break;
		if (kind == 1) {        /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= len) {
			o->verdict = TG_OPT_RUNS_PAST_HEADER;
			return;
		}
		olen = opt[i + 1];
		if (olen < 2) {
			o->verdict = TG_OPT_BAD_LENGTH;
			return;
		}
		if (i + olen > len) {
			o->verdict = TG_OPT_RUNS_PAST_HEADER;
			return;
		}
		switch (kind) {
		case 2:                 /* MSS, RFC 9293 §3.2 */
			if (olen != 4)
				goto bad;
			o->present |= TG_OPT_HAS_MSS;
			o->mss = rd16(opt + i + 2);
			break;
		case 3:                 /* window scale, RFC 7323 §2 */
			if (olen != 3)
				goto bad;
			o->present |= TG_OPT_HAS_WSCALE;
			o->wscale = opt[i + 2];
			break;
		case 4:                 /* SACK permitted, RFC 2018 */
			if (olen != 2)
				goto bad;
			o->present |= TG_OPT_HAS_SACKOK;
			break;
		case 5:                 /* SACK blocks, RFC 2018 §3 */
			if ((olen - 2) % 8 != 0)
				goto bad;
			o->present |= TG_OPT_HAS_SACK;
			for (unsigned b = 0; b < (unsigned)(olen - 2) / 8 && o->nsack < 4; b++) {
				o->sack_left[o->nsack] = rd32(opt + i + 2 + 8 * b);
				o->sack_right[o->nsack] = rd32(opt + i + 6 + 8 * b);
				o->nsack++;
			}
			break;
		case 8:                 /* timestamps, RFC 7323 §3 */
			if (olen != 10)
				goto bad;
			o->present |= TG_OPT_HAS_TS;
			o->ts_val = rd32(opt + i + 2);
			o->ts_ecr = rd32(opt + i + 6);
			break;
		default:
			break;
		}
		i += olen;
	}
	return;
bad:
	o->verdict = TG_OPT_BAD_LENGTH;
}

/* The TCP header at c->p; @ip_payload is the TCP segment length the IP
 * header declares. @pseudo is the pseudo-header sum for checksumming. */
static inline __attribute__((always_inline))
enum tg_decode_verdict dec_tcp(struct cursor *c, struct tg_pkt *out,
			       uint32_t ip_payload, uint32_t pseudo)
{
	const uint8_t *t = c->p;
	uint32_t hlen;

	if (c->cap < 20 || ip_payload < 20)
		return TG_DEC_TRUNC_TCP;
	hlen = (uint32_t)(t[12] >> 4) * 4;
	if (hlen < 20 || hlen > ip_payload)
		return TG_DEC_BAD_TCP_HDRLEN;

	out->sport = rd16(t);
	out->dport = rd16(t + 2);
	out->seq = rd32(t + 4);
	out->ack = rd32(t + 8);
	out->tcp_flags = t[13];
	out->win = rd16(t + 14);
	out->tcp_hdr_len = (uint8_t)hlen;
	out->payload_len = ip_payload - hlen;

	if (hlen > 20) {
		uint32_t have = c->cap < hlen ? c->cap : hlen;

		tg_decode_tcp_opts(t + 20, have - 20, &out->opts);
		/* Cut by the snap length: an option that runs past the
		 * captured bytes may well end inside the header. */
		if (have < hlen && (out->opts.verdict == TG_OPT_OK ||
				    out->opts.verdict == TG_OPT_RUNS_PAST_HEADER))
			out->opts.verdict = TG_OPT_TRUNCATED;
	}
	if (c->cap > hlen) {
		uint32_t cap_seg = c->cap < ip_payload ? c->cap : ip_payload;

		out->payload = t + hlen;
		out->payload_cap = cap_seg - hlen;
	}

	/* A checksum can only be judged on a fully captured segment, which is
	 * also when Zeek judges it. */
	if (c->cfg->validate_csum && c->cap >= ip_payload) {
		uint32_t sum = pseudo + csum_add(0, t, ip_payload);

		out->csum_checked = true;
		out->csum_ok = csum_fold(sum) == 0xffff;
	}
	return TG_DEC_TCP;
}

/* Teredo (RFC 4380 §5.1.1): optional authentication and origin indication
 * headers, then an IPv6 packet that fills the rest of the datagram exactly.
 * Relays use any port, so off port 3544 that exact fit is the test. */
static enum tg_decode_verdict dec_teredo(struct cursor *c, struct tg_pkt *out,
					 uint32_t udp_len, bool on_port)
{
	uint32_t off = 0;

	if (c->cap >= 4 && rd16(c->p) == 0x0001) {
		off = 13u + c->p[2] + c->p[3];
		if (c->cap < off)
			return on_port ? TG_DEC_TRUNC_TUNNEL : TG_DEC_NOT_TCP;
	}
	if (c->cap >= off + 8 && rd16(c->p + off) == 0x0000)
		off += 8;
	if (c->cap < off + 40 || (c->p[off] >> 4) != 6)
		return TG_DEC_NOT_TCP;
	if (off + 40 + rd16(c->p + off + 4) != udp_len)
		return TG_DEC_NOT_TCP;
	skip(c, off);
	c->depth++;
	out->tunnel_depth++;
	return dec_ip(c, out);
}

static enum tg_decode_verdict dec_udp(struct cursor *c, struct tg_pkt *out,
				      uint32_t ip_payload)
{
	const uint8_t *u = c->p;
	uint16_t sport, dport;

	if (c->cap < 8 || ip_payload < 8)
		return TG_DEC_NOT_TCP;
	sport = rd16(u);
	dport = rd16(u + 2);
	if (c->depth >= c->max_depth) {
		if (sport == PORT_VXLAN || dport == PORT_VXLAN ||
		    sport == PORT_TEREDO || dport == PORT_TEREDO ||
		    sport == PORT_GTPU || dport == PORT_GTPU)
			return TG_DEC_TUNNEL_DEPTH;
		return TG_DEC_NOT_TCP;
	}
	if (c->wire > ip_payload)
		c->wire = ip_payload;
	skip(c, 8);

	if (dport == PORT_VXLAN || sport == PORT_VXLAN) {
		/* RFC 7348 §5: flags (I bit set), reserved, VNI, reserved. */
		if (c->cap < 8)
			return TG_DEC_TRUNC_TUNNEL;
		if (!(c->p[0] & 0x08))
			return TG_DEC_NOT_TCP;
		skip(c, 8);
		c->depth++;
		out->tunnel_depth++;
		return dec_ether(c, out);
	}
	if (dport == PORT_GTPU || sport == PORT_GTPU) {
		/* 3GPP TS 29.281 §5.1: version 1, PT=1, T-PDU (0xff) carries IP. */
		uint8_t flags;
		uint32_t off = 8;

		if (c->cap < 8)
			return TG_DEC_TRUNC_TUNNEL;
		flags = c->p[0];
		if ((flags & 0xf0) != 0x30 || c->p[1] != 0xff)
			return TG_DEC_NOT_TCP;
		if (flags & 0x07) {
			uint8_t next;

			if (c->cap < 12)
				return TG_DEC_TRUNC_TUNNEL;
			next = (flags & 0x04) ? c->p[11] : 0;
			off = 12;
			while (next) {
				uint32_t elen;

				if (c->cap < off + 1)
					return TG_DEC_TRUNC_TUNNEL;
				elen = (uint32_t)c->p[off] * 4;
				if (elen == 0 || c->cap < off + elen)
					return TG_DEC_TRUNC_TUNNEL;
				next = c->p[off + elen - 1];
				off += elen;
			}
		}
		skip(c, off);
		c->depth++;
		out->tunnel_depth++;
		return dec_ip(c, out);
	}
	return dec_teredo(c, out, ip_payload - 8,
			  dport == PORT_TEREDO || sport == PORT_TEREDO);
}

/* After the IP header: the transport protocol @proto with @len bytes. */
static enum tg_decode_verdict dec_l4(struct cursor *c, struct tg_pkt *out,
				     uint8_t proto, uint32_t len, uint32_t pseudo)
{
	switch (proto) {
	case 6:
		return dec_tcp(c, out, len, pseudo + proto + len);
	case 17:
		return dec_udp(c, out, len);
	case 4:                 /* IPv4 in IP, RFC 2003 */
	case 41:                /* IPv6 in IP, RFC 4213 */
		if (c->depth >= c->max_depth)
			return TG_DEC_TUNNEL_DEPTH;
		c->depth++;
		out->tunnel_depth++;
		if (c->wire > len)
			c->wire = len;
		return dec_ip(c, out);
	default:
		return TG_DEC_NOT_TCP;
	}
}

static void v4_to_addr(const uint8_t *p, struct tg_addr *a)
{
	memset(a->b, 0, 10);
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	memcpy(a->b + 12, p, 4);
}

/* What an IPv4 header @ip of total length @tot says about the packet. */
static inline void v4_fields(const uint8_t *ip, uint32_t tot, struct tg_pkt *out)
{
	out->ip_ver = 4;
	out->ttl = ip[8];
	out->ip_id = rd16(ip + 4);
	out->ip_len = tot;
	v4_to_addr(ip + 12, &out->src);
	v4_to_addr(ip + 16, &out->dst);
	out->ip_dont_frag = (ip[6] & 0x40) != 0;       /* DF */
}

static enum tg_decode_verdict dec_ipv4(struct cursor *c, struct tg_pkt *out)
{
	const uint8_t *ip = c->p;
	uint32_t hlen, tot;
	uint16_t frag;
	uint32_t pseudo;

	if (c->cap < 20)
		return TG_DEC_TRUNC_IP;
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	if (hlen < 20)
		return TG_DEC_BAD_IP_HDRLEN;
	if (c->cap < hlen)
		return TG_DEC_TRUNC_IP;
	tot = rd16(ip + 2);
	/* Segmentation offload can leave a zero total length on captures
	 * taken on the sending host: the frame length is the truth then. */
	if (tot == 0)
		tot = c->wire;
	if (tot < hlen)
		return hlen > c->wire ? TG_DEC_TRUNC_IP : TG_DEC_BAD_IP_LEN;
	if (tot > c->wire)
		return TG_DEC_TRUNC_IP;
	if (c->cfg->validate_csum && csum_fold(csum_add(0, ip, hlen)) != 0xffff)
		return TG_DEC_BAD_IP_CSUM;

	v4_fields(ip, tot, out);
	frag = rd16(ip + 6);
	if (frag & 0x1fff)
		return TG_DEC_FRAGMENT;

	pseudo = csum_add(0, ip + 12, 8);
	c->wire = tot;
	if (c->cap > tot)
		c->cap = tot;
	skip(c, hlen);
	return dec_l4(c, out, ip[9], tot - hlen, pseudo);
}

/* RFC 8200 §4: walk the extension header chain to the upper layer. */
static enum tg_decode_verdict dec_ipv6(struct cursor *c, struct tg_pkt *out)
{
	const uint8_t *ip = c->p;
	uint32_t plen, left;
	uint8_t next;
	uint32_t pseudo;

	if (c->cap < 40)
		return TG_DEC_TRUNC_IP;
	plen = rd16(ip + 4);
	if (plen == 0)          /* jumbogram or offload: trust the frame */
		plen = c->wire >= 40 ? c->wire - 40 : 0;
	if (40 + plen > c->wire)
		return TG_DEC_TRUNC_IP;

	out->ip_ver = 6;
	out->ttl = ip[7];
	out->ip_id = 0;
	out->ip_len = plen + 40;
	memcpy(out->src.b, ip + 8, 16);
	memcpy(out->dst.b, ip + 24, 16);
	next = ip[6];
	pseudo = csum_add(0, ip + 8, 32);

	c->wire = 40 + plen;
	if (c->cap > c->wire)
		c->cap = c->wire;
	skip(c, 40);
	left = plen;

	for (;;) {
		uint32_t elen;

		switch (next) {
		case 0:         /* hop-by-hop */
		case 43:        /* routing */
		case 60:        /* destination options */
		case 135:       /* mobility */
			if (c->cap < 2)
				return TG_DEC_TRUNC_IPV6_EXT;
			elen = ((uint32_t)c->p[1] + 1) * 8;
			break;
		case 44:        /* fragment, RFC 8200 §4.5 */
			if (c->cap < 8)
				return TG_DEC_TRUNC_IPV6_EXT;
			out->ip_id = (uint16_t)rd32(c->p + 4);
			if (rd16(c->p + 2) & 0xfff8)
				return TG_DEC_FRAGMENT;
			elen = 8;
			break;
		case 51:        /* AH, RFC 4302 §2.2: length in 4-octet units */
			if (c->cap < 2)
				return TG_DEC_TRUNC_IPV6_EXT;
			elen = ((uint32_t)c->p[1] + 2) * 4;
			break;
		default:
			return dec_l4(c, out, next, left, pseudo);
		}
		if (elen > c->cap || elen > left)
			return TG_DEC_TRUNC_IPV6_EXT;
		next = c->p[0];
		skip(c, elen);
		left -= elen;
	}
}

static enum tg_decode_verdict dec_ip(struct cursor *c, struct tg_pkt *out)
{
	if (c->cap < 1)
		return TG_DEC_TRUNC_IP;
	switch (c->p[0] >> 4) {
	case 4: return dec_ipv4(c, out);
	case 6: return dec_ipv6(c, out);
	default: return TG_DEC_BAD_IP_VERSION;
	}
}

/* MPLS label stack (RFC 3032): labels until the bottom-of-stack bit, then
 * the payload's first nibble names IPv4 or IPv6, as routers guess too. */
static enum tg_decode_verdict dec_mpls(struct cursor *c, struct tg_pkt *out)
{
	for (unsigned n = 0; n < 16; n++) {
		bool bos;

		if (c->cap < 4)
			return TG_DEC_TRUNC_TUNNEL;
		bos = (c->p[2] & 0x01) != 0;
		skip(c, 4);
		if (bos)
			return dec_ip(c, out);
	}
	return TG_DEC_TUNNEL_DEPTH;
}

/* Dispatches on an EtherType after any link header. */
static enum tg_decode_verdict dec_ethertype(struct cursor *c, struct tg_pkt *out,
					    uint16_t type)
{
	for (unsigned tags = 0;; tags++) {
		switch (type) {
		case ETH_IPV4:
		case ETH_IPV6:
			return dec_ip(c, out);
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD:
			if (tags >= 8)
				return TG_DEC_TUNNEL_DEPTH;
			if (c->cap < 4)
				return TG_DEC_TRUNC_VLAN;
			if (!out->vlan_outer)
				out->vlan_outer = rd16(c->p) & 0x0fff;
			type = rd16(c->p + 2);
			skip(c, 4);
			continue;
		case ETH_MPLS:
		case ETH_MPLS_MC:
			return dec_mpls(c, out);
		case ETH_PPPOE:
			/* RFC 2516 §4: 6-byte PPPoE header, then PPP protocol. */
			if (c->cap < 8)
				return TG_DEC_TRUNC_TUNNEL;
			type = rd16(c->p + 6);
			skip(c, 8);
			if (type == 0x0021 || type == 0x0057)
				return dec_ip(c, out);
			return TG_DEC_NOT_IP;
		default:
			return TG_DEC_NOT_IP;
		}
	}
}

static enum tg_decode_verdict dec_ether(struct cursor *c, struct tg_pkt *out)
{
	uint16_t type;

	if (c->cap < 14)
		return TG_DEC_TRUNC_LINK;
	type = rd16(c->p + 12);
	if (type == ETH_FABRICPATH) {
		/* Cisco FabricPath: outer MACs, 0x8903 + 2-byte FTag/TTL, then
		 * the classical Ethernet frame. */
		if (c->cap < 16 + 14)
			return TG_DEC_TRUNC_TUNNEL;
		skip(c, 16);
		type = rd16(c->p + 12);
	}
	skip(c, 14);
	return dec_ethertype(c, out, type);
}

static enum tg_decode_verdict dec_family(struct cursor *c, struct tg_pkt *out,
					 uint32_t fam)
{
	switch (fam) {
	case 2:                               /* AF_INET everywhere */
		return dec_ip(c, out);
	case 10: case 24: case 28: case 30:   /* AF_INET6: Linux, BSDs, macOS */
		return dec_ip(c, out);
	default:
		return TG_DEC_NOT_IP;
	}
}

/*
 * The frame nearly every capture is made of: untagged Ethernet, IPv4
 * without options, not a fragment, TCP, checksums not asked for. Its
 * checks are the general walk's for that case, done straight through;
 * any other frame returns false untouched and takes the walk. The tests
 * decode every frame both ways and compare (cfg->no_fast_path).
 */
static inline bool plain_eth_v4_tcp(const uint8_t *data, uint32_t cap_len)
{
	const uint8_t *ip = data + 14;

	return cap_len >= 14 + 20 + 20 && data[12] == 0x08 && data[13] == 0x00 &&
	       ip[0] == 0x45 && ip[9] == 6 && !(rd16(ip + 6) & 0x1fff);
}

static bool dec_fast_eth_v4_tcp(const struct tg_decode_cfg *cfg, const uint8_t *data,
				uint32_t cap_len, uint32_t wire,
				struct tg_pkt *out, enum tg_decode_verdict *v)
{
	const uint8_t *ip = data + 14;
	uint32_t tot, cap;
	struct cursor c;

	if (!plain_eth_v4_tcp(data, cap_len))
		return false;
	tot = rd16(ip + 2);
	if (tot < 20 + 20 || tot > wire - 14)
		return false;
	v4_fields(ip, tot, out);
	cap = cap_len - 14 < tot ? cap_len - 14 : tot;
	c = (struct cursor){ .cfg = cfg, .p = ip + 20, .cap = cap - 20, .wire = tot - 20 };
	*v = dec_tcp(&c, out, tot - 20, 0);
	return true;
}

bool tg_decode_may_have_flags(int link, const uint8_t *data, uint32_t cap_len,
			      uint8_t flags)
{
	/* The frames dec_fast_eth_v4_tcp takes: the flags byte is at 47. */
	if (link != TG_LINK_ETHERNET || !plain_eth_v4_tcp(data, cap_len))
		return true;
	return (data[14 + 20 + 13] & flags) != 0;
}

/* memset of the packet, with plain 16-byte stores on x86-64: GCC made
 * the memset a rep stosq, whose start-up cost a quarter of tg_decode's
 * samples. */
static inline void pkt_zero(struct tg_pkt *p)
{
#if defined(__SSE2__)
	/* Written out: a loop of them, GCC turns back into the memset. */
#define Z(i) _mm_storeu_si128((__m128i *)(void *)((char *)p + 16 * (i)), z)
	__m128i z = _mm_setzero_si128();

	_Static_assert(sizeof(*p) == 160, "ten 16-byte stores");
	Z(0);
	Z(1);
	Z(2);
	Z(3);
	Z(4);
	Z(5);
	Z(6);
	Z(7);
	Z(8);
	Z(9);
#undef Z
#else
	memset(p, 0, sizeof(*p));
#endif
}

enum tg_decode_verdict tg_decode(const struct tg_decode_cfg *cfg, int link,
				 const uint8_t *data, uint32_t cap_len,
				 uint32_t wire_len, struct tg_pkt *out)
{
	struct cursor c = {
		.cfg = cfg, .p = data, .cap = cap_len,
		.wire = wire_len > cap_len ? wire_len : cap_len,
		.max_depth = cfg->max_tunnel_depth ? cfg->max_tunnel_depth
						   : DEFAULT_TUNNEL_DEPTH,
	};
	uint64_t ts = out->ts_ns, num = out->num;

	pkt_zero(out);
	out->ts_ns = ts;
	out->num = num;
	out->cap_len = cap_len;
	out->wire_len = wire_len;

	switch (link) {
	case TG_LINK_ETHERNET: {
		enum tg_decode_verdict v;

		if (!cfg->validate_csum && !cfg->no_fast_path &&
		    dec_fast_eth_v4_tcp(cfg, data, cap_len, c.wire, out, &v))
			return v;
		return dec_ether(&c, out);
	}
	case TG_LINK_RAW:
	case TG_LINK_IPV4:
	case TG_LINK_IPV6:
		return dec_ip(&c, out);
	case TG_LINK_NULL:
	case TG_LINK_LOOP: {
		uint32_t fam;

		if (c.cap < 4)
			return TG_DEC_TRUNC_LINK;
		/* The family is in the capturing host's byte order for NULL;
		 * accept either order since the reader's order may differ. */
		fam = rd32(c.p);
		if (fam > 0xffff)
			fam = (uint32_t)c.p[0] | (uint32_t)c.p[1] << 8 |
			      (uint32_t)c.p[2] << 16 | (uint32_t)c.p[3] << 24;
		skip(&c, 4);
		return dec_family(&c, out, fam);
	}
	case TG_LINK_LINUX_SLL: {
		uint16_t type;

		if (c.cap < 16)
			return TG_DEC_TRUNC_LINK;
		type = rd16(c.p + 14);
		skip(&c, 16);
		return dec_ethertype(&c, out, type);
	}
	case TG_LINK_LINUX_SLL2: {
		uint16_t type;

		if (c.cap < 20)
			return TG_DEC_TRUNC_LINK;
		type = rd16(c.p);
		skip(&c, 20);
		return dec_ethertype(&c, out, type);
	}
	default:
		return TG_DEC_BAD_LINKTYPE;
	}
}

const char tg_digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* One octet in decimal, no leading zeros. */
static inline char *put_octet(char *o, unsigned v)
{
	if (v >= 100) {
		*o++ = (char)('0' + v / 100);
		v %= 100;
		memcpy(o, tg_digit_pairs + 2 * v, 2);
		return o + 2;
	}
	if (v >= 10) {
		memcpy(o, tg_digit_pairs + 2 * v, 2);
		return o + 2;
	}
	*o++ = (char)('0' + v);
	return o;
}

static char *put_quad(char *o, const uint8_t *b)
{
	for (int i = 0; i < 4; i++) {
		o = put_octet(o, b[i]);
		*o++ = '.';
	}
	return o - 1;
}

/* One 16-bit group in lower-case hex, no leading zeros. */
static inline char *put_group(char *o, unsigned w)
{
	static const char hex[] = "0123456789abcdef";
	int sh = w >= 0x1000 ? 12 : w >= 0x100 ? 8 : w >= 0x10 ? 4 : 0;

	for (; sh >= 0; sh -= 4)
		*o++ = hex[(w >> sh) & 0xf];
	return o;
}

/*
 * RFC 5952 text, written the way glibc's inet_ntop writes it so both give
 * the same bytes: the first longest run of two or more zero groups becomes
 * "::"; an address whose first 96 bits are zero (IPv4-compatible) or that
 * is ::ffff:0:0/96 (IPv4-mapped) ends in a dotted quad.
 */
static size_t put_v6(const uint8_t *b, char *out)
{
	unsigned w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	char *o = out;

	for (int i = 0; i < 8; i++) {
		w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
		if (w[i] == 0) {
			if (cur < 0) {
				cur = i;
				cur_len = 0;
			}
			if (++cur_len > best_len) {
				best = cur;
				best_len = cur_len;
			}
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*o++ = ':';
			continue;
		}
		if (i)
			*o++ = ':';
		if (i == 6 && best == 0 &&
		    (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			o = put_quad(o, b + 12);
			return (size_t)(o - out);
		}
		o = put_group(o, w[i]);
	}
	if (best >= 0 && best + best_len == 8)
		*o++ = ':';
	return (size_t)(o - out);
}

size_t tg_addr_put(const struct tg_addr *a, char *out)
{
	if (tg_addr_is_v4(a))
		return (size_t)(put_quad(out, a->b + 12) - out);
	return put_v6(a->b, out);
}

char *tg_addr_str(const struct tg_addr *a, char *buf, size_t len)
{
	char t[TG_ADDR_STR_MAX + 1];
	size_t n = tg_addr_put(a, t);

	if (len == 0)
		return buf;
	if (n >= len)
		n = len - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
	return buf;
}
