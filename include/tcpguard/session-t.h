/* SPDX-License-Identifier: MIT */
/*
 * Types of one tracked TCP session: the fixed-size record that lives in the
 * flow table from the first packet to the end, and that the outputs read
 * when the session ends. Everything here is per session and bounded: no
 * pointers, no variable-length parts, so the table is one preallocated
 * array. Field sizes keep the record at 192 bytes, three cache lines
 * (checked at compile time in engine.c); what few sessions need lives
 * in a side pool.
 */
#ifndef TG_SESSION_T_H
#define TG_SESSION_T_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpguard/cause-t.h"
#include "tcpguard/decode-t.h"

/* Per-endpoint TCP state, named and ordered as Zeek's TCP_ENDPOINT_* so
 * conn_state can follow Zeek's rules exactly. */
enum tg_ep_state {
	TG_EP_INACTIVE = 0,
	TG_EP_SYN_SENT,
	TG_EP_SYN_ACK_SENT,
	TG_EP_PARTIAL,          /* sent data without a SYN we saw */
	TG_EP_ESTABLISHED,
	TG_EP_CLOSED,           /* sent a FIN */
	TG_EP_RESET,            /* sent a RST */
	TG_EP__COUNT
};

/* Zeek conn_state values (scripts/base/protocols/conn/main.zeek). */
enum tg_conn_state {
	TG_CS_S0 = 0, TG_CS_S1, TG_CS_SF, TG_CS_REJ, TG_CS_S2, TG_CS_S3,
	TG_CS_RSTO, TG_CS_RSTR, TG_CS_RSTOS0, TG_CS_RSTRH, TG_CS_SH, TG_CS_SHR,
	TG_CS_OTH,
	TG_CS__COUNT
};

/* PAN-OS style session end reason; the first four are PAN-OS's own words.
 * TG_END_OPEN: the capture (or the run) ended while the session was still
 * open. TG_END_EVICTED: the flow table was full and this session was the
 * one the eviction rule chose. */
enum tg_end_reason {
	TG_END_TCP_FIN = 0,
	TG_END_RST_CLIENT,
	TG_END_RST_SERVER,
	TG_END_AGED_OUT,
	TG_END_TCP_REUSE,       /* a new SYN with another ISN replaced it */
	TG_END_OPEN,
	TG_END_EVICTED,
	TG_END__COUNT
};

/* Timer classes: which idle timeout applies to a session now. Named after
 * the PAN-OS session timeouts. */
enum tg_timer {
	TG_TIMER_INIT = 0,      /* SYN sent, no SYN-ACK yet (tcp-init) */
	TG_TIMER_HANDSHAKE,     /* SYN-ACK seen, handshake not complete */
	TG_TIMER_ESTABLISHED,   /* tcp */
	TG_TIMER_HALF_CLOSED,   /* one side sent FIN */
	TG_TIMER_TIME_WAIT,     /* both FINs, or a RST: linger for late packets */
	TG_TIMER__COUNT
};

/* Per-direction flags (tg_dir.dflags). */
#define TG_DF_DID_CLOSE  0x01   /* Zeek's did_close: its close was processed */
#define TG_DF_FIN_SEEN   0x02   /* sent at least one FIN (Zeek FIN_cnt > 0) */
#define TG_DF_PARTIAL    0x04   /* Zeek's is_partial for this side's start */
#define TG_DF_ZW_OPEN    0x08   /* a zero-window episode is open */
#define TG_DF_GAP_OFF    0x10   /* gap accounting given up (Zeek skip_deliveries) */
#define TG_DF_SENT       0x20   /* at least one packet of its own was processed */

/* Zeek's once-per-direction history letters (tg_dir.hist_seen). */
#define TG_HS_SYN   0x01
#define TG_HS_FIN   0x02
#define TG_HS_RST   0x04
#define TG_HS_FINRST 0x08
#define TG_HS_DATA  0x10
#define TG_HS_ACK   0x20
#define TG_HS_MULTI 0x40

/* One direction of a session, in Zeek's TCP_Endpoint terms: sequence
 * numbers are absolute 32-bit values plus a wrap count, so byte counts
 * stay right past 4 GiB. 44 bytes, 4-byte aligned (the IP byte count is
 * split in a 32-bit and a 16-bit word for that; use tg_dir_ip_bytes).
 * What few sessions need is in the side pool: struct tg_dir_rare
 * (retransmissions, content gaps, zero windows, ...). */
struct tg_dir {
	uint32_t ip_bytes_lo;   /* sum of IP lengths (Zeek *_ip_bytes) */
	uint32_t isn;           /* Zeek start_seq */
	uint32_t last_seq;      /* highest seq+len sent (Zeek last_seq) */
	uint32_t ack_seq;       /* highest ACK the peer sent for this data */
	uint32_t reassem;       /* in-order data delivered up to (abs seq) */
	uint32_t pkts;
	uint32_t fin_rel;       /* relative seq one past the FIN (Zeek FIN_seq) */
	uint16_t seq_wraps;
	uint16_t ack_wraps;
	uint16_t ip_bytes_hi;   /* bits 32-47 of the IP byte count */
	uint16_t ipid_last;
	uint8_t ttl_min;
	uint8_t ttl_max;
	uint8_t state;          /* enum tg_ep_state */
	uint8_t prev_state;
	uint8_t wscale;         /* window scale it announced, 0xff when none */
	uint8_t flags_seen;     /* OR of TCP flags it sent */
	uint8_t hist_seen;      /* TG_HS_* */
	uint8_t dflags;         /* TG_DF_* */
};

#define TG_HIST_MAX 16

/* Session flags. */
#define TG_SF_FLIPPED     0x01  /* Zeek's role flip happened ('^') */
#define TG_SF_ORIG_CLOSED_FIRST 0x02
#define TG_SF_RESP_CLOSED_FIRST 0x04
#define TG_SF_HIST_TRUNC  0x08  /* history longer than TG_HIST_MAX */
#define TG_SF_LAST_FROZEN 0x10  /* both sides closed: duration stops */
#define TG_SF_RST_ORIG_FIRST 0x20 /* the first RST came from the originator */
#define TG_SF_RST_RESP_FIRST 0x40
#define TG_SF_CLOSE_DONE  0x80  /* a close completed it (Zeek close_complete) */

struct tg_session {
	uint64_t first_ns;
	uint64_t last_ns;       /* Zeek's last_time: frozen once both closed */
	/* Identity: addresses and ports in originator/responder order. */
	struct tg_addr orig_h;
	struct tg_addr resp_h;
	uint16_t orig_p;
	uint16_t resp_p;
	/* Flow-table links (indices + 1; 0 is none). */
	uint32_t hnext;
	uint32_t lprev;
	uint32_t lnext;
	uint32_t rare;          /* side-pool entry (index + 1; 0 is none) */
	uint8_t timer;          /* enum tg_timer */
	uint8_t flags;          /* TG_SF_* */
	uint8_t end;            /* enum tg_end_reason, set when it ends */
	uint8_t hist_len;
	char hist[TG_HIST_MAX]; /* not NUL-terminated: hist_len says */
	uint32_t close_ms;      /* when TG_SF_CLOSE_DONE was set, from first_ns */
	struct tg_ev_live ev;
	struct tg_dir d[2];     /* [0] originator, [1] responder */
};

static inline uint64_t tg_dir_ip_bytes(const struct tg_dir *d)
{
	return (uint64_t)d->ip_bytes_hi << 32 | d->ip_bytes_lo;
}

/* 48 bits: 256 TiB in one direction of one session; it stops there. */
static inline void tg_dir_add_ip_bytes(struct tg_dir *d, uint32_t n)
{
	uint32_t lo = d->ip_bytes_lo + n;

	if (lo < n) {           /* carried into the high word */
		if (d->ip_bytes_hi < UINT16_MAX)
			d->ip_bytes_hi++;
		else
			lo = UINT32_MAX;
	}
	d->ip_bytes_lo = lo;
}

#endif
