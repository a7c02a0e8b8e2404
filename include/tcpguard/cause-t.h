/* SPDX-License-Identifier: MIT */
/*
 * Types of the end-cause diagnosis: why a session ended, in words a
 * network engineer uses, and the packet evidence behind the verdict. The
 * evidence is filled as packets pass: a snapshot of the first reset with
 * the sender's own earlier TTL and IP ID, plus a few facts about what
 * came before and after it. docs/end-reasons.md is the manual for these.
 */
#ifndef TG_CAUSE_T_H
#define TG_CAUSE_T_H

#include <stdint.h>

enum tg_cause {
	TG_CAUSE_GRACEFUL = 0,          /* FIN both ways */
	TG_CAUSE_PORT_CLOSED,           /* RST answering a SYN */
	TG_CAUSE_MIDDLEBOX_RESET,       /* RST not sent by the endpoint it names */
	TG_CAUSE_ABORTIVE_CLOSE,        /* endpoint reset instead of FIN, nothing pending */
	TG_CAUSE_CLOSE_WITH_UNREAD_DATA,/* reset with the peer's data left unanswered */
	TG_CAUSE_RESET_AFTER_CLOSE,     /* data arrived after this side's FIN */
	TG_CAUSE_RESET_AFTER_FIN,       /* stray reset after both FINs */
	TG_CAUSE_HALF_OPEN_PEER_LOST,   /* peer no longer knew the connection */
	TG_CAUSE_ZERO_WINDOW_STALL,     /* ended while a receiver's window was shut */
	TG_CAUSE_IDLE_TIMEOUT,          /* established, then silent past the timer */
	TG_CAUSE_HANDSHAKE_ABORT,       /* reset before the handshake completed */
	TG_CAUSE_UNSOLICITED_SYNACK,    /* SYN-ACK for a SYN nobody here sent */
	TG_CAUSE_OUT_OF_WINDOW_RESET,   /* reset outside the receiver's window */
	TG_CAUSE_SERVER_CLOSED_IMMEDIATELY, /* responder FIN right after handshake, no data */
	TG_CAUSE_HALF_CLOSED,           /* one FIN, then silence until the timer */
	TG_CAUSE_NO_ANSWER,             /* SYN never answered */
	TG_CAUSE_AGED_OUT,              /* timer ran out in another state */
	TG_CAUSE_STILL_OPEN,            /* capture ended first */
	TG_CAUSE_EVICTED,               /* flow table full */
	TG_CAUSE_REUSED,                /* a new SYN replaced it */
	TG_CAUSE_UNKNOWN,
	TG_CAUSE__COUNT
};

/* Where a reset's sequence number fell against what the receiver had
 * acknowledged and advertised (RFC 5961 §3.2). */
enum tg_rst_seq {
	TG_RST_SEQ_UNKNOWN = 0,         /* receiver had acknowledged nothing */
	TG_RST_SEQ_EXACT,               /* == RCV.NXT: accepted at once */
	TG_RST_SEQ_IN_WINDOW,           /* accepted only after a challenge ACK */
	TG_RST_SEQ_OUT_OF_WINDOW,       /* dropped by the receiver */
	TG_RST_SEQ__COUNT
};

/* Evidence flags (tg_evidence.flags). Bits named _0/_1 belong to the
 * originator/responder. */
#define TG_EV_HAVE_RST        0x00001 /* rst_* fields are filled */
#define TG_EV_RST_ACK         0x00002 /* the reset carried ACK */
#define TG_EV_RST_TS          0x00004 /* the reset carried a timestamp option */
#define TG_EV_RST_DF          0x00008 /* the reset had DF set */
#define TG_EV_TS_0            0x00010 /* its packets carried timestamps */
#define TG_EV_TS_1            0x00020
#define TG_EV_DF_0            0x00040 /* its packets had DF set */
#define TG_EV_DF_1            0x00080
#define TG_EV_ANY_DATA        0x00100
#define TG_EV_LAST_DATA_1     0x00200 /* the latest payload came from the responder */
#define TG_EV_LAST_PKT_1      0x00400 /* the latest packet came from the responder */
#define TG_EV_DATA_AFTER_FIN_0 0x00800 /* responder sent new data after originator's FIN */
#define TG_EV_DATA_AFTER_FIN_1 0x01000 /* originator sent new data after responder's FIN */
#define TG_EV_PREV_FROM_PEER  0x02000 /* the packet before the reset came from its receiver */
#define TG_EV_FIN_BOTH_BEFORE 0x04000 /* both sides had sent FIN before the reset */
#define TG_EV_FIN_SENDER_BEFORE 0x08000 /* the reset's sender had sent FIN before it */
#define TG_EV_ZW_AT_RST       0x10000 /* a zero-window episode was open at the reset */
#define TG_EV_SYNACK_FIRST    0x20000 /* the session began with a SYN-ACK */
#define TG_EV_ESTABLISHED     0x40000 /* the originator acknowledged a SYN-ACK */
#define TG_EV_TS_GAP_0        0x80000 /* a packet of its without timestamps */
#define TG_EV_TS_GAP_1        0x100000
#define TG_EV_OOW_BEFORE      0x200000 /* an out-of-window reset came before the one kept */
/* In the session record only (struct tg_ev_live): the shift each side's
 * last window was scaled by, four bits from bit 22 (originator) and from
 * bit 26 (responder). */
#define TG_EV_WSHIFT_AT(dir)  (22 + 4 * (dir))
#define TG_EV_WSHIFTS         (0xffu << 22)

/* The first reset a session saw (or the first its receiver could accept),
 * photographed with what its sender and receiver had done up to then.
 * Kept in the flow table's side pool (struct tg_rare), which a session
 * draws on only once it sees a reset or another rare event. */
struct tg_rst_photo {
	uint32_t rst_pkt;               /* frame number of the first reset (low 32 bits) */
	uint32_t rst_gap_us;            /* time since the packet before it, saturating */
	uint32_t trig_gap_us;           /* silence before that packet, saturating */
	int32_t rst_seq_off;            /* its seq minus what the receiver acknowledged */
	uint32_t rst_rcv_win;           /* receiver's last window, scaled */
	uint32_t pend_to;               /* receiver's data the sender had not acknowledged */
	uint32_t pend_from;             /* sender's data the receiver had not acknowledged */
	uint16_t rst_ipid;
	uint16_t ipid_before;           /* sender's IP ID on its packet before the reset */
	uint16_t rst_win;
	uint8_t rst_dir;                /* 0 originator, 1 responder */
	uint8_t rst_ttl;
	uint8_t ttl_min_before;         /* the sender's TTL range before the reset */
	uint8_t ttl_max_before;
	uint8_t sent_before;            /* the sender had sent packets before it */
	uint8_t after_pkts;             /* sender's non-RST packets after the reset */
	uint8_t rst_count;              /* resets from either side, saturating */
	uint8_t rst_seq_class;          /* enum tg_rst_seq */
	uint8_t flags_before;           /* TCP flags the sender had sent before it */
};

/* Per-direction state of events most sessions never have: zero windows,
 * data out of order or never seen, retransmissions, bad checksums,
 * resets, a SYN anywhere but at the start of its sequence space. Side
 * pool too. */
struct tg_dir_rare {
	uint32_t hist_syn;      /* relative seq of the last SYN and RST, for */
	uint32_t hist_rst;      /* Zeek's history repeat rule (0: none yet) */
	uint32_t above;         /* bytes seen beyond a hole above reassem */
	uint32_t zw_start_ms;   /* open zero-window episode start, from first_ns */
	uint32_t zw_total_ms;   /* zero-window time over closed episodes */
	uint16_t zw_episodes;
	uint16_t zw_probes;     /* probes sent by the peer into the zero window */
	uint16_t zw_adv;        /* zero-window advertisements (W), saturating */
	uint16_t csum_bad;      /* bad checksums (C), saturating */
	uint32_t rxmit;         /* payload packets that did not advance seq */
	uint32_t missed;        /* bytes acknowledged but never seen */
	uint16_t gaps;          /* content gaps (G), saturating */
};

/* One entry of the side pool: what a session keeps once something rare
 * happened to it. [0] is the originator, [1] the responder. */
struct tg_rare {
	struct tg_dir_rare d[2];
	struct tg_rst_photo r;          /* valid with TG_EV_HAVE_RST */
	uint32_t resp_fin_ms;           /* see tg_evidence; kept only while the
	                                 * responder had sent no data */
	uint32_t owner;                 /* the flow table's: its session, index + 1 */
};

/* Evidence every packet updates; it lives in the session record. */
struct tg_ev_live {
	uint32_t flags;                 /* TG_EV_*, with TG_EV_WSHIFTS */
	uint16_t win_last[2];           /* each side's last window, as sent */
	uint32_t last_gap_us;           /* gap before the latest packet */
};

/* Side @dir's last window, scaled as it was when sent. */
static inline uint32_t tg_ev_win_last(const struct tg_ev_live *ev, int dir)
{
	return (uint32_t)ev->win_last[dir] << (ev->flags >> TG_EV_WSHIFT_AT(dir) & 0xf);
}

/* All the evidence of one ended session, as the engine hands it out:
 * the running part, the reset photograph and the rare counters (zero
 * when the session never needed them). */
struct tg_evidence {
	uint32_t flags;                 /* TG_EV_* */
	uint32_t win_last[2];           /* each side's last window, scaled */
	uint32_t last_gap_us;
	uint32_t resp_fin_ms;           /* the responder's first FIN, from the
	                                 * start, + 1, when it had sent no data
	                                 * by then; else 0 */
	struct tg_rst_photo r;          /* valid with TG_EV_HAVE_RST */
	struct tg_dir_rare d[2];        /* [0] originator, [1] responder */
};

/* The verdict on one ended session; tg_cause_describe words it. */
struct tg_cause_info {
	enum tg_cause cause;
};

#endif
