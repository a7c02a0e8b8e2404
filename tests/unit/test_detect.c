// SPDX-License-Identifier: MIT
/*
 * Tests of the attack detector (src/core/detect.c, sig.c), mostly through
 * the engine with detection on, packet timelines built with harness.h:
 * a spoofed SYN flood is found with the right target, window and level,
 * and its signature is measured on a second look at the same packets
 * (precision >= 0.99, recall >= 0.95); a busy server whose clients
 * complete their handshakes, and a server whose learned baseline is high,
 * raise nothing; a flood whose signature would also match clients that
 * completed a handshake is never proposed for dropping; scans and brute
 * force are found from ended sessions; and ten million distinct spoofed
 * sources fit in the fixed tables (the count-min sketch admits none of
 * them, HyperLogLog still counts them); live use reports each alert's
 * start, updates and end with one id.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tcpguard/detect.h"
#include "tcpguard/engine.h"
#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#define MAX_ALERTS 16

struct got {
	struct tg_alert a[MAX_ALERTS];
	unsigned n;
};

static void on_alert(void *ctx, const struct tg_alert *a)
{
	struct got *g = ctx;

	if (g->n < MAX_ALERTS)
		g->a[g->n++] = *a;
}

/* The alerts first: the engine callbacks get the rig as context. */
struct rig {
	struct got got;
	struct tg_engine *e;
	struct tg_pkt *pkts;    /* everything fed, for the measuring pass */
	size_t n;
	size_t cap;
};

static void ended_cb(void *ctx, const struct tg_session *s,
		     const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	(void)s;
	(void)ev;
	(void)c;
	(void)ctx;
}

static void rig_init(struct rig *r, const struct tg_detect_cfg *dc)
{
	struct tg_engine_cfg cfg;

	memset(r, 0, sizeof(*r));
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_flows = 1 << 16;
	cfg.on_end = ended_cb;
	cfg.on_alert = on_alert;
	cfg.cb_ctx = r;
	if (dc)
		cfg.detect = *dc;
	else
		tg_detect_cfg_default(&cfg.detect);
	r->e = tg_engine_new(&cfg);
	assert_non_null(r->e);
	assert_non_null(tg_engine_detect(r->e));
}

static void feed(struct rig *r, const struct tg_pkt *p)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4096;
		r->pkts = realloc(r->pkts, r->cap * sizeof(*p));
		assert_non_null(r->pkts);
	}
	r->pkts[r->n++] = *p;
	tg_engine_feed_pkt(r->e, p);
}

/* Finish, measure on the same packets, report. */
static void rig_done(struct rig *r)
{
	struct tg_detect *d = tg_engine_detect(r->e);

	tg_engine_finish(r->e);
	if (tg_detect_wants_measure(d))
		for (size_t i = 0; i < r->n; i++)
			tg_detect_measure(d, &r->pkts[i]);
	tg_detect_flush(d, true);
}

static void rig_free(struct rig *r)
{
	tg_engine_free(r->e);
	free(r->pkts);
}

/* A spoofed SYN as a flooding tool writes it: TTL 64, window 512, no
 * options, from 10.98.x.y. */
static struct tg_pkt flood_syn(uint32_t i, uint64_t ms, uint16_t dport)
{
	struct h_conv c = h_conv((uint16_t)(1024 + i % 60000), dport);
	struct tg_pkt p;

	c.cli = h_v4(10, 98, (uint8_t)(i >> 8), (uint8_t)i);
	p = h_pkt(&c, H_C2S, ms, H_S, i * 7919u, 0, 0);
	p.win = 512;
	p.ttl = 64;
	return p;
}

/* A complete handshake from a real client: TTL 55, window 29200,
 * 20 option bytes in its SYN. */
static void legit(struct rig *r, uint32_t i, uint64_t ms, uint16_t dport, bool like_flood)
{
	struct h_conv c = h_conv((uint16_t)(30000 + i % 30000), dport);
	struct tg_pkt p;

	c.cli = h_v4(10, 1, (uint8_t)(i >> 8), (uint8_t)i);
	p = h_pkt(&c, H_C2S, ms, H_S, 1000, 0, 0);
	if (!like_flood) {
		p.ttl = 55;
		p.win = 29200;
		p.tcp_hdr_len = 40;
		p.ip_len = 60;
	} else {
		p.win = 512;
	}
	feed(r, &p);
	p = h_pkt(&c, H_S2C, ms, H_SA, 5000, 1001, 0);
	feed(r, &p);
	p = h_pkt(&c, H_C2S, ms, H_A, 1001, 5001, 0);
	p.ttl = like_flood ? 64 : 55;
	feed(r, &p);
}

static void flood(struct rig *r, uint64_t from_ms, uint64_t to_ms, unsigned pps,
		  uint32_t *idx)
{
	uint64_t step_us = 1000000 / pps;

	for (uint64_t us = from_ms * 1000; us < to_ms * 1000; us += step_us) {
		struct tg_pkt p = flood_syn((*idx)++, 0, 80);

		p.ts_ns = H_T0_NS + us * 1000;
		feed(r, &p);
	}
}

static void test_syn_flood_found_and_measured(void **state)
{
	struct rig r;
	uint32_t idx = 0;
	const struct tg_alert *a;

	(void)state;
	rig_init(&r, NULL);
	for (uint32_t i = 0; i < 40; i++)
		legit(&r, i, i * 100, 80, false);
	/* 1500 SYN/s for 3 s, a real client every 70 ms among them. */
	for (uint32_t ms = 4000, i = 40; ms < 7000; ms += 70, i++) {
		flood(&r, ms, ms + 70 < 7000 ? ms + 70 : 7000, 1500, &idx);
		legit(&r, i, ms + 69, 80, false);
	}
	rig_done(&r);
	assert_int_equal(r.got.n, 1);
	a = &r.got.a[0];
	assert_int_equal(a->kind, TG_AK_SYN_FLOOD);
	assert_memory_equal(a->target.b, h_v4(10, 0, 0, 2).b, 16);
	assert_int_equal(a->target_port, 80);
	assert_int_equal(a->level, TG_AL_ACTIVATE);
	assert_true(a->start_ns >= H_MS(4000) && a->start_ns < H_MS(4010));
	assert_true(a->end_ns >= H_MS(6990) && a->end_ns <= H_MS(7000));
	assert_true(a->peak_pps >= 1400 && a->peak_pps <= 1600);
	assert_true(a->distinct_src > 3000 && a->distinct_src < 6000);
	assert_true(a->has_sig && a->sig.measured);
	assert_true(a->sig.fields & TG_SIG_DST);
	assert_true(a->sig.fields & TG_SIG_WIN);
	assert_int_equal(a->sig.win, 512);
	assert_true((double)a->sig.tp / (double)(a->sig.tp + a->sig.fp) >= 0.99);
	assert_true((double)a->sig.tp / (double)(a->sig.tp + a->sig.fn) >= 0.95);
	assert_int_equal(a->sig.fp_completed, 0);
	assert_true(a->sig.block_ok);
	rig_free(&r);
}

static void test_busy_server_no_alert(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r, NULL);
	/* 2000 handshakes a second for 3 s, every one completes. */
	for (uint32_t i = 0; i < 6000; i++)
		legit(&r, i, i / 2, 443, false);
	rig_done(&r);
	assert_int_equal(r.got.n, 0);
	rig_free(&r);
}

static void test_baseline_raises_threshold(void **state)
{
	struct rig r;
	uint32_t idx = 0;

	(void)state;
	rig_init(&r, NULL);
	/* Learn 80 SYN/s of unanswered SYNs (below the static alarm)... */
	flood(&r, 0, 30000, 80, &idx);
	/* ... then 200/s: above the static 100, below 3 x baseline. */
	flood(&r, 30000, 33000, 200, &idx);
	rig_done(&r);
	assert_int_equal(r.got.n, 0);
	rig_free(&r);

	rig_init(&r, NULL);
	idx = 0;
	flood(&r, 0, 30000, 80, &idx);
	flood(&r, 30000, 33000, 2000, &idx);
	rig_done(&r);
	assert_int_equal(r.got.n, 1);
	assert_true(r.got.a[0].baseline_pps > 60 && r.got.a[0].baseline_pps < 100);
	assert_true(r.got.a[0].start_ns >= H_MS(30000));
	rig_free(&r);
}

static void test_levels(void **state)
{
	struct rig r;
	uint32_t idx = 0;

	(void)state;
	rig_init(&r, NULL);
	flood(&r, 0, 2000, 500, &idx);
	rig_done(&r);
	assert_int_equal(r.got.n, 1);
	assert_int_equal(r.got.a[0].level, TG_AL_ALARM);
	assert_int_equal(r.got.a[0].level_ns[TG_AL_ACTIVATE], 0);
	rig_free(&r);

	rig_init(&r, NULL);
	idx = 0;
	flood(&r, 0, 2000, 20000, &idx);
	rig_done(&r);
	assert_int_equal(r.got.n, 1);
	assert_int_equal(r.got.a[0].level, TG_AL_MAXIMUM);
	assert_true(r.got.a[0].level_ns[TG_AL_MAXIMUM] == H_MS(1000));
	rig_free(&r);
}

static void test_never_block_completed_sources(void **state)
{
	struct rig r;
	uint32_t idx = 0;

	(void)state;
	rig_init(&r, NULL);
	/* Real clients whose SYNs look exactly like the flood's. */
	for (uint32_t ms = 0, i = 0; ms < 3000; ms += 50, i++) {
		flood(&r, ms, ms + 50, 1500, &idx);
		legit(&r, i, ms + 49, 80, true);
	}
	rig_done(&r);
	assert_int_equal(r.got.n, 1);
	assert_true(r.got.a[0].sig.measured);
	assert_true(r.got.a[0].sig.fp_completed > 0);
	assert_false(r.got.a[0].sig.block_ok);
	rig_free(&r);
}

/* The reference for tg_detect_measure_wants: any alert with a signature
 * whose time holds @t. */
static bool wants_ref(const struct got *g, uint64_t t)
{
	for (unsigned i = 0; i < g->n; i++)
		if (g->a[i].has_sig && t >= g->a[i].start_ns && t <= g->a[i].end_ns)
			return true;
	return false;
}

/* Two floods on two targets, overlapping, and a third later: the merged
 * spans answer as a scan of every alert would, for times that run
 * forward, backward and at random, edges included. */
static void test_measure_spans(void **state)
{
	struct rig r;
	struct tg_detect *d;
	uint32_t idx = 0, seed = 12345;
	uint64_t edges[3 * MAX_ALERTS * 2];
	unsigned ne = 0;

	(void)state;
	rig_init(&r, NULL);
	for (uint32_t i = 0; i < 40; i++)
		legit(&r, i, i * 100, 80, false);
	flood(&r, 4000, 7000, 1500, &idx);
	for (uint64_t us = 5000000; us < 8000000; us += 700) {
		struct tg_pkt p = flood_syn(idx++, 0, 443);

		p.dst = h_v4(10, 0, 0, 3);
		p.ts_ns = H_T0_NS + us * 1000;
		feed(&r, &p);
	}
	flood(&r, 20000, 22000, 1500, &idx);
	rig_done(&r);
	d = tg_engine_detect(r.e);
	assert_true(tg_detect_wants_measure(d));
	assert_true(r.got.n >= 3);
	for (unsigned i = 0; i < r.got.n; i++) {
		edges[ne++] = r.got.a[i].start_ns;
		edges[ne++] = r.got.a[i].end_ns;
	}
	for (uint64_t t = H_MS(0); t < H_MS(25000); t += 7 * 1000000ull)
		assert_int_equal(tg_detect_measure_wants(d, t), wants_ref(&r.got, t));
	for (unsigned i = 0; i < ne; i++)
		for (int k = -1; k <= 1; k++)
			assert_int_equal(tg_detect_measure_wants(d, edges[i] + (uint64_t)k),
					 wants_ref(&r.got, edges[i] + (uint64_t)k));
	for (uint64_t t = H_MS(25000); t > H_MS(0); t -= 11 * 1000000ull)
		assert_int_equal(tg_detect_measure_wants(d, t), wants_ref(&r.got, t));
	for (int i = 0; i < 5000; i++) {
		uint64_t t;

		seed = seed * 1103515245u + 12345u;
		t = H_MS(0) + (uint64_t)(seed >> 8) % 25000000u * 1000u;
		assert_int_equal(tg_detect_measure_wants(d, t), wants_ref(&r.got, t));
	}
	/* A tally of another thread has a cursor of its own: the same
	 * answers, forward then back. */
	{
		struct tg_measure *m = tg_measure_new(d);

		assert_non_null(m);
		for (uint64_t t = H_MS(0); t < H_MS(25000); t += 7 * 1000000ull)
			assert_int_equal(tg_measure_wants(m, t), wants_ref(&r.got, t));
		for (uint64_t t = H_MS(25000); t > H_MS(0); t -= 11 * 1000000ull)
			assert_int_equal(tg_measure_wants(m, t), wants_ref(&r.got, t));
		tg_measure_free(m);
	}
	rig_free(&r);
}

static void test_vertical_scan(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r, NULL);
	for (uint16_t port = 1; port <= 200; port++) {
		struct h_conv c = h_conv(45000, port);

		c.cli = h_v4(10, 97, 0, 66);
		h_tx(r.e, &c, H_C2S, port * 10, H_S, 77, 0, 0);
		h_tx(r.e, &c, H_S2C, port * 10 + 1, H_RA, 0, 78, 0);
	}
	rig_done(&r);
	assert_int_equal(r.got.n, 1);
	assert_int_equal(r.got.a[0].kind, TG_AK_SCAN_VERTICAL);
	assert_memory_equal(&r.got.a[0].source, h_v4(10, 97, 0, 66).b, 16);
	assert_true(r.got.a[0].sig.block_ok);
	assert_true(r.got.a[0].distinct_ports > 150);
	rig_free(&r);
}

static void test_brute_force(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r, NULL);
	for (uint32_t i = 0; i < 40; i++) {
		struct h_conv c = h_conv((uint16_t)(50000 + i), 22);
		uint64_t ms = i * 1000;

		h_handshake(r.e, &c, ms, 100, 900);
		h_tx(r.e, &c, H_S2C, ms + 5, H_PA, 901, 101, 40);
		h_tx(r.e, &c, H_C2S, ms + 6, H_PA, 101, 941, 100);
		h_tx(r.e, &c, H_S2C, ms + 300, H_FA, 941, 201, 0);
		h_tx(r.e, &c, H_C2S, ms + 301, H_FA, 201, 942, 0);
		h_tx(r.e, &c, H_S2C, ms + 302, H_A, 942, 202, 0);
	}
	rig_done(&r);
	assert_int_equal(r.got.n, 1);
	assert_int_equal(r.got.a[0].kind, TG_AK_BRUTE_FORCE);
	assert_int_equal(r.got.a[0].target_port, 22);
	assert_true(r.got.a[0].sessions >= 39);
	rig_free(&r);
}

static void test_sig_match_fields(void **state)
{
	struct tg_sig g;
	struct h_conv c = h_conv(2000, 80);
	struct tg_pkt p = h_pkt(&c, H_C2S, 0, H_S, 1, 0, 0);
	struct tg_addr net = h_v4(10, 0, 0, 0);

	(void)state;
	memset(&g, 0, sizeof(g));
	g.ip_ver = 4;
	g.fields = TG_SIG_FLAGS | TG_SIG_DST | TG_SIG_TTL | TG_SIG_SPORT;
	g.flags = TG_TCP_SYN;
	g.dst = net;
	g.dst_plen = 24;
	g.ttl_lo = 60;
	g.ttl_hi = 64;
	g.sport_lo = 1024;
	g.sport_hi = 2047;
	assert_true(tg_sig_match(&g, &p));
	p.ttl = 65;
	assert_false(tg_sig_match(&g, &p));
	p.ttl = 64;
	p.tcp_flags = H_SA;
	assert_false(tg_sig_match(&g, &p));
	p.tcp_flags = H_S | TG_TCP_ECE;     /* ECE is not part of the match */
	assert_true(tg_sig_match(&g, &p));
	p.dst = h_v4(10, 0, 1, 2);
	assert_false(tg_sig_match(&g, &p));
	assert_true(tg_addr_in_prefix(&p.dst, &net, 16));
	assert_false(tg_addr_in_prefix(&p.dst, &net, 24));
}

/* The detector alone, fed ten million SYNs from distinct spoofed
 * sources (one each, each session ending unanswered): the tables stay
 * as allocated and no source gets state. */
static void test_ten_million_spoofed_sources(void **state)
{
	struct tg_detect_cfg cfg;
	struct got *ctx = calloc(1, sizeof(*ctx));
	struct tg_detect *d;
	struct tg_session s;
	struct h_conv c = h_conv(1, 80);
#ifdef SANITIZED
	const uint32_t n = 2000000;
#else
	const uint32_t n = 10000000;
#endif
	uint64_t mem;

	(void)state;
	assert_non_null(ctx);
	tg_detect_cfg_default(&cfg);
	d = tg_detect_new(&cfg, on_alert, ctx);
	assert_non_null(d);
	mem = tg_detect_stats(d)->memory_bytes;
	assert_true(mem < 64u << 20);
	memset(&s, 0, sizeof(s));
	s.resp_h = c.srv;
	s.resp_p = 80;
	s.d[0].flags_seen = TG_TCP_SYN;
	s.d[0].pkts = 1;
	for (uint32_t i = 0; i < n; i++) {
		struct tg_pkt p;

		c.cli = h_v4((uint8_t)(11 + (i >> 24)), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
			     (uint8_t)i);
		p = h_pkt(&c, H_C2S, 0, H_S, i, 0, 0);
		/* 100 k SYN/s */
		p.ts_ns = H_T0_NS + (uint64_t)i * 10000;
		tg_detect_packet(d, &p, &s, true, true);
		s.orig_h = c.cli;
		s.first_ns = s.last_ns = p.ts_ns;
		tg_detect_session_end(d, &s);
	}
	tg_detect_flush(d, true);
	assert_int_equal(tg_detect_stats(d)->memory_bytes, mem);
	assert_true(tg_detect_stats(d)->entities_used < 16);
	assert_int_equal(tg_detect_stats(d)->admitted, 0);
	assert_int_equal(ctx->n, 1);
	assert_int_equal(ctx->a[0].kind, TG_AK_SYN_FLOOD);
	assert_int_equal(ctx->a[0].level, TG_AL_MAXIMUM);
	/* HyperLogLog with 64 registers: within 40 % of the truth. */
	assert_true(ctx->a[0].distinct_src > n * 0.6 && ctx->a[0].distinct_src < n * 1.4);
	tg_detect_free(d);
	free(ctx);
}

/* Live events: a flood of 8 s, then silence, with update_ms 2000 and a
 * live caller that advances time and flushes after every packet: one
 * start (after the window that crossed the threshold), updates no closer
 * than 2 s apart while it grows, one end once it has been quiet for
 * quiet_ms; the same id in each; and a second flood later still gets its
 * own alert after the first one's slot was reused (max_alerts 1). */
static void test_live_events(void **state)
{
	struct tg_detect_cfg dc;
	struct rig r;
	uint32_t idx = 0;
	uint64_t last_upd = 0;
	unsigned starts = 0, updates = 0, ends = 0;

	(void)state;
	tg_detect_cfg_default(&dc);
	dc.events = true;
	dc.update_ms = 2000;
	dc.max_alerts = 1;
	rig_init(&r, &dc);
	for (uint32_t i = 0; i < 20; i++)
		legit(&r, i, i * 100, 80, false);
	for (uint64_t ms = 3000; ms < 11000; ms += 10) {
		flood(&r, ms, ms + 10, 1000, &idx);
		tg_detect_flush(tg_engine_detect(r.e), false);
	}
	for (uint64_t ms = 11000; ms < 20000; ms += 100) {
		tg_engine_advance(r.e, H_MS(ms));
		tg_detect_flush(tg_engine_detect(r.e), false);
	}
	assert_int_equal(tg_detect_stats(tg_engine_detect(r.e))->alerts_open, 0);
	for (unsigned i = 0; i < r.got.n; i++) {
		const struct tg_alert *a = &r.got.a[i];

		assert_int_equal(a->id, 1);
		assert_int_equal(a->kind, TG_AK_SYN_FLOOD);
		if (a->event == TG_AE_START) {
			assert_int_equal(i, 0);
			assert_true(a->start_ns >= H_MS(3000) && a->start_ns < H_MS(3010));
			assert_true(a->level_ns[TG_AL_ALARM] == H_MS(4000));
			assert_true(a->packets >= 1000 && a->packets < 1100);
			assert_true(a->has_sig && !a->sig.measured);
			last_upd = a->end_ns;
			starts++;
		} else if (a->event == TG_AE_UPDATE) {
			assert_true(starts == 1 && !ends);
			/* update_ms apart, less the window the tick rounds to */
			assert_true(a->end_ns >= last_upd + 1000000000ull);
			assert_true(a->packets > 1000);
			last_upd = a->end_ns;
			updates++;
		} else {
			assert_int_equal(i, r.got.n - 1);
			assert_true(a->end_ns >= H_MS(10990) && a->end_ns < H_MS(11000));
			assert_true(a->packets >= 7900 && a->packets <= 8000);
			assert_false(a->open);
			ends++;
		}
	}
	assert_int_equal(starts, 1);
	assert_int_equal(ends, 1);
	assert_true(updates >= 2 && updates <= 4);
	/* The slot of the first alert is free again. */
	r.got.n = 0;
	for (uint64_t ms = 30000; ms < 33000; ms += 10)
		flood(&r, ms, ms + 10, 1000, &idx);
	rig_done(&r);
	assert_true(r.got.n >= 2);
	assert_int_equal(r.got.a[0].id, 2);
	assert_int_equal(r.got.a[0].event, TG_AE_START);
	assert_int_equal(r.got.a[r.got.n - 1].event, TG_AE_END);
	assert_true(r.got.a[r.got.n - 1].open);
	assert_int_equal(tg_detect_stats(tg_engine_detect(r.e))->alerts_dropped, 0);
	rig_free(&r);
}

/* A second detector fed as a caller that runs detection elsewhere feeds
 * it: tg_detect_packet for the packets tg_detect_packet_heavy names,
 * tg_detect_packet_time for the rest, and every session end. */
struct twin {
	struct rig r;           /* first: the engine's callbacks get the twin */
	struct tg_detect *d2;
	struct got got2;
	unsigned heavy, light;
};

static void twin_packet(void *ctx, const struct tg_pkt *p, const struct tg_session *s,
			bool from_orig, bool created)
{
	struct twin *t = ctx;

	if (tg_detect_packet_heavy(p, s, from_orig)) {
		t->heavy++;
		tg_detect_packet(t->d2, p, s, from_orig, created);
	} else {
		t->light++;
		tg_detect_packet_time(t->d2, p->ts_ns);
	}
}

static void twin_end(void *ctx, const struct tg_session *s,
		     const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	(void)ev;
	(void)c;
	tg_detect_session_end(((struct twin *)ctx)->d2, s);
}

/* A legitimate session with a request, a response and a close. */
static void legit_talk(struct rig *r, uint32_t i, uint64_t ms)
{
	static const struct {
		bool c2s;
		uint8_t flags;
		uint32_t seq, ack, len;
	} steps[] = {
		{ H_C2S, H_S, 1000, 0, 0 },      { H_S2C, H_SA, 5000, 1001, 0 },
		{ H_C2S, H_A, 1001, 5001, 0 },   { H_C2S, H_PA, 1001, 5001, 200 },
		{ H_S2C, H_PA, 5001, 1201, 1400 }, { H_C2S, H_FA, 1201, 6401, 0 },
		{ H_S2C, H_FA, 6401, 1202, 0 },  { H_C2S, H_A, 1202, 6402, 0 },
	};
	struct h_conv c = h_conv((uint16_t)(30000 + i % 30000), 443);

	c.cli = h_v4(10, 2, (uint8_t)(i >> 8), (uint8_t)i);
	for (unsigned k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct tg_pkt p = h_pkt(&c, steps[k].c2s, ms + k, steps[k].flags,
					steps[k].seq, steps[k].ack, steps[k].len);

		feed(r, &p);
	}
}

static void test_packet_time_same_call(void **state)
{
	struct twin t;
	struct tg_engine_cfg cfg;
	struct tg_detect *d;
	struct tg_addr client;
	uint32_t idx = 0;

	(void)state;
	memset(&t, 0, sizeof(t));
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_flows = 1 << 16;
	cfg.on_end = twin_end;
	cfg.on_packet = twin_packet;
	cfg.on_alert = on_alert;
	cfg.cb_ctx = &t;
	tg_detect_cfg_default(&cfg.detect);
	t.r.e = tg_engine_new(&cfg);
	assert_non_null(t.r.e);
	t.d2 = tg_detect_new(&cfg.detect, on_alert, &t.got2);
	assert_non_null(t.d2);
	/* Talking clients throughout, a SYN flood from 4 s to 7 s, and a
	 * port scan answered by resets from 1 s to 3 s (250 ports). */
	for (uint32_t ms = 0, i = 0, port = 1; ms < 9000; ms += 40, i++) {
		legit_talk(&t.r, i, ms);
		if (ms >= 4000 && ms < 7000)
			flood(&t.r, ms, ms + 40, 1500, &idx);
		for (int k = 0; k < 5 && ms >= 1000 && ms < 3000; k++, port++) {
			struct h_conv c = h_conv(50000, (uint16_t)port);
			struct tg_pkt p;

			c.cli = h_v4(10, 66, 0, 1);
			c.srv = h_v4(10, 0, 0, 3);      /* not the flood's target */
			p = h_pkt(&c, H_C2S, ms + 10 + k, H_S, 77, 0, 0);
			feed(&t.r, &p);
			p = h_pkt(&c, H_S2C, ms + 11 + k, H_RA, 0, 78, 0);
			feed(&t.r, &p);
		}
	}
	/* Then one session trickling data for 20 s: only packets that are
	 * counted and timed, whose time alone ends the alerts. */
	{
		struct h_conv c = h_conv(33333, 443);
		struct tg_pkt p;

		c.cli = h_v4(10, 3, 0, 1);
		h_handshake(t.r.e, &c, 9000, 1000, 5000);
		for (uint32_t k = 0; k < 100; k++) {
			p = h_pkt(&c, H_C2S, 9100 + k * 200, H_PA, 1001 + k * 10, 5001, 10);
			feed(&t.r, &p);
		}
	}
	assert_int_equal(tg_detect_stats(t.d2)->alerts_open,
			 tg_detect_stats(tg_engine_detect(t.r.e))->alerts_open);
	/* The completing ACKs marked the same sources as having completed. */
	client = h_v4(10, 2, 0, 5);
	assert_true(tg_detect_completed(t.d2, &client));
	rig_done(&t.r);
	/* The second detector is measured by two tallies, a half of the
	 * packets each, as two threads would: the same counts. */
	if (tg_detect_wants_measure(t.d2)) {
		struct tg_measure *m[2] = { tg_measure_new(t.d2), tg_measure_new(t.d2) };

		assert_non_null(m[0]);
		assert_non_null(m[1]);
		for (size_t i = 0; i < t.r.n; i++)
			tg_measure_packet(m[i >= t.r.n / 2], &t.r.pkts[i]);
		tg_measure_merge(t.d2, m[0]);
		tg_measure_merge(t.d2, m[1]);
		tg_measure_free(m[0]);
		tg_measure_free(m[1]);
	}
	tg_detect_flush(t.d2, true);
	d = tg_engine_detect(t.r.e);
	/* Both kinds of packet were there, and the two detectors agree. */
	assert_true(t.heavy > 4000 && t.light > 1000);
	assert_int_equal(tg_detect_stats(t.d2)->packets, tg_detect_stats(d)->packets);
	assert_int_equal(tg_detect_stats(t.d2)->alerts, tg_detect_stats(d)->alerts);
	assert_true(t.r.got.n >= 2);
	assert_int_equal(t.got2.n, t.r.got.n);
	for (unsigned i = 0; i < t.r.got.n; i++) {
		const struct tg_alert *a = &t.r.got.a[i], *b = &t.got2.a[i];

		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->start_ns, b->start_ns);
		assert_int_equal(a->end_ns, b->end_ns);
		assert_int_equal(a->packets, b->packets);
		assert_int_equal(a->sessions, b->sessions);
		assert_int_equal(a->peak_pps, b->peak_pps);
		assert_int_equal(a->distinct_src, b->distinct_src);
		assert_int_equal(a->sig.tp, b->sig.tp);
		assert_int_equal(a->sig.fp, b->sig.fp);
		assert_int_equal(a->sig.fn, b->sig.fn);
		assert_int_equal(a->sig.fp_completed, b->sig.fp_completed);
		assert_int_equal(a->sig.block_ok, b->sig.block_ok);
		assert_memory_equal(a->target.b, b->target.b, 16);
	}
	tg_detect_free(t.d2);
	rig_free(&t.r);
}

static void test_bad_config_refused(void **state)
{
	struct tg_detect_cfg cfg;

	(void)state;
	tg_detect_cfg_default(&cfg);
	cfg.max_entities = 1000;        /* not a power of two */
	assert_null(tg_detect_new(&cfg, NULL, NULL));
	tg_detect_cfg_default(&cfg);
	cfg.window_ms = 0;
	assert_null(tg_detect_new(&cfg, NULL, NULL));
	assert_int_equal(strcmp(tg_alert_kind_str[TG_AK_CARPET], "carpet-bombing"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_flood_found_and_measured),
		cmocka_unit_test(test_busy_server_no_alert),
		cmocka_unit_test(test_baseline_raises_threshold),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_never_block_completed_sources),
		cmocka_unit_test(test_measure_spans),
		cmocka_unit_test(test_vertical_scan),
		cmocka_unit_test(test_brute_force),
		cmocka_unit_test(test_sig_match_fields),
		cmocka_unit_test(test_ten_million_spoofed_sources),
		cmocka_unit_test(test_live_events),
		cmocka_unit_test(test_packet_time_same_call),
		cmocka_unit_test(test_bad_config_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
