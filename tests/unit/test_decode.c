// SPDX-License-Identifier: MIT
/*
 * Unit tests of the packet decoder (tg_decode, include/tcpguard/decode.h).
 * They prove three things on frames built by hand with correct checksums
 * (tests/unit/pktbuild.h): that every field of struct tg_pkt is read from
 * the right bytes, TCP options included; that each link layer and
 * encapsulation the decoder claims (802.1Q, QinQ, SLL, SLL2, raw IP, BSD
 * loopback in both byte orders, MPLS, PPPoE, VXLAN, GTP-U, Teredo, IPv6
 * extension headers, fragments) reaches the inner TCP segment; and that
 * each way a frame can be bad gives its own named verdict. The last tests
 * feed every prefix of valid frames and 10,000 seeded random corruptions,
 * each in a heap buffer of exactly the captured length, so that the
 * ASan+UBSan build of this file shows the decoder never reads past
 * cap_len and never misbehaves on any input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "tcpguard/decode.h"
#include "pktbuild.h"

static const uint8_t cli4[4] = {10, 0, 0, 1};
static const uint8_t srv4[4] = {192, 168, 7, 200};
static const uint8_t cli6[16] = {0xfd, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t srv6[16] = {0xfd, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t hello[5] = {'h', 'e', 'l', 'l', 'o'};

/* MSS, NOP, wscale, SACK-permitted, timestamps, NOP, NOP, two SACK
 * blocks: 40 bytes, the most a header can hold. */
static const uint8_t all_opts[40] = {
	2, 4, 0x05, 0xb4,                        /* MSS 1460 */
	1,                                       /* NOP */
	3, 3, 7,                                 /* wscale 7 */
	4, 2,                                    /* SACK permitted */
	8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* TS */
	1, 1,
	5, 18, 0, 0, 0x10, 0, 0, 0, 0x20, 0,     /* SACK 0x1000..0x2000 */
	       0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10, /* wraps 0 */
};

static const struct tg_decode_cfg no_csum;
static const struct tg_decode_cfg with_csum = { .validate_csum = true };

static struct pb_tcp seg_hello(void)
{
	struct pb_tcp t = {
		.sport = 40000, .dport = 8080, .seq = 0x01020304,
		.ack = 0xa0b0c0d0, .flags = TG_TCP_ACK | TG_TCP_PSH,
		.win = 0x1234, .payload = hello, .payload_len = sizeof(hello),
	};

	return t;
}

static enum tg_decode_verdict dec(const struct tg_decode_cfg *cfg, int link,
				  const struct pb_buf *f, struct tg_pkt *p)
{
	memset(p, 0, sizeof(*p));
	return tg_decode(cfg, link, f->b, f->len, f->len, p);
}

static void assert_v4(const struct tg_addr *a, const uint8_t v4[4])
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	assert_memory_equal(a->b, pfx, 12);
	assert_memory_equal(a->b + 12, v4, 4);
	assert_true(tg_addr_is_v4(a));
}

/* The fields of seg_hello() inside an IPv4 packet from cli4 to srv4. */
static void assert_hello_v4(const struct tg_pkt *p)
{
	assert_int_equal(p->ip_ver, 4);
	assert_v4(&p->src, cli4);
	assert_v4(&p->dst, srv4);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 8080);
	assert_int_equal(p->seq, 0x01020304);
	assert_int_equal(p->ack, 0xa0b0c0d0);
	assert_int_equal(p->tcp_flags, TG_TCP_ACK | TG_TCP_PSH);
	assert_int_equal(p->payload_len, 5);
	assert_int_equal(p->payload_cap, 5);
	assert_non_null(p->payload);
	assert_memory_equal(p->payload, hello, 5);
}

static void assert_hello_v6(const struct tg_pkt *p, uint32_t ext_len)
{
	assert_int_equal(p->ip_ver, 6);
	assert_memory_equal(p->src.b, cli6, 16);
	assert_memory_equal(p->dst.b, srv6, 16);
	assert_false(tg_addr_is_v4(&p->src));
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 8080);
	assert_int_equal(p->seq, 0x01020304);
	assert_int_equal(p->ip_len, 40 + ext_len + 20 + 5);
	assert_int_equal(p->ttl, 63);
	assert_int_equal(p->payload_len, 5);
	assert_memory_equal(p->payload, hello, 5);
}

/* Ethernet + IPv4 + TCP carrying @opt and "hello". */
static void frame_eth_v4(struct pb_buf *f, const uint8_t *opt, uint32_t opt_len)
{
	struct pb_tcp t = seg_hello();

	t.opt = opt;
	t.opt_len = opt_len;
	f->len = 0;
	pb_eth(f, 0x0800);
	pb_ipv4_tcp(f, cli4, srv4, &t);
}

static void test_eth_ipv4_tcp_all_fields(void **state)
{
	struct pb_buf f;
	struct tg_pkt p;
	uint32_t layout = 2 | 1u << 4 | 3u << 8 | 4u << 12 | 8u << 16 |
			  1u << 20 | 1u << 24 | 5u << 28;

	(void)state;
	frame_eth_v4(&f, all_opts, sizeof(all_opts));
	p.ts_ns = 77;
	p.num = 9;
	assert_int_equal(tg_decode(&with_csum, TG_LINK_ETHERNET, f.b, f.len,
				   f.len + 4, &p), TG_DEC_TCP);
	assert_int_equal(p.ts_ns, 77);           /* kept from the caller */
	assert_int_equal(p.num, 9);
	assert_int_equal(p.cap_len, f.len);
	assert_int_equal(p.wire_len, f.len + 4);
	assert_int_equal(p.ip_ver, 4);
	assert_v4(&p.src, cli4);
	assert_v4(&p.dst, srv4);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.ip_id, 0x1234);
	assert_int_equal(p.ip_dont_frag, 1);
	assert_int_equal(p.ip_len, 20 + 60 + 5);
	assert_int_equal(p.tunnel_depth, 0);
	assert_int_equal(p.vlan_outer, 0);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 8080);
	assert_int_equal(p.seq, 0x01020304);
	assert_int_equal(p.ack, 0xa0b0c0d0);
	assert_int_equal(p.tcp_flags, TG_TCP_ACK | TG_TCP_PSH);
	assert_int_equal(p.win, 0x1234);
	assert_int_equal(p.tcp_hdr_len, 60);
	assert_int_equal(p.payload_len, 5);
	assert_int_equal(p.payload_cap, 5);
	assert_ptr_equal(p.payload, f.b + 14 + 20 + 60);
	assert_true(p.csum_checked);
	assert_true(p.csum_ok);

	assert_int_equal(p.opts.verdict, TG_OPT_OK);
	assert_int_equal(p.opts.present, TG_OPT_HAS_MSS | TG_OPT_HAS_WSCALE |
			 TG_OPT_HAS_SACKOK | TG_OPT_HAS_TS | TG_OPT_HAS_SACK);
	assert_int_equal(p.opts.mss, 1460);
	assert_int_equal(p.opts.wscale, 7);
	assert_int_equal(p.opts.ts_val, 0x11223344);
	assert_int_equal(p.opts.ts_ecr, 0x55667788);
	assert_int_equal(p.opts.nsack, 2);
	assert_int_equal(p.opts.sack_left[0], 0x1000);
	assert_int_equal(p.opts.sack_right[0], 0x2000);
	assert_int_equal(p.opts.sack_left[1], 0xfffffff0);
	assert_int_equal(p.opts.sack_right[1], 0x10);
	assert_int_equal(p.opts.layout, layout);
}

static void test_no_payload_no_pointer(void **state)
{
	struct pb_buf f;
	struct tg_pkt p;
	struct pb_tcp t = seg_hello();

	(void)state;
	t.payload_len = 0;
	t.flags = TG_TCP_SYN;
	f.len = 0;
	pb_eth(&f, 0x0800);
	pb_ipv4_tcp(&f, cli4, srv4, &t);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_int_equal(p.tcp_flags, TG_TCP_SYN);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_cap, 0);
	assert_null(p.payload);
	assert_false(p.csum_checked);           /* not asked to */
	assert_int_equal(p.opts.present, 0);
	assert_int_equal(p.opts.layout, 0);
}

/* Ethernet padding to 60 bytes is not TCP payload: the IP total length
 * bounds the segment. */
static void test_ethernet_padding_ignored(void **state)
{
	struct pb_buf f;
	struct tg_pkt p;
	struct pb_tcp t = seg_hello();

	(void)state;
	t.payload_len = 0;
	f.len = 0;
	pb_eth(&f, 0x0800);
	pb_ipv4_tcp(&f, cli4, srv4, &t);
	memset(f.b + f.len, 0xee, 6);
	f.len = 60;
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_int_equal(p.ip_len, 40);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_cap, 0);
	assert_true(p.csum_ok);
}

/* A snaplen cut: the wire length covers the IP total length, the capture
 * does not. The segment still decodes; only captured payload is offered
 * and no checksum is judged. */
static void test_snaplen_truncated_payload(void **state)
{
	struct pb_buf f;
	struct tg_pkt p;

	(void)state;
	frame_eth_v4(&f, NULL, 0);
	assert_int_equal(tg_decode(&with_csum, TG_LINK_ETHERNET, f.b, f.len - 3,
				   f.len, &p), TG_DEC_TCP);
	assert_int_equal(p.payload_len, 5);
	assert_int_equal(p.payload_cap, 2);
	assert_false(p.csum_checked);
}

static void test_vlan_8021q(void **state)
{
	struct pb_buf f = { .len = 0 };
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;

	(void)state;
	pb_eth(&f, 0x8100);
	pb_vlan(&f, 0x2000 | 100, 0x0800);      /* PCP 1, VID 100 */
	pb_ipv4_tcp(&f, cli4, srv4, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_int_equal(p.vlan_outer, 100);
	assert_hello_v4(&p);
	assert_int_equal(p.ip_len, 20 + 20 + 5);
	assert_true(p.csum_ok);
}

static void test_vlan_qinq(void **state)
{
	struct pb_buf f = { .len = 0 };
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;

	(void)state;
	pb_eth(&f, 0x88a8);
	pb_vlan(&f, 300, 0x8100);
	pb_vlan(&f, 42, 0x86dd);
	pb_ipv6_tcp(&f, cli6, srv6, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_int_equal(p.vlan_outer, 300);    /* the outer tag wins */
	assert_hello_v6(&p, 0);
	assert_true(p.csum_ok);
}

static void test_linux_sll(void **state)
{
	struct pb_buf f = { .len = 0 };
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;
	uint8_t sll[16] = {0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};

	(void)state;
	pb_put(&f, sll, sizeof(sll));
	pb_ipv4_tcp(&f, cli4, srv4, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_LINUX_SLL, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);
}

static void test_linux_sll2(void **state)
{
	struct pb_buf f = { .len = 0 };
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;
	/* protocol, reserved, ifindex, ARPHRD, pkttype, addr len, addr */
	uint8_t sll2[20] = {0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6,
			    2, 0, 0, 0, 0, 1, 0, 0};

	(void)state;
	pb_put(&f, sll2, sizeof(sll2));
	pb_ipv6_tcp(&f, cli6, srv6, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_LINUX_SLL2, &f, &p), TG_DEC_TCP);
	assert_hello_v6(&p, 0);
}

static void test_raw_ipv4_and_ipv6(void **state)
{
	struct pb_buf f = { .len = 0 };
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;

	(void)state;
	pb_ipv4_tcp(&f, cli4, srv4, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_RAW, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);
	assert_int_equal(dec(&with_csum, TG_LINK_IPV4, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);

	f.len = 0;
	pb_ipv6_tcp(&f, cli6, srv6, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_RAW, &f, &p), TG_DEC_TCP);
	assert_hello_v6(&p, 0);
	assert_int_equal(p.ip_id, 0);
	assert_true(p.csum_checked);
	assert_true(p.csum_ok);
	assert_int_equal(dec(&with_csum, TG_LINK_IPV6, &f, &p), TG_DEC_TCP);
	assert_hello_v6(&p, 0);
}

/* BSD NULL loopback stores the family in the capturing host's order; the
 * decoder accepts both orders. OpenBSD LOOP is network order. */
static void test_null_loopback_both_orders(void **state)
{
	static const uint8_t fam_le4[4] = {2, 0, 0, 0};
	static const uint8_t fam_be4[4] = {0, 0, 0, 2};
	static const uint8_t fam_le6[4] = {30, 0, 0, 0};   /* macOS AF_INET6 */
	static const uint8_t fam_be6[4] = {0, 0, 0, 24};   /* NetBSD/OpenBSD */
	static const uint8_t fam_x[4] = {0, 0, 0, 7};
	struct pb_buf f;
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;

	(void)state;
	f.len = 0;
	pb_put(&f, fam_le4, 4);
	pb_ipv4_tcp(&f, cli4, srv4, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_NULL, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);
	memcpy(f.b, fam_be4, 4);
	assert_int_equal(dec(&with_csum, TG_LINK_NULL, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);
	assert_int_equal(dec(&with_csum, TG_LINK_LOOP, &f, &p), TG_DEC_TCP);
	memcpy(f.b, fam_x, 4);
	assert_int_equal(dec(&with_csum, TG_LINK_NULL, &f, &p), TG_DEC_NOT_IP);

	f.len = 0;
	pb_put(&f, fam_le6, 4);
	pb_ipv6_tcp(&f, cli6, srv6, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_NULL, &f, &p), TG_DEC_TCP);
	assert_hello_v6(&p, 0);
	memcpy(f.b, fam_be6, 4);
	assert_int_equal(dec(&with_csum, TG_LINK_NULL, &f, &p), TG_DEC_TCP);
	assert_hello_v6(&p, 0);
}

/* IPv6 with a hop-by-hop header (8 bytes, PadN) and a fragment header.
 * @frag_off_m is the fragment header's offset/flags word. */
static void frame_v6_frag(struct pb_buf *f, uint16_t frag_off_m)
{
	struct pb_tcp t = seg_hello();
	uint8_t seg[128];
	uint8_t ext[16] = {
		44, 0, 1, 4, 0, 0, 0, 0,        /* hop-by-hop, PadN, next frag */
		6, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, /* fragment, next TCP */
	};
	uint32_t n = pb_tcp_seg(seg, &t, cli6, srv6, 16);

	pb_w16(ext + 10, frag_off_m);
	f->len = 0;
	pb_eth(f, 0x86dd);
	pb_ipv6(f, cli6, srv6, 0, ext, sizeof(ext), seg, n);
}

static void test_ipv6_ext_headers_and_fragments(void **state)
{
	struct pb_buf f;
	struct tg_pkt p;

	(void)state;
	frame_v6_frag(&f, 0x0001);              /* offset 0, more fragments */
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_hello_v6(&p, 16);
	assert_int_equal(p.ip_id, 0xbeef);      /* low 16 bits of the id */
	assert_true(p.csum_ok);                 /* pseudo-header uses TCP length */

	frame_v6_frag(&f, 185 << 3);            /* offset 1480, last */
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_FRAGMENT);
	assert_int_equal(p.ip_ver, 6);

	/* The chain cut inside the fragment header. */
	frame_v6_frag(&f, 0);
	assert_int_equal(tg_decode(&no_csum, TG_LINK_ETHERNET, f.b, 14 + 40 + 8 + 4,
				   f.len, &p), TG_DEC_TRUNC_IPV6_EXT);
}

static void test_ipv4_fragments_and_options(void **state)
{
	struct pb_buf f = { .len = 0 };
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;
	uint8_t seg[128];
	uint32_t n = pb_tcp_seg(seg, &t, cli4, srv4, 4);
	/* Record route with room for one address, then end of list. */
	uint8_t ipopt[8] = {7, 7, 4, 0, 0, 0, 0, 0};

	(void)state;
	/* First fragment (MF, offset 0) decodes. */
	pb_eth(&f, 0x0800);
	pb_ipv4(&f, cli4, srv4, 6, 77, 0x2000, 5, NULL, 0, seg, n);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_int_equal(p.ip_dont_frag, 0);
	assert_int_equal(p.ttl, 5);
	assert_int_equal(p.ip_id, 77);

	/* A later fragment is counted, not parsed, but its addresses are. */
	f.len = 0;
	pb_eth(&f, 0x0800);
	pb_ipv4(&f, cli4, srv4, 6, 77, 0x0001, 5, NULL, 0, seg, n);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_FRAGMENT);
	assert_v4(&p.src, cli4);
	assert_int_equal(p.ip_id, 77);

	/* Options move the TCP header; the checksum covers them. */
	f.len = 0;
	pb_eth(&f, 0x0800);
	pb_ipv4(&f, cli4, srv4, 6, 1, 0, 64, ipopt, sizeof(ipopt), seg, n);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);
	assert_int_equal(p.ip_len, 28 + 25);
	assert_ptr_equal(p.payload, f.b + 14 + 28 + 20);
	assert_true(p.csum_ok);
}

static void test_mpls(void **state)
{
	struct pb_buf f = { .len = 0 };
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;
	uint8_t labels[8] = {0, 0x10, 0x00, 64,          /* label 256 */
			     0, 0x20, 0x01, 64};         /* label 512, BoS */

	(void)state;
	pb_eth(&f, 0x8847);
	pb_put(&f, labels, sizeof(labels));
	pb_ipv4_tcp(&f, cli4, srv4, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);

	/* VLAN-tagged MPLS carrying IPv6. */
	f.len = 0;
	pb_eth(&f, 0x8100);
	pb_vlan(&f, 7, 0x8847);
	pb_put(&f, labels + 4, 4);
	pb_ipv6_tcp(&f, cli6, srv6, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_hello_v6(&p, 0);
	assert_int_equal(p.vlan_outer, 7);

	/* A stack cut before its bottom label. */
	f.len = 0;
	pb_eth(&f, 0x8847);
	pb_put(&f, labels, 4);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TRUNC_TUNNEL);
}

static void test_pppoe(void **state)
{
	struct pb_buf f = { .len = 0 };
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;
	uint8_t pppoe[8] = {0x11, 0x00, 0x12, 0x34, 0, 47, 0x00, 0x21};

	(void)state;
	/* pppoe-over-qinq as in Zeek's trace: 802.1ad, 802.1Q, PPPoE. */
	pb_eth(&f, 0x88a8);
	pb_vlan(&f, 10, 0x8100);
	pb_vlan(&f, 20, 0x8864);
	pb_put(&f, pppoe, sizeof(pppoe));
	pb_ipv4_tcp(&f, cli4, srv4, &t);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);
	assert_int_equal(p.vlan_outer, 10);

	/* A PPP control protocol (LCP) is not IP. */
	pb_w16(f.b + 14 + 8 + 6, 0xc021);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_NOT_IP);
}

/* Outer Ethernet + IPv4 + UDP to @port carrying @inner. */
static void frame_udp_tunnel(struct pb_buf *f, uint16_t sport, uint16_t port,
			     const uint8_t *inner, uint32_t inner_len)
{
	static const uint8_t o1[4] = {172, 16, 0, 1}, o2[4] = {172, 16, 0, 2};
	uint8_t udp[PB_MAX];
	uint32_t n = pb_udp(udp, sport, port, inner, inner_len);

	f->len = 0;
	pb_eth(f, 0x0800);
	pb_ipv4(f, o1, o2, 17, 9, 0, 64, NULL, 0, udp, n);
}

static void test_vxlan(void **state)
{
	struct pb_buf inner = { .len = 0 }, f;
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;
	uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0x12, 0x34, 0};

	(void)state;
	pb_put(&inner, vx, sizeof(vx));
	pb_eth(&inner, 0x8100);
	pb_vlan(&inner, 55, 0x0800);
	pb_ipv4_tcp(&inner, cli4, srv4, &t);
	frame_udp_tunnel(&f, 51000, 4789, inner.b, inner.len);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);                    /* the inner addresses */
	assert_int_equal(p.tunnel_depth, 1);
	assert_int_equal(p.vlan_outer, 55);
	assert_true(p.csum_ok);

	/* Without the I flag it is not VXLAN. */
	inner.b[0] = 0;
	frame_udp_tunnel(&f, 51000, 4789, inner.b, inner.len);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_NOT_TCP);

	/* A VXLAN header cut short. */
	frame_udp_tunnel(&f, 51000, 4789, vx, 4);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TRUNC_TUNNEL);
}

static void test_gtpu(void **state)
{
	struct pb_buf inner = { .len = 0 }, f;
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;
	/* Version 1, PT 1, E flag; G-PDU; length; TEID; seq, N-PDU, next
	 * extension 0x85 (PDU session container, 4 bytes, then none). */
	uint8_t gtp[16] = {0x34, 0xff, 0, 0, 0, 0, 0, 1,
			   0, 0, 0, 0x85, 1, 0x00, 0x09, 0x00};

	(void)state;
	pb_put(&inner, gtp, sizeof(gtp));
	pb_ipv4_tcp(&inner, cli4, srv4, &t);
	pb_w16(inner.b + 2, (uint16_t)(inner.len - 8));
	frame_udp_tunnel(&f, 2152, 2152, inner.b, inner.len);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);
	assert_int_equal(p.tunnel_depth, 1);

	/* Plain 8-byte header carrying IPv6, on the responder port only. */
	inner.len = 0;
	gtp[0] = 0x30;
	pb_put(&inner, gtp, 8);
	pb_ipv6_tcp(&inner, cli6, srv6, &t);
	frame_udp_tunnel(&f, 5906, 2152, inner.b, inner.len);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_hello_v6(&p, 0);

	/* Echo request (type 1) carries no user IP. */
	inner.b[1] = 1;
	frame_udp_tunnel(&f, 5906, 2152, inner.b, inner.len);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_NOT_TCP);

	/* An extension header claiming more bytes than there are. */
	gtp[0] = 0x34;
	gtp[12] = 200;
	frame_udp_tunnel(&f, 2152, 2152, gtp, sizeof(gtp));
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TRUNC_TUNNEL);
}

static void test_teredo(void **state)
{
	struct pb_buf inner = { .len = 0 }, f;
	struct pb_tcp t = seg_hello();
	struct tg_pkt p;
	/* Authentication: id len 1, auth len 2, id, auth, nonce, confirm. */
	uint8_t auth[16] = {0, 1, 1, 2, 'i', 'a', 'a', 1, 2, 3, 4, 5, 6, 7, 8, 0};
	/* Origin indication: port and address obfuscated. */
	uint8_t origin[8] = {0, 0, 0x63, 0xbf, 0x3f, 0xff, 0xff, 0xfe};

	(void)state;
	pb_put(&inner, auth, sizeof(auth));
	pb_put(&inner, origin, sizeof(origin));
	pb_ipv6_tcp(&inner, cli6, srv6, &t);
	frame_udp_tunnel(&f, 3544, 40001, inner.b, inner.len);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_hello_v6(&p, 0);
	assert_int_equal(p.tunnel_depth, 1);

	/* Bare IPv6 inside, to the Teredo port. */
	inner.len = 0;
	pb_ipv6_tcp(&inner, cli6, srv6, &t);
	frame_udp_tunnel(&f, 40001, 3544, inner.b, inner.len);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_hello_v6(&p, 0);

	/* IPv4 inside is not Teredo. */
	inner.len = 0;
	pb_ipv4_tcp(&inner, cli4, srv4, &t);
	frame_udp_tunnel(&f, 40001, 3544, inner.b, inner.len);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_NOT_TCP);
}

static void test_ip_in_ip_and_tunnel_depth(void **state)
{
	struct pb_buf in = { .len = 0 }, mid = { .len = 0 }, f = { .len = 0 };
	struct pb_tcp t = seg_hello();
	struct tg_decode_cfg one = { .max_tunnel_depth = 1 };
	struct tg_pkt p;

	(void)state;
	pb_ipv4_tcp(&in, cli4, srv4, &t);
	pb_ipv4(&mid, srv4, cli4, 4, 2, 0, 64, NULL, 0, in.b, in.len);
	pb_ipv4(&f, srv4, cli4, 4, 3, 0, 64, NULL, 0, mid.b, mid.len);
	assert_int_equal(dec(&no_csum, TG_LINK_RAW, &f, &p), TG_DEC_TCP);
	assert_hello_v4(&p);
	assert_int_equal(p.tunnel_depth, 2);
	assert_int_equal(dec(&one, TG_LINK_RAW, &f, &p), TG_DEC_TUNNEL_DEPTH);
	assert_int_equal(dec(&one, TG_LINK_RAW, &mid, &p), TG_DEC_TCP);
}

static void test_not_ip_not_tcp(void **state)
{
	struct pb_buf f = { .len = 0 };
	struct tg_pkt p;
	uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};
	uint8_t icmp[8] = {8, 0, 0xf7, 0xff, 0, 0, 0, 0};

	(void)state;
	pb_eth(&f, 0x0806);
	pb_put(&f, arp, sizeof(arp));
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_NOT_IP);
	f.len = 0;
	pb_eth(&f, 0x0800);
	pb_ipv4(&f, cli4, srv4, 1, 1, 0, 64, NULL, 0, icmp, sizeof(icmp));
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_NOT_TCP);
	frame_udp_tunnel(&f, 53, 53, icmp, sizeof(icmp));
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_NOT_TCP);
}

/* Every error verdict, each from a valid frame with one thing wrong. */
static void test_link_errors(void **state)
{
	struct pb_buf f;
	struct tg_pkt p;

	(void)state;
	frame_eth_v4(&f, NULL, 0);
	assert_int_equal(tg_decode(&no_csum, TG_LINK_ETHERNET, f.b, 13, 13, &p),
			 TG_DEC_TRUNC_LINK);
	assert_int_equal(tg_decode(&no_csum, TG_LINK_LINUX_SLL, f.b, 15, 15, &p),
			 TG_DEC_TRUNC_LINK);
	assert_int_equal(tg_decode(&no_csum, TG_LINK_LINUX_SLL2, f.b, 19, 19, &p),
			 TG_DEC_TRUNC_LINK);
	assert_int_equal(tg_decode(&no_csum, TG_LINK_NULL, f.b, 3, 3, &p),
			 TG_DEC_TRUNC_LINK);
	assert_int_equal(tg_decode(&no_csum, 147, f.b, f.len, f.len, &p),
			 TG_DEC_BAD_LINKTYPE);
	assert_false(tg_decode_link_supported(147));
	assert_null(tg_decode_link_name(147));
	assert_true(tg_decode_link_supported(TG_LINK_ETHERNET));
	assert_true(tg_decode_link_supported(TG_LINK_LINUX_SLL2));
	assert_non_null(tg_decode_link_name(TG_LINK_RAW));

	f.len = 0;
	pb_eth(&f, 0x8100);
	pb_put(&f, "\x00\x64", 2);              /* half a tag */
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TRUNC_VLAN);
}

static void test_ip_errors(void **state)
{
	struct pb_buf f, g;
	struct tg_pkt p;

	(void)state;
	frame_eth_v4(&f, NULL, 0);

	assert_int_equal(tg_decode(&no_csum, TG_LINK_ETHERNET, f.b, 14 + 19,
				   14 + 19, &p), TG_DEC_TRUNC_IP);
	assert_int_equal(tg_decode(&no_csum, TG_LINK_ETHERNET, f.b, 14, 14, &p),
			 TG_DEC_TRUNC_IP);

	g = f;
	g.b[14] = 0x55;
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_BAD_IP_VERSION);

	g = f;
	g.b[14] = 0x44;                         /* IHL 4 */
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_BAD_IP_HDRLEN);

	g = f;
	g.b[14] = 0x4f;                         /* IHL 15: 60 bytes > frame */
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_TRUNC_IP);

	g = f;
	pb_w16(g.b + 14 + 2, 19);               /* total < header */
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_BAD_IP_LEN);

	g = f;
	pb_w16(g.b + 14 + 2, (uint16_t)(f.len - 14 + 1)); /* total > frame */
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_TRUNC_IP);

	/* Header checksum: judged only when asked. */
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	g = f;
	g.b[14 + 8] = 1;                        /* TTL changed, sum not */
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_BAD_IP_CSUM);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_TCP);

	/* IPv6 shorter than its fixed header, and payload beyond the frame. */
	f.len = 0;
	pb_eth(&f, 0x86dd);
	pb_ipv6_tcp(&f, cli6, srv6, &(struct pb_tcp){ .sport = 1, .dport = 2 });
	assert_int_equal(tg_decode(&no_csum, TG_LINK_ETHERNET, f.b, 14 + 39,
				   14 + 39, &p), TG_DEC_TRUNC_IP);
	pb_w16(f.b + 14 + 4, 21);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TRUNC_IP);
}

/* TSO: a zero IPv4 total length means "the frame is the packet". */
static void test_ipv4_zero_total_length(void **state)
{
	struct pb_buf f;
	struct tg_pkt p;

	(void)state;
	frame_eth_v4(&f, NULL, 0);
	pb_w16(f.b + 14 + 2, 0);
	pb_w16(f.b + 14 + 10, 0);
	pb_w16(f.b + 14 + 10, pb_csum(pb_sum(0, f.b + 14, 20)));
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_int_equal(p.ip_len, 45);
	assert_int_equal(p.payload_len, 5);
}

static void test_tcp_errors(void **state)
{
	struct pb_buf f, g;
	struct tg_pkt p;

	(void)state;
	frame_eth_v4(&f, NULL, 0);

	/* 19 bytes of TCP header captured (and on the wire). */
	g = f;
	pb_w16(g.b + 14 + 2, 20 + 19);
	g.len = 14 + 20 + 19;
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_TRUNC_TCP);
	/* Captured short although the IP length says more. */
	assert_int_equal(tg_decode(&no_csum, TG_LINK_ETHERNET, f.b, 14 + 20 + 19,
				   f.len, &p), TG_DEC_TRUNC_TCP);

	g = f;
	g.b[14 + 20 + 12] = 4 << 4;             /* data offset 4 */
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_BAD_TCP_HDRLEN);
	g = f;
	g.b[14 + 20 + 12] = 15 << 4;            /* 60 > 25 bytes of segment */
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_BAD_TCP_HDRLEN);

	/* A bad TCP checksum is not a drop: the packet reaches the session
	 * flagged, so the engine can add Zeek's 'C' letter. */
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_true(p.csum_checked);
	assert_true(p.csum_ok);
	g = f;
	g.b[g.len - 1] ^= 0x20;                 /* payload changed */
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_TCP);
	assert_true(p.csum_checked);
	assert_false(p.csum_ok);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &g, &p), TG_DEC_TCP);
	assert_false(p.csum_checked);
}

static void assert_opts_verdict(const uint8_t *opt, uint32_t len, uint8_t want)
{
	struct pb_buf f;
	struct tg_pkt p;

	frame_eth_v4(&f, opt, len);
	assert_int_equal(dec(&with_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_int_equal(p.opts.verdict, want);
	assert_int_equal(p.payload_len, 5);     /* still a usable packet */
	assert_true(p.csum_ok);
}

static void test_tcp_option_errors(void **state)
{
	static const uint8_t past1[4] = {1, 1, 2, 4};   /* MSS needs 4 */
	static const uint8_t past2[4] = {1, 1, 1, 2};   /* no length byte */
	static const uint8_t len1[4] = {8, 1, 0, 0};
	static const uint8_t len0[4] = {1, 3, 0, 0};
	static const uint8_t mss3[4] = {2, 3, 5, 0};    /* MSS must be 4 */
	static const uint8_t sack9[12] = {5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t eol[4] = {0, 2, 4, 0};     /* nothing after EOL */
	struct pb_buf f;
	struct tg_pkt p;

	(void)state;
	assert_opts_verdict(past1, 4, TG_OPT_RUNS_PAST_HEADER);
	assert_opts_verdict(past2, 4, TG_OPT_RUNS_PAST_HEADER);
	assert_opts_verdict(len1, 4, TG_OPT_BAD_LENGTH);
	assert_opts_verdict(len0, 4, TG_OPT_BAD_LENGTH);
	assert_opts_verdict(mss3, 4, TG_OPT_BAD_LENGTH);
	assert_opts_verdict(sack9, 12, TG_OPT_BAD_LENGTH);
	assert_opts_verdict(eol, 4, TG_OPT_OK);

	/* Header captured only in part: TG_OPT_TRUNCATED. */
	frame_eth_v4(&f, all_opts, sizeof(all_opts));
	assert_int_equal(tg_decode(&no_csum, TG_LINK_ETHERNET, f.b, 14 + 20 + 30,
				   f.len, &p), TG_DEC_TCP);
	assert_int_equal(p.opts.verdict, TG_OPT_TRUNCATED);
	assert_int_equal(p.opts.mss, 1460);
	assert_int_equal(p.payload_cap, 0);
	assert_null(p.payload);
}

/*
 * CORE BUG? (left failing for the lead to decide): a capture cut inside an
 * option is reported as a malformed option. Here the snaplen ends 4 bytes
 * into the 10-byte timestamps option of a well-formed 60-byte header;
 * decode.c passes only the captured option bytes to tg_decode_tcp_opts,
 * which sees the option "run past" them and says TG_OPT_RUNS_PAST_HEADER
 * ("tcp-option-past-header"), and dec_tcp only upgrades TG_OPT_OK to
 * TG_OPT_TRUNCATED. The header itself is fine, so this should be
 * TG_OPT_TRUNCATED ("tcp-options-not-captured"), as it is when the cut
 * falls between two options (test_tcp_option_errors).
 */
static void test_opts_cut_inside_an_option(void **state)
{
	struct pb_buf f;
	struct tg_pkt p;

	(void)state;
	frame_eth_v4(&f, all_opts, sizeof(all_opts));
	assert_int_equal(tg_decode(&no_csum, TG_LINK_ETHERNET, f.b, 14 + 20 + 34,
				   f.len, &p), TG_DEC_TCP);
	assert_int_equal(p.opts.mss, 1460);
	assert_int_equal(p.opts.verdict, TG_OPT_TRUNCATED);
}

static void test_tcp_opts_direct(void **state)
{
	struct tg_tcp_opts o;
	uint8_t four_sacks[34] = {5, 34};

	(void)state;
	memset(&o, 0, sizeof(o));
	tg_decode_tcp_opts(all_opts, sizeof(all_opts), &o);
	assert_int_equal(o.verdict, TG_OPT_OK);
	assert_int_equal(o.nsack, 2);

	for (int i = 0; i < 32; i++)
		four_sacks[2 + i] = (uint8_t)i;
	memset(&o, 0, sizeof(o));
	tg_decode_tcp_opts(four_sacks, sizeof(four_sacks), &o);
	assert_int_equal(o.verdict, TG_OPT_OK);
	assert_int_equal(o.nsack, 4);
	assert_int_equal(o.sack_right[3], 0x1c1d1e1f);

	memset(&o, 0, sizeof(o));
	tg_decode_tcp_opts(all_opts, 0, &o);
	assert_int_equal(o.present, 0);
	assert_int_equal(o.verdict, TG_OPT_OK);
}

/* Options @opt (@n bytes, a fast path's layout) into *@fast, checked
 * against the general walk over the same options followed by end-of-list
 * padding, which no fast path takes. */
static void fast_as_walk(const uint8_t *opt, size_t n, struct tg_tcp_opts *fast)
{
	uint8_t padded[44] = {0};
	struct tg_tcp_opts walk;

	assert_true(n + 4 <= sizeof(padded));
	memcpy(padded, opt, n);
	memset(fast, 0, sizeof(*fast));
	memset(&walk, 0, sizeof(walk));
	tg_decode_tcp_opts(opt, n, fast);
	tg_decode_tcp_opts(padded, n + 4, &walk);
	assert_memory_equal(fast, &walk, sizeof(walk));
}

/* The verdict on options @opt (@n bytes) with byte @at set to @v. */
static uint8_t verdict_with(const uint8_t *opt, size_t n, size_t at, uint8_t v)
{
	uint8_t odd[40];
	struct tg_tcp_opts o;

	assert_true(n <= sizeof(odd) && at < n);
	memcpy(odd, opt, n);
	odd[at] = v;
	memset(&o, 0, sizeof(o));
	tg_decode_tcp_opts(odd, n, &o);
	return o.verdict;
}

/* NOP, NOP, timestamps takes a fast path: the walk's record, and a
 * damaged timestamp length must still be refused. */
static void test_tcp_opts_timestamp_fast_path(void **state)
{
	static const uint8_t ts[12] = {1, 1, 8, 10, 0, 0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef};
	struct tg_tcp_opts fast;

	(void)state;
	fast_as_walk(ts, sizeof(ts), &fast);
	assert_int_equal(fast.verdict, TG_OPT_OK);
	assert_true(fast.present & TG_OPT_HAS_TS);
	assert_int_equal(fast.ts_val, 0x1234);
	assert_int_equal(fast.ts_ecr, 0xdeadbeef);
	assert_int_equal(fast.layout, 0x811);

	assert_int_equal(verdict_with(ts, sizeof(ts), 3, 9), TG_OPT_BAD_LENGTH);
}

/* Linux's SYN options (MSS, SACK permitted, timestamps, NOP, window
 * scale) take a fast path too: the walk's record; one byte off and the
 * walk decides. */
static void test_tcp_opts_linux_syn_fast_path(void **state)
{
	static const uint8_t syn[20] = {
		2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 1, 2, 3, 0, 0, 0, 9, 1, 3, 3, 7,
	};
	struct tg_tcp_opts fast;

	(void)state;
	fast_as_walk(syn, sizeof(syn), &fast);
	assert_int_equal(fast.verdict, TG_OPT_OK);
	assert_int_equal(fast.present, TG_OPT_HAS_MSS | TG_OPT_HAS_SACKOK | TG_OPT_HAS_TS |
				       TG_OPT_HAS_WSCALE);
	assert_int_equal(fast.mss, 1460);
	assert_int_equal(fast.ts_val, 0x10203);
	assert_int_equal(fast.ts_ecr, 9);
	assert_int_equal(fast.wscale, 7);
	assert_int_equal(fast.layout, 0x31842);

	/* Window scale's length damaged: the walk refuses it. */
	assert_int_equal(verdict_with(syn, sizeof(syn), 18, 4), TG_OPT_RUNS_PAST_HEADER);
}

static void test_verdict_strings(void **state)
{
	(void)state;
	for (int i = 0; i < TG_DEC__COUNT; i++) {
		assert_non_null(tg_decode_verdict_str[i]);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(tg_decode_verdict_str[i],
						tg_decode_verdict_str[j]);
	}
	for (int i = 0; i < TG_OPT__COUNT; i++)
		assert_non_null(tg_opt_verdict_str[i]);
}

static void test_addr_str(void **state)
{
	struct pb_buf f;
	struct tg_pkt p;
	char buf[46];

	(void)state;
	frame_eth_v4(&f, NULL, 0);
	assert_int_equal(dec(&no_csum, TG_LINK_ETHERNET, &f, &p), TG_DEC_TCP);
	assert_string_equal(tg_addr_str(&p.dst, buf, sizeof(buf)), "192.168.7.200");
	memcpy(p.dst.b, srv6, 16);
	assert_string_equal(tg_addr_str(&p.dst, buf, sizeof(buf)), "fd00:99::2");
}

/* xorshift32: a seeded sequence, the same on every run. */
static uint32_t rng_next(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* tg_addr_put/tg_addr_str against the C library's inet_ntop: every zero
 * run layout of the eight groups (where "::" goes, ties, IPv4-compatible
 * and IPv4-mapped tails), with random non-zero groups, plus random
 * addresses and IPv4 octets of every width. */
static void test_addr_str_matches_inet_ntop(void **state)
{
	uint32_t seed = 0x5eed1234;
	struct tg_addr a;
	char want[INET6_ADDRSTRLEN], got[64];

	(void)state;
	for (unsigned mask = 0; mask < 256; mask++) {
		for (int round = 0; round < 8; round++) {
			for (int g = 0; g < 8; g++) {
				uint32_t r = rng_next(&seed);
				unsigned w = (mask >> g & 1) ? 0 : (r & 0xffff) | 1;

				/* Groups of every hex width. */
				w >>= (r >> 16) % 4 * 4;
				if (!(mask >> g & 1) && !w)
					w = 1;
				if (round == 7 && g == 5 && (mask >> 5 & 1))
					w = 0xffff;     /* ::ffff:a.b.c.d and near misses */
				a.b[2 * g] = (uint8_t)(w >> 8);
				a.b[2 * g + 1] = (uint8_t)w;
			}
			assert_non_null(inet_ntop(AF_INET6, a.b, want, sizeof(want)));
			if (tg_addr_is_v4(&a))
				assert_non_null(inet_ntop(AF_INET, a.b + 12, want, sizeof(want)));
			memset(got, 'x', sizeof(got));
			got[tg_addr_put(&a, got)] = '\0';
			assert_string_equal(got, want);
			assert_string_equal(tg_addr_str(&a, got, sizeof(got)), want);
		}
	}
	for (int i = 0; i < 20000; i++) {
		for (int k = 0; k < 16; k += 4) {
			uint32_t r = rng_next(&seed);

			memcpy(a.b + k, &r, 4);
		}
		if (i & 1) {
			memset(a.b, 0, 10);
			a.b[10] = a.b[11] = 0xff;
			assert_non_null(inet_ntop(AF_INET, a.b + 12, want, sizeof(want)));
		} else {
			assert_non_null(inet_ntop(AF_INET6, a.b, want, sizeof(want)));
		}
		assert_string_equal(tg_addr_str(&a, got, sizeof(got)), want);
	}
	/* A short buffer gets a terminated prefix, never an overrun. */
	memset(a.b, 0, 10);
	a.b[10] = a.b[11] = 0xff;
	memset(a.b + 12, 200, 4);
	assert_string_equal(tg_addr_str(&a, got, 8), "200.200");
}

/* Decodes @len bytes from a heap copy of exactly that size, so ASan sees
 * any read past the capture. */
static enum tg_decode_verdict dec_exact(const struct tg_decode_cfg *cfg, int link,
					const uint8_t *b, uint32_t len,
					uint32_t wire)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct tg_pkt p;
	enum tg_decode_verdict v;

	struct tg_decode_cfg slow = *cfg;
	struct tg_pkt q;

	assert_non_null(copy);
	memcpy(copy, b, len);
	memset(&p, 0, sizeof(p));
	v = tg_decode(cfg, link, copy, len, wire, &p);
	/* The fast path for plain Ethernet/IPv4/TCP gives, byte for byte,
	 * what the general walk gives. */
	slow.no_fast_path = true;
	memset(&q, 0, sizeof(q));
	assert_int_equal(tg_decode(&slow, link, copy, len, wire, &q), v);
	assert_memory_equal(&p, &q, sizeof(p));
	/* The flags peek never rules out a segment that has them. */
	for (unsigned fl = 1; fl < 0x100; fl <<= 1)
		if (!tg_decode_may_have_flags(link, copy, len, (uint8_t)fl))
			assert_true(v != TG_DEC_TCP || !(p.tcp_flags & fl));
	if (v == TG_DEC_TCP) {
		assert_true(p.payload_cap <= p.payload_len);
		if (p.payload_cap)
			assert_true(p.payload >= copy && p.payload + p.payload_cap <= copy + len);
	}
	free(copy);
	assert_true((unsigned)v < TG_DEC__COUNT);
	return v;
}

struct corpus_frame {
	int link;
	struct pb_buf f;
};

/* Valid frames of many kinds: the seeds for the robustness loops. */
static unsigned build_corpus(struct corpus_frame *c)
{
	struct pb_buf inner = { .len = 0 };
	struct pb_tcp t = seg_hello();
	uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0, 1, 0};
	uint8_t gtp[16] = {0x37, 0xff, 0, 0, 0, 0, 0, 1,
			   0, 0, 0, 0x85, 1, 0x00, 0x09, 0x00};
	uint8_t auth[16] = {0, 1, 1, 2, 'i', 'a', 'a', 1, 2, 3, 4, 5, 6, 7, 8, 0};
	unsigned n = 0;

	t.opt = all_opts;
	t.opt_len = sizeof(all_opts);
	c[n].link = TG_LINK_ETHERNET;
	frame_eth_v4(&c[n++].f, all_opts, sizeof(all_opts));

	c[n].link = TG_LINK_ETHERNET;
	frame_v6_frag(&c[n++].f, 0x0001);

	c[n].link = TG_LINK_ETHERNET;
	c[n].f.len = 0;
	pb_eth(&c[n].f, 0x88a8);
	pb_vlan(&c[n].f, 10, 0x8100);
	pb_vlan(&c[n].f, 20, 0x8864);
	pb_put(&c[n].f, "\x11\x00\x12\x34\x00\x2f\x00\x21", 8);
	pb_ipv4_tcp(&c[n++].f, cli4, srv4, &t);

	c[n].link = TG_LINK_ETHERNET;
	c[n].f.len = 0;
	pb_eth(&c[n].f, 0x8847);
	pb_put(&c[n].f, "\x00\x10\x01\x40", 4);
	pb_ipv6_tcp(&c[n++].f, cli6, srv6, &t);

	pb_put(&inner, vx, 8);
	pb_eth(&inner, 0x0800);
	pb_ipv4_tcp(&inner, cli4, srv4, &t);
	c[n].link = TG_LINK_ETHERNET;
	frame_udp_tunnel(&c[n++].f, 1, 4789, inner.b, inner.len);

	inner.len = 0;
	pb_put(&inner, gtp, sizeof(gtp));
	pb_ipv4_tcp(&inner, cli4, srv4, &t);
	c[n].link = TG_LINK_ETHERNET;
	frame_udp_tunnel(&c[n++].f, 2152, 2152, inner.b, inner.len);

	inner.len = 0;
	pb_put(&inner, auth, sizeof(auth));
	pb_put(&inner, "\x00\x00\x63\xbf\x3f\xff\xff\xfe", 8);
	pb_ipv6_tcp(&inner, cli6, srv6, &t);
	c[n].link = TG_LINK_ETHERNET;
	frame_udp_tunnel(&c[n++].f, 3544, 3544, inner.b, inner.len);

	c[n].link = TG_LINK_LINUX_SLL2;
	c[n].f.len = 0;
	pb_put(&c[n].f, "\x08\x00\0\0\0\0\0\3\0\1\4\6\2\0\0\0\0\1\0\0", 20);
	pb_ipv4_tcp(&c[n++].f, cli4, srv4, &t);

	c[n].link = TG_LINK_NULL;
	c[n].f.len = 0;
	pb_put(&c[n].f, "\x1e\0\0\0", 4);
	pb_ipv6_tcp(&c[n++].f, cli6, srv6, &t);
	return n;
}

static void test_every_prefix(void **state)
{
	static struct corpus_frame c[16];
	unsigned n = build_corpus(c);

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(dec_exact(&with_csum, c[i].link, c[i].f.b,
					   c[i].f.len, c[i].f.len), TG_DEC_TCP);
		for (uint32_t len = 0; len < c[i].f.len; len++) {
			/* Cut by the capture only, and cut on the wire too. */
			dec_exact(&with_csum, c[i].link, c[i].f.b, len, c[i].f.len);
			assert_int_not_equal(dec_exact(&no_csum, c[i].link, c[i].f.b,
						       len, len), TG_DEC_TCP);
		}
	}
}

static void test_random_corruption(void **state)
{
	static struct corpus_frame c[16];
	unsigned n = build_corpus(c);
	uint32_t seed = 0x7c9a51e3;
	unsigned tcp = 0;

	(void)state;
	for (unsigned it = 0; it < 10000; it++) {
		struct corpus_frame *src = &c[rng_next(&seed) % n];
		struct pb_buf f = src->f;
		unsigned flips = 1 + rng_next(&seed) % 8;
		uint32_t len;

		for (unsigned k = 0; k < flips; k++) {
			uint32_t at = rng_next(&seed) % f.len;

			if (rng_next(&seed) & 1)
				f.b[at] ^= (uint8_t)(1u << (rng_next(&seed) % 8));
			else
				f.b[at] = (uint8_t)rng_next(&seed);
		}
		len = (rng_next(&seed) & 3) ? f.len : rng_next(&seed) % (f.len + 1);
		if (dec_exact((it & 1) ? &with_csum : &no_csum, src->link, f.b,
			      len, f.len + (rng_next(&seed) % 64)) == TG_DEC_TCP)
			tcp++;
	}
	/* Most single-field damage still leaves a TCP segment. */
	assert_true(tcp > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_ipv4_tcp_all_fields),
		cmocka_unit_test(test_no_payload_no_pointer),
		cmocka_unit_test(test_ethernet_padding_ignored),
		cmocka_unit_test(test_snaplen_truncated_payload),
		cmocka_unit_test(test_vlan_8021q),
		cmocka_unit_test(test_vlan_qinq),
		cmocka_unit_test(test_linux_sll),
		cmocka_unit_test(test_linux_sll2),
		cmocka_unit_test(test_raw_ipv4_and_ipv6),
		cmocka_unit_test(test_null_loopback_both_orders),
		cmocka_unit_test(test_ipv6_ext_headers_and_fragments),
		cmocka_unit_test(test_ipv4_fragments_and_options),
		cmocka_unit_test(test_mpls),
		cmocka_unit_test(test_pppoe),
		cmocka_unit_test(test_vxlan),
		cmocka_unit_test(test_gtpu),
		cmocka_unit_test(test_teredo),
		cmocka_unit_test(test_ip_in_ip_and_tunnel_depth),
		cmocka_unit_test(test_not_ip_not_tcp),
		cmocka_unit_test(test_link_errors),
		cmocka_unit_test(test_ip_errors),
		cmocka_unit_test(test_ipv4_zero_total_length),
		cmocka_unit_test(test_tcp_errors),
		cmocka_unit_test(test_tcp_option_errors),
		cmocka_unit_test(test_opts_cut_inside_an_option),
		cmocka_unit_test(test_tcp_opts_direct),
		cmocka_unit_test(test_tcp_opts_timestamp_fast_path),
		cmocka_unit_test(test_tcp_opts_linux_syn_fast_path),
		cmocka_unit_test(test_verdict_strings),
		cmocka_unit_test(test_addr_str),
		cmocka_unit_test(test_addr_str_matches_inet_ntop),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_random_corruption),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
