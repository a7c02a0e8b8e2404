/* SPDX-License-Identifier: MIT */
/*
 * Engine harness shared by the timeline tests: an engine whose on_end
 * callback copies every ended session into an array, and a helper that
 * builds one decoded TCP packet (struct tg_pkt) of a client/server pair
 * at a time given in milliseconds, so a test reads as a packet timeline:
 * who sends, when, flags, seq, ack, payload length. Tests only.
 */
#ifndef TG_TESTS_HARNESS_H
#define TG_TESTS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tcpguard/engine.h"

#define H_MAX_ENDED 64
/* An arbitrary capture start, so no timestamp is near zero. */
#define H_T0_NS (1700000000ull * 1000000000ull)
#define H_MS(ms) (H_T0_NS + (uint64_t)(ms) * 1000000ull)

struct h_ended {
	struct tg_session s[H_MAX_ENDED];
	struct tg_evidence ev[H_MAX_ENDED];
	struct tg_cause_info cause[H_MAX_ENDED];
	unsigned n;
	char hist[H_MAX_ENDED][TG_HIST_MAX + 1];
};

/* One TCP conversation's endpoints. */
struct h_conv {
	struct tg_addr cli;
	struct tg_addr srv;
	uint16_t cport;
	uint16_t sport;
};

static inline void h_on_end(void *ctx, const struct tg_session *s,
			    const struct tg_evidence *ev,
			    const struct tg_cause_info *c)
{
	struct h_ended *o = ctx;

	if (o->n >= H_MAX_ENDED)
		return;
	o->s[o->n] = *s;
	o->ev[o->n] = *ev;
	o->cause[o->n] = *c;
	memcpy(o->hist[o->n], s->hist, s->hist_len);
	o->hist[o->n][s->hist_len] = '\0';
	o->n++;
}

/* A new engine reporting into @o, with room for @max_flows sessions
 * (0: 4096, plenty for a test and light under ASan). */
static inline struct tg_engine *h_engine(struct h_ended *o, uint32_t max_flows)
{
	struct tg_engine_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	memset(o, 0, sizeof(*o));
	cfg.max_flows = max_flows ? max_flows : 4096;
	cfg.on_end = h_on_end;
	cfg.cb_ctx = o;
	return tg_engine_new(&cfg);
}

static inline struct tg_addr h_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct tg_addr x = { .b = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff} };

	x.b[12] = a;
	x.b[13] = b;
	x.b[14] = c;
	x.b[15] = d;
	return x;
}

/* 10.0.0.1:@cport -> 10.0.0.2:@sport. */
static inline struct h_conv h_conv(uint16_t cport, uint16_t sport)
{
	struct h_conv c = {
		.cli = h_v4(10, 0, 0, 1), .srv = h_v4(10, 0, 0, 2),
		.cport = cport, .sport = sport,
	};

	return c;
}

/* The packet @c2s (client to server) or back, at @ms, IPv4, no options,
 * window 65535 unless changed by the caller. */
static inline struct tg_pkt h_pkt(const struct h_conv *c, bool c2s, uint64_t ms,
				  uint8_t flags, uint32_t seq, uint32_t ack,
				  uint32_t len)
{
	static const uint8_t zeros[4096];
	struct tg_pkt p;

	memset(&p, 0, sizeof(p));
	p.ts_ns = H_MS(ms);
	p.src = c2s ? c->cli : c->srv;
	p.dst = c2s ? c->srv : c->cli;
	p.sport = c2s ? c->cport : c->sport;
	p.dport = c2s ? c->sport : c->cport;
	p.ip_ver = 4;
	p.ttl = 64;
	p.tcp_flags = flags;
	p.ip_len = 40 + len;
	p.payload_len = len;
	p.payload_cap = len;
	p.payload = len <= sizeof(zeros) ? zeros : NULL;
	if (!p.payload)
		p.payload_cap = 0;
	p.seq = seq;
	p.ack = ack;
	p.win = 65535;
	p.tcp_hdr_len = 20;
	p.cap_len = p.wire_len = 14 + p.ip_len;
	return p;
}

static inline void h_tx(struct tg_engine *e, const struct h_conv *c, bool c2s,
			uint64_t ms, uint8_t flags, uint32_t seq, uint32_t ack,
			uint32_t len)
{
	struct tg_pkt p = h_pkt(c, c2s, ms, flags, seq, ack, len);

	tg_engine_feed_pkt(e, &p);
}

#define H_C2S true
#define H_S2C false
#define H_S TG_TCP_SYN
#define H_SA (TG_TCP_SYN | TG_TCP_ACK)
#define H_A TG_TCP_ACK
#define H_PA (TG_TCP_PSH | TG_TCP_ACK)
#define H_FA (TG_TCP_FIN | TG_TCP_ACK)
#define H_R TG_TCP_RST
#define H_RA (TG_TCP_RST | TG_TCP_ACK)

/* The three-way handshake at @ms, @ms+1, @ms+2: client ISN @ci, server
 * ISN @si. */
static inline void h_handshake(struct tg_engine *e, const struct h_conv *c,
			       uint64_t ms, uint32_t ci, uint32_t si)
{
	h_tx(e, c, H_C2S, ms, H_S, ci, 0, 0);
	h_tx(e, c, H_S2C, ms + 1, H_SA, si, ci + 1, 0);
	h_tx(e, c, H_C2S, ms + 2, H_A, ci + 1, si + 1, 0);
}

#endif
