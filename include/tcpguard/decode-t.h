/* SPDX-License-Identifier: MIT */
/*
 * Types of the packet decoder: the view of one captured frame that the rest
 * of the engine works from. A decoded packet borrows the caller's bytes for
 * one call and holds only what TCP tracking and the outputs need: addresses,
 * ports, TTL and IP ID, the IP-level length Zeek counts, TCP header fields
 * and parsed options. Every way a frame can fail to decode is a named
 * verdict with a string, so each drop is counted and reported by reason.
 */
#ifndef TG_DECODE_T_H
#define TG_DECODE_T_H

#include <stdbool.h>
#include <stdint.h>

/* Link-layer types we accept, numbered as LINKTYPE_* in the pcap spec
 * (https://www.tcpdump.org/linktypes.html), so values from a file header or
 * a pcapng IDB are passed through unchanged. */
enum tg_link {
	TG_LINK_NULL = 0,        /* BSD loopback: 4-byte host-order family */
	TG_LINK_ETHERNET = 1,
	TG_LINK_RAW = 101,       /* raw IPv4 or IPv6, version nibble decides */
	TG_LINK_LOOP = 108,      /* OpenBSD loopback: 4-byte network-order family */
	TG_LINK_LINUX_SLL = 113,
	TG_LINK_IPV4 = 228,
	TG_LINK_IPV6 = 229,
	TG_LINK_LINUX_SLL2 = 276,
};

/* Outcome of decoding one frame. TG_DEC_TCP is the only verdict that feeds
 * TCP tracking; the others are counted (and TG_DEC_NOT_TCP / _FRAGMENT are
 * normal traffic, not errors). Keep tg_decode_verdict_str in step. */
enum tg_decode_verdict {
	TG_DEC_TCP = 0,
	TG_DEC_NOT_IP,           /* ARP, LLDP, ... */
	TG_DEC_NOT_TCP,          /* UDP, ICMP, ... that carried no tunnel */
	TG_DEC_FRAGMENT,         /* non-first IPv4/IPv6 fragment: counted, not parsed */
	TG_DEC_BAD_LINKTYPE,     /* link type we do not decode */
	TG_DEC_TRUNC_LINK,       /* frame shorter than its link header */
	TG_DEC_TRUNC_VLAN,
	TG_DEC_TRUNC_IP,         /* shorter than the IP header it claims */
	TG_DEC_BAD_IP_VERSION,
	TG_DEC_BAD_IP_HDRLEN,    /* IPv4 IHL < 5 or beyond the total length */
	TG_DEC_BAD_IP_LEN,       /* total length smaller than the header */
	TG_DEC_BAD_IP_CSUM,      /* only when checksums are validated */
	TG_DEC_TRUNC_IPV6_EXT,   /* extension header chain runs off the capture */
	TG_DEC_TRUNC_TCP,        /* fewer than 20 TCP header bytes captured */
	TG_DEC_BAD_TCP_HDRLEN,   /* data offset < 5 or past the IP payload */
	TG_DEC_BAD_TCP_CSUM,     /* only when checksums are validated */
	TG_DEC_TRUNC_TUNNEL,     /* tunnel header shorter than it claims */
	TG_DEC_TUNNEL_DEPTH,     /* tunnels nested deeper than we follow */
	TG_DEC__COUNT
};

/* Why a TCP option list was not fully parsed; the packet is still used. */
enum tg_opt_verdict {
	TG_OPT_OK = 0,
	TG_OPT_RUNS_PAST_HEADER, /* an option's length runs past the header */
	TG_OPT_BAD_LENGTH,       /* length byte < 2 or wrong for its kind */
	TG_OPT_TRUNCATED,        /* header captured only in part */
	TG_OPT__COUNT
};

/* An address of either family; IPv4 is stored as ::ffff:a.b.c.d so one
 * 16-byte compare serves both. */
struct tg_addr {
	uint8_t b[16];
};

#define TG_TCP_FIN 0x01
#define TG_TCP_SYN 0x02
#define TG_TCP_RST 0x04
#define TG_TCP_PSH 0x08
#define TG_TCP_ACK 0x10
#define TG_TCP_URG 0x20
#define TG_TCP_ECE 0x40
#define TG_TCP_CWR 0x80

#define TG_OPT_HAS_MSS    0x01
#define TG_OPT_HAS_WSCALE 0x02
#define TG_OPT_HAS_SACKOK 0x04
#define TG_OPT_HAS_TS     0x08
#define TG_OPT_HAS_SACK   0x10

/* Parsed TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018). layout is a
 * compact fingerprint of the option kinds in wire order (up to 8, 4 bits
 * each), used later to tell an endpoint's packets from injected ones. */
struct tg_tcp_opts {
	uint8_t present;         /* TG_OPT_HAS_* */
	uint8_t wscale;
	uint8_t nsack;           /* SACK blocks seen (0..4) */
	uint8_t verdict;         /* enum tg_opt_verdict */
	uint16_t mss;
	uint32_t ts_val;
	uint32_t ts_ecr;
	uint32_t layout;
	uint32_t sack_left[4];
	uint32_t sack_right[4];
};

struct tg_pkt {
	uint64_t ts_ns;
	uint64_t num;            /* 1-based frame number in the input */
	uint32_t cap_len;
	uint32_t wire_len;
	struct tg_addr src;
	struct tg_addr dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t ip_ver;          /* 4 or 6 */
	uint8_t ttl;             /* TTL or hop limit */
	uint8_t tcp_flags;       /* TG_TCP_* */
	uint8_t tunnel_depth;    /* encapsulations peeled to reach this IP */
	uint16_t ip_id;          /* IPv4 identification; 0 for IPv6 */
	uint16_t vlan_outer;     /* outermost VLAN id, 0 when untagged */
	uint32_t ip_len;         /* IP bytes as Zeek counts them: v4 total
	                          * length, v6 payload length + 40 */
	uint32_t payload_len;    /* TCP payload length from the IP lengths */
	uint32_t payload_cap;    /* TCP payload bytes actually captured */
	uint32_t seq;
	uint32_t ack;
	uint16_t win;            /* raw window field, unscaled */
	uint8_t tcp_hdr_len;
	uint8_t ip_dont_frag;
	bool csum_checked;       /* false when the payload was not captured */
	bool csum_ok;
	struct tg_tcp_opts opts;
	const uint8_t *payload;  /* borrowed; payload_cap bytes */
};

/* Decoder settings; zero is the default. */
struct tg_decode_cfg {
	bool validate_csum;      /* drop packets with bad IP/TCP checksums */
	uint8_t max_tunnel_depth;/* 0 means the default (4) */
	bool no_fast_path;       /* always the general walk, and in the engine
	                          * the general tracking step (tests compare) */
};

#endif
