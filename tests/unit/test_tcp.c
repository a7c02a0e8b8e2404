// SPDX-License-Identifier: MIT
/*
 * Packet-timeline tests of TCP tracking through the engine (tg_engine_feed_pkt,
 * include/tcpguard/engine.h). Each test plays a short conversation of
 * decoded packets with fixed times, sequence numbers and lengths, and
 * asserts what the session carries when it leaves the engine through
 * on_end: Zeek's conn_state and history (notes/zeek-tcp-rules.md §8, §9),
 * orig/resp bytes as Zeek's Size() counts them, packet counts, and the
 * PAN-OS style end reason with the timer or event that ended it. Together
 * they pin the rules the golden captures exercise only in part: the
 * handshake-less and one-packet sessions, Zeek's role flips, reuse of a
 * tuple, repeated and scaled letters (T, W), zero-window episodes,
 * sequence wraparound, the tcp-init / half-closed / time-wait timers, the
 * end-of-capture flush, and which session a full table gives up first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tcpguard/cause.h"
#include "tcpguard/engine.h"
#include "harness.h"

#define CI 1000u                 /* client ISN */
#define SI 5000u                 /* server ISN */

/* Asserts the @i-th ended session's Zeek and PAN-OS view. */
static void assert_ended(const struct h_ended *o, unsigned i, const char *cs,
			 const char *hist, uint64_t ob, uint64_t rb,
			 uint32_t opkts, uint32_t rpkts, enum tg_end_reason end)
{
	const struct tg_session *s;

	assert_true(i < o->n);
	s = &o->s[i];
	assert_string_equal(tg_conn_state_str[tg_session_conn_state(s)], cs);
	assert_string_equal(o->hist[i], hist);
	assert_int_equal(tg_session_bytes(s, 0), ob);
	assert_int_equal(tg_session_bytes(s, 1), rb);
	assert_int_equal(s->d[0].pkts, opkts);
	assert_int_equal(s->d[1].pkts, rpkts);
	assert_string_equal(tg_end_reason_str[s->end], tg_end_reason_str[end]);
}

/* Handshake, 100 bytes up, ACK, 200 bytes down, ACK: "ShADad", up to 6 ms. */
static void exchange(struct tg_engine *e, const struct h_conv *c, uint32_t ci,
		     uint32_t si)
{
	h_handshake(e, c, 0, ci, si);
	h_tx(e, c, H_C2S, 3, H_PA, ci + 1, si + 1, 100);
	h_tx(e, c, H_S2C, 4, H_A, si + 1, ci + 101, 0);
	h_tx(e, c, H_S2C, 5, H_PA, si + 1, ci + 101, 200);
	h_tx(e, c, H_C2S, 6, H_A, ci + 101, si + 201, 0);
}

/* exchange() then the client closes first: FIN, FIN, ACK at 7, 8, 9 ms. */
static void graceful(struct tg_engine *e, const struct h_conv *c)
{
	exchange(e, c, CI, SI);
	h_tx(e, c, H_C2S, 7, H_FA, CI + 101, SI + 201, 0);
	h_tx(e, c, H_S2C, 8, H_FA, SI + 201, CI + 102, 0);
	h_tx(e, c, H_C2S, 9, H_A, CI + 102, SI + 202, 0);
}

static void test_graceful_sf(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);
	const struct tg_stats *st = tg_engine_stats(e);

	(void)state;
	graceful(e, &c);
	/* Time-wait: the session lingers 15 s after the close completed
	 * (the server's FIN at 8 ms), then ends as a FIN close. */
	tg_engine_advance(e, H_MS(8 + 15000) - 1);
	assert_int_equal(o.n, 0);
	tg_engine_advance(e, H_MS(8 + 15000));
	assert_int_equal(o.n, 1);
	assert_ended(&o, 0, "SF", "ShADadFf", 100, 200, 6, 4, TG_END_TCP_FIN);
	assert_int_equal(tg_dir_ip_bytes(&o.s[0].d[0]), 6 * 40 + 100);
	assert_int_equal(tg_dir_ip_bytes(&o.s[0].d[1]), 4 * 40 + 200);
	assert_int_equal(o.s[0].orig_p, 40000);
	assert_int_equal(o.s[0].resp_p, 80);
	assert_int_equal(o.s[0].first_ns, H_MS(0));
	assert_true(o.s[0].flags & TG_SF_ORIG_CLOSED_FIRST);

	assert_int_equal(st->tcp_packets, 10);
	assert_int_equal(st->sessions, 1);
	assert_int_equal(st->active, 0);
	assert_int_equal(st->active_peak, 1);
	assert_int_equal(st->ended[TG_END_TCP_FIN], 1);
	assert_int_equal(st->conn_state[TG_CS_SF], 1);
	tg_engine_free(e);
}

/* A packet long after the close neither postpones the linger nor joins
 * the old session once it has gone. */
static void test_time_wait_linger(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	graceful(e, &c);
	h_tx(e, &c, H_C2S, 10000, H_A, CI + 102, SI + 202, 0); /* late dup ACK */
	tg_engine_advance(e, H_MS(8 + 15000) - 1);
	assert_int_equal(o.n, 0);
	tg_engine_advance(e, H_MS(8 + 15000));
	assert_int_equal(o.n, 1);
	assert_ended(&o, 0, "SF", "ShADadFf", 100, 200, 7, 4, TG_END_TCP_FIN);

	/* The same tuple later is a new, midstream session. */
	h_tx(e, &c, H_C2S, 20000, H_A, CI + 102, SI + 202, 0);
	tg_engine_finish(e);
	assert_int_equal(o.n, 2);
	assert_ended(&o, 1, "OTH", "A", 0, 0, 1, 0, TG_END_OPEN);
	assert_int_equal(tg_engine_stats(e)->sessions, 2);
	tg_engine_free(e);
}

static void test_closed_port_rej(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 81);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_S, CI, 0, 0);
	h_tx(e, &c, H_S2C, 1, H_RA, 0, CI + 1, 0);
	tg_engine_finish(e);
	assert_ended(&o, 0, "REJ", "Sr", 0, 0, 1, 1, TG_END_RST_SERVER);
	assert_string_equal(tg_end_reason_str[o.s[0].end], "tcp-rst-from-server");
	tg_engine_free(e);
}

static void test_rst_from_client_rsto(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c, CI, SI);
	h_tx(e, &c, H_C2S, 7, H_R, CI + 101, 0, 0);
	tg_engine_finish(e);
	assert_ended(&o, 0, "RSTO", "ShADadR", 100, 200, 5, 3, TG_END_RST_CLIENT);
	assert_string_equal(tg_end_reason_str[o.s[0].end], "tcp-rst-from-client");
	tg_engine_free(e);
}

static void test_rst_from_server_rstr(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c, CI, SI);
	h_tx(e, &c, H_S2C, 7, H_RA, SI + 201, CI + 101, 0);
	/* A reset completes the close: it lingers, then ends. */
	tg_engine_advance(e, H_MS(7 + 15000));
	assert_int_equal(o.n, 1);
	assert_ended(&o, 0, "RSTR", "ShADadr", 100, 200, 4, 4, TG_END_RST_SERVER);
	tg_engine_free(e);
}

static void test_syn_only_s0_aged_out(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_S, CI, 0, 0);
	tg_engine_advance(e, H_MS(4999));
	assert_int_equal(o.n, 0);
	tg_engine_advance(e, H_MS(5000));       /* tcp-init: 5 s */
	assert_int_equal(o.n, 1);
	assert_ended(&o, 0, "S0", "S", 0, 0, 1, 0, TG_END_AGED_OUT);
	assert_string_equal(tg_end_reason_str[o.s[0].end], "aged-out");
	assert_int_equal(tg_engine_stats(e)->active, 0);
	tg_engine_free(e);
}

/* A SYN repeated with the same ISN is the same attempt: no new letter,
 * no new session, and the tcp-init deadline still counts from the first
 * SYN (Zeek's attempt timer). */
static void test_repeated_syn_same_isn(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_S, CI, 0, 0);
	h_tx(e, &c, H_C2S, 1000, H_S, CI, 0, 0);
	h_tx(e, &c, H_C2S, 3000, H_S, CI, 0, 0);
	tg_engine_advance(e, H_MS(5000));
	assert_int_equal(o.n, 1);
	assert_ended(&o, 0, "S0", "S", 0, 0, 3, 0, TG_END_AGED_OUT);
	assert_int_equal(tg_engine_stats(e)->sessions, 1);
	assert_int_equal(tg_engine_stats(e)->reused, 0);
	tg_engine_free(e);
}

static void test_syn_then_orig_rst_rstos0(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_S, CI, 0, 0);
	h_tx(e, &c, H_C2S, 1, H_R, CI + 1, 0, 0);
	tg_engine_finish(e);
	assert_ended(&o, 0, "RSTOS0", "SR", 0, 0, 2, 0, TG_END_RST_CLIENT);
	tg_engine_free(e);
}

static void test_lone_rst_oth(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_R, CI, 0, 0);
	tg_engine_finish(e);
	assert_ended(&o, 0, "OTH", "R", 0, 0, 1, 0, TG_END_RST_CLIENT);
	assert_int_equal(o.s[0].orig_p, 40000);
	tg_engine_free(e);
}

static void test_lone_fin_sh(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_FA, CI, SI, 0);
	tg_engine_finish(e);
	assert_ended(&o, 0, "SH", "F", 0, 0, 1, 0, TG_END_TCP_FIN);
	tg_engine_free(e);
}

static void test_midstream_oth(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 8443);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_PA, CI, SI, 10);
	h_tx(e, &c, H_S2C, 1, H_PA, SI, CI + 10, 20);
	h_tx(e, &c, H_C2S, 2, H_A, CI + 10, SI + 20, 0);
	tg_engine_finish(e);
	assert_ended(&o, 0, "OTH", "DdA", 10, 20, 2, 1, TG_END_OPEN);
	assert_string_equal(tg_end_reason_str[o.s[0].end], "open-at-end");
	assert_int_equal(o.s[0].orig_p, 40000);
	tg_engine_free(e);
}

/* The first packet is a SYN-ACK from port 80, a likely server port: the
 * session is turned round at once (Zeek WantConnection) and history says
 * so with '^'. */
static void test_synack_first_from_server_port(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_tx(e, &c, H_S2C, 0, H_SA, SI, CI + 1, 0);
	tg_engine_finish(e);
	assert_ended(&o, 0, "OTH", "^h", 0, 0, 0, 1, TG_END_OPEN);
	assert_int_equal(o.s[0].orig_p, 40000);
	assert_int_equal(o.s[0].resp_p, 80);
	assert_true(o.s[0].flags & TG_SF_FLIPPED);
	tg_engine_free(e);
}

/* A SYN-ACK first between two non-server ports makes its sender the
 * originator; the ACK that follows shows it was the responder, and Zeek
 * (>= 5.1) flips the roles then: history "^h" and the rest as usual. */
static void test_synack_first_then_ack_flips(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 5555);

	(void)state;
	h_tx(e, &c, H_S2C, 0, H_SA, SI, CI + 1, 0);
	h_tx(e, &c, H_C2S, 1, H_A, CI + 1, SI + 1, 0);
	h_tx(e, &c, H_C2S, 2, H_PA, CI + 1, SI + 1, 100);
	h_tx(e, &c, H_S2C, 3, H_A, SI + 1, CI + 101, 0);
	h_tx(e, &c, H_S2C, 4, H_PA, SI + 1, CI + 101, 200);
	h_tx(e, &c, H_C2S, 5, H_FA, CI + 101, SI + 201, 0);
	h_tx(e, &c, H_S2C, 6, H_FA, SI + 201, CI + 102, 0);
	h_tx(e, &c, H_C2S, 7, H_A, CI + 102, SI + 202, 0);
	tg_engine_finish(e);
	assert_ended(&o, 0, "SF", "^hADadFf", 100, 200, 4, 4, TG_END_TCP_FIN);
	assert_int_equal(o.s[0].orig_p, 40000);
	assert_int_equal(o.s[0].resp_p, 5555);
	tg_engine_free(e);
}

/* Only the client closed: S2, still open at the end of the capture. */
static void test_half_close_s2(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_handshake(e, &c, 0, CI, SI);
	h_tx(e, &c, H_C2S, 3, H_FA, CI + 1, SI + 1, 0);
	h_tx(e, &c, H_S2C, 4, H_A, SI + 1, CI + 2, 0);
	tg_engine_finish(e);
	assert_ended(&o, 0, "S2", "ShAFa", 0, 0, 3, 2, TG_END_OPEN);
	tg_engine_free(e);
}

/* Only the server closed: S3, ended by the half-closed timer (120 s idle)
 * as a FIN close. */
static void test_half_close_s3_timer(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_handshake(e, &c, 0, CI, SI);
	h_tx(e, &c, H_S2C, 3, H_FA, SI + 1, CI + 1, 0);
	h_tx(e, &c, H_C2S, 4, H_A, CI + 1, SI + 2, 0);
	tg_engine_advance(e, H_MS(4 + 120000) - 1);
	assert_int_equal(o.n, 0);
	tg_engine_advance(e, H_MS(4 + 120000));
	assert_int_equal(o.n, 1);
	assert_ended(&o, 0, "S3", "ShAf", 0, 0, 3, 2, TG_END_TCP_FIN);
	assert_true(o.s[0].flags & TG_SF_RESP_CLOSED_FIRST);
	tg_engine_free(e);
}

/* A SYN after a complete close starts a new session on the same tuple;
 * the old one ends with its own (FIN) reason. */
static void test_port_reuse_after_close(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);
	const struct tg_stats *st = tg_engine_stats(e);

	(void)state;
	graceful(e, &c);
	h_tx(e, &c, H_C2S, 2000, H_S, 90000, 0, 0);
	assert_int_equal(o.n, 1);
	assert_ended(&o, 0, "SF", "ShADadFf", 100, 200, 6, 4, TG_END_TCP_FIN);
	tg_engine_finish(e);
	assert_int_equal(o.n, 2);
	assert_ended(&o, 1, "S0", "S", 0, 0, 1, 0, TG_END_OPEN);
	assert_int_equal(o.s[1].d[0].isn, 90000);
	assert_int_equal(o.s[1].first_ns, H_MS(2000));
	assert_int_equal(st->reused, 1);
	assert_int_equal(st->sessions, 2);
	tg_engine_free(e);
}

/* A SYN with a new ISN while the first attempt is still open replaces it
 * (Zeek's SYN_seq_jump reuse): the old one ends as tcp-reuse. */
static void test_new_isn_replaces_open_attempt(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_S, CI, 0, 0);
	h_tx(e, &c, H_C2S, 1000, H_S, CI + 777777, 0, 0);
	assert_int_equal(o.n, 1);
	assert_ended(&o, 0, "S0", "S", 0, 0, 1, 0, TG_END_TCP_REUSE);
	assert_string_equal(tg_end_reason_str[o.s[0].end], "tcp-reuse");
	tg_engine_finish(e);
	assert_ended(&o, 1, "S0", "S", 0, 0, 1, 0, TG_END_OPEN);
	assert_int_equal(tg_engine_stats(e)->reused, 1);
	tg_engine_free(e);
}

static void test_retransmission_t(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_handshake(e, &c, 0, CI, SI);
	h_tx(e, &c, H_C2S, 3, H_PA, CI + 1, SI + 1, 100);
	h_tx(e, &c, H_C2S, 300, H_PA, CI + 1, SI + 1, 100);
	tg_engine_finish(e);
	assert_ended(&o, 0, "S1", "ShADT", 100, 0, 4, 1, TG_END_OPEN);
	assert_int_equal(o.ev[0].d[0].rxmit, 1);
	tg_engine_free(e);
}

/* Repeated letters are log-scaled (Zeek ScaledHistoryEntry): the 1st
 * and 10th retransmission add a 'T', the 2nd to 9th do not. */
static void test_retransmissions_scaled(void **state)
{
	static const struct { unsigned n; const char *hist; } cases[] = {
		{ 9, "ShADT" }, { 10, "ShADTT" }, { 99, "ShADTT" }, { 100, "ShADTTT" },
	};

	(void)state;
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct h_ended o;
		struct tg_engine *e = h_engine(&o, 0);
		struct h_conv c = h_conv(40000, 80);

		h_handshake(e, &c, 0, CI, SI);
		h_tx(e, &c, H_C2S, 3, H_PA, CI + 1, SI + 1, 100);
		for (unsigned i = 0; i < cases[k].n; i++)
			h_tx(e, &c, H_C2S, 4 + i, H_PA, CI + 1, SI + 1, 100);
		tg_engine_finish(e);
		assert_string_equal(o.hist[0], cases[k].hist);
		assert_int_equal(o.ev[0].d[0].rxmit, cases[k].n);
		assert_int_equal(tg_session_bytes(&o.s[0], 0), 100);
		tg_engine_free(e);
	}
}

/* The server advertises a zero window at 1000 ms and opens it at 1500 ms;
 * the client probes twice meanwhile (a Linux-style ACK one below its
 * highest sequence, and one byte). Then the client shuts its window at
 * 1600 ms and the capture ends with it shut, the last packet at 1900 ms. */
static void test_zero_window(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);
	struct tg_pkt p;
	const struct tg_dir *cd, *sd;
	const struct tg_dir_rare *cx, *sx;

	(void)state;
	h_handshake(e, &c, 0, CI, SI);
	h_tx(e, &c, H_C2S, 3, H_PA, CI + 1, SI + 1, 100);
	p = h_pkt(&c, H_S2C, 1000, H_A, SI + 1, CI + 101, 0);
	p.win = 0;
	tg_engine_feed_pkt(e, &p);
	h_tx(e, &c, H_C2S, 1200, H_A, CI + 100, SI + 1, 0);     /* probe */
	h_tx(e, &c, H_C2S, 1400, H_PA, CI + 101, SI + 1, 1);    /* probe */
	p = h_pkt(&c, H_S2C, 1401, H_A, SI + 1, CI + 101, 0);
	p.win = 0;                                               /* still shut */
	tg_engine_feed_pkt(e, &p);
	h_tx(e, &c, H_S2C, 1500, H_A, SI + 1, CI + 102, 0);     /* open */
	p = h_pkt(&c, H_C2S, 1600, H_A, CI + 102, SI + 1, 0);
	p.win = 0;
	tg_engine_feed_pkt(e, &p);
	h_tx(e, &c, H_S2C, 1900, H_A, SI + 1, CI + 102, 0);
	tg_engine_finish(e);

	assert_ended(&o, 0, "S1", "ShADawW", 101, 0, 6, 5, TG_END_OPEN);
	cd = &o.s[0].d[0];
	sd = &o.s[0].d[1];
	cx = &o.ev[0].d[0];
	sx = &o.ev[0].d[1];
	assert_int_equal(sx->zw_adv, 2);
	assert_int_equal(sx->zw_episodes, 1);
	assert_int_equal(sx->zw_total_ms, 500);
	assert_false(sd->dflags & TG_DF_ZW_OPEN);
	/* Probes are counted on the side whose window was shut. */
	assert_int_equal(sx->zw_probes, 2);
	assert_int_equal(cx->zw_probes, 0);
	assert_int_equal(cx->zw_adv, 1);
	assert_int_equal(cx->zw_episodes, 1);
	/* Still open at the end: settled at the last packet, 1600..1900. */
	assert_false(cd->dflags & TG_DF_ZW_OPEN);
	assert_int_equal(cx->zw_total_ms, 300);
	tg_engine_free(e);
}

/* A client ISN 256 below the top of the sequence space: 1000 bytes in
 * four segments wrap past zero and still count as 1000. */
static void test_sequence_wraparound(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);
	const uint32_t ci = 0xffffff00u;

	(void)state;
	h_handshake(e, &c, 0, ci, SI);
	for (uint32_t i = 0; i < 4; i++)
		h_tx(e, &c, H_C2S, 3 + i, H_PA, ci + 1 + 250 * i, SI + 1, 250);
	h_tx(e, &c, H_S2C, 7, H_A, SI + 1, ci + 1001, 0);
	h_tx(e, &c, H_C2S, 8, H_FA, ci + 1001, SI + 1, 0);
	h_tx(e, &c, H_S2C, 9, H_FA, SI + 1, ci + 1002, 0);
	h_tx(e, &c, H_C2S, 10, H_A, ci + 1002, SI + 2, 0);
	tg_engine_finish(e);
	assert_ended(&o, 0, "SF", "ShADaFf", 1000, 0, 8, 3, TG_END_TCP_FIN);
	assert_int_equal(tg_dir_ip_bytes(&o.s[0].d[0]), 8 * 40 + 1000);
	assert_int_equal(o.ev[0].d[0].rxmit, 0);
	tg_engine_free(e);
}

/* The end of the capture reports what is still open as open-at-end and
 * keeps the reason of what had already closed. */
static void test_finish_open_at_end(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv a = h_conv(40001, 80), b = h_conv(40002, 80);
	const struct tg_stats *st = tg_engine_stats(e);

	(void)state;
	h_handshake(e, &a, 0, CI, SI);
	h_tx(e, &a, H_C2S, 3, H_PA, CI + 1, SI + 1, 10);
	graceful(e, &b);
	assert_int_equal(st->active, 2);
	tg_engine_finish(e);
	assert_int_equal(o.n, 2);
	for (unsigned i = 0; i < 2; i++) {
		if (o.s[i].orig_p == 40001)
			assert_ended(&o, i, "S1", "ShAD", 10, 0, 3, 1, TG_END_OPEN);
		else
			assert_ended(&o, i, "SF", "ShADadFf", 100, 200, 6, 4,
				     TG_END_TCP_FIN);
	}
	assert_int_equal(st->active, 0);
	assert_int_equal(st->ended[TG_END_OPEN], 1);
	assert_int_equal(st->ended[TG_END_TCP_FIN], 1);
	tg_engine_finish(e);                    /* nothing left: no callback */
	assert_int_equal(o.n, 2);
	tg_engine_free(e);
}

/* Index in @o of the session whose client port is @port, or -1. */
static int find_port(const struct h_ended *o, uint16_t port)
{
	for (unsigned i = 0; i < o->n; i++)
		if (o->s[i].orig_p == port)
			return (int)i;
	return -1;
}

/* With room for 4, half-open sessions (a SYN flood) are given up before
 * established ones, oldest first, each counted as evicted. */
static void test_table_full_evicts_half_open_first(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 4);
	const struct tg_stats *st = tg_engine_stats(e);
	struct h_conv c[8];

	(void)state;
	for (int i = 0; i < 8; i++)
		c[i] = h_conv((uint16_t)(1001 + i), 80);
	h_handshake(e, &c[0], 0, CI, SI);
	h_handshake(e, &c[1], 3, CI, SI);
	h_tx(e, &c[2], H_C2S, 10, H_S, CI, 0, 0);
	h_tx(e, &c[3], H_C2S, 11, H_S, CI, 0, 0);
	assert_int_equal(st->active, 4);
	assert_int_equal(o.n, 0);

	h_tx(e, &c[4], H_C2S, 12, H_S, CI, 0, 0);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.s[0].orig_p, 1003);
	assert_ended(&o, 0, "S0", "S", 0, 0, 1, 0, TG_END_EVICTED);
	assert_string_equal(tg_end_reason_str[o.s[0].end], "evicted");
	h_tx(e, &c[5], H_C2S, 13, H_S, CI, 0, 0);
	h_tx(e, &c[6], H_C2S, 14, H_S, CI, 0, 0);
	assert_int_equal(o.n, 3);
	assert_int_equal(o.s[1].orig_p, 1004);
	assert_int_equal(o.s[2].orig_p, 1005);
	assert_int_equal(st->evicted, 3);
	assert_int_equal(st->ended[TG_END_EVICTED], 3);
	assert_int_equal(st->active, 4);
	assert_int_equal(st->max_flows, 4);

	/* The established pair survived the flood. */
	tg_engine_finish(e);
	assert_int_equal(o.n, 7);
	assert_int_equal(o.s[find_port(&o, 1001)].end, TG_END_OPEN);
	assert_int_equal(o.s[find_port(&o, 1002)].end, TG_END_OPEN);
	assert_int_equal(st->evicted, 3);
	tg_engine_free(e);
}

/* Without half-open sessions, a lingering closed one goes first (it ends
 * with its own reason and is not an eviction), then the least recently
 * active established one. */
static void test_table_full_closed_then_idle_established(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 4);
	const struct tg_stats *st = tg_engine_stats(e);
	struct h_conv c[6];
	int i2;

	(void)state;
	for (int i = 0; i < 6; i++)
		c[i] = h_conv((uint16_t)(2001 + i), 80);
	graceful(e, &c[0]);                     /* closed, lingering */
	h_handshake(e, &c[1], 10, CI, SI);
	h_handshake(e, &c[2], 20, CI, SI);
	h_handshake(e, &c[3], 30, CI, SI);
	h_tx(e, &c[1], H_C2S, 40, H_PA, CI + 1, SI + 1, 10); /* c[2] idlest */

	h_tx(e, &c[4], H_C2S, 50, H_S, CI, 0, 0);
	assert_int_equal(o.n, 1);
	assert_ended(&o, 0, "SF", "ShADadFf", 100, 200, 6, 4, TG_END_TCP_FIN);
	assert_int_equal(st->evicted, 0);

	/* Complete c[4]'s handshake: only established sessions are left. */
	h_tx(e, &c[4], H_S2C, 51, H_SA, SI, CI + 1, 0);
	h_tx(e, &c[4], H_C2S, 52, H_A, CI + 1, SI + 1, 0);
	h_tx(e, &c[5], H_C2S, 60, H_S, CI, 0, 0);
	assert_int_equal(o.n, 2);
	i2 = find_port(&o, 2003);
	assert_int_equal(i2, 1);
	assert_ended(&o, 1, "S1", "ShA", 0, 0, 2, 1, TG_END_EVICTED);
	assert_int_equal(st->evicted, 1);
	tg_engine_free(e);
}

static void test_strings_tables(void **state)
{
	(void)state;
	for (int i = 0; i < TG_CS__COUNT; i++)
		assert_non_null(tg_conn_state_str[i]);
	for (int i = 0; i < TG_END__COUNT; i++)
		assert_non_null(tg_end_reason_str[i]);
	for (int i = 0; i < TG_TIMER__COUNT; i++)
		assert_non_null(tg_timer_str[i]);
	for (int i = 0; i < TG_EP__COUNT; i++)
		assert_non_null(tg_ep_state_str[i]);
	assert_string_equal(tg_conn_state_str[TG_CS_RSTOS0], "RSTOS0");
	assert_string_equal(tg_end_reason_str[TG_END_OPEN], "open-at-end");
	/* The lengths the JSON writer copies by. */
	for (int i = 0; i < TG_CS__COUNT; i++)
		assert_int_equal(tg_conn_state_len[i], strlen(tg_conn_state_str[i]));
	for (int i = 0; i < TG_END__COUNT; i++)
		assert_int_equal(tg_end_reason_len[i], strlen(tg_end_reason_str[i]));
	for (int i = 0; i < TG_EP__COUNT; i++)
		assert_int_equal(tg_ep_state_len[i], strlen(tg_ep_state_str[i]));
	for (int i = 0; i < TG_CAUSE__COUNT; i++)
		assert_int_equal(tg_cause_len[i], strlen(tg_cause_str[i]));
}

/* A direction's IP byte count carries into its 16-bit high word and
 * stops at 2^48 - 1; a last window comes back scaled as it was sent. */
static void test_compact_fields(void **state)
{
	struct tg_dir d = { 0 };
	struct tg_ev_live ev = { 0 };

	(void)state;
	d.ip_bytes_lo = UINT32_MAX - 10;
	tg_dir_add_ip_bytes(&d, 20);
	assert_int_equal(tg_dir_ip_bytes(&d), (uint64_t)UINT32_MAX + 10);
	d.ip_bytes_hi = UINT16_MAX;
	d.ip_bytes_lo = UINT32_MAX - 1;
	tg_dir_add_ip_bytes(&d, 1500);
	assert_int_equal(tg_dir_ip_bytes(&d), (1ull << 48) - 1);
	tg_dir_add_ip_bytes(&d, 1500);
	assert_int_equal(tg_dir_ip_bytes(&d), (1ull << 48) - 1);

	ev.win_last[0] = 1000;
	ev.win_last[1] = 65535;
	ev.flags = TG_EV_HAVE_RST | 7u << TG_EV_WSHIFT_AT(0) | 14u << TG_EV_WSHIFT_AT(1);
	assert_int_equal(tg_ev_win_last(&ev, 0), 1000u << 7);
	assert_int_equal(tg_ev_win_last(&ev, 1), 65535u << 14);
	assert_int_equal(ev.flags & ~TG_EV_WSHIFTS, TG_EV_HAVE_RST);
}

/* The side pool (a quarter of a 400-session table) runs out while the
 * table has room: the eviction rule ends the oldest lingering session,
 * which gives its entry back, and every session keeps its evidence. */
static void test_side_pool_full(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 400);
	const struct tg_stats *st = tg_engine_stats(e);
	struct h_conv z = h_conv(3000, 80), c;
	struct tg_pkt p;
	int iz;

	(void)state;
	h_handshake(e, &z, 0, CI, SI);
	p = h_pkt(&z, H_S2C, 1, H_A, SI + 1, CI + 1, 0);
	p.win = 0;                              /* takes an entry: zero window */
	tg_engine_feed_pkt(e, &p);
	for (int i = 0; i < 100; i++) {
		c = h_conv((uint16_t)(3001 + i), 81);
		h_tx(e, &c, H_C2S, 10 + i, H_S, CI, 0, 0);
		h_tx(e, &c, H_S2C, 10 + i, H_RA, 0, CI + 1, 0);
	}
	/* 1 + 99 entries filled the pool; the 100th SYN found it full. */
	assert_int_equal(st->rare_full, 1);
	assert_int_equal(st->evicted, 0);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.s[0].orig_p, 3001);
	assert_int_equal(o.s[0].end, TG_END_RST_SERVER);
	assert_int_equal(o.cause[0].cause, TG_CAUSE_PORT_CLOSED);
	assert_true(o.ev[0].flags & TG_EV_HAVE_RST);
	assert_int_equal(st->active, 100);

	tg_engine_finish(e);
	assert_int_equal(o.n, 64);              /* the harness keeps 64 */
	assert_int_equal(st->cause[TG_CAUSE_PORT_CLOSED], 100);
	assert_int_equal(st->rare_full, 1);
	iz = find_port(&o, 3000);
	assert_true(iz >= 0);
	assert_int_equal(o.ev[iz].d[1].zw_episodes, 1);
	assert_int_equal(o.ev[iz].d[1].zw_adv, 1);
	tg_engine_free(e);
}

/* The pool runs dry while no lingering session holds an entry: the
 * half-open sessions (which hold none) are left alone and the least
 * recently active holder among those sampled is evicted, one at a time.
 * The engine keeps an entry free before each packet, so the packet after
 * the one that filled the pool ends a holder. */
static void test_side_pool_full_live(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 400);
	const struct tg_stats *st = tg_engine_stats(e);
	struct h_conv c;
	struct tg_pkt p;

	(void)state;
	for (int i = 0; i < 100; i++) {         /* 100 holders fill the pool */
		c = h_conv((uint16_t)(5000 + i), 80);
		h_handshake(e, &c, 10 * i, CI, SI);
		p = h_pkt(&c, H_S2C, 10 * i + 1, H_A, SI + 1, CI + 1, 0);
		p.win = 0;
		tg_engine_feed_pkt(e, &p);
	}
	assert_int_equal(st->rare_full, 0);
	for (int i = 0; i < 200; i++) {         /* half-open, no entries */
		c = h_conv((uint16_t)(6000 + i), 81);
		h_tx(e, &c, H_C2S, 1000 + i, H_S, CI, 0, 0);
	}
	assert_int_equal(st->rare_full, 1);
	assert_int_equal(st->evicted, 1);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.s[0].end, TG_END_EVICTED);
	assert_int_equal(o.s[0].orig_p, 5000);  /* the least recently active */
	assert_int_equal(o.ev[0].d[1].zw_episodes, 1);
	assert_int_equal(st->active, 299);

	c = h_conv(7000, 80);                   /* takes the free entry */
	h_handshake(e, &c, 1300, CI, SI);
	p = h_pkt(&c, H_S2C, 1301, H_A, SI + 1, CI + 1, 0);
	p.win = 0;
	tg_engine_feed_pkt(e, &p);
	h_tx(e, &c, H_C2S, 1302, H_A, CI + 1, SI + 1, 0);
	assert_int_equal(st->rare_full, 2);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.s[1].orig_p, 5001);
	assert_int_equal(st->active, 299);
	tg_engine_finish(e);
	/* No half-open session was among the evicted. */
	assert_int_equal(st->ended[TG_END_EVICTED], 2);
	assert_int_equal(st->conn_state[TG_CS_S0], 200);
	tg_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graceful_sf),
		cmocka_unit_test(test_time_wait_linger),
		cmocka_unit_test(test_closed_port_rej),
		cmocka_unit_test(test_rst_from_client_rsto),
		cmocka_unit_test(test_rst_from_server_rstr),
		cmocka_unit_test(test_syn_only_s0_aged_out),
		cmocka_unit_test(test_repeated_syn_same_isn),
		cmocka_unit_test(test_syn_then_orig_rst_rstos0),
		cmocka_unit_test(test_lone_rst_oth),
		cmocka_unit_test(test_lone_fin_sh),
		cmocka_unit_test(test_midstream_oth),
		cmocka_unit_test(test_synack_first_from_server_port),
		cmocka_unit_test(test_synack_first_then_ack_flips),
		cmocka_unit_test(test_half_close_s2),
		cmocka_unit_test(test_half_close_s3_timer),
		cmocka_unit_test(test_port_reuse_after_close),
		cmocka_unit_test(test_new_isn_replaces_open_attempt),
		cmocka_unit_test(test_retransmission_t),
		cmocka_unit_test(test_retransmissions_scaled),
		cmocka_unit_test(test_zero_window),
		cmocka_unit_test(test_sequence_wraparound),
		cmocka_unit_test(test_finish_open_at_end),
		cmocka_unit_test(test_table_full_evicts_half_open_first),
		cmocka_unit_test(test_table_full_closed_then_idle_established),
		cmocka_unit_test(test_side_pool_full),
		cmocka_unit_test(test_side_pool_full_live),
		cmocka_unit_test(test_strings_tables),
		cmocka_unit_test(test_compact_fields),
	};

	return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}
