// SPDX-License-Identifier: MIT
/*
 * The end-cause rules (src/core/cause.c, docs/end-reasons.md), one packet
 * timeline per cause and per edge: which reset counts (the first), what
 * beats what when two rules could apply (out-of-window before middlebox,
 * middlebox before everything the endpoint could have meant), and what
 * happens with one-sided captures and missing handshakes. Each test feeds
 * packets through the engine and reads the cause and the evidence the
 * engine hands to its callback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "harness.h"
#include "tcpguard/cause.h"

#define CI 1000u
#define SI 5000u

/* Handshake, 100 bytes up, 200 bytes down, client ACK: ends at 6 ms. */
static void exchange(struct tg_engine *e, const struct h_conv *c)
{
	h_handshake(e, c, 0, CI, SI);
	h_tx(e, c, H_C2S, 3, H_PA, CI + 1, SI + 1, 100);
	h_tx(e, c, H_S2C, 4, H_A, SI + 1, CI + 101, 0);
	h_tx(e, c, H_S2C, 5, H_PA, SI + 1, CI + 101, 200);
	h_tx(e, c, H_C2S, 6, H_A, CI + 101, SI + 201, 0);
}

static void tx_ttl(struct tg_engine *e, const struct h_conv *c, bool c2s, uint64_t ms,
		   uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint8_t ttl)
{
	struct tg_pkt p = h_pkt(c, c2s, ms, flags, seq, ack, len);

	p.ttl = ttl;
	tg_engine_feed_pkt(e, &p);
}

static enum tg_cause only_cause(struct h_ended *o)
{
	assert_int_equal(o->n, 1);
	return o->cause[0].cause;
}

#define ASSERT_CAUSE(o, want) \
	assert_string_equal(tg_cause_str[only_cause(o)], tg_cause_str[want])

static void test_port_closed(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 81);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_S, CI, 0, 0);
	h_tx(e, &c, H_S2C, 1, H_RA, 0, CI + 1, 0);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_PORT_CLOSED);
	assert_int_equal(o.ev[0].r.rst_dir, 1);
	assert_int_equal(o.ev[0].r.rst_seq_class, TG_RST_SEQ_UNKNOWN);
	assert_true(o.ev[0].flags & TG_EV_RST_ACK);
	tg_engine_free(e);
}

static void test_abortive_close_exact(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c);
	/* The server's own data came last, then its reset: linger 0. */
	h_tx(e, &c, H_S2C, 9, H_RA, SI + 201, CI + 101, 0);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_ABORTIVE_CLOSE);
	assert_int_equal(o.ev[0].r.rst_seq_class, TG_RST_SEQ_EXACT);
	assert_int_equal(o.ev[0].r.rst_seq_off, 0);
	assert_int_equal(o.ev[0].r.pend_to, 0);
	assert_int_equal(o.ev[0].r.rst_gap_us, 3000);
	tg_engine_free(e);
}

static void test_close_with_unread_data(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c);
	/* More client data, acknowledged, never answered: server resets. */
	h_tx(e, &c, H_C2S, 7, H_PA, CI + 101, SI + 201, 50);
	h_tx(e, &c, H_S2C, 8, H_A, SI + 201, CI + 151, 0);
	h_tx(e, &c, H_S2C, 9, H_RA, SI + 201, CI + 151, 0);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_CLOSE_WITH_UNREAD_DATA);
	tg_engine_free(e);
}

static void test_reset_after_close(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c);
	h_tx(e, &c, H_S2C, 7, H_FA, SI + 201, CI + 101, 0);
	h_tx(e, &c, H_C2S, 8, H_PA, CI + 101, SI + 202, 30);
	h_tx(e, &c, H_S2C, 9, H_R, SI + 202, 0, 0);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_RESET_AFTER_CLOSE);
	tg_engine_free(e);
}

static void test_reset_after_both_fins(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c);
	h_tx(e, &c, H_C2S, 7, H_FA, CI + 101, SI + 201, 0);
	h_tx(e, &c, H_S2C, 8, H_FA, SI + 201, CI + 102, 0);
	h_tx(e, &c, H_C2S, 9, H_RA, CI + 102, SI + 202, 0);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_RESET_AFTER_FIN);
	/* PAN-OS precedence: the reset decides the end reason. */
	assert_int_equal(o.s[0].end, TG_END_RST_CLIENT);
	tg_engine_free(e);
}

static void test_middlebox_by_ttl(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	tx_ttl(e, &c, H_C2S, 0, H_S, CI, 0, 0, 64);
	tx_ttl(e, &c, H_S2C, 1, H_SA, SI, CI + 1, 0, 57);
	tx_ttl(e, &c, H_C2S, 2, H_A, CI + 1, SI + 1, 0, 64);
	tx_ttl(e, &c, H_C2S, 3, H_PA, CI + 1, SI + 1, 100, 64);
	/* "The server" resets with a TTL its own packets never had. */
	tx_ttl(e, &c, H_S2C, 4, H_RA, SI + 1, CI + 101, 0, 64);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_MIDDLEBOX_RESET);
	assert_int_equal(o.ev[0].r.rst_ttl, 64);
	assert_int_equal(o.ev[0].r.ttl_min_before, 57);
	assert_int_equal(o.ev[0].r.ttl_max_before, 57);
	tg_engine_free(e);
}

static void test_middlebox_by_later_packets(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c);
	h_tx(e, &c, H_S2C, 7, H_RA, SI + 201, CI + 101, 0);
	/* The real server never sent it: it goes on talking. */
	h_tx(e, &c, H_S2C, 8, H_PA, SI + 201, CI + 101, 100);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_MIDDLEBOX_RESET);
	assert_int_equal(o.ev[0].r.after_pkts, 1);
	tg_engine_free(e);
}

static void test_out_of_window_beats_middlebox(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c);
	/* A blind reset far outside the client's window, then the real
	 * server keeps sending: the reset was out of window first. */
	tx_ttl(e, &c, H_S2C, 7, H_R, SI + 201 + 10000000, 0, 0, 50);
	h_tx(e, &c, H_S2C, 8, H_PA, SI + 201, CI + 101, 100);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_OUT_OF_WINDOW_RESET);
	assert_int_equal(o.ev[0].r.rst_seq_class, TG_RST_SEQ_OUT_OF_WINDOW);
	tg_engine_free(e);
}

static void test_dropped_reset_then_accepted_one(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	tx_ttl(e, &c, H_C2S, 0, H_S, CI, 0, 0, 64);
	tx_ttl(e, &c, H_S2C, 1, H_SA, SI, CI + 1, 0, 63);
	tx_ttl(e, &c, H_C2S, 2, H_A, CI + 1, SI + 1, 0, 64);
	tx_ttl(e, &c, H_C2S, 3, H_PA, CI + 1, SI + 1, 100, 64);
	/* An injector's first reset lands below the window and is dropped;
	 * its second is exact and ends the session: that one is judged. */
	tx_ttl(e, &c, H_S2C, 4, H_RA, SI + 1 - 572, CI + 101, 0, 64);
	tx_ttl(e, &c, H_S2C, 4, H_RA, SI + 1, CI + 101, 0, 64);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_MIDDLEBOX_RESET);
	assert_int_equal(o.ev[0].r.rst_seq_class, TG_RST_SEQ_EXACT);
	assert_true(o.ev[0].flags & TG_EV_OOW_BEFORE);
	assert_int_equal(o.ev[0].r.rst_count, 2);
	tg_engine_free(e);
}

static void tx_ts(struct tg_engine *e, const struct h_conv *c, bool c2s, uint64_t ms,
		  uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, bool ts)
{
	struct tg_pkt p = h_pkt(c, c2s, ms, flags, seq, ack, len);

	if (ts)
		p.opts.present |= TG_OPT_HAS_TS;
	tg_engine_feed_pkt(e, &p);
}

/* A flow stamping every segment with timestamps, then a reset from the
 * server with or without one. */
static enum tg_cause ts_reset_cause(bool rst_ts, uint8_t rst_flags)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);
	enum tg_cause cause;

	tx_ts(e, &c, H_C2S, 0, H_S, CI, 0, 0, true);
	tx_ts(e, &c, H_S2C, 1, H_SA, SI, CI + 1, 0, true);
	tx_ts(e, &c, H_C2S, 2, H_A, CI + 1, SI + 1, 0, true);
	tx_ts(e, &c, H_C2S, 3, H_PA, CI + 1, SI + 1, 100, true);
	tx_ts(e, &c, H_S2C, 4, H_PA, SI + 1, CI + 101, 200, true);
	tx_ts(e, &c, H_C2S, 5, H_A, CI + 101, SI + 201, 0, true);
	tx_ts(e, &c, H_S2C, 6, rst_flags, SI + 201, CI + 101, 0, rst_ts);
	tg_engine_finish(e);
	cause = only_cause(&o);
	tg_engine_free(e);
	return cause;
}

static void test_timestamps_on_resets(void **state)
{
	(void)state;
	/* A socket's reset carries the flow's timestamps: the endpoint's. */
	assert_int_equal(ts_reset_cause(true, H_RA), TG_CAUSE_ABORTIVE_CLOSE);
	/* RST+ACK without them, from a stack that stamps everything: forged. */
	assert_int_equal(ts_reset_cause(false, H_RA), TG_CAUSE_MIDDLEBOX_RESET);
	/* A bare reset is the kernel's socketless answer: no stamp expected,
	 * and it answered the client's ACK: the server had lost it. */
	assert_int_equal(ts_reset_cause(false, H_R), TG_CAUSE_HALF_OPEN_PEER_LOST);
}

static void test_in_window_not_exact(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c);
	h_tx(e, &c, H_S2C, 7, H_RA, SI + 201 + 500, CI + 101, 0);
	tg_engine_finish(e);
	assert_int_equal(o.ev[0].r.rst_seq_class, TG_RST_SEQ_IN_WINDOW);
	assert_int_equal(o.ev[0].r.rst_seq_off, 500);
	assert_int_equal(o.ev[0].r.rst_rcv_win, 65535);
	tg_engine_free(e);
}

static void test_half_open_peer_lost(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c);
	/* Thirty seconds later the client sends; the server no longer knows
	 * the connection and answers with a bare reset at SEG.ACK. */
	h_tx(e, &c, H_C2S, 30000, H_PA, CI + 101, SI + 201, 10);
	h_tx(e, &c, H_S2C, 30001, H_R, SI + 201, 0, 0);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_HALF_OPEN_PEER_LOST);
	assert_int_equal(o.ev[0].r.trig_gap_us, 29994000);
	assert_int_equal(o.ev[0].r.rst_gap_us, 1000);
	assert_true(o.ev[0].flags & TG_EV_PREV_FROM_PEER);
	assert_false(o.ev[0].flags & TG_EV_RST_ACK);
	tg_engine_free(e);
}

static void test_zero_window_stall(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);
	struct tg_pkt p;

	(void)state;
	exchange(e, &c);
	p = h_pkt(&c, H_S2C, 7, H_A, SI + 201, CI + 101, 0);
	p.win = 0;
	tg_engine_feed_pkt(e, &p);
	h_tx(e, &c, H_C2S, 500, H_A, CI + 100, SI + 201, 0);
	h_tx(e, &c, H_S2C, 900, H_RA, SI + 201, CI + 101, 0);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_ZERO_WINDOW_STALL);
	assert_int_equal(o.ev[0].d[1].zw_episodes, 1);
	tg_engine_free(e);
}

static void test_handshake_abort_scan(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_S, CI, 0, 0);
	h_tx(e, &c, H_S2C, 1, H_SA, SI, CI + 1, 0);
	h_tx(e, &c, H_C2S, 2, H_R, CI + 1, 0, 0);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_HANDSHAKE_ABORT);
	tg_engine_free(e);
}

static void test_scanner_ttl_is_not_a_middlebox(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	/* A raw-socket SYN with the scanner's own TTL; the reset comes from
	 * its kernel with another: still a half-open scan. */
	tx_ttl(e, &c, H_C2S, 0, H_S, CI, 0, 0, 45);
	tx_ttl(e, &c, H_S2C, 1, H_SA, SI, CI + 1, 0, 64);
	tx_ttl(e, &c, H_C2S, 2, H_R, CI + 1, 0, 0, 64);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_HANDSHAKE_ABORT);
	assert_int_equal(o.ev[0].r.flags_before, TG_TCP_SYN);
	tg_engine_free(e);
}

static void test_unsolicited_synack(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	/* Non-server ports on both sides: no orientation by port. */
	struct h_conv c = h_conv(40000, 41000);

	(void)state;
	h_tx(e, &c, H_S2C, 0, H_SA, SI, CI + 1, 0);
	h_tx(e, &c, H_C2S, 1, H_R, CI + 1, 0, 0);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_UNSOLICITED_SYNACK);
	tg_engine_free(e);
}

static void test_first_reset_decides(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	exchange(e, &c);
	h_tx(e, &c, H_C2S, 7, H_RA, CI + 101, SI + 201, 0);
	h_tx(e, &c, H_S2C, 8, H_R, SI + 201, 0, 0);
	tg_engine_finish(e);
	assert_int_equal(o.ev[0].r.rst_dir, 0);
	assert_int_equal(o.ev[0].r.rst_count, 2);
	assert_int_equal(o.s[0].end, TG_END_RST_CLIENT);
	ASSERT_CAUSE(&o, TG_CAUSE_ABORTIVE_CLOSE);
	tg_engine_free(e);
}

static void test_server_closed_immediately(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 22);

	(void)state;
	h_handshake(e, &c, 0, CI, SI);
	h_tx(e, &c, H_S2C, 3, H_FA, SI + 1, CI + 1, 0);
	h_tx(e, &c, H_C2S, 4, H_FA, CI + 1, SI + 2, 0);
	h_tx(e, &c, H_S2C, 5, H_A, SI + 2, CI + 2, 0);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_SERVER_CLOSED_IMMEDIATELY);
	tg_engine_free(e);
}

static void test_graceful_and_timers(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80), d = h_conv(40001, 80), f = h_conv(40002, 80);

	(void)state;
	exchange(e, &c);
	h_tx(e, &c, H_C2S, 7, H_FA, CI + 101, SI + 201, 0);
	h_tx(e, &c, H_S2C, 8, H_FA, SI + 201, CI + 102, 0);
	h_tx(e, &c, H_C2S, 9, H_A, CI + 102, SI + 202, 0);
	exchange(e, &d);                 /* then silent: idle timeout */
	h_tx(e, &f, H_C2S, 10, H_S, CI, 0, 0);   /* no answer */
	tg_engine_advance(e, H_MS(3601000));
	assert_int_equal(o.n, 3);
	for (unsigned i = 0; i < o.n; i++) {
		enum tg_cause want = o.s[i].orig_p == 40000 ? TG_CAUSE_GRACEFUL :
				     o.s[i].orig_p == 40001 ? TG_CAUSE_IDLE_TIMEOUT :
							      TG_CAUSE_NO_ANSWER;

		assert_string_equal(tg_cause_str[o.cause[i].cause], tg_cause_str[want]);
	}
	tg_engine_free(e);
}

static void test_one_sided_and_open(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	/* Only the client's side was captured, and it is still open. */
	h_tx(e, &c, H_C2S, 0, H_S, CI, 0, 0);
	h_tx(e, &c, H_C2S, 2, H_A, CI + 1, SI + 1, 0);
	h_tx(e, &c, H_C2S, 3, H_PA, CI + 1, SI + 1, 100);
	tg_engine_finish(e);
	ASSERT_CAUSE(&o, TG_CAUSE_STILL_OPEN);
	tg_engine_free(e);
}

static void test_strings_complete(void **state)
{
	(void)state;
	for (int i = 0; i < TG_CAUSE__COUNT; i++) {
		assert_non_null(tg_cause_str[i]);
		assert_non_null(tg_cause_meaning[i]);
		assert_non_null(tg_cause_next[i]);
	}
	for (int i = 0; i < TG_RST_SEQ__COUNT; i++)
		assert_non_null(tg_rst_seq_str[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_closed),
		cmocka_unit_test(test_abortive_close_exact),
		cmocka_unit_test(test_close_with_unread_data),
		cmocka_unit_test(test_reset_after_close),
		cmocka_unit_test(test_reset_after_both_fins),
		cmocka_unit_test(test_middlebox_by_ttl),
		cmocka_unit_test(test_middlebox_by_later_packets),
		cmocka_unit_test(test_out_of_window_beats_middlebox),
		cmocka_unit_test(test_dropped_reset_then_accepted_one),
		cmocka_unit_test(test_timestamps_on_resets),
		cmocka_unit_test(test_in_window_not_exact),
		cmocka_unit_test(test_half_open_peer_lost),
		cmocka_unit_test(test_zero_window_stall),
		cmocka_unit_test(test_handshake_abort_scan),
		cmocka_unit_test(test_scanner_ttl_is_not_a_middlebox),
		cmocka_unit_test(test_unsolicited_synack),
		cmocka_unit_test(test_first_reset_decides),
		cmocka_unit_test(test_server_closed_immediately),
		cmocka_unit_test(test_graceful_and_timers),
		cmocka_unit_test(test_one_sided_and_open),
		cmocka_unit_test(test_strings_complete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
