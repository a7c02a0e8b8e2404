/* SPDX-License-Identifier: MIT */
/*
 * The one header shared by the protect data path (src/bpf/protect.bpf.c,
 * XDP + TC) and its control plane (src/ctl/xdp.c): map keys and values,
 * the configuration record, counter indices and the ring-buffer event.
 * Types only, fixed-width fields, no pointers: both sides see the same
 * bytes. Addresses are kept in network order, IPv4 as ::ffff:a.b.c.d where
 * one 16-byte key serves both families (the attack and rate maps).
 *
 * The SYN-cookie layout (TG_PT_CK_*) is documented here because the
 * control plane's tests decode it too; docs/design.md ("Inline defence")
 * explains the choices.
 */
#ifndef TG_BPF_PROTECT_H
#define TG_BPF_PROTECT_H

#ifdef __bpf__
typedef __u8 tg_u8;
typedef __u16 tg_u16;
typedef __u32 tg_u32;
typedef __u64 tg_u64;
#else
#include <stdint.h>
typedef uint8_t tg_u8;
typedef uint16_t tg_u16;
typedef uint32_t tg_u32;
typedef uint64_t tg_u64;
#endif

/* SYN protection modes (tg_pt_cfg.mode). Keep tg_pt_mode_str in step. */
enum tg_pt_mode {
	TG_PT_OFF = 0,          /* SYNs go to the kernel untouched */
	TG_PT_ALWAYS,           /* every SYN to a protected port gets a cookie */
	TG_PT_AUTO,             /* cookies only for destinations in the attack map */
	TG_PT__MODE_COUNT
};

/* Cookie ISN, 32 bits, most significant first:
 *   | hash 21 | time 2 | mss index 3 | ecn 1 | sack 1 | wscale 4 |
 * wscale 0xf means the SYN offered no window scale. The time is
 * ktime >> TG_PT_CK_EPOCH_SHIFT (about 68.7 s); an ACK is accepted in the
 * epoch of its SYN and the next one. With timestamps, 8 more hash bits sit
 * in the low byte of the SYN-ACK's TSval, which the client echoes. */
#define TG_PT_CK_WS_MASK      0x0fu
#define TG_PT_CK_SACK         0x10u
#define TG_PT_CK_ECN          0x20u
#define TG_PT_CK_MSS_SHIFT    6
#define TG_PT_CK_MSS_MASK     0x7u
#define TG_PT_CK_T_SHIFT      9
#define TG_PT_CK_T_MASK       0x3u
#define TG_PT_CK_HASH_SHIFT   11
#define TG_PT_CK_EPOCH_SHIFT  36
#define TG_PT_TS_HASH_MASK    0xffu

/* Counters (per CPU, summed by the control plane). Keep
 * tg_pt_counter_str in step. */
enum tg_pt_counter {
	TG_PT_C_PACKETS = 0,    /* every frame the XDP program saw */
	TG_PT_C_PASS,           /* handed to the stack untouched */
	TG_PT_C_ALLOW,          /* source on the allowlist */
	TG_PT_C_DENY,           /* dropped: denylist rule */
	TG_PT_C_BAN,            /* dropped: banned source */
	TG_PT_C_SYN_COOKIE,     /* SYN answered with a cookie SYN-ACK */
	TG_PT_C_SYN_PASS,       /* SYN to a protected port passed (off, auto calm) */
	TG_PT_C_SYN_ODD,        /* SYN passed: IP options, fragment or no room */
	TG_PT_C_ACK_COOKIE_OK,  /* ACK carried a valid cookie: handed on */
	TG_PT_C_ACK_COOKIE_BAD, /* ACK to a listener with a bad cookie: dropped */
	TG_PT_C_ACK_PASS,       /* ACK of a known socket or left to the kernel */
	TG_PT_C_META_FAIL,      /* no room for metadata: ACK passed bare */
	TG_PT_C_BS_RST,         /* unsolicited SYN-ACK answered with RST */
	TG_PT_C_BS_DROP,        /* unsolicited SYN-ACK over the RST rate: dropped */
	TG_PT_C_TC_ASSIGN,      /* TC: request socket created from a cookie */
	TG_PT_C_TC_FAIL,        /* TC: no listener or the kernel refused */
	TG_PT_C_SAMPLE_LOST,    /* cookie SYN not copied: sample ring full */
	TG_PT_C__COUNT
};

/* Configuration, one entry in the "cfg" array map. */
struct tg_pt_cfg {
	tg_u64 key[2];          /* SipHash key of the cookies */
	tg_u8 mode;             /* enum tg_pt_mode */
	tg_u8 backscatter;      /* 1: RST unsolicited SYN-ACKs */
	tg_u8 wscale;           /* the server's own window scale (SYN-ACK) */
	tg_u8 sack_ok;          /* net.ipv4.tcp_sack */
	tg_u8 ts_ok;            /* net.ipv4.tcp_timestamps */
	tg_u8 ecn_ok;           /* net.ipv4.tcp_ecn != 0 */
	tg_u8 ws_ok;            /* net.ipv4.tcp_window_scaling */
	tg_u8 sample;           /* 1: copy each cookie SYN to the sample ring */
	tg_u16 mss4;            /* MSS the server announces over IPv4 */
	tg_u16 mss6;
	tg_u32 bs_rate_pps;     /* backscatter RSTs per second, per CPU */
	tg_u32 bs_burst;
};

/* LPM-trie keys (prefixlen counts bits of addr). */
struct tg_pt_key4 {
	tg_u32 prefixlen;
	tg_u8 addr[4];
};

struct tg_pt_key6 {
	tg_u32 prefixlen;
	tg_u8 addr[16];
};

#define TG_PT_RULE_BAN 0x1      /* a ban from the control plane */

/* Value of allow/deny entries. */
struct tg_pt_rule {
	tg_u32 id;              /* index into the "hits" map (0: bans) */
	tg_u32 flags;           /* TG_PT_RULE_* */
	tg_u64 expires_ns;      /* CLOCK_MONOTONIC; 0: never */
};

#define TG_PT_MAX_RULES 4096

/* Key of the SYN-rate map. */
struct tg_pt_addr {
	tg_u8 addr[16];
};

/* Key of the attack map: a destination and port (host order; 0: every
 * protected port of the address). */
struct tg_pt_dst {
	tg_u8 addr[16];
	tg_u16 port;
	tg_u16 pad;
};

/* Sample-ring record: the head of a SYN that XDP answered with a cookie,
 * which therefore never reaches a capture after XDP. The control plane
 * feeds it to the engine so the detector still sees the flood. */
#define TG_PT_SAMPLE_LEN 128
struct tg_pt_sample {
	tg_u64 ts_ns;           /* CLOCK_MONOTONIC */
	tg_u32 len;             /* frame length */
	tg_u32 cap;             /* bytes in data */
	tg_u8 data[TG_PT_SAMPLE_LEN];
};

/* Ring-buffer event: a source proved its address (a valid cookie ACK). */
struct tg_pt_event {
	tg_u8 addr[16];         /* the source */
	tg_u16 dport;           /* host order */
	tg_u16 kind;            /* 1: cookie verified */
	tg_u32 pad;
};

/* XDP → TC hand-over in the packet's metadata: the options a valid cookie
 * encoded, for bpf_sk_assign_tcp_reqsk(). */
#define TG_PT_META_MAGIC 0x7467636bu  /* "tgck" */
struct tg_pt_meta {
	tg_u32 magic;
	tg_u32 tsval;           /* client's TSval in the ACK */
	tg_u32 tsecr;           /* our TSval it echoes */
	tg_u16 mss;
	tg_u8 snd_wscale;       /* the client's */
	tg_u8 rcv_wscale;       /* ours */
	tg_u8 wscale_ok;
	tg_u8 sack_ok;
	tg_u8 tstamp_ok;
	tg_u8 ecn_ok;
};

/* The kernel's struct bpf_tcp_req_attrs (Linux 6.9+), same layout. */
struct tg_pt_req_attrs {
	tg_u32 rcv_tsval;
	tg_u32 rcv_tsecr;
	tg_u16 mss;
	tg_u8 rcv_wscale;
	tg_u8 snd_wscale;
	tg_u8 ecn_ok;
	tg_u8 wscale_ok;
	tg_u8 sack_ok;
	tg_u8 tstamp_ok;
	tg_u8 usec_ts_ok;
	tg_u8 reserved[3];
};

#endif
